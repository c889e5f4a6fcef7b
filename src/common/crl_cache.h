/* Revocation state for the trust decision (trust_validator.h). Someone
 * serves the current CRL, signed by the issuing intermediate: the signer
 * for the gateway, the gateway's GetCrl or a CRL URL for a STOQ node in
 * local mode. This cache keeps the CRL's revoked serials as a sorted set and
 * fetches again at most once per refresh interval (re-parsing only when the
 * CRL number changed). tc_crl_cache_invalidate() makes the next lookup
 * fetch, so a revocation through the gateway is seen by its very next
 * validation.
 *
 * Two ways to refresh: inline (the gateway's default: the lookup that finds
 * the set older than refresh_ms fetches, the others keep using it), or in
 * the background (timing.background: lookups never fetch, a thread of the
 * caller calls tc_crl_cache_refresh every refresh_ms, so a handshake never
 * waits on the network).
 *
 * Failing closed: when no CRL can be had, or the last one is older than
 * max_age_ms (the source unreachable for that long) or past its
 * nextUpdate, or the cache was invalidated and the fetch failed, the status
 * is unknown and the caller reports REVOCATION_UNKNOWN (UNTRUSTED). Between
 * refreshes a set up to max_age_ms old keeps being used, so a restart of
 * the source does not turn every decision UNTRUSTED. */
#ifndef TC_COMMON_CRL_CACHE_H
#define TC_COMMON_CRL_CACHE_H

#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#define TC_CRL_REFRESH_MS 1000
#define TC_CRL_RETRY_MS 1000
#define TC_CRL_MAX_AGE_MS 30000

/* How often to fetch and how old a CRL may get; a zero field takes the
 * default above. */
struct tc_crl_timing {
	int64_t refresh_ms;
	int64_t retry_ms;
	int64_t max_age_ms;
	int background;
};

/* Fetches the current DER CRL and its number (*der malloc'ed, free()).
 * 0, or -1 with err set. */
typedef int (*tc_crl_fetch_fn)(void *arg, unsigned char **der, size_t *len, uint64_t *number, char *err,
			       size_t errlen);

struct tc_crl_cache;
struct tc_crl_set;

/* issuer is the certificate whose key signs the CRL (a reference is taken). */
struct tc_crl_cache *tc_crl_cache_new(X509 *issuer, tc_crl_fetch_fn fetch, void *arg,
				      const struct tc_crl_timing *timing);
void tc_crl_cache_free(struct tc_crl_cache *c);

/* The next acquire fetches a fresh CRL (and fails closed if it cannot). */
void tc_crl_cache_invalidate(struct tc_crl_cache *c);

/* Fetches now (the background refresher). 0, or -1 with why. */
int tc_crl_cache_refresh(struct tc_crl_cache *c, char *why, size_t whylen);

/* Milliseconds since the current set was fetched or confirmed; -1 when
 * there is none yet. */
int64_t tc_crl_cache_age_ms(struct tc_crl_cache *c);

/* A current revocation set (referenced; release it), or NULL with why. */
struct tc_crl_set *tc_crl_cache_acquire(struct tc_crl_cache *c, char *why, size_t whylen);
void tc_crl_set_release(struct tc_crl_set *s);

/* 1 when cert is revoked, 0 when not, -1 when this CRL does not cover it
 * (cert was not issued by the CRL's issuer). */
int tc_crl_set_check(const struct tc_crl_set *s, X509 *cert);

uint64_t tc_crl_set_number(const struct tc_crl_set *s);

#endif
