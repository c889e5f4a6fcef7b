/* Account records by id, parsed once: every kid-form POST needs its
 * account (status, key, EAB patterns), and reading and parsing the JSON
 * record from LevelDB was 11-13 % of trustchain-acme's profile under
 * bench_acme. The stored record stays the source of truth: a miss reads it,
 * and every write of an account record invalidates its entry right after
 * the write (under the record's lock), so the next request sees the new
 * status or key. A read that started before an invalidation never inserts
 * what it read (each slot counts its invalidations), so a stale record
 * cannot come back after the write. Fixed size (one entry per slot,
 * overwritten on collision); durability is the store's business alone.
 *
 * A record handed out is shared by every thread that got it: read only. */
#ifndef TC_ACME_ACCOUNT_CACHE_H
#define TC_ACME_ACCOUNT_CACHE_H

#include <jansson.h>
#include <stdint.h>

struct tc_acme_store;
struct tc_acct_cache;

/* slots 0: the default (4,096). NULL when out of memory. */
struct tc_acct_cache *tc_acct_cache_new(size_t slots);
void tc_acct_cache_free(struct tc_acct_cache *c);

/* The account record "A/<id>" from the cache, or from s (and then cached):
 * a new reference (read only), NULL when absent. c may be NULL (read s). */
json_t *tc_acct_cache_get(struct tc_acct_cache *c, struct tc_acme_store *s, const char *id);

/* Forgets id's entry; call after each write of its record. c may be NULL. */
void tc_acct_cache_invalidate(struct tc_acct_cache *c, const char *id);

/* Lookups answered from the cache and from the store so far (tests). */
void tc_acct_cache_stats(const struct tc_acct_cache *c, uint64_t *hits, uint64_t *misses);

#endif
