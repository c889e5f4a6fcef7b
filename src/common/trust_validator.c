/* The trust decision: set-up and the order of the checks; see
 * trust_validator.h. */
#include "common/trust_validator.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/asn1_time.h"
#include "common/trust_internal.h"

typedef enum tc_reason Reason;

static X509 *pem_cert(const char *pem)
{
	BIO *b = pem ? BIO_new_mem_buf(pem, -1) : NULL;
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	return x;
}

/* The configured intermediate must chain to the root now, or every
 * validation through it would be a lie. */
static int verify_intermediate(X509_STORE *store, X509 *inter)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok = ctx && X509_STORE_CTX_init(ctx, store, inter, NULL) == 1;
	if (ok) {
		X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx), X509_V_FLAG_NO_CHECK_TIME);
		ok = X509_verify_cert(ctx) == 1 && X509_check_ca(inter) != 0;
	}
	X509_STORE_CTX_free(ctx);
	return ok ? 0 : -1;
}

static int setup(struct tc_trust *v, const struct tc_trust_config *cfg, char *err, size_t errlen)
{
	X509 *root = pem_cert(cfg->root_pem);
	if (!root) {
		snprintf(err, errlen, "the root certificate does not decode");
		return -1;
	}
	int ok = (v->store = X509_STORE_new()) && X509_STORE_add_cert(v->store, root) == 1 &&
		 (v->root = tc_ca_cert_new(root, NULL)) && (v->cas = tc_chain_cache_new()) &&
		 (cfg->no_leaf_cache || (v->leaves = tc_leaf_cache_new())) &&
		 tc_chain_cache_add(v->cas, v->root, 1) == 0;
	X509_free(root);
	if (!ok) {
		snprintf(err, errlen, "cannot set up the root store");
		return -1;
	}
	if (cfg->intermediate_pem) {
		X509 *inter = pem_cert(cfg->intermediate_pem);
		struct tc_ca_cert *e = NULL;
		if (!inter || verify_intermediate(v->store, inter) != 0) {
			snprintf(err, errlen, "the intermediate certificate %s", inter ? "does not chain to the root"
										       : "does not decode");
			X509_free(inter);
			return -1;
		}
		ok = (e = tc_ca_cert_new(inter, v->root)) && tc_chain_cache_add(v->cas, e, 1) == 0 &&
		     (!cfg->fetch_crl ||
		      (v->crl = tc_crl_cache_new(inter, cfg->fetch_crl, cfg->fetch_arg, &cfg->crl_timing)));
		tc_ca_cert_unref(e);
		X509_free(inter);
		if (!ok) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	if (cfg->n_log_keys > TC_TRUST_MAX_LOGS) {
		snprintf(err, errlen, "%zu CT log keys (at most %d)", cfg->n_log_keys, TC_TRUST_MAX_LOGS);
		return -1;
	}
	for (size_t i = 0; i < cfg->n_log_keys; i++) {
		if (!cfg->log_keys[i] || EVP_PKEY_up_ref(cfg->log_keys[i]) != 1) {
			snprintf(err, errlen, "CT log key %zu is missing", i);
			return -1;
		}
		v->logs[v->n_logs].key = cfg->log_keys[i];
		if (tc_sct_log_set_id(&v->logs[v->n_logs++]) != 0) {
			snprintf(err, errlen, "CT log key %zu cannot be encoded", i);
			return -1;
		}
	}
	v->require_sct = cfg->require_sct;
	return 0;
}

struct tc_trust *tc_trust_new(const struct tc_trust_config *cfg, char *err, size_t errlen)
{
	struct tc_trust *v = calloc(1, sizeof(*v));
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (setup(v, cfg, err, errlen) != 0) {
		tc_trust_free(v);
		v = NULL;
	}
	ERR_clear_error();
	return v;
}

void tc_trust_free(struct tc_trust *v)
{
	if (!v)
		return;
	tc_crl_cache_free(v->crl);
	for (size_t i = 0; i < atomic_load(&v->n_more); i++) {
		tc_crl_cache_free(v->more_crl[i]);
		X509_free(v->more_issuer[i]);
	}
	tc_leaf_cache_free(v->leaves);
	tc_chain_cache_free(v->cas);
	tc_ca_cert_unref(v->root);
	X509_STORE_free(v->store);
	for (size_t i = 0; i < v->n_logs; i++)
		EVP_PKEY_free(v->logs[i].key);
	free(v);
}

void tc_trust_revocation_changed(struct tc_trust *v)
{
	if (v && v->crl)
		tc_crl_cache_invalidate(v->crl);
	for (size_t i = 0; v && i < atomic_load(&v->n_more); i++)
		tc_crl_cache_invalidate(v->more_crl[i]);
}

struct tc_crl_cache *tc_trust_crl_for(struct tc_trust *v, X509 *leaf)
{
	size_t n = atomic_load(&v->n_more);
	for (size_t i = 0; i < n; i++)
		if (X509_NAME_cmp(X509_get_issuer_name(leaf), X509_get_subject_name(v->more_issuer[i])) == 0)
			return v->more_crl[i];
	return v->crl;
}

/* A next intermediate under a new root (a CA key rollover) comes with that
 * root's cross certificate from our root after it in pem: its path to our
 * root is checked through it. 0 when inter chains to the root. */
static int verify_next_intermediate(X509_STORE *store, X509 *inter, const char *pem)
{
	if (verify_intermediate(store, inter) == 0)
		return 0;
	BIO *b = BIO_new_mem_buf(pem, -1);
	STACK_OF(X509) *more = sk_X509_new_null();
	X509 *first = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL, *x;
	while (b && more && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)))
		if (!sk_X509_push(more, x))
			X509_free(x);
	X509_free(first);
	BIO_free(b);
	ERR_clear_error();
	X509_STORE_CTX *ctx = sk_X509_num(more) > 0 ? X509_STORE_CTX_new() : NULL;
	int ok = ctx && X509_STORE_CTX_init(ctx, store, inter, more) == 1;
	if (ok) {
		X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx), X509_V_FLAG_NO_CHECK_TIME);
		ok = X509_verify_cert(ctx) == 1 && X509_check_ca(inter) != 0;
	}
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(more, X509_free);
	return ok ? 0 : -1;
}

