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
 * an SA imports its keys once and every packet only names the slot. Packet operations work in
 * place on (buffer, offset, length) so the data path does not allocate:
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

typedef struct {
	psa_key_id_t id;
	psa_algorithm_t alg;
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

static void psaKeyDestructor(void* data)
{
	PsaKey* key = data;
	if (key) {
		psa_destroy_key(key->id);
		free(key);
	}
}

/* Wrap a freshly made PSA key in the result host object; on failure destroy it and throw. */
static void newKeyObject(xsMachine* the, psa_key_id_t id, psa_algorithm_t alg, int tagLength)
{
	PsaKey* key = calloc(1, sizeof(PsaKey));
	if (!key) {
		psa_destroy_key(id);
		xsUnknownError("out of memory");
	}
	key->id = id;
	key->alg = alg;
	key->tagLength = tagLength;
	xsResult = xsNewHostObject(psaKeyDestructor);
	xsmcSetHostData(xsResult, key);
}

static PsaKey* getKey(xsMachine* the, int argument)
{
	PsaKey* key = xsmcGetHostDataValidate(xsArg(argument), (void*)psaKeyDestructor);
	if (!key)
		xsTypeError("not a PSA key");
	return key;
}

static psa_key_id_t importKey(xsMachine* the, psa_key_type_t type, psa_algorithm_t alg, psa_key_usage_t usage, int argument)
{
	psa_key_attributes_t attributes = PSA_KEY_ATTRIBUTES_INIT;
	psa_key_id_t id = 0;
	void* bytes;
	xsUnsignedValue size;
	psa_status_t status;
	psaReady(the);
	xsmcGetBufferReadable(xsArg(argument), &bytes, &size);
	psa_set_key_type(&attributes, type);
	psa_set_key_algorithm(&attributes, alg);
	psa_set_key_usage_flags(&attributes, usage);
	status = psa_import_key(&attributes, bytes, size, &id);
	if (status == PSA_ERROR_INSUFFICIENT_MEMORY) {
		/* All key slots are taken: collect unreachable key objects (their destructors free
		   their slots) and try once more. Bytes pointers move when XS collects: fetch again. */
		xsCollectGarbage();
		xsmcGetBufferReadable(xsArg(argument), &bytes, &size);
		status = psa_import_key(&attributes, bytes, size, &id);
	}
	psa_reset_key_attributes(&attributes);
	psaCheck(the, status, "key import");
	return id;
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
	psa_destroy_key(key->id);
	free(key);
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
	psa_key_id_t id;
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
	id = importKey(the, type, alg, PSA_KEY_USAGE_SIGN_MESSAGE | PSA_KEY_USAGE_VERIFY_MESSAGE, 2);
	newKeyObject(the, id, alg, 0);
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
	psaCheck(the, psa_mac_compute(key->id, key->alg, data, dataLength, full, sizeof(full), &length), "MAC");
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
	psa_key_id_t id = importKey(the, type, alg, PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT, 1);
	newKeyObject(the, id, alg, tagLength);
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
	psaCheck(the, psa_aead_encrypt(key->id, key->alg, nonce, nonceSize, aad, aadSize, data, length, data, length + key->tagLength, &written), "AEAD seal");
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
	status = psa_aead_decrypt(key->id, key->alg, nonce, nonceSize, aad, aadSize, data, length + key->tagLength, data, length, &written);
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
	newKeyObject(the, importKey(the, type, alg, PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT, 1), alg, tagLength);
	key = xsmcGetHostData(xsResult);
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
	psaCheck(the, psa_aead_encrypt(c.key->id, c.key->alg, c.nonce, c.nonceLength, c.aad, c.aadLength,
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
	status = psa_aead_decrypt(c.key->id, c.key->alg, c.nonce, c.nonceLength, c.aad, c.aadLength,
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
	newKeyObject(the, importKey(the, type, alg, PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT, 1), alg, 0);
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
	status = encrypt ? psa_cipher_encrypt_setup(&operation, key->id, key->alg) : psa_cipher_decrypt_setup(&operation, key->id, key->alg);
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

/* ecdhGenerate(curve) -> key pair (the private key never leaves PSA) */
void xs_psa_ecdh_generate(xsMachine* the)
{
	psa_key_attributes_t attributes = PSA_KEY_ATTRIBUTES_INIT;
	psa_key_type_t type;
	size_t bits;
	psa_key_id_t id = 0;
	psa_status_t status;
	curveType(the, xsmcToInteger(xsArg(0)), &type, &bits);
	psaReady(the);
	psa_set_key_type(&attributes, type);
	psa_set_key_bits(&attributes, bits);
	psa_set_key_algorithm(&attributes, PSA_ALG_ECDH);
	psa_set_key_usage_flags(&attributes, PSA_KEY_USAGE_DERIVE);
	status = psa_generate_key(&attributes, &id);
	if (status == PSA_ERROR_INSUFFICIENT_MEMORY) {
		xsCollectGarbage(); /* as in importKey */
		status = psa_generate_key(&attributes, &id);
	}
	psa_reset_key_attributes(&attributes);
	psaCheck(the, status, "ECDH key generation");
	newKeyObject(the, id, PSA_ALG_ECDH, 0);
}

/* ecdhImport(curve, privateBytes) -> key pair (for known-answer tests) */
void xs_psa_ecdh_import(xsMachine* the)
{
	psa_key_type_t type;
	size_t bits;
	curveType(the, xsmcToInteger(xsArg(0)), &type, &bits);
	newKeyObject(the, importKey(the, type, PSA_ALG_ECDH, PSA_KEY_USAGE_DERIVE, 1), PSA_ALG_ECDH, 0);
}

/* ecdhPublic(key, out) -> length. Weierstrass curves: 0x04 || x || y; X25519: 32 bytes. */
void xs_psa_ecdh_public(xsMachine* the)
{
	PsaKey* key = getKey(the, 0);
	void* out;
	xsUnsignedValue outSize;
	size_t length = 0;
	xsmcGetBufferWritable(xsArg(1), &out, &outSize);
	psaCheck(the, psa_export_public_key(key->id, out, outSize, &length), "public key export");
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
	status = psa_raw_key_agreement(PSA_ALG_ECDH, key->id, peer, peerSize, out, outSize, &length);
	if (status == PSA_ERROR_INVALID_ARGUMENT || status == PSA_ERROR_NOT_SUPPORTED) {
		xsmcSetInteger(xsResult, -1);
		return;
	}
	psaCheck(the, status, "ECDH");
	xsmcSetInteger(xsResult, (xsIntegerValue)length);
}
