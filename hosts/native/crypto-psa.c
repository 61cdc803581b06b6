/*
 * Native crypto for XS, written to the PSA Crypto API (Mbed TLS).
 *
 * One file for every host: the desktop simulator links it with Debian's Mbed TLS 2.28, the
 * ESP32 build with ESP-IDF's Mbed TLS, whose PSA drivers route AES, SHA and MPI to the chip's
 * accelerators. So nothing here may assume a desktop: no stdio, no malloc per operation, no
 * threads. The JS side is hosts/native/crypto-psa.js; the TypeScript provider over it is
 * hosts/moddable/crypto-native.ts.
 *
 * Keys live in PSA key slots, wrapped in XS host objects whose destructor destroys the slot, so
 * an SA imports its keys once and every packet only names the slot. PSA has few slots (Mbed
 * TLS's MBEDTLS_PSA_KEY_SLOT_COUNT, 32 in Debian's build), fewer than a gateway with many SAs
 * holds keys, so the slots are a cache: each key object keeps its key bytes, and when no slot
 * is free the key used least recently gives up its slot and is imported again at its next
 * use (slotOf). Keys made inside PSA (generated ECDH pairs) have no bytes to re-import and
 * keep their slot until they are destroyed. Packet operations work in place on
 * (buffer, offset, length) so the data path does not allocate:
 *   aeadSeal: buffer[offset, offset+length) is encrypted in place and the tag is written
 *             right after it, as ESP lays out ciphertext and ICV (RFC 4303 §2);
 *   aeadOpen: the tag is read right after the ciphertext; on success the plaintext replaces it.
 */
#include "xsmc.h"
#include "xs.h"
#include <psa/crypto.h>
#include <stdlib.h>
#include <string.h>

/* Algorithm numbers shared with crypto-psa.js. */
enum { HASH_MD5 = 1, HASH_SHA1, HASH_SHA224, HASH_SHA256, HASH_SHA384, HASH_SHA512, HASH_RIPEMD160 };
enum { AEAD_AES_GCM = 1, AEAD_AES_CCM, AEAD_CHACHA20_POLY1305 };
enum { CIPHER_AES_CBC = 1, CIPHER_AES_CTR, CIPHER_DES_CBC, CIPHER_3DES_CBC, CIPHER_AES_ECB };
enum { MAC_HMAC = 1, MAC_CMAC };
enum { CURVE_P256 = 1, CURVE_P384, CURVE_P521, CURVE_X25519 };

typedef struct PsaKey {
	/* the slot, or 0 while the key is not in one (evicted; imported again when used) */
	psa_key_id_t id;
	psa_algorithm_t alg;
	psa_key_type_t type;
	psa_key_usage_t usage;
	/* the key bytes for importing again; NULL for keys made inside PSA (never evicted) */
	uint8_t* material;
	size_t materialSize;
	/* the keys in slots, most recently used first */
	struct PsaKey* newer;
	struct PsaKey* older;
	int tagLength;
	/* ESP AEAD keys (espAeadKey): the salt and how the nonce and AAD are built */
	uint8_t salt[4];
	uint8_t saltLength;
	uint8_t esn;
	uint8_t implicitIv;
} PsaKey;

static int gPsaReady = 0;

static void psaCheck(xsMachine* the, psa_status_t status, const char* what)
{
	if (status != PSA_SUCCESS)
		xsUnknownError("%s failed (PSA status %d)", what, (int)status);
}

static void psaReady(xsMachine* the)
{
	if (!gPsaReady) {
		psaCheck(the, psa_crypto_init(), "psa_crypto_init");
		gPsaReady = 1;
	}
}

static psa_algorithm_t hashAlgorithm(xsMachine* the, int id)
{
	switch (id) {
	case HASH_MD5: return PSA_ALG_MD5;
	case HASH_SHA1: return PSA_ALG_SHA_1;
	case HASH_SHA224: return PSA_ALG_SHA_224;
	case HASH_SHA256: return PSA_ALG_SHA_256;
	case HASH_SHA384: return PSA_ALG_SHA_384;
	case HASH_SHA512: return PSA_ALG_SHA_512;
	case HASH_RIPEMD160: return PSA_ALG_RIPEMD160;
	}
	xsRangeError("unknown hash %d", id);
	return 0;
}

