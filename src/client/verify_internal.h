/* What libtrustchain's verifier files share (verify*.c); not public. */
#ifndef TC_CLIENT_VERIFY_INTERNAL_H
#define TC_CLIENT_VERIFY_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "trustchain/verify.h"

/* The online decision cache (verify_cache.c): direct-mapped, bounded. */
struct tc_decision_cache;
struct tc_decision_cache *tc_decision_cache_new(size_t entries, int64_t ttl_ms);
void tc_decision_cache_free(struct tc_decision_cache *c);
/* The key: SHA-256 over the leaf's hash, the purpose and the name. */
int tc_decision_key(const unsigned char *leaf, size_t leaf_len, const char *name, size_t name_len,
		    enum tc_purpose purpose, unsigned char key[32]);
/* 1 and *out filled when a live entry exists. */
int tc_decision_cache_get(struct tc_decision_cache *c, const unsigned char key[32], struct tc_verdict *out);
/* Remembers vd until now + ttl or not_after (unix seconds, 0: unknown),
 * whichever comes first. */
void tc_decision_cache_put(struct tc_decision_cache *c, const unsigned char key[32], const struct tc_verdict *vd,
			   int64_t not_after);

/* The local-mode CRL refresher (verify_crl.c). */
struct tc_crl_cache;
struct tc_crl_source {
	struct tc_client *client;  /* GetCrl, or */
	char *url_base;            /* "http://host:port" and */
	char *url_path;            /* "/path" */
	int timeout_ms;
};
int tc_crl_source_init(struct tc_crl_source *s, struct tc_client *client, const char *url, int timeout_ms,
		       char *err, size_t errlen);
void tc_crl_source_clear(struct tc_crl_source *s);
/* tc_crl_fetch_fn over a struct tc_crl_source. */
int tc_crl_source_fetch(void *arg, unsigned char **der, size_t *len, uint64_t *number, char *err, size_t errlen);

struct tc_crl_refresher;
/* Refreshes cache once now, then every period_ms on its own thread. */
struct tc_crl_refresher *tc_crl_refresher_start(struct tc_crl_cache *cache, int64_t period_ms,
						void (*log)(void *, const char *), void *log_arg);
void tc_crl_refresher_stop(struct tc_crl_refresher *r);

#endif