int tc_trust_add_issuer(struct tc_trust *v, const char *pem, tc_crl_fetch_fn fetch, void *arg,
			const struct tc_crl_timing *timing, char *err, size_t errlen)
{
	static pthread_mutex_t adding = PTHREAD_MUTEX_INITIALIZER; /* one writer; readers use n_more */
	X509 *inter = pem_cert(pem);
	if (!inter || verify_next_intermediate(v->store, inter, pem) != 0) {
		snprintf(err, errlen, "the next intermediate %s", inter ? "does not chain to the root" : "does not decode");
		X509_free(inter);
		return -1;
	}
	pthread_mutex_lock(&adding);
	size_t n = atomic_load(&v->n_more);
	struct tc_ca_cert *e = NULL;
	int ok = n < TC_TRUST_MAX_ISSUERS && (e = tc_ca_cert_new(inter, v->root)) &&
		 tc_chain_cache_add(v->cas, e, 1) == 0 && (v->more_crl[n] = tc_crl_cache_new(inter, fetch, arg, timing));
	tc_ca_cert_unref(e);
	if (ok) {
		v->more_issuer[n] = inter;
		atomic_store(&v->n_more, n + 1);
	} else {
		X509_free(inter);
		snprintf(err, errlen, n < TC_TRUST_MAX_ISSUERS ? "out of memory" : "too many intermediates");
	}
	pthread_mutex_unlock(&adding);
	ERR_clear_error();
	return ok ? 0 : -1;
}

struct tc_crl_cache *tc_trust_crl(struct tc_trust *v)
{
	return v->crl;
}

size_t tc_trust_cached_cas(struct tc_trust *v)
{
	return tc_chain_cache_size(v->cas);
}

unsigned long tc_trust_leaf_hits(struct tc_trust *v)
{
	return atomic_load(&v->leaf_hits);
}

int tc_trust_reason_fails(const struct tc_trust *v, Reason r)
{
	if (r == TC_REASON_SCT_MISSING)
		return v->require_sct;
	return r >= TC_REASON_CHAIN_EMPTY;
}

static void add(const struct tc_trust *v, struct tc_trust_result *out, Reason r, const char *why)
{
	if (out->n_reasons < TC_TRUST_MAX_REASONS)
		out->reasons[out->n_reasons++] = r;
	if (tc_trust_reason_fails(v, r) && !out->detail[0]) {
		snprintf(out->detail, sizeof(out->detail), "%s", why[0] ? why : "check failed");
		out->trusted = 0;
	}
}