/* The keys in slots, most recently used first (gNewest) to least (gOldest). */
static PsaKey* gNewest = NULL;
static PsaKey* gOldest = NULL;

static void unlinkKey(PsaKey* key)
{
	if (key->newer) key->newer->older = key->older; else if (gNewest == key) gNewest = key->older;
	if (key->older) key->older->newer = key->newer; else if (gOldest == key) gOldest = key->newer;
	key->newer = key->older = NULL;
}

static void linkNewest(PsaKey* key)
{
	key->older = gNewest;
	key->newer = NULL;
	if (gNewest) gNewest->newer = key;
	gNewest = key;
	if (!gOldest) gOldest = key;
}

/* Frees the slot of the least recently used key that can be imported again; 0 if none can. */
static int evictOne(void)
{
	PsaKey* key;
	for (key = gOldest; key; key = key->newer) {
		if (key->material) {
			psa_destroy_key(key->id);
			key->id = 0;
			unlinkKey(key);
			return 1;
		}
	}
	return 0;
}

static void zeroize(void* p, size_t n)
{
	volatile uint8_t* v = p;
	while (n--) *v++ = 0;
}

static void freeKey(PsaKey* key)
{
	if (key->id) {
		psa_destroy_key(key->id);
		unlinkKey(key);
	}
	if (key->material) {
		zeroize(key->material, key->materialSize);
		free(key->material);
	}
	free(key);
}

static void psaKeyDestructor(void* data)
{
	if (data)
		freeKey(data);
}

/*
 * Runs `make` for a new slot; when PSA has none free, frees the least recently used key's
 * slot and tries again, and as a last resort collects garbage (unreachable key objects free
 * their slots) and tries once more.
 */
typedef psa_status_t (*SlotMaker)(PsaKey* key, void* context, psa_key_id_t* id);
static psa_status_t withSlot(xsMachine* the, PsaKey* key, SlotMaker make, void* context, psa_key_id_t* id)
{
	psa_status_t status = make(key, context, id);
	while (status == PSA_ERROR_INSUFFICIENT_MEMORY && evictOne())
		status = make(key, context, id);
	if (status == PSA_ERROR_INSUFFICIENT_MEMORY) {
		xsCollectGarbage();
		status = make(key, context, id);
	}
	return status;
}

static psa_status_t importMaterial(PsaKey* key, void* context, psa_key_id_t* id)
{
	psa_key_attributes_t attributes = PSA_KEY_ATTRIBUTES_INIT;
	psa_status_t status;
	(void)context;
	psa_set_key_type(&attributes, key->type);
	psa_set_key_algorithm(&attributes, key->alg);
	psa_set_key_usage_flags(&attributes, key->usage);
	status = psa_import_key(&attributes, key->material, key->materialSize, id);
	psa_reset_key_attributes(&attributes);
	return status;
}

/* The key's slot: the one it has (now the most recently used), or a new one it is imported into. */
static psa_key_id_t slotOf(xsMachine* the, PsaKey* key)
{
	psa_key_id_t id = 0;
	if (key->id) {
		if (gNewest != key) {
			unlinkKey(key);
			linkNewest(key);
		}
		return key->id;
	}
	if (!key->material)
		xsUnknownError("key destroyed");
	psaCheck(the, withSlot(the, key, importMaterial, NULL, &id), "key import");
	key->id = id;
	linkNewest(key);
	return id;
}

/* A key object for the result, its bytes from argument `argument` kept for importing again;
   imported now, so that a key PSA refuses throws here. */
