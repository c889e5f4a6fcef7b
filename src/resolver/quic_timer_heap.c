/* Deadline heap: see quic_timer_heap.h. */
#include "resolver/quic_timer_heap.h"

#include <stdlib.h>

static void place(struct tc_timer_heap *h, size_t i, struct tc_timer *t)
{
	h->a[i] = t;
	t->idx = i;
}

static void sift_up(struct tc_timer_heap *h, size_t i)
{
	struct tc_timer *t = h->a[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (h->a[parent]->at <= t->at)
			break;
		place(h, i, h->a[parent]);
		i = parent;
	}
	place(h, i, t);
}

static void sift_down(struct tc_timer_heap *h, size_t i)
{
	struct tc_timer *t = h->a[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->a[c + 1]->at < h->a[c]->at)
			c++;
		if (t->at <= h->a[c]->at)
			break;
		place(h, i, h->a[c]);
		i = c;
	}
	place(h, i, t);
}

void tc_timer_cancel(struct tc_timer_heap *h, struct tc_timer *t)
{
	if (t->idx == TC_TIMER_IDLE)
		return;
	size_t i = t->idx;
	struct tc_timer *last = h->a[--h->n];
	t->idx = TC_TIMER_IDLE;
	t->at = UINT64_MAX;
	if (last == t)
		return;
	place(h, i, last);
	sift_up(h, i);
	sift_down(h, last->idx);
}

int tc_timer_set(struct tc_timer_heap *h, struct tc_timer *t, uint64_t at)
{
	if (at == UINT64_MAX) {
		tc_timer_cancel(h, t);
		return 0;
	}
	if (t->idx != TC_TIMER_IDLE) {
		uint64_t old = t->at;
		t->at = at;
		if (at < old)
			sift_up(h, t->idx);
		else if (at > old)
			sift_down(h, t->idx);
		return 0;
	}
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 256;
		struct tc_timer **na = realloc(h->a, cap * sizeof(*na));
		if (!na)
			return -1;
		h->a = na;
		h->cap = cap;
	}
	t->at = at;
	place(h, h->n++, t);
	sift_up(h, t->idx);
	return 0;
}

void tc_timer_heap_free(struct tc_timer_heap *h)
{
	free(h->a);
	h->a = NULL;
	h->n = h->cap = 0;
}
