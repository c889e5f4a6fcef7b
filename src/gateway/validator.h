/* The STOQ trust decision (DESIGN.md section 5) without the RPC around it:
 * is this chain trustworthy for this name, at this time, for this purpose?
 *
 * Checks run in this order, each adding one or more reasons
 * (api/trustchain/v1/validation.proto):
 *   chain     CHAIN_EMPTY / CHAIN_MALFORMED          (stops here on failure)
 *   path      OK_PATH / PATH_UNTRUSTED               to the root in the data dir;
 *                                                    roots in the request are ignored
 *   validity  OK_VALIDITY / NOT_YET_VALID / EXPIRED  every certificate of the path
 *                                                    (the leaf alone without a path)
 *   name      OK_NAME / NAME_MISMATCH / NAME_NOT_CHECKED (empty name; not a failure)
 *   usage     OK_KEY_USAGE / KEY_USAGE_MISMATCH      EKU lists the purpose, KU has
 *                                                    digitalSignature, leaf is no CA
 *   SCT       OK_SCT / SCT_INVALID / SCT_MISSING     only with a path
 *   revoked   OK_NOT_REVOKED / REVOKED / REVOCATION_UNKNOWN   only with a path
 * The decision is TRUSTED when no failing reason was added. SCT_MISSING is
 * failing only when require_sct is set (gateway.require_sct); otherwise it
 * is reported for information. REVOCATION_UNKNOWN is failing: when the
 * signer's CRL cannot be had the answer is UNTRUSTED (fail closed).
 *
 * Cost: a leaf seen before (leaf_cache.h) is a hash and a lookup plus the
 * per-request checks; a new leaf issued by a known CA is an X.509 decode
 * and two ECDSA verifications (its signature, its SCT); an unknown
 * intermediate adds one X509_verify_cert, after which it is known
 * (chain_cache.h).
 *
 * One validator serves every gRPC worker thread at once: the root store,
 * the pinned CA certificates and the log key are read-only after
 * tc_validator_new; the caches lock for themselves. */
#ifndef TC_GATEWAY_VALIDATOR_H
#define TC_GATEWAY_VALIDATOR_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/chain_parse.h"
#include "gateway/crl_cache.h"
#include "trustchain/v1/validation.pb-c.h"

#define TC_VALIDATION_MAX_REASONS 16

struct tc_validator_config {
	const char *root_pem;          /* ca/root.pem: the one trust anchor */
	const char *intermediate_pem;  /* ca/intermediate.pem: pinned, may be NULL */
	EVP_PKEY *log_key;             /* ct/log_public_key.pem; NULL: no SCT can verify */
	int require_sct;               /* SCT_MISSING fails the decision */
	tc_crl_fetch_fn fetch_crl;     /* the signer's GetCrl */
	void *fetch_arg;
	int no_leaf_cache;             /* benches: every call decodes and verifies its leaf */
};

struct tc_validator;
struct tc_ca_cert;

struct tc_validator *tc_validator_new(const struct tc_validator_config *cfg, char *err, size_t errlen);
void tc_validator_free(struct tc_validator *v);

/* A revocation happened: the next validation fetches the CRL. */
void tc_validator_revocation_changed(struct tc_validator *v);

struct tc_validation {
	int trusted;
	Trustchain__V1__Reason reasons[TC_VALIDATION_MAX_REASONS];
	size_t n_reasons;
	char detail[512];               /* the first failure, "" when trusted */
	/* The verified path, leaf first, ending with the root (n_path 0 when
	 * there is none). Points into the request and into cache entries the
	 * validation holds: valid until tc_validation_release. */
	const unsigned char *path_der[TC_CHAIN_MAX_CERTS + 2];
	size_t path_len[TC_CHAIN_MAX_CERTS + 2];
	size_t n_path;

	/* private */
	struct tc_chain chain;
	struct tc_ca_cert *issuer;
};

/* Validates the chain elements (DER or PEM each, leaf first) for name ("" or
 * NULL: not checked) at unix time at (0: now) for purpose. Always fills
 * out; release it with tc_validation_release. */
void tc_validator_run(struct tc_validator *v, const unsigned char *const *elems, const size_t *lens, size_t n,
		      const char *name, int64_t at, Trustchain__V1__Purpose purpose, struct tc_validation *out);
void tc_validation_release(struct tc_validation *out);

/* Number of CA certificates cached (pinned ones included). */
size_t tc_validator_cached_cas(struct tc_validator *v);
/* Validations whose leaf came from the leaf cache so far. */
unsigned long tc_validator_leaf_hits(struct tc_validator *v);

#endif