static PsaKey* newKeyObject(xsMachine* the, psa_key_type_t type, psa_algorithm_t alg, psa_key_usage_t usage, int argument, int tagLength)
{
	void* bytes;
	xsUnsignedValue size;
	PsaKey* key;
	psaReady(the);
	key = calloc(1, sizeof(PsaKey));
	if (!key)
		xsUnknownError("out of memory");
	xsmcGetBufferReadable(xsArg(argument), &bytes, &size);
	key->material = malloc(size ? size : 1);
	if (!key->material) {
		free(key);
		xsUnknownError("out of memory");
	}
	memcpy(key->material, bytes, size);
	key->materialSize = size;
	key->type = type;
	key->alg = alg;
	key->usage = usage;
	key->tagLength = tagLength;
	xsResult = xsNewHostObject(psaKeyDestructor);
	xsmcSetHostData(xsResult, key);
	slotOf(the, key);
	return key;
}

static PsaKey* getKey(xsMachine* the, int argument)
{
	PsaKey* key = xsmcGetHostDataValidate(xsArg(argument), (void*)psaKeyDestructor);
	if (!key)
		xsTypeError("not a PSA key");
	return key;
}

/* Resolve (buffer, offset, length[, extra]) to a pointer, with bounds checked. */
static uint8_t* region(xsMachine* the, int argument, xsUnsignedValue extra, xsUnsignedValue* lengthOut)
{
	void* data;
	xsUnsignedValue size;
	xsIntegerValue offset = xsmcToInteger(xsArg(argument + 1));
	xsIntegerValue length = xsmcToInteger(xsArg(argument + 2));
	xsmcGetBufferWritable(xsArg(argument), &data, &size);
	if (offset < 0 || length < 0 || (xsUnsignedValue)offset > size || (xsUnsignedValue)length > size - offset || extra > size - offset - length)
		xsRangeError("region out of bounds");
	*lengthOut = (xsUnsignedValue)length;
	return (uint8_t*)data + offset;
}

void xs_psa_init(xsMachine* the)
{
	psaReady(the);
}

/* destroy(key): frees the key slot now (an SA that is deleted, a one-shot MAC) rather than
   when the collector finds the object; the object is unusable afterwards. */
void xs_psa_destroy(xsMachine* the)
{
	PsaKey* key = getKey(the, 0);
	freeKey(key);
	xsmcSetHostData(xsArg(0), NULL);
}

/* hash(alg, data, out) -> digest length */
void xs_psa_hash(xsMachine* the)
{
	psa_algorithm_t alg = hashAlgorithm(the, xsmcToInteger(xsArg(0)));
	void *data, *out;
	xsUnsignedValue size, outSize;
	size_t length = 0;
	psaReady(the);
	xsmcGetBufferReadable(xsArg(1), &data, &size);
	xsmcGetBufferWritable(xsArg(2), &out, &outSize);
	psaCheck(the, psa_hash_compute(alg, data, size, out, outSize, &length), "hash");
	xsmcSetInteger(xsResult, (xsIntegerValue)length);
}

/* macKey(kind, hash, keyBytes) -> key */
void xs_psa_mac_key(xsMachine* the)
{
	int kind = xsmcToInteger(xsArg(0));
	psa_algorithm_t alg;
	psa_key_type_t type;
	if (kind == MAC_HMAC) {
		alg = PSA_ALG_HMAC(hashAlgorithm(the, xsmcToInteger(xsArg(1))));
		type = PSA_KEY_TYPE_HMAC;
	}
	else if (kind == MAC_CMAC) {
		alg = PSA_ALG_CMAC;
		type = PSA_KEY_TYPE_AES;
	}
	else
		xsRangeError("unknown MAC %d", kind);
	newKeyObject(the, type, alg, PSA_KEY_USAGE_SIGN_MESSAGE | PSA_KEY_USAGE_VERIFY_MESSAGE, 2, 0);
}

/* mac(key, buffer, offset, length, out) -> number of bytes written to out (at most out's size) */
void xs_psa_mac(xsMachine* the)
{
	PsaKey* key = getKey(the, 0);
	uint8_t full[PSA_MAC_MAX_SIZE];
	size_t length = 0;
	xsUnsignedValue dataLength, outSize;
	uint8_t* data = region(the, 1, 0, &dataLength);
	void* out;
	xsmcGetBufferWritable(xsArg(4), &out, &outSize);
	psaCheck(the, psa_mac_compute(slotOf(the, key), key->alg, data, dataLength, full, sizeof(full), &length), "MAC");
	if (outSize < length)
		length = outSize;
	memcpy(out, full, length);
	memset(full, 0, sizeof(full));
	xsmcSetInteger(xsResult, (xsIntegerValue)length);
}

