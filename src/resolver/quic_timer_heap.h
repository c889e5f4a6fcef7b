/* A binary min-heap of deadlines, one per QUIC connection, so the loop
 * sleeps exactly until the earliest ngtcp2 expiry and wakes only the
 * connections that are due. Timers are embedded in their owner. */
#ifndef TC_RESOLVER_QUIC_TIMER_HEAP_H
#define TC_RESOLVER_QUIC_TIMER_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define TC_TIMER_IDLE SIZE_MAX   /* idx of a timer that is not in the heap */

struct tc_timer {
	uint64_t at;
	size_t idx;
};

struct tc_timer_heap {
	struct tc_timer **a;
	size_t n, cap;
};

static inline void tc_timer_init(struct tc_timer *t)
{
	t->at = UINT64_MAX;
	t->idx = TC_TIMER_IDLE;
}

/* Schedules (or moves) t at at; UINT64_MAX cancels. -1 when out of memory. */
int tc_timer_set(struct tc_timer_heap *h, struct tc_timer *t, uint64_t at);
void tc_timer_cancel(struct tc_timer_heap *h, struct tc_timer *t);
/* The earliest timer, NULL when none. */
static inline struct tc_timer *tc_timer_top(const struct tc_timer_heap *h)
{
	return h->n ? h->a[0] : NULL;
}
void tc_timer_heap_free(struct tc_timer_heap *h);

#endif
