/* Signatures of the previous zone build, by SHA-256 of their signing input,
 * so a rebuild (a dynamic update, a new TLSA record) asks the HSM only for
 * the RRsets and NSEC records that changed: an unchanged RRset under the
 * same inception and expiration has the same signing input, and its
 * signature (verified when it was made) is reused. A full re-sign (new
 * validity times) misses every entry, as it must. */
#ifndef TC_RESOLVER_SIG_CACHE_H
#define TC_RESOLVER_SIG_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolver/dnssec.h"

struct tc_sig_cache;

struct tc_sig_cache *tc_sig_cache_new(void);
void tc_sig_cache_free(struct tc_sig_cache *c);
bool tc_sig_cache_get(const struct tc_sig_cache *c, const uint8_t digest[32],
		      uint8_t sig[TC_DNSSEC_SIG_LEN]);
/* 0, or -1 out of memory (the signature is then simply not cached). */
int tc_sig_cache_put(struct tc_sig_cache *c, const uint8_t digest[32],
		     const uint8_t sig[TC_DNSSEC_SIG_LEN]);

/* Entries as digest (32) | signature (TC_DNSSEC_SIG_LEN), for a restart
 * (zone_state.h): the octets needed (out NULL), or those written (0 when
 * cap is short). */
#define TC_SIG_CACHE_ENTRY_LEN (32 + TC_DNSSEC_SIG_LEN)
size_t tc_sig_cache_export(const struct tc_sig_cache *c, uint8_t *out, size_t cap);

#endif