static psa_algorithm_t aeadAlgorithm(xsMachine* the, int id, int tagLength, psa_key_type_t* type)
{
	switch (id) {
	case AEAD_AES_GCM:
		*type = PSA_KEY_TYPE_AES;
		return PSA_ALG_AEAD_WITH_SHORTENED_TAG(PSA_ALG_GCM, tagLength);
	case AEAD_AES_CCM:
		*type = PSA_KEY_TYPE_AES;
		return PSA_ALG_AEAD_WITH_SHORTENED_TAG(PSA_ALG_CCM, tagLength);
	case AEAD_CHACHA20_POLY1305:
		if (tagLength != 16)
			xsRangeError("ChaCha20-Poly1305 has a 16-byte tag");
		*type = PSA_KEY_TYPE_CHACHA20;
		return PSA_ALG_CHACHA20_POLY1305;
	}
	xsRangeError("unknown AEAD %d", id);
	return 0;
}

/* aeadKey(alg, keyBytes, tagLength) -> key */
void xs_psa_aead_key(xsMachine* the)
{
	int tagLength = xsmcToInteger(xsArg(2));
	psa_key_type_t type = 0;
	psa_algorithm_t alg = aeadAlgorithm(the, xsmcToInteger(xsArg(0)), tagLength, &type);
	newKeyObject(the, type, alg, PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT, 1, tagLength);
}

/* aeadSeal(key, nonce, aad, buffer, offset, length): tag written at offset + length */
void xs_psa_aead_seal(xsMachine* the)
{
	PsaKey* key = getKey(the, 0);
	void *nonce, *aad;
	xsUnsignedValue nonceSize, aadSize, length;
	uint8_t* data = region(the, 3, key->tagLength, &length);
	size_t written = 0;
	xsmcGetBufferReadable(xsArg(1), &nonce, &nonceSize);
	xsmcGetBufferReadable(xsArg(2), &aad, &aadSize);
	psaCheck(the, psa_aead_encrypt(slotOf(the, key), key->alg, nonce, nonceSize, aad, aadSize, data, length, data, length + key->tagLength, &written), "AEAD seal");
}

/* aeadOpen(key, nonce, aad, buffer, offset, length) -> true when the tag after the data verifies */
void xs_psa_aead_open(xsMachine* the)
{
	PsaKey* key = getKey(the, 0);
	void *nonce, *aad;
	xsUnsignedValue nonceSize, aadSize, length;
	uint8_t* data = region(the, 3, key->tagLength, &length);
	size_t written = 0;
	psa_status_t status;
	xsmcGetBufferReadable(xsArg(1), &nonce, &nonceSize);
	xsmcGetBufferReadable(xsArg(2), &aad, &aadSize);
	status = psa_aead_decrypt(slotOf(the, key), key->alg, nonce, nonceSize, aad, aadSize, data, length + key->tagLength, data, length, &written);
	if (status == PSA_ERROR_INVALID_SIGNATURE) {
		xsmcSetBoolean(xsResult, 0);
		return;
	}
	psaCheck(the, status, "AEAD open");
	xsmcSetBoolean(xsResult, 1);
}

/*
 * ESP's AEAD constructions, as the Linux kernel's rfc4106(gcm(aes)), rfc4309(ccm(aes)) and
 * rfc7539esp(chacha20,poly1305) templates do them: the nonce is salt || IV, the IV is the
 * 64-bit sequence number (written into the packet unless implicit, RFC 8750), and the AAD is
 * SPI || seq (RFC 4106 §5), or SPI || seq high || seq low with ESN. Packet layout at `esp`:
 * [SPI][seq][IV 8 or 0][ciphertext length][tag].
 *
 * espAeadKey(alg, keyBytes, tagLength, salt, esn, implicitIv) -> key
 */
