#include "acme/rate_limit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 65536
#define PROBE 16
#define KEY_MAX 96

struct slot {
	char key[KEY_MAX];
	time_t window_start; /* 0 = free */
	uint32_t window_s;
	uint32_t count, prev;
};

struct tc_acme_rate {
	pthread_mutex_t lock;
	struct slot *slots;
};

struct tc_acme_rate *tc_acme_rate_new(void)
{
	struct tc_acme_rate *r = calloc(1, sizeof(*r));
	if (!r || !(r->slots = calloc(SLOTS, sizeof(struct slot)))) {
		free(r);
		return NULL;
	}
	pthread_mutex_init(&r->lock, NULL);
	return r;
}

void tc_acme_rate_free(struct tc_acme_rate *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r->slots);
	free(r);
}

static uint32_t hash(const char *k)
{
	uint32_t h = 2166136261u;
	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * 16777619u;
	return h;
}

/* The slot of key, rolled forward to now's window. Lock held. */
static struct slot *find(struct tc_acme_rate *r, const char *key, uint32_t window_s, time_t now)
{
	uint32_t h = hash(key);
	struct slot *victim = NULL, *reuse = NULL, *oldest = NULL;
	for (int i = 0; i < PROBE && !victim; i++) {
		struct slot *s = &r->slots[(h + (uint32_t)i) % SLOTS];
		if (s->window_start && strcmp(s->key, key) == 0)
			victim = s;
		/* Free, or idle for two windows (it counts nothing any more). */
		else if (!reuse && (!s->window_start || now - s->window_start >= 2 * (time_t)s->window_s))
			reuse = s;
		else if (!oldest || s->window_start < oldest->window_start)
			oldest = s;
	}
	if (!victim)
		victim = reuse ? reuse : oldest;
	if (strcmp(victim->key, key) != 0 || !victim->window_start) {
		memset(victim, 0, sizeof(*victim));
		snprintf(victim->key, sizeof(victim->key), "%s", key);
		victim->window_start = now - now % window_s;
		victim->window_s = window_s;
	}
	time_t cur = now - now % window_s;
	if (cur != victim->window_start) {
		victim->prev = cur - victim->window_start == (time_t)window_s ? victim->count : 0;
		victim->count = 0;
		victim->window_start = cur;
	}
	return victim;
}

static double estimate(const struct slot *s, time_t now)
{
	double into = (double)(now - s->window_start) / s->window_s;
	return s->count + s->prev * (1.0 - into);
}

static unsigned wait_for(const struct slot *s, uint32_t limit, time_t now)
{
	/* When the previous window's weight has shrunk enough, or at the
	 * latest when this window ends. */
	time_t end = s->window_start + s->window_s;
	if (s->count < limit && s->prev) {
		double need = (s->count + s->prev - (double)limit + 1) / s->prev; /* fraction of the window */
		time_t at = s->window_start + (time_t)(need * s->window_s) + 1;
		if (at < end)
			end = at;
	}
	return end > now ? (unsigned)(end - now) : 1;
}

int tc_acme_rate_check(struct tc_acme_rate *r, const char *key, uint32_t limit, uint32_t window_s, time_t now,
		       unsigned *retry_after)
{
	if (!limit)
		return 1;
	pthread_mutex_lock(&r->lock);
	struct slot *s = find(r, key, window_s, now);
	int ok = estimate(s, now) + 1 <= limit + 1e-9;
	if (!ok && retry_after)
		*retry_after = wait_for(s, limit, now);
	pthread_mutex_unlock(&r->lock);
	return ok;
}

int tc_acme_rate_take(struct tc_acme_rate *r, const char *key, uint32_t limit, uint32_t window_s, time_t now,
		      unsigned *retry_after)
{
	if (!limit)
		return 1;
	pthread_mutex_lock(&r->lock);
	struct slot *s = find(r, key, window_s, now);
	int ok = estimate(s, now) + 1 <= limit + 1e-9;
	if (ok)
		s->count++;
	else if (retry_after)
		*retry_after = wait_for(s, limit, now);
	pthread_mutex_unlock(&r->lock);
	return ok;
}

void tc_acme_rate_add(struct tc_acme_rate *r, const char *key, uint32_t window_s, time_t now)
{
	pthread_mutex_lock(&r->lock);
	find(r, key, window_s, now)->count++;
	pthread_mutex_unlock(&r->lock);
}
