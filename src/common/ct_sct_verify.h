/* Verifies the SCTs embedded in a final certificate (RFC 6962 3.3) against
 * a log's public key, without the CT log's own code: the gateway must not
 * link the transparency process, and a verifier needs only this much.
 *
 * The precertificate entry an embedded SCT signs is rebuilt from the final
 * certificate by removing the SCT list extension from its TBSCertificate at
 * the DER level: every other byte stays as the CA signed it, which is what
 * RFC 6962 requires the log to have seen (poison removed from the
 * precertificate gives the same bytes). */
#ifndef TC_COMMON_CT_SCT_VERIFY_H
#define TC_COMMON_CT_SCT_VERIFY_H

#include <openssl/evp.h>
#include <stddef.h>

#define TC_SCT_LOG_ID_LEN 32

/* A log we trust: its ID is the SHA-256 of its DER SubjectPublicKeyInfo. */
struct tc_sct_log {
	unsigned char id[TC_SCT_LOG_ID_LEN];
	EVP_PKEY *key;
};

/* Fills log->id from log->key. 0, or -1 when the key cannot be encoded. */
int tc_sct_log_set_id(struct tc_sct_log *log);

/* Splits a DER certificate: *tbs (malloc'ed, free()) gets its
 * TBSCertificate without the SCT list extension, *list points into cert at
 * the TLS SignedCertificateTimestampList (the inner OCTET STRING's
 * content). Returns 1 when there is no SCT extension (nothing allocated),
 * 0 when split, -1 when the DER is malformed or the extension repeated. */
int tc_sct_split_certificate(const unsigned char *cert, size_t cert_len, unsigned char **tbs, size_t *tbs_len,
			     const unsigned char **list, size_t *list_len);

enum tc_sct_verdict {
	TC_SCT_VERIFIED = 0,  /* at least one SCT from a given log, every such SCT verifies */
	TC_SCT_NONE = 1,      /* no SCT from any of the given logs */
	TC_SCT_BAD = 2,       /* an SCT from a given log does not verify, or the list is malformed */
};

/* Checks the embedded SCTs of cert (DER) issued by the CA whose
 * SubjectPublicKeyInfo hashes (SHA-256) to issuer_key_hash. SCTs from logs
 * not in logs[] are ignored. why gets a sentence for the caller when the
 * verdict is not TC_SCT_VERIFIED. */
enum tc_sct_verdict tc_sct_verify_embedded(const unsigned char *cert, size_t cert_len,
					   const unsigned char issuer_key_hash[32], const struct tc_sct_log *logs,
					   size_t n_logs, char *why, size_t whylen);

#endif