void xs_psa_esp_aead_key(xsMachine* the)
{
	int tagLength = xsmcToInteger(xsArg(2));
	psa_key_type_t type = 0;
	psa_algorithm_t alg = aeadAlgorithm(the, xsmcToInteger(xsArg(0)), tagLength, &type);
	void* salt;
	xsUnsignedValue saltLength;
	PsaKey* key;
	xsmcGetBufferReadable(xsArg(3), &salt, &saltLength);
	if (saltLength > 4)
		xsRangeError("salt longer than 4 bytes");
	key = newKeyObject(the, type, alg, PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT, 1, tagLength);
	xsmcGetBufferReadable(xsArg(3), &salt, &saltLength); /* import may have collected: fetch again */
	memcpy(key->salt, salt, saltLength);
	key->saltLength = (uint8_t)saltLength;
	key->esn = xsmcTest(xsArg(4)) ? 1 : 0;
	key->implicitIv = xsmcTest(xsArg(5)) ? 1 : 0;
}

static void put32(uint8_t* p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Builds nonce and AAD for the packet at `esp`; returns the AAD length (8 or 12). */
static size_t espNonceAad(PsaKey* key, uint8_t* esp, uint32_t seqHigh, uint32_t seqLow, int sealing, uint8_t* nonce, size_t* nonceLength, uint8_t* aad)
{
	memcpy(nonce, key->salt, key->saltLength);
	if (key->implicitIv) {
		put32(nonce + key->saltLength, key->esn ? seqHigh : 0);
		put32(nonce + key->saltLength + 4, seqLow);
	}
	else {
		if (sealing) {
			put32(esp + 8, seqHigh);
			put32(esp + 12, seqLow);
		}
		memcpy(nonce + key->saltLength, esp + 8, 8);
	}
	*nonceLength = key->saltLength + 8;
	memcpy(aad, esp, 4);
	if (key->esn) {
		put32(aad + 4, seqHigh);
		put32(aad + 8, seqLow);
		return 12;
	}
	memcpy(aad + 4, esp + 4, 4);
	return 8;
}

/* The arguments espSeal and espOpen share: (key, buffer, esp, length, seqHigh, seqLow).
   Returns the packet's ESP header, or NULL when [esp, esp + 8 + IV + length + tag) is not
   inside the buffer. Fills nonce and AAD. */
typedef struct {
	PsaKey* key;
	uint8_t* payload;
	size_t length;
	uint8_t nonce[16];
	size_t nonceLength;
	uint8_t aad[12];
	size_t aadLength;
} EspCall;

static int espCall(xsMachine* the, EspCall* call, int sealing)
{
	PsaKey* key = getKey(the, 0);
	int ivLength = key->implicitIv ? 0 : 8;
	xsIntegerValue esp = xsmcToInteger(xsArg(2));
	xsIntegerValue length = xsmcToInteger(xsArg(3));
	uint32_t seqHigh = (uint32_t)xsmcToNumber(xsArg(4));
	uint32_t seqLow = (uint32_t)xsmcToNumber(xsArg(5));
	void* data;
	xsUnsignedValue size;
	uint8_t* packet;
	xsmcGetBufferWritable(xsArg(1), &data, &size);
	if (esp < 0 || length < 0 || (xsUnsignedValue)esp + 8 + ivLength + length + key->tagLength > size)
		return 0;
	packet = (uint8_t*)data + esp;
	call->key = key;
	call->payload = packet + 8 + ivLength;
	call->length = (size_t)length;
	call->aadLength = espNonceAad(key, packet, seqHigh, seqLow, sealing, call->nonce, &call->nonceLength, call->aad);
	return 1;
}

/* espSeal(key, buffer, esp, length, seqHigh, seqLow): SPI and seq are in place already */
void xs_psa_esp_seal(xsMachine* the)
{
	EspCall c;
	size_t written = 0;
	if (!espCall(the, &c, 1))
		xsRangeError("ESP packet out of bounds");
	psaCheck(the, psa_aead_encrypt(slotOf(the, c.key), c.key->alg, c.nonce, c.nonceLength, c.aad, c.aadLength,
		c.payload, c.length, c.payload, c.length + c.key->tagLength, &written), "ESP seal");
}

/* espOpen(key, buffer, esp, length, seqHigh, seqLow) -> true when the tag verifies */
void xs_psa_esp_open(xsMachine* the)
{
	EspCall c;
	size_t written = 0;
	psa_status_t status;
	if (!espCall(the, &c, 0)) {
		xsmcSetBoolean(xsResult, 0);
		return;
	}
	status = psa_aead_decrypt(slotOf(the, c.key), c.key->alg, c.nonce, c.nonceLength, c.aad, c.aadLength,
		c.payload, c.length + c.key->tagLength, c.payload, c.length, &written);
	if (status == PSA_ERROR_INVALID_SIGNATURE) {
		xsmcSetBoolean(xsResult, 0);
		return;
	}
	psaCheck(the, status, "ESP open");
	xsmcSetBoolean(xsResult, 1);
}

/* cipherKey(alg, keyBytes) -> key; unauthenticated block/stream ciphers, no padding */
void xs_psa_cipher_key(xsMachine* the)
{
	int id = xsmcToInteger(xsArg(0));
	psa_key_type_t type = PSA_KEY_TYPE_AES;
	psa_algorithm_t alg;
	switch (id) {
	case CIPHER_AES_CBC: alg = PSA_ALG_CBC_NO_PADDING; break;
	case CIPHER_AES_CTR: alg = PSA_ALG_CTR; break;
	case CIPHER_AES_ECB: alg = PSA_ALG_ECB_NO_PADDING; break;
	case CIPHER_DES_CBC:
	case CIPHER_3DES_CBC: type = PSA_KEY_TYPE_DES; alg = PSA_ALG_CBC_NO_PADDING; break;
	default: xsRangeError("unknown cipher %d", id);
	}
	newKeyObject(the, type, alg, PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT, 1, 0);
}

/* cipher(key, encrypt, iv, buffer, offset, length): in place. CTR takes the whole 16-byte
   initial counter block as its IV. Mbed TLS 2.28's PSA layer holds back a partial CTR block
   until finish and wants room for a whole block, so whole blocks go through in place and a
   partial tail through a small bounce buffer. */
void xs_psa_cipher(xsMachine* the)
{
	PsaKey* key = getKey(the, 0);
	int encrypt = xsmcTest(xsArg(1));
	void* iv;
	xsUnsignedValue ivSize, length;
	uint8_t* data = region(the, 3, 0, &length);
	psa_cipher_operation_t operation = PSA_CIPHER_OPERATION_INIT;
	uint8_t tailIn[16], tailOut[32];
	size_t whole = length & ~(size_t)15, tail, written = 0, more = 0, finished = 0;
	psa_status_t status;
	if (key->alg != PSA_ALG_CTR)
		whole = length; /* CBC and ECB: whole blocks only; PSA reports a partial one */
	tail = length - whole;
	xsmcGetBufferReadable(xsArg(2), &iv, &ivSize);
	psa_key_id_t id = slotOf(the, key);
	status = encrypt ? psa_cipher_encrypt_setup(&operation, id, key->alg) : psa_cipher_decrypt_setup(&operation, id, key->alg);
	if (status == PSA_SUCCESS && key->alg != PSA_ALG_ECB_NO_PADDING)
		status = psa_cipher_set_iv(&operation, iv, ivSize);
	if (status == PSA_SUCCESS && whole)
		status = psa_cipher_update(&operation, data, whole, data, whole, &written);
	if (status == PSA_SUCCESS && tail) {
		memcpy(tailIn, data + whole, tail);
		status = psa_cipher_update(&operation, tailIn, tail, tailOut, sizeof(tailOut), &more);
	}
	if (status == PSA_SUCCESS)
		status = psa_cipher_finish(&operation, tailOut + more, sizeof(tailOut) - more, &finished);
	if (status == PSA_SUCCESS && (written != whole || more + finished != tail))
		status = PSA_ERROR_CORRUPTION_DETECTED;
	if (status == PSA_SUCCESS && tail)
		memcpy(data + whole, tailOut, tail);
	memset(tailIn, 0, sizeof(tailIn));
	memset(tailOut, 0, sizeof(tailOut));
	if (status != PSA_SUCCESS)
		psa_cipher_abort(&operation);
	psaCheck(the, status, encrypt ? "encrypt" : "decrypt");
}

static void curveType(xsMachine* the, int curve, psa_key_type_t* type, size_t* bits)
{
	switch (curve) {
	case CURVE_P256: *type = PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1); *bits = 256; return;
	case CURVE_P384: *type = PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1); *bits = 384; return;
	case CURVE_P521: *type = PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1); *bits = 521; return;
	case CURVE_X25519: *type = PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_MONTGOMERY); *bits = 255; return;
	}
	xsRangeError("unknown curve %d", curve);
}

