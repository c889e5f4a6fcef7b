/* Parsed account keys by their canonical JWK text: every request of an
 * account would otherwise rebuild its EVP_PKEY from the stored text (~60 us,
 * a third of an ES256 verification). The account record is still read on
 * each request, so a changed key or status is seen at once: this only
 * memoizes text -> key. Fixed size, one entry per slot, overwritten on
 * collision. */
#ifndef TC_ACME_KEY_CACHE_H
#define TC_ACME_KEY_CACHE_H

#include "acme/jwk.h"

struct tc_key_cache;

struct tc_key_cache *tc_key_cache_new(void);
void tc_key_cache_free(struct tc_key_cache *c);

/* Fills out (free with tc_jwk_free) from the cache or by parsing text. c
 * may be NULL (no caching). 0, or -1 with why. */
int tc_key_cache_get(struct tc_key_cache *c, const char *text, struct tc_jwk *out, char *why, size_t whylen);

#endif
