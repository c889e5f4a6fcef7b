/* Zone replacement under concurrent readers with hazard pointers: see
 * zone_live.h. All atomics are sequentially consistent: the argument that
 * a swapper scanning the slots after its exchange sees every reader that
 * may still use the old zone relies on one total order of the reader's
 * slot store, its re-check load, the swapper's exchange and its scan.
 *
 * The slot table is shared by every live set in the process (a slot holds
 * a zone pointer, unique across sets). A thread that finds no free slot
 * (more than SLOTS threads) answers under a mutex the swapper also takes. */
#include "resolver/zone_live.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#define SLOTS 256
#define NO_SLOT SLOTS

struct slot {
	_Atomic(const struct tc_zone *) hazard;
	atomic_bool owned;
	char pad[64 - sizeof(void *) - sizeof(atomic_bool)];
};

static struct slot slots[SLOTS] __attribute__((aligned(64)));
static pthread_mutex_t overflow_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t slot_key;

/* Index + 1 of this thread's slot; 0 = none claimed yet. */
static _Thread_local unsigned my_slot;

struct tc_zone_live {
	_Atomic(struct tc_zone *) current;
};

static void release_slot(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg - 1;
	atomic_store(&slots[i].hazard, NULL);
	atomic_store(&slots[i].owned, false);
}

static void make_key(void)
{
	pthread_key_create(&slot_key, release_slot);
}

static unsigned claim_slot(void)
{
	pthread_once(&key_once, make_key);
	for (unsigned i = 0; i < SLOTS; i++) {
		bool expected = false;
		if (atomic_compare_exchange_strong(&slots[i].owned, &expected, true)) {
			pthread_setspecific(slot_key, (void *)(uintptr_t)(i + 1));
			my_slot = i + 1;
			return i;
		}
	}
	return NO_SLOT;
}

struct tc_zone_live *tc_zone_live_new(struct tc_zone *first)
{
	struct tc_zone_live *live = malloc(sizeof(*live));
	if (live)
		atomic_init(&live->current, first);
	return live;
}

void tc_zone_live_free(struct tc_zone_live *live)
{
	if (!live)
		return;
	tc_zone_free(atomic_load(&live->current));
	free(live);
}

const struct tc_zone *tc_zone_live_enter(struct tc_zone_live *live, unsigned *token)
{
	unsigned i = my_slot ? my_slot - 1 : claim_slot();
	*token = i;
	if (i == NO_SLOT) {
		pthread_mutex_lock(&overflow_lock);
		return atomic_load(&live->current);
	}
	const struct tc_zone *z = atomic_load(&live->current);
	for (;;) {
		atomic_store(&slots[i].hazard, z);
		const struct tc_zone *again = atomic_load(&live->current);
		if (again == z)
			return z;
		z = again;
	}
}

void tc_zone_live_leave(struct tc_zone_live *live, unsigned token)
{
	(void)live;
	if (token == NO_SLOT) {
		pthread_mutex_unlock(&overflow_lock);
		return;
	}
	atomic_store_explicit(&slots[token].hazard, NULL, memory_order_release);
}

void tc_zone_live_swap(struct tc_zone_live *live, struct tc_zone *next)
{
	struct tc_zone *old = atomic_exchange(&live->current, next);
	if (!old)
		return;
	/* Overflow readers hold the lock for the whole answer. */
	pthread_mutex_lock(&overflow_lock);
	pthread_mutex_unlock(&overflow_lock);
	for (unsigned i = 0; i < SLOTS; i++) {
		while (atomic_load(&slots[i].hazard) == old) {
			struct timespec ts = {0, 50000};
			nanosleep(&ts, NULL);
		}
	}
	tc_zone_free(old);
}

const struct tc_zone *tc_zone_live_peek(struct tc_zone_live *live)
{
	return atomic_load(&live->current);
}