static psa_status_t generatePair(PsaKey* key, void* context, psa_key_id_t* id)
{
	psa_key_attributes_t attributes = PSA_KEY_ATTRIBUTES_INIT;
	psa_status_t status;
	psa_set_key_type(&attributes, key->type);
	psa_set_key_bits(&attributes, *(size_t*)context);
	psa_set_key_algorithm(&attributes, PSA_ALG_ECDH);
	psa_set_key_usage_flags(&attributes, PSA_KEY_USAGE_DERIVE);
	status = psa_generate_key(&attributes, id);
	psa_reset_key_attributes(&attributes);
	return status;
}

/* ecdhGenerate(curve) -> key pair (the private key never leaves PSA, so it keeps its slot) */
void xs_psa_ecdh_generate(xsMachine* the)
{
	size_t bits;
	psa_key_id_t id = 0;
	PsaKey* key;
	psa_status_t status;
	psaReady(the);
	key = calloc(1, sizeof(PsaKey));
	if (!key)
		xsUnknownError("out of memory");
	key->alg = PSA_ALG_ECDH;
	key->usage = PSA_KEY_USAGE_DERIVE;
	xsResult = xsNewHostObject(psaKeyDestructor);
	xsmcSetHostData(xsResult, key);
	curveType(the, xsmcToInteger(xsArg(0)), &key->type, &bits);
	status = withSlot(the, key, generatePair, &bits, &id);
	psaCheck(the, status, "ECDH key generation");
	key->id = id;
	linkNewest(key);
}

