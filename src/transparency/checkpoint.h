/* The log's checkpoint (C2SP tlog-checkpoint + static-ct-api): a signed
 * note whose text is
 *
 *   <origin>\n<tree size>\n<base64 root hash>\n
 *
 * signed by the log key with an RFC6962NoteSignature: key name = origin,
 * key ID = SHA-256(origin || 0x0A || 0x05 || log ID)[:4], signature bytes
 *
 *   struct { uint64 timestamp; TreeHeadSignature signature; }
 *
 * where signature is the RFC 6962 tree head's DigitallySigned value
 * (sha256, ecdsa, signature<0..2^16-1>). It is made from a stored STH
 * without the key: the same tree head verifies as get-sth and as this
 * note, and the origin line is not covered by the signature (only by the
 * key ID). No extension lines (the spec forbids them with this type). */
#ifndef TC_TRANSPARENCY_CHECKPOINT_H
#define TC_TRANSPARENCY_CHECKPOINT_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "transparency/ct_encode.h"
#include "transparency/signed_note.h"

#define TC_CHECKPOINT_MAX_ORIGIN TC_NOTE_MAX_NAME
#define TC_CHECKPOINT_MAX_SIG 512

struct tc_checkpoint {
	char origin[TC_CHECKPOINT_MAX_ORIGIN + 1];
	uint64_t tree_size;
	unsigned char root[TC_CT_HASH_LEN];
	/* from the log's RFC6962NoteSignature (set by tc_checkpoint_verify) */
	uint64_t timestamp;
	unsigned char signature[TC_CHECKPOINT_MAX_SIG]; /* the DER ECDSA signature */
	size_t signature_len;
};

/* Parses a checkpoint text (the note text, "\n" included): exactly origin,
 * size (decimal, no leading zeros) and root (base64 of 32 bytes). */
int tc_checkpoint_parse_text(const char *text, size_t len, struct tc_checkpoint *out);

/* SHA-256(origin || 0x0A || 0x05 || log_id)[:4]. */
uint32_t tc_checkpoint_key_id(const char *origin, const unsigned char log_id[TC_CT_LOG_ID_LEN]);

/* The whole signed note for a tree head, malloc'd and NUL-terminated in
 * *out (*out_len bytes). sig is the tree head's DER ECDSA signature. 0, or
 * -1 (bad origin, signature too long, out of memory). */
int tc_checkpoint_format(const char *origin, const unsigned char log_id[TC_CT_LOG_ID_LEN], uint64_t tree_size,
			 uint64_t timestamp, const unsigned char root[TC_CT_HASH_LEN], const unsigned char *sig,
			 size_t sig_len, char **out, size_t *out_len);

/* Verifies note[0..len) as a checkpoint of the log whose public key is
 * key: the note parses, its text is a checkpoint (whose origin must equal
 * origin unless origin is NULL), a signature line named after the origin
 * with the log's key ID exists and its RFC6962NoteSignature verifies over
 * the RFC 6962 tree head input. 0 with *out filled, or -1 with err. */
int tc_checkpoint_verify(const char *note, size_t len, const char *origin, EVP_PKEY *key,
			 struct tc_checkpoint *out, char *err, size_t errlen);

/* The log ID (SHA-256 of the DER SubjectPublicKeyInfo) of key. 0 or -1. */
int tc_checkpoint_log_id(EVP_PKEY *key, unsigned char log_id[TC_CT_LOG_ID_LEN]);

#endif
