#include "acme/account_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "acme/acme_store.h"

#define DEFAULT_SLOTS 4096
#define STRIPES 64
#define ID_MAX 32 /* account ids are 22 characters; longer ones bypass */

struct slot {
	char id[ID_MAX];
	json_t *rec;    /* NULL: empty */
	uint64_t gen;   /* invalidations of ids hashing here */
};

struct tc_acct_cache {
	size_t n;
	struct slot *slots;
	pthread_mutex_t locks[STRIPES]; /* slot i under locks[i % STRIPES] */
	atomic_uint_fast64_t hits, misses;
};

struct tc_acct_cache *tc_acct_cache_new(size_t slots)
{
	struct tc_acct_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->n = slots ? slots : DEFAULT_SLOTS;
	c->slots = calloc(c->n, sizeof(*c->slots));
	if (!c->slots) {
		free(c);
		return NULL;
	}
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_init(&c->locks[i], NULL);
	return c;
}

void tc_acct_cache_free(struct tc_acct_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		json_decref(c->slots[i].rec);
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_destroy(&c->locks[i]);
	free(c->slots);
	free(c);
}

static size_t slot_of(const struct tc_acct_cache *c, const char *id)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % c->n;
}

json_t *tc_acct_cache_get(struct tc_acct_cache *c, struct tc_acme_store *s, const char *id)
{
	if (!c || strlen(id) >= ID_MAX)
		return tc_acme_store_get(s, 'A', id);
	size_t i = slot_of(c, id);
	struct slot *sl = &c->slots[i];
	pthread_mutex_t *m = &c->locks[i % STRIPES];
	pthread_mutex_lock(m);
	if (sl->rec && strcmp(sl->id, id) == 0) {
		json_t *rec = json_incref(sl->rec);
		pthread_mutex_unlock(m);
		atomic_fetch_add(&c->hits, 1);
		/* The answer shows it: it waits for its sync like a store read. */
		tc_acme_store_note_read(s, 'A', id);
		return rec;
	}
	uint64_t gen = sl->gen;
	pthread_mutex_unlock(m);
	atomic_fetch_add(&c->misses, 1);
	/* Read outside the lock: LevelDB reads run in parallel. */
	json_t *rec = tc_acme_store_get(s, 'A', id);
	if (!rec)
		return NULL;
	pthread_mutex_lock(m);
	/* An invalidation since gen was read means a write may have happened
	 * after our read: what we hold may be the old record, keep it out. */
	if (sl->gen == gen) {
		json_decref(sl->rec);
		memcpy(sl->id, id, strlen(id) + 1);
		sl->rec = json_incref(rec);
	}
	pthread_mutex_unlock(m);
	return rec;
}

void tc_acct_cache_invalidate(struct tc_acct_cache *c, const char *id)
{
	if (!c || strlen(id) >= ID_MAX)
		return;
	size_t i = slot_of(c, id);
	struct slot *sl = &c->slots[i];
	pthread_mutex_t *m = &c->locks[i % STRIPES];
	pthread_mutex_lock(m);
	sl->gen++;
	json_t *old = NULL;
	if (sl->rec && strcmp(sl->id, id) == 0) {
		old = sl->rec;
		sl->rec = NULL;
	}
	pthread_mutex_unlock(m);
	json_decref(old);
}

void tc_acct_cache_stats(const struct tc_acct_cache *c, uint64_t *hits, uint64_t *misses)
{
	*hits = c ? atomic_load(&c->hits) : 0;
	*misses = c ? atomic_load(&c->misses) : 0;
}