/* ecdhImport(curve, privateBytes) -> key pair (for known-answer tests) */
void xs_psa_ecdh_import(xsMachine* the)
{
	psa_key_type_t type;
	size_t bits;
	curveType(the, xsmcToInteger(xsArg(0)), &type, &bits);
	newKeyObject(the, type, PSA_ALG_ECDH, PSA_KEY_USAGE_DERIVE, 1, 0);
}

/* ecdhPublic(key, out) -> length. Weierstrass curves: 0x04 || x || y; X25519: 32 bytes. */
void xs_psa_ecdh_public(xsMachine* the)
{
	PsaKey* key = getKey(the, 0);
	void* out;
	xsUnsignedValue outSize;
	size_t length = 0;
	xsmcGetBufferWritable(xsArg(1), &out, &outSize);
	psaCheck(the, psa_export_public_key(slotOf(the, key), out, outSize, &length), "public key export");
	xsmcSetInteger(xsResult, (xsIntegerValue)length);
}

/* ecdhAgree(key, peerPublic, out) -> length of the shared secret, or -1 when PSA rejects the
   peer's public value (not on the curve, wrong length, ...) */
void xs_psa_ecdh_agree(xsMachine* the)
{
	PsaKey* key = getKey(the, 0);
	void *peer, *out;
	xsUnsignedValue peerSize, outSize;
	size_t length = 0;
	psa_status_t status;
	xsmcGetBufferReadable(xsArg(1), &peer, &peerSize);
	xsmcGetBufferWritable(xsArg(2), &out, &outSize);
	status = psa_raw_key_agreement(PSA_ALG_ECDH, slotOf(the, key), peer, peerSize, out, outSize, &length);
	if (status == PSA_ERROR_INVALID_ARGUMENT || status == PSA_ERROR_NOT_SUPPORTED) {
		xsmcSetInteger(xsResult, -1);
		return;
	}
	psaCheck(the, status, "ECDH");
	xsmcSetInteger(xsResult, (xsIntegerValue)length);
}
