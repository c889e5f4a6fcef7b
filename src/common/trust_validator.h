/* The STOQ trust decision (DESIGN.md section 5) without any transport
 * around it: is this chain trustworthy for this name, at this time, for
 * this purpose? The gateway's Validate RPC (gateway/validator.h) and
 * libtrustchain's local mode (trustchain/verify.h) both decide with this
 * code, so a node deciding on its own reaches the gateway's answer.
 *
 * Checks run in this order, each adding one or more reasons
 * (enum tc_reason, the numbers of api/trustchain/v1/validation.proto):
 *   chain     CHAIN_EMPTY / CHAIN_MALFORMED          (stops here on failure)
 *   path      OK_PATH / PATH_UNTRUSTED               to the configured root;
 *                                                    roots in the chain are ignored
 *   validity  OK_VALIDITY / NOT_YET_VALID / EXPIRED  every certificate of the path
 *                                                    (the leaf alone without a path)
 *   name      OK_NAME / NAME_MISMATCH / NAME_NOT_CHECKED (empty name; not a failure)
 *   usage     OK_KEY_USAGE / KEY_USAGE_MISMATCH      EKU lists the purpose, KU has
 *                                                    digitalSignature, leaf is no CA
 *   SCT       OK_SCT / SCT_INVALID / SCT_MISSING     only with a path
 *   revoked   OK_NOT_REVOKED / REVOKED / REVOCATION_UNKNOWN   only with a path
 * The decision is TRUSTED when no failing reason was added. SCT_MISSING is
 * failing only when require_sct is set; otherwise it is reported for
 * information. REVOCATION_UNKNOWN is failing: when no fresh enough CRL can be
 * had the answer is UNTRUSTED (fail closed).
 *
 * Cost: a leaf seen before (leaf_cache.h) is a hash and a lookup plus the
 * per-call checks; a new leaf issued by a known CA is an X.509 decode and
 * two ECDSA verifications (its signature, its SCT); an unknown intermediate
 * adds one X509_verify_cert, after which it is known (chain_cache.h).
 *
 * One tc_trust serves any number of threads at once: the root store, the
 * pinned CA certificates and the log keys are read-only after tc_trust_new;
 * the caches lock for themselves. */
#ifndef TC_COMMON_TRUST_VALIDATOR_H
#define TC_COMMON_TRUST_VALIDATOR_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "common/chain_parse.h"
#include "common/crl_cache.h"
#include "trustchain/client.h"

#define TC_TRUST_MAX_REASONS 16
#define TC_TRUST_MAX_LOGS 16 /* the single CT log and up to TC_CFG_MAX_CT_LOGS shards */

struct tc_trust_config {
	const char *root_pem;          /* the one trust anchor */
	const char *intermediate_pem;  /* the issuing intermediate: pinned, signs the CRL; may be NULL */
	EVP_PKEY *const *log_keys;     /* CT log keys (n_log_keys, at most TC_TRUST_MAX_LOGS) */
	size_t n_log_keys;             /* 0: no SCT can verify */
	int require_sct;               /* SCT_MISSING fails the decision */
	tc_crl_fetch_fn fetch_crl;     /* the revocation source; NULL: REVOCATION_UNKNOWN */
	void *fetch_arg;
	struct tc_crl_timing crl_timing; /* zero: the gateway's (crl_cache.h) */
	int no_leaf_cache;             /* benches: every call decodes and verifies its leaf */
};

struct tc_trust;
struct tc_ca_cert;

struct tc_trust *tc_trust_new(const struct tc_trust_config *cfg, char *err, size_t errlen);
void tc_trust_free(struct tc_trust *t);

/* A revocation happened: the next validation fetches the CRL. */
void tc_trust_revocation_changed(struct tc_trust *t);
/* The CRL state, for a caller that refreshes it in the background
 * (crl_timing.background); NULL without an intermediate or a source. */
struct tc_crl_cache *tc_trust_crl(struct tc_trust *t);

/* Trusts one more issuing intermediate (pem), the successor of a CA key
 * rollover: it must chain to the root; its leaves' revocation is checked
 * against its own CRL from fetch(arg). Safe while validations run; at most
 * TC_TRUST_MAX_ISSUERS. 0, or -1 with err. */
#define TC_TRUST_MAX_ISSUERS 4
int tc_trust_add_issuer(struct tc_trust *t, const char *pem, tc_crl_fetch_fn fetch, void *arg,
			const struct tc_crl_timing *timing, char *err, size_t errlen);

struct tc_trust_result {
	int trusted;
	enum tc_reason reasons[TC_TRUST_MAX_REASONS];
	size_t n_reasons;
	char detail[512];               /* the first failure, "" when trusted */
	/* The end of the leaf's validity (unix seconds; 0 when unknown): a
	 * decision about it is worth nothing after that. */
	int64_t leaf_not_after;
	/* The verified path, leaf first, ending with the root (n_path 0 when
	 * there is none). Points into the request and into cache entries the
	 * result holds: valid until tc_trust_result_release. */
	const unsigned char *path_der[TC_CHAIN_MAX_CERTS + 2];
	size_t path_len[TC_CHAIN_MAX_CERTS + 2];
	size_t n_path;

	/* private */
	struct tc_chain chain;
	struct tc_ca_cert *issuer;
};

/* Validates the chain elements (DER or PEM each, leaf first) for the name
 * (name_len bytes, not NUL-terminated necessarily; 0: not checked; a NUL
 * or control byte inside is a NAME_MISMATCH, never cut short) at unix time
 * at (0: now) for purpose (0: server). Always fills out; release it with
 * tc_trust_result_release. */
void tc_trust_run(struct tc_trust *t, const unsigned char *const *elems, const size_t *lens, size_t n,
		  const char *name, size_t name_len, int64_t at, enum tc_purpose purpose,
		  struct tc_trust_result *out);
void tc_trust_result_release(struct tc_trust_result *out);

/* 1 when r is a failing reason under this configuration. */
int tc_trust_reason_fails(const struct tc_trust *t, enum tc_reason r);

/* Number of CA certificates cached (pinned ones included). */
size_t tc_trust_cached_cas(struct tc_trust *t);
/* Validations whose leaf came from the leaf cache so far. */
unsigned long tc_trust_leaf_hits(struct tc_trust *t);

#endif
