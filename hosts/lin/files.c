/*
 * File natives of "lin/process" (simulator only): what the simulator's file-backed modules
 * (preference, mc/config) and tools need, and nothing more.
 *   readFile(path) -> string             UTF-8 text, at most 1 MiB (e.g. a configuration)
 *   readBytes(path) -> ArrayBuffer | undefined   undefined when there is no such file
 *   writeFileAtomic(path, bytes)         write a temporary file next to path, fsync, rename
 *                                        over path, fsync the directory: a reader (or a
 *                                        crash) sees the old content or the new, never a mix
 *   removeFile(path) -> boolean          false when there was no such file
 *   listDirectory(path) -> string[] | undefined   names, in no order ("." and "..", and
 *                                        names that are not UTF-8, left out)
 *   makeDirectory(path)                  like mkdir -p; new directories are private (0700)
 * Other errors (permissions, a file in the way) throw an Error that names the path.
 */
#include "xs.h"
#include "xslin_host.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern xsIntegerValue _xsmcGetBuffer(xsMachine* the, xsSlot* slot, void** data, xsUnsignedValue* count, xsBooleanValue writable);

#define MAX_FILE (1024 * 1024)

char* xslin_read_whole_file(const char* path, size_t limit, size_t* size, int* error)
{
	FILE* file = fopen(path, "rb");
	char* data;
	if (!file) {
		*error = errno;
		return NULL;
	}
	data = malloc(limit + 2);
	if (!data) {
		fclose(file);
		*error = ENOMEM;
		return NULL;
	}
	errno = 0;
	*size = fread(data, 1, limit + 1, file);
	*error = ferror(file) ? (errno ? errno : EIO) : 0;
	fclose(file);
	if (!*error && *size > limit)
		*error = EFBIG;
	if (*error) {
		free(data);
		return NULL;
	}
	data[*size] = 0;
	return data;
}

/* File names are bytes; XS strings must be UTF-8. */
static int isUTF8(const unsigned char* s)
{
	while (*s) {
		int n = *s < 0x80 ? 0 : (*s & 0xE0) == 0xC0 ? 1 : (*s & 0xF0) == 0xE0 ? 2 : (*s & 0xF8) == 0xF0 ? 3 : -1;
		if (n < 0)
			return 0;
		for (s++; n > 0; n--, s++)
			if ((*s & 0xC0) != 0x80)
				return 0;
	}
	return 1;
}

/* The path argument, copied out of the XS heap (which moves). */
static void pathArgument(xsMachine* the, int index, char* path)
{
	xsToStringBuffer(xsArg(index), path, PATH_MAX);
	if (!path[0])
		xsRangeError("empty path");
}

/* Reads a whole file: NULL when it does not exist and `missing` is allowed, else throws. */
static char* readArgument(xsMachine* the, char* path, size_t* size, int missing)
{
	int error;
	char* data;
	pathArgument(the, 0, path);
	data = xslin_read_whole_file(path, MAX_FILE, size, &error);
	if (!data && !(missing && error == ENOENT)) {
		if (error == EFBIG)
			xsRangeError("%s is larger than 1 MiB", path);
		xsUnknownError("cannot read %s: %s", path, strerror(error));
	}
	return data;
}

void xs_lin_read_file(xsMachine* the)
{
	char path[PATH_MAX];
	size_t size;
	char* text = readArgument(the, path, &size, 0);
	xsTry {
		xsResult = xsString(text);
	}
	xsCatch {
		free(text);
		xsThrow(xsException);
	}
	free(text);
}

void xs_lin_read_bytes(xsMachine* the)
{
	char path[PATH_MAX];
	size_t size;
	char* data = readArgument(the, path, &size, 1);
	if (!data)
		return;
	xsTry {
		xsResult = xsArrayBuffer(data, (xsIntegerValue)size);
	}
	xsCatch {
		free(data);
		xsThrow(xsException);
	}
	free(data);
}

