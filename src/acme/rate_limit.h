/* Rate limits (acme.rate_limits.*): sliding-window counters in memory, one
 * per key ("order:<account>", "name:<registered name>", "acct:<ip>" ...).
 * The estimate is the current fixed window's count plus the previous
 * window's weighted by how much of it still overlaps the sliding window
 * (the approximation nginx and Cloudflare use). The table has a fixed
 * size: when it is full the stalest entry in a key's probe run is reused,
 * which can only forgive, never wrongly refuse. Counters are lost at a
 * restart; limits are a defence against abuse, not an accounting. */
#ifndef TC_ACME_RATE_LIMIT_H
#define TC_ACME_RATE_LIMIT_H

#include <stdint.h>
#include <time.h>

struct tc_acme_rate;

struct tc_acme_rate *tc_acme_rate_new(void);
void tc_acme_rate_free(struct tc_acme_rate *r);

/* limit 0 = unlimited. 1 when one more event under key is allowed now (it
 * is counted), 0 when refused with *retry_after seconds to wait. */
int tc_acme_rate_take(struct tc_acme_rate *r, const char *key, uint32_t limit, uint32_t window_s, time_t now,
		      unsigned *retry_after);

/* Counts an event without checking (failed validations are counted when
 * they fail, checked when the next one starts). */
void tc_acme_rate_add(struct tc_acme_rate *r, const char *key, uint32_t window_s, time_t now);

/* 1 when key is below limit now (nothing counted). */
int tc_acme_rate_check(struct tc_acme_rate *r, const char *key, uint32_t limit, uint32_t window_s, time_t now,
		       unsigned *retry_after);

#endif
