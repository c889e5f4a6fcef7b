/* What the trust decision's files share (trust_validator.c, trust_path.c,
 * trust_checks.c); not for their users. */
#ifndef TC_COMMON_TRUST_INTERNAL_H
#define TC_COMMON_TRUST_INTERNAL_H

#include <openssl/x509.h>
#include <stdatomic.h>

#include "common/ct_sct_verify.h"
#include "common/chain_cache.h"
#include "common/crl_cache.h"
#include "common/leaf_cache.h"
#include "common/trust_validator.h"

struct tc_trust {
	X509_STORE *store;             /* the root, for path building */
	struct tc_ca_cert *root;       /* pinned */
	struct tc_chain_cache *cas;    /* verified CA certificates */
	struct tc_leaf_cache *leaves;  /* validated leaves */
	struct tc_crl_cache *crl;      /* NULL without an intermediate */
	/* Intermediates added by a rollover (tc_trust_add_issuer), each with
	 * its CRL; n_more is published after the slot is filled. */
	X509 *more_issuer[TC_TRUST_MAX_ISSUERS];
	struct tc_crl_cache *more_crl[TC_TRUST_MAX_ISSUERS];
	atomic_size_t n_more;
	struct tc_sct_log logs[TC_TRUST_MAX_LOGS];
	size_t n_logs;                 /* 0: no SCT can verify */
	int require_sct;
	atomic_ulong leaf_hits;        /* validations answered from the leaf cache */
};

enum tc_path_result {
	TC_PATH_OK = 0,
	TC_PATH_UNTRUSTED = 1,
	TC_PATH_MALFORMED = 2,
};

/* Finds and verifies the path of the chain's leaf (*leaf, decoded, set
 * unless the leaf is malformed) to our root: *issuer is the leaf's verified
 * issuer (referenced) on TC_PATH_OK. A leaf validated before comes from the
 * leaf cache (*cached, referenced: its SCT verdict applies); otherwise a
 * known issuer costs one signature check, an unknown one X509_verify_cert,
 * whose verified CAs are cached. */
enum tc_path_result tc_validate_path(struct tc_trust *v, const struct tc_chain *chain, X509 **leaf,
				     struct tc_ca_cert **issuer, struct tc_leaf_entry **cached, char *why,
				     size_t whylen);

/* The individual checks: each returns the reason to report and fills why
 * when it is a failure. The validity check may report two (NOT_YET_VALID
 * and EXPIRED for different certificates of the path); issuer NULL checks
 * the leaf alone. */
struct tc_leaf_times {
	int ok; /* 0: the leaf's validity does not decode */
	int64_t not_before, not_after;
};
size_t tc_check_validity(const struct tc_leaf_times *leaf, const struct tc_ca_cert *issuer, int64_t at,
			 enum tc_reason out[2], char *why, size_t whylen);
enum tc_reason tc_check_name(X509 *leaf, const char *name, size_t name_len, char *why, size_t whylen);
enum tc_reason tc_check_usage(X509 *leaf, enum tc_purpose purpose, char *why, size_t whylen);
enum tc_reason tc_check_sct(const struct tc_trust *v, const unsigned char *leaf_der, size_t leaf_len,
				    const struct tc_ca_cert *issuer, char *why, size_t whylen);
/* The CRL cache of leaf's issuer: a rollover's intermediate's, else the
 * configured one's (NULL without one). */
struct tc_crl_cache *tc_trust_crl_for(struct tc_trust *v, X509 *leaf);
enum tc_reason tc_check_revocation(struct tc_trust *v, X509 *leaf, const struct tc_ca_cert *issuer,
					   char *why, size_t whylen);

#endif