static int writeAll(int fd, const uint8_t* data, size_t size)
{
	while (size) {
		ssize_t n = write(fd, data, size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		size -= n;
	}
	return 0;
}

/* After a rename, the directory entry itself must reach the disk for the new file to survive
   a power cut. */
static int syncDirectory(const char* directory)
{
	int fd = open(directory, O_RDONLY | O_DIRECTORY);
	int result;
	if (fd < 0)
		return -1;
	result = fsync(fd);
	close(fd);
	return result;
}

void xs_lin_write_file_atomic(xsMachine* the)
{
	char path[PATH_MAX], temporary[PATH_MAX + 16], directory[PATH_MAX];
	const char* slash;
	const char* base;
	void* data;
	xsUnsignedValue size;
	int fd, error = 0;
	pathArgument(the, 0, path);
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	if (!*base)
		xsRangeError("%s names a directory", path);
	if (slash)
		snprintf(directory, sizeof(directory), "%.*s", (int)(slash - path) + (slash == path), path);
	else
		strcpy(directory, ".");
	/* ".NAME.XXXXXX" in the same directory (rename does not cross file systems); readers of
	   the directory skip names starting with a dot. mkstemp creates it 0600. */
	snprintf(temporary, sizeof(temporary), "%.*s.%s.XXXXXX", (int)(base - path), path, base);
	fd = mkstemp(temporary);
	if (fd < 0)
		xsUnknownError("cannot create %s: %s", temporary, strerror(errno));
	/* no XS allocation from here to the write: the buffer pointer stays valid */
	_xsmcGetBuffer(the, &xsArg(1), &data, &size, 0);
	if (writeAll(fd, data, size) < 0 || fsync(fd) < 0)
		error = errno;
	if (close(fd) < 0 && !error)
		error = errno;
	if (!error && rename(temporary, path) < 0)
		error = errno;
	if (error) {
		unlink(temporary);
		xsUnknownError("cannot write %s: %s", path, strerror(error));
	}
	if (syncDirectory(directory) < 0)
		xsUnknownError("cannot sync %s: %s", directory, strerror(errno));
}

void xs_lin_remove_file(xsMachine* the)
{
	char path[PATH_MAX];
	pathArgument(the, 0, path);
	if (unlink(path) == 0)
		xsResult = xsTrue;
	else if (errno == ENOENT)
		xsResult = xsFalse;
	else
		xsUnknownError("cannot remove %s: %s", path, strerror(errno));
}

void xs_lin_list_directory(xsMachine* the)
{
	char path[PATH_MAX];
	DIR* directory;
	struct dirent* entry;
	volatile xsIntegerValue count = 0;
	pathArgument(the, 0, path);
	directory = opendir(path);
	if (!directory) {
		if (errno == ENOENT)
			return;
		xsUnknownError("cannot list %s: %s", path, strerror(errno));
	}
	xsTry {
		xsResult = xsNewArray(0);
		while ((entry = readdir(directory))) {
			if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, "..") || !isUTF8((unsigned char*)entry->d_name))
				continue;
			xsSetIndex(xsResult, count++, xsString(entry->d_name));
		}
	}
	xsCatch {
		closedir(directory);
		xsThrow(xsException);
	}
	closedir(directory);
}

void xs_lin_make_directory(xsMachine* the)
{
	char path[PATH_MAX];
	char* p;
	struct stat status;
	pathArgument(the, 0, path);
	/* each missing component in turn, from the root down */
	for (p = path + 1;; p++) {
		char c = *p;
		if (c != '/' && c != 0)
			continue;
		*p = 0;
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			xsUnknownError("cannot create directory %s: %s", path, strerror(errno));
		*p = c;
		if (!c)
			break;
	}
	if (stat(path, &status) < 0 || !S_ISDIR(status.st_mode))
		xsUnknownError("%s is not a directory", path);
}
