/*
 * xs-ipsec-lin: the desktop simulator host. Runs one ES module on the XS engine with the
 * Moddable-compatible modules of this folder and the native crypto of hosts/native.
 *
 *   xs-ipsec-lin [--modules DIR]... [--heap-chunk BYTES] [--heap-slots COUNT]
 *                [--config FILE] [--preferences DIR] ENTRY.js [ARGS...]
 *
 * --config FILE: the JSON object that module "mc/config" exports (deeply frozen), as the
 *   manifest's "config" is on a device; {} without it. Parsed before ENTRY runs (config.c).
 * --preferences DIR: where module "preference" keeps its values; the same as setting
 *   XS_IPSEC_PREFERENCES=DIR (which child processes inherit). Default:
 *   $XDG_STATE_HOME/xs-ipsec/preferences, else ~/.local/state/xs-ipsec/preferences.
 *
 * Exit status: 0 when the event loop runs out of work; the value given to exit() from
 * "lin/process"; 1 after any uncaught exception, unhandled rejection, failed import or
 * syntax error (the message and the JS stack are printed on stderr); 2 for bad usage.
 */
#include "xsAll.h"
#include "xslin_host.h"

extern void xslin_install_globals(txMachine* the);

static void usage(void)
{
	fprintf(stderr,
		"usage: xs-ipsec-lin [--modules DIR]... [--heap-chunk BYTES] [--heap-slots COUNT]\n"
		"                    [--config FILE] [--preferences DIR] ENTRY.js [ARGS...]\n"
		"  --modules DIR       where bare module names (\"timer\", \"preference\") are looked up\n"
		"  --config FILE       JSON object exported by module \"mc/config\" (default {})\n"
		"  --preferences DIR   where module \"preference\" keeps its values (same as\n"
		"                      XS_IPSEC_PREFERENCES=DIR; default $XDG_STATE_HOME/xs-ipsec/preferences,\n"
		"                      else ~/.local/state/xs-ipsec/preferences)\n");
}

int main(int argc, char* argv[])
{
	int argi;
	xsCreation creation = {
		4 * 1024 * 1024,	/* initialChunkSize */
		1024 * 1024,		/* incrementalChunkSize */
		256 * 1024,		/* initialHeapCount (slots) */
		64 * 1024,		/* incrementalHeapCount */
		16 * 1024,		/* stackCount */
		32 * 1024,		/* initialKeyCount */
		8 * 1024,		/* incrementalKeyCount */
		1993,			/* nameModulo */
		127,			/* symbolModulo */
		8 * 1024 * 1024,	/* parserBufferSize */
		1993,			/* parserTableModulo */
		0,			/* staticSize */
	};
	xsMachine* machine;
	const char* volatile config = NULL; /* volatile: read after xsBeginHost's setjmp */
	for (argi = 1; argi < argc; argi++) {
		if (!strcmp(argv[argi], "--modules") && argi + 1 < argc)
			xslin_add_module_directory(argv[++argi]);
		else if (!strcmp(argv[argi], "--heap-chunk") && argi + 1 < argc)
			creation.initialChunkSize = atoi(argv[++argi]);
		else if (!strcmp(argv[argi], "--heap-slots") && argi + 1 < argc)
			creation.initialHeapCount = atoi(argv[++argi]);
		else if (!strcmp(argv[argi], "--config") && argi + 1 < argc)
			config = argv[++argi];
		else if (!strcmp(argv[argi], "--preferences") && argi + 1 < argc)
			setenv("XS_IPSEC_PREFERENCES", argv[++argi], 1);
		else if (!strcmp(argv[argi], "--help") || !strcmp(argv[argi], "-h")) {
			usage();
			return 0;
		}
		else if (argv[argi][0] == '-' && argv[argi][1] == '-') {
			fprintf(stderr, "xs-ipsec-lin: unknown option %s\n", argv[argi]);
			usage();
			return 2;
		}
		else
			break;
	}
	if (argi >= argc) {
		usage();
		return 2;
	}
	/* the entry module sees its own path and arguments, like process.argv.slice(1) */
	xslin_set_arguments(argc - argi, argv + argi);
	machine = xsCreateMachine(&creation, "xs-ipsec", NULL);
	if (!machine) {
		fprintf(stderr, "xs-ipsec-lin: cannot create the XS machine\n");
		return 1;
	}
	xsBeginHost(machine);
	{
		xslin_install_globals(the);
		if (config)
			xslin_load_config(the, config);
		xslin_run_entry(the, argv[argi]);
		xslin_run_loop(the);
	}
	xsEndHost(machine);
	xsDeleteMachine(machine);
	fflush(stdout);
	return 0;
}