static void set_path(struct tc_trust_result *out)
{
	out->path_der[0] = out->chain.certs[0].der;
	out->path_len[0] = out->chain.certs[0].len;
	out->n_path = 1;
	for (const struct tc_ca_cert *e = out->issuer; e && out->n_path < TC_CHAIN_MAX_CERTS + 2; e = e->issuer) {
		out->path_der[out->n_path] = e->der;
		out->path_len[out->n_path++] = e->der_len;
	}
}

void tc_trust_run(struct tc_trust *v, const unsigned char *const *elems, const size_t *lens, size_t n,
		  const char *name, size_t name_len, int64_t at, enum tc_purpose purpose,
		  struct tc_trust_result *out)
{
	memset(out, 0, sizeof(*out));
	out->trusted = 1;
	if (at == 0)
		at = (int64_t)time(NULL);
	char why[512] = "";
	enum tc_chain_status cs = tc_chain_split(elems, lens, n, &out->chain, why, sizeof(why));
	if (cs != TC_CHAIN_OK) {
		add(v, out, cs == TC_CHAIN_EMPTY ? TC_REASON_CHAIN_EMPTY
						 : TC_REASON_CHAIN_MALFORMED, why);
		return;
	}
	X509 *leaf = NULL;
	struct tc_leaf_entry *cached = NULL;
	why[0] = '\0';
	enum tc_path_result pr = tc_validate_path(v, &out->chain, &leaf, &out->issuer, &cached, why, sizeof(why));
	if (pr == TC_PATH_MALFORMED) {
		add(v, out, TC_REASON_CHAIN_MALFORMED, why);
		X509_free(leaf);
		tc_leaf_entry_unref(cached);
		return;
	}
	add(v, out, pr == TC_PATH_OK ? TC_REASON_OK_PATH : TC_REASON_PATH_UNTRUSTED, why);

	/* The SCT verdict depends on nothing in the request but the leaf:
	 * computed once per leaf, remembered with it, reported in its place. */
	Reason sct = TC_REASON_UNSPECIFIED;
	char sct_why[200] = "";
	if (cached) {
		atomic_fetch_add_explicit(&v->leaf_hits, 1, memory_order_relaxed);
		sct = cached->sct;
		snprintf(sct_why, sizeof(sct_why), "%s", cached->sct_why);
	} else if (pr == TC_PATH_OK) {
		sct = tc_check_sct(v, out->chain.certs[0].der, out->chain.certs[0].len, out->issuer, sct_why,
				   sizeof(sct_why));
		if (v->leaves) {
			cached = tc_leaf_entry_new(out->chain.certs[0].der, out->chain.certs[0].len, leaf, out->issuer,
						   sct, sct_why);
			if (cached)
				tc_leaf_cache_put(v->leaves, cached);
		}
	}

	/* The leaf's validity window: from the cache entry when there is one
	 * (decoded once), else decoded now. */
	struct tc_leaf_times lt = {0};
	if (cached) {
		lt.ok = cached->times_ok;
		lt.not_before = cached->not_before;
		lt.not_after = cached->not_after;
	} else {
		lt.ok = tc_asn1_time_unix(X509_get0_notBefore(leaf), &lt.not_before) == 0 &&
			tc_asn1_time_unix(X509_get0_notAfter(leaf), &lt.not_after) == 0;
	}
	tc_leaf_entry_unref(cached);
	if (lt.ok)
		out->leaf_not_after = lt.not_after;
	else if (tc_asn1_time_unix(X509_get0_notAfter(leaf), &out->leaf_not_after) != 0)
		out->leaf_not_after = 0;
	Reason times[2];
	why[0] = '\0';
	size_t k = tc_check_validity(&lt, out->issuer, at, times, why, sizeof(why));
	for (size_t i = 0; i < k; i++)
		add(v, out, times[i], why);
	why[0] = '\0';
	add(v, out, tc_check_name(leaf, name, name_len, why, sizeof(why)), why);
	why[0] = '\0';
	add(v, out, tc_check_usage(leaf, purpose, why, sizeof(why)), why);
	if (pr == TC_PATH_OK) {
		add(v, out, sct, sct_why);
		why[0] = '\0';
		add(v, out, tc_check_revocation(v, leaf, out->issuer, why, sizeof(why)), why);
		set_path(out);
	}
	X509_free(leaf);
}

void tc_trust_result_release(struct tc_trust_result *out)
{
	tc_ca_cert_unref(out->issuer);
	out->issuer = NULL;
	tc_chain_release(&out->chain);
	out->n_path = 0;
}
