/* Validate's decision, in the gateway's terms (protobuf enums, one CT log
 * key, the signer's GetCrl as the CRL source). The decision itself is
 * common/trust_validator.h, shared with libtrustchain's local mode: see
 * there what is checked, in which order, and what it costs.
 *
 * One validator serves every gRPC worker thread at once. */
#ifndef TC_GATEWAY_VALIDATOR_H
#define TC_GATEWAY_VALIDATOR_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "common/chain_parse.h"
#include "common/crl_cache.h"
#include "common/trust_validator.h"
#include "trustchain/v1/validation.pb-c.h"

#define TC_VALIDATION_MAX_REASONS 16

struct tc_validator_config {
	const char *root_pem;          /* ca/root.pem: the one trust anchor */
	const char *intermediate_pem;  /* ca/intermediate.pem: pinned, may be NULL */
	EVP_PKEY *log_key;             /* ct/log_public_key.pem; NULL: no SCT can verify */
	EVP_PKEY *const *log_keys;     /* every CT log's key (common/ct_shard_keys.h); set: log_key unused */
	size_t n_log_keys;
	int require_sct;               /* SCT_MISSING fails the decision */
	tc_crl_fetch_fn fetch_crl;     /* the signer's GetCrl */
	void *fetch_arg;
	int no_leaf_cache;             /* benches: every call decodes and verifies its leaf */
};

struct tc_validator;

struct tc_validator *tc_validator_new(const struct tc_validator_config *cfg, char *err, size_t errlen);
void tc_validator_free(struct tc_validator *v);

/* A revocation happened: the next validation fetches the CRL. */
void tc_validator_revocation_changed(struct tc_validator *v);

/* Trusts a CA key rollover's next intermediate too, its CRL from fetch
 * (common/trust_validator.h tc_trust_add_issuer). 0, or -1 with err. */
int tc_validator_add_issuer(struct tc_validator *v, const char *pem, tc_crl_fetch_fn fetch, void *arg, char *err,
			    size_t errlen);

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
	struct tc_trust_result core;
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
