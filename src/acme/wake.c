#include "acme/wake.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#define STRIPES 64

struct stripe {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* on CLOCK_MONOTONIC */
	uint64_t gen;
};

struct tc_acme_wake {
	struct stripe s[STRIPES];
};

static struct stripe *of(struct tc_acme_wake *w, const char *id)
{
	unsigned h = 2166136261u; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 16777619u;
	return &w->s[h % STRIPES];
}

uint64_t tc_acme_wake_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct tc_acme_wake *tc_acme_wake_new(void)
{
	struct tc_acme_wake *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	for (int i = 0; i < STRIPES; i++) {
		pthread_mutex_init(&w->s[i].lock, NULL);
		pthread_cond_init(&w->s[i].cond, &ca);
	}
	pthread_condattr_destroy(&ca);
	return w;
}

void tc_acme_wake_free(struct tc_acme_wake *w)
{
	if (!w)
		return;
	for (int i = 0; i < STRIPES; i++) {
		pthread_mutex_destroy(&w->s[i].lock);
		pthread_cond_destroy(&w->s[i].cond);
	}
	free(w);
}

uint64_t tc_acme_wake_ticket(struct tc_acme_wake *w, const char *id)
{
	struct stripe *s = of(w, id);
	pthread_mutex_lock(&s->lock);
	uint64_t g = s->gen;
	pthread_mutex_unlock(&s->lock);
	return g;
}

int tc_acme_wake_wait(struct tc_acme_wake *w, const char *id, uint64_t ticket, uint64_t deadline_ms)
{
	struct stripe *s = of(w, id);
	struct timespec until = {.tv_sec = (time_t)(deadline_ms / 1000), .tv_nsec = (long)(deadline_ms % 1000) * 1000000L};
	int rc = 0;
	pthread_mutex_lock(&s->lock);
	while (s->gen == ticket && rc == 0)
		if (pthread_cond_timedwait(&s->cond, &s->lock, &until) == ETIMEDOUT)
			rc = -1;
	if (s->gen != ticket)
		rc = 0;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void tc_acme_wake_notify(struct tc_acme_wake *w, const char *id)
{
	struct stripe *s = of(w, id);
	pthread_mutex_lock(&s->lock);
	s->gen++;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}
