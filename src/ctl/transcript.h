/* Signed ceremony transcripts.
 *
 * A transcript is a JSON object (step, operator, time, token, key, public
 * artefacts and their hashes, ...). Its canonical bytes are
 * json_dumps(JSON_COMPACT | JSON_SORT_KEYS): that is what the audit key
 * signs (ECDSA over SHA-256, DER signature) and what goes to the audit
 * journal. The file on disk is
 *
 *   {"audit_key_id": "<hex CKA_ID>", "signature": "<base64 DER>", "transcript": {...}}
 *
 * written with JSON_INDENT(2) | JSON_SORT_KEYS, and a verifier also insists
 * on that exact layout so no byte of the file can change unnoticed. */
#ifndef TC_CTL_TRANSCRIPT_H
#define TC_CTL_TRANSCRIPT_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>

/* Canonical bytes of a transcript object; free() the result. */
char *tc_transcript_canonical(const json_t *transcript);

/* Signs transcript with the audit key (an HSM handle) and returns the file
 * contents to publish; free() the result. */
char *tc_transcript_sign(const json_t *transcript, EVP_PKEY *audit_priv,
			 const unsigned char *audit_key_id, size_t audit_key_id_len, char *err,
			 size_t errlen);

/* Publishes doc as <dir>/NNNN-<step>.json, NNNN being one more than the
 * highest number there; the path written is returned in path. Callers hold
 * the journal lock, which also serialises ceremonies. */
int tc_transcript_store(const char *dir, const char *step, const char *doc, char *path,
			size_t pathlen, char *err, size_t errlen);

struct tc_transcript_info {
	char step[64];
	char operator_name[128];
	char time[64];
	char audit_key_id[129];
	int dev;
};

/* Verifies a transcript file's bytes against the audit public key. Returns 0
 * when the signature is valid and the file is exactly as written; -1 with
 * the reason in err otherwise. */
int tc_transcript_verify(const char *doc, size_t len, EVP_PKEY *audit_pub,
			 struct tc_transcript_info *info, char *err, size_t errlen);

#endif
