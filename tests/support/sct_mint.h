/* Final certificates from a real signer for tests that need certificates
 * but no CT log of their own: the test plays the CT log. Over a signer
 * connection named "transparency" (the capability the log process has,
 * handed out by the harness as the supervisor hands it to the log), the
 * signer signs the RFC 6962 precert entry of a precertificate with the CT
 * log key, as the log does once the entry is durable; no entry is stored
 * anywhere, so a log under test sees only what the test submits.
 *
 * This goes around nothing: the signer still signs a final certificate
 * only as the twin of a precertificate it signed, with an SCT of its log
 * key that verifies. No production code links this file. */
#ifndef TC_TESTS_SCT_MINT_H
#define TC_TESTS_SCT_MINT_H

#include <stddef.h>
#include <stdint.h>

#include "support/signer_harness.h"

struct tc_signer_client;

struct tc_sct_minter {
	struct tc_signer_client *log_link;   /* the "transparency" connection (owned) */
	unsigned char log_id[32];            /* SHA-256 of the CT log key's SubjectPublicKeyInfo */
	unsigned char issuer_key_hash[32];   /* SHA-256 of the intermediate's SubjectPublicKeyInfo */
};

/* Connects as "transparency" and reads the log ID and issuer key hash from
 * the signer's public information. 0, or -1. */
int tc_sct_minter_open(struct tc_sct_minter *m, struct tc_harness *h);
void tc_sct_minter_close(struct tc_sct_minter *m);

/* The digitally-signed input of an SCT (RFC 6962 3.2) for the precert
 * entry of precert (DER, poison present): malloc'd into *in. 0 or -1. */
int tc_sct_precert_input(const unsigned char issuer_key_hash[32], const unsigned char *precert, size_t len,
			 uint64_t timestamp_ms, unsigned char **in, size_t *in_len);

/* A SignedCertificateTimestampList of one v1 SCT (SHA-256 / ECDSA, no
 * extensions) with these fields, malloc'd into *list. 0 or -1. */
int tc_sct_list_of(const unsigned char log_id[32], uint64_t timestamp_ms, const unsigned char *sig, size_t sig_len,
		   unsigned char **list, size_t *list_len);

/* The SCT list the log would return for precert: signed by the CT log key
 * through the signer. 0 or -1. */
int tc_sct_mint_list(const struct tc_sct_minter *m, const unsigned char *precert, size_t len, unsigned char **list,
		     size_t *list_len);

/* The issuance flow over signer (a connection with the certificate
 * capability): precertificate of tbs (a DER leaf template), its SCT, the
 * final certificate. Returns the final certificate (DER, malloc'd) and,
 * when precert is not NULL, the precertificate (malloc'd); NULL with err. */
unsigned char *tc_sct_minter_issue(const struct tc_sct_minter *m, struct tc_signer_client *signer,
				   const unsigned char *tbs, size_t tbs_len, size_t *len, unsigned char **precert,
				   size_t *precert_len, char *err, size_t errlen);

#endif
