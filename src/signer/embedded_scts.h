/* The SCT list a final certificate is to embed, checked by the signer
 * before it signs that certificate (RFC 6962 3.3): without this a caller
 * could have the CA sign a certificate whose precertificate was never
 * logged, with made-up bytes where the SCTs belong.
 *
 * The list is read as the TLS SignedCertificateTimestampList it must be,
 * and the SCTs of our log are verified against the log key over the
 * precertificate entry the signer itself rebuilds (issuer key hash and the
 * TBSCertificate without poison, i.e. the final certificate's TBS without
 * its SCT list). Nothing the caller says about the entry is believed. */
#ifndef TC_SIGNER_EMBEDDED_SCTS_H
#define TC_SIGNER_EMBEDDED_SCTS_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

/* Our CT log as the signer knows it: the ID is the SHA-256 of the log
 * key's DER SubjectPublicKeyInfo, key a software copy of its public half. */
struct tc_sig_memo;
struct tc_sct_log_key {
	const unsigned char *id; /* 32 bytes */
	EVP_PKEY *key;
	/* Signatures this process made with the log's private key (may be
	 * NULL): an SCT whose signature is found there for its digest is not
	 * verified again (sig_memo.h). memo_key names the key there. */
	struct tc_sig_memo *memo;
	const void *memo_key;
};

/* 0 when list is a well-formed SignedCertificateTimestampList holding at
 * least one SCT from log, and every SCT from log is a v1 SCT whose
 * SHA-256 signature verifies over the precert entry (issuer_key_hash,
 * precert_tbs) with its timestamp and extensions. SCTs of other logs
 * must be well-formed and are otherwise not judged. -1 with the reason in
 * why. */
int tc_embedded_scts_check(const uint8_t *list, size_t list_len, const struct tc_sct_log_key *log,
			   const unsigned char issuer_key_hash[32], const uint8_t *precert_tbs, size_t tbs_len,
			   char *why, size_t whylen);

#endif
