/* Revocation state for Validate. The signer holds it (the gateway is
 * stateless) and serves the current CRL, signed by the issuing
 * intermediate; this cache keeps the CRL's revoked serials as a sorted set
 * and asks the signer again at most once a second (re-parsing only when the
 * CRL number changed). tc_crl_cache_invalidate() makes the next lookup
 * fetch, so a revocation through this gateway is seen by its very next
 * validation.
 *
 * Failing closed: when no CRL can be had, or the last one is older than
 * TC_CRL_MAX_AGE_MS (the signer unreachable for that long) or past its
 * nextUpdate, or the cache was invalidated and the fetch failed, the status
 * is unknown and the caller reports REVOCATION_UNKNOWN (UNTRUSTED). Between
 * refreshes a set up to TC_CRL_MAX_AGE_MS old keeps being used, so a signer
 * restart does not turn every decision UNTRUSTED. */
#ifndef TC_GATEWAY_CRL_CACHE_H
#define TC_GATEWAY_CRL_CACHE_H

#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#define TC_CRL_REFRESH_MS 1000
#define TC_CRL_RETRY_MS 1000
#define TC_CRL_MAX_AGE_MS 30000

/* Fetches the current DER CRL and its number (*der malloc'ed, free()).
 * 0, or -1 with err set. */
typedef int (*tc_crl_fetch_fn)(void *arg, unsigned char **der, size_t *len, uint64_t *number, char *err,
			       size_t errlen);

struct tc_crl_cache;
struct tc_crl_set;

/* issuer is the certificate whose key signs the CRL (a reference is taken). */
struct tc_crl_cache *tc_crl_cache_new(X509 *issuer, tc_crl_fetch_fn fetch, void *arg);
void tc_crl_cache_free(struct tc_crl_cache *c);

/* The next acquire fetches a fresh CRL (and fails closed if it cannot). */
void tc_crl_cache_invalidate(struct tc_crl_cache *c);

/* A current revocation set (referenced; release it), or NULL with why. */
struct tc_crl_set *tc_crl_cache_acquire(struct tc_crl_cache *c, char *why, size_t whylen);
void tc_crl_set_release(struct tc_crl_set *s);

/* 1 when cert is revoked, 0 when not, -1 when this CRL does not cover it
 * (cert was not issued by the CRL's issuer). */
int tc_crl_set_check(const struct tc_crl_set *s, X509 *cert);

uint64_t tc_crl_set_number(const struct tc_crl_set *s);

#endif
