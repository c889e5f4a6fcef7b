#include "acme/wake.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STRIPES 64
#define TICK_MS 20

struct parked {
	struct parked *next;
	uint64_t deadline_ms;
	void (*fire)(void *);
	void *arg;
};

struct stripe {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* on CLOCK_MONOTONIC */
	uint64_t gen;
	struct parked *parked;
};

struct tc_acme_wake {
	struct stripe s[STRIPES];
	pthread_mutex_t timer_lock;
	pthread_cond_t timer_cond; /* on CLOCK_MONOTONIC */
	int stopping;
	int timer_running;
	pthread_t timer;
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

/* Runs the waiters of a list taken off a stripe (outside its lock: a fire
 * resumes a connection, which takes libmicrohttpd's locks). */
static void fire_list(struct parked *p)
{
	while (p) {
		struct parked *next = p->next;
		p->fire(p->arg);
		free(p);
		p = next;
	}
}

/* Takes the waiters of s whose deadline passed (all when now_ms is 0). */
static struct parked *take_due(struct stripe *s, uint64_t now_ms)
{
	struct parked *due = NULL, **pp = &s->parked;
	while (*pp) {
		struct parked *p = *pp;
		if (now_ms == 0 || p->deadline_ms <= now_ms) {
			*pp = p->next;
			p->next = due;
			due = p;
		} else {
			pp = &p->next;
		}
	}
	return due;
}

/* The deadline side of parked waiters: a tick scan of the stripes is
 * cheaper than a timer per waiter and needs no ordering structure; the
 * waits are a second long, so 20 ms of lateness does not matter. */
static void *timer_main(void *arg)
{
	struct tc_acme_wake *w = arg;
	pthread_mutex_lock(&w->timer_lock);
	while (!w->stopping) {
		uint64_t next = tc_acme_wake_now_ms() + TICK_MS;
		struct timespec until = {.tv_sec = (time_t)(next / 1000), .tv_nsec = (long)(next % 1000) * 1000000L};
		pthread_cond_timedwait(&w->timer_cond, &w->timer_lock, &until);
		if (w->stopping)
			break;
		pthread_mutex_unlock(&w->timer_lock);
		uint64_t now = tc_acme_wake_now_ms();
		for (int i = 0; i < STRIPES; i++) {
			struct stripe *s = &w->s[i];
			pthread_mutex_lock(&s->lock);
			struct parked *due = s->parked ? take_due(s, now) : NULL;
			pthread_mutex_unlock(&s->lock);
			fire_list(due);
		}
		pthread_mutex_lock(&w->timer_lock);
	}
	pthread_mutex_unlock(&w->timer_lock);
	return NULL;
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
	pthread_mutex_init(&w->timer_lock, NULL);
	pthread_cond_init(&w->timer_cond, &ca);
	pthread_condattr_destroy(&ca);
	w->timer_running = pthread_create(&w->timer, NULL, timer_main, w) == 0;
	return w;
}

void tc_acme_wake_free(struct tc_acme_wake *w)
{
	if (!w)
		return;
	if (w->timer_running) {
		pthread_mutex_lock(&w->timer_lock);
		w->stopping = 1;
		pthread_cond_signal(&w->timer_cond);
		pthread_mutex_unlock(&w->timer_lock);
		pthread_join(w->timer, NULL);
	}
	tc_acme_wake_fire_all(w);
	for (int i = 0; i < STRIPES; i++) {
		pthread_mutex_destroy(&w->s[i].lock);
		pthread_cond_destroy(&w->s[i].cond);
	}
	pthread_mutex_destroy(&w->timer_lock);
	pthread_cond_destroy(&w->timer_cond);
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

int tc_acme_wake_park(struct tc_acme_wake *w, const char *id, uint64_t ticket, uint64_t deadline_ms,
		      void (*fire)(void *), void *arg)
{
	struct parked *p = malloc(sizeof(*p));
	if (!p)
		return -1;
	*p = (struct parked){.deadline_ms = deadline_ms, .fire = fire, .arg = arg};
	struct stripe *s = of(w, id);
	pthread_mutex_lock(&s->lock);
	int moved = s->gen != ticket;
	if (!moved) {
		p->next = s->parked;
		s->parked = p;
	}
	pthread_mutex_unlock(&s->lock);
	if (moved)
		free(p);
	return moved;
}

void tc_acme_wake_fire_all(struct tc_acme_wake *w)
{
	for (int i = 0; i < STRIPES; i++) {
		struct stripe *s = &w->s[i];
		pthread_mutex_lock(&s->lock);
		struct parked *all = take_due(s, 0);
		pthread_mutex_unlock(&s->lock);
		fire_list(all);
	}
}

void tc_acme_wake_notify(struct tc_acme_wake *w, const char *id)
{
	struct stripe *s = of(w, id);
	pthread_mutex_lock(&s->lock);
	s->gen++;
	pthread_cond_broadcast(&s->cond);
	struct parked *all = s->parked;
	s->parked = NULL;
	pthread_mutex_unlock(&s->lock);
	fire_list(all);
}

int tc_acme_wake_park_at(struct tc_acme_wake *w, struct tc_acme_park *park, char kind, const char *id,
			 uint64_t ticket, uint64_t deadline_ms)
{
	if (!w || strlen(id) >= sizeof(park->id) || tc_acme_wake_now_ms() >= deadline_ms)
		return 0;
	park->kind = kind;
	snprintf(park->id, sizeof(park->id), "%s", id);
	park->ticket = ticket;
	park->deadline_ms = deadline_ms;
	return 1;
}
