/* Group commit of the ACME store (src/acme/acme_store.h), on a real
 * LevelDB in a directory of the build tree: a deferred write is readable at
 * once and numbered for the answer that waits for it; a waiter runs only
 * after a sync covered its write (at once when one already did); many
 * threads writing and waiting share syncs; an answer waits for the pending
 * writes of the records it read and for no other; a waiter still queued when the
 * store closes runs (a suspended connection is never left behind) and the
 * write is there after reopening. */
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acme/acme_store.h"
#include "unit/cunit_main.h"

#define THREADS 16
#define WRITES 20

static char dir[] = "acme_group_commit.XXXXXX";
static struct tc_acme_store *s;

static int init(void)
{
	char err[256];
	if (!mkdtemp(dir) || tc_acme_store_open(dir, &s, err, sizeof(err)) != 0) {
		fprintf(stderr, "store: %s\n", err);
		return 1;
	}
	return 0;
}

static int cleanup(void)
{
	tc_acme_store_close(s);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : 1;
}

static json_t *rec(int n) { return json_pack("{s:i}", "n", n); }

static int value(const char *id)
{
	json_t *r = tc_acme_store_get(s, 'O', id);
	int v = r ? (int)json_integer_value(json_object_get(r, "n")) : -1;
	json_decref(r);
	return v;
}

static atomic_int ran, ran_ok;

static void on_durable(void *arg, int ok)
{
	(void)arg;
	atomic_fetch_add(&ran, 1);
	atomic_fetch_add(&ran_ok, ok);
}

static void test_deferred_visible_and_numbered(void)
{
	(void)tc_acme_store_answer_seq();
	json_t *r = rec(7);
	CU_ASSERT_EQUAL(tc_acme_store_put_deferred(s, 'O', "a", r), 0);
	json_decref(r);
	CU_ASSERT_EQUAL(value("a"), 7); /* readable before any sync */
	uint64_t seq = tc_acme_store_answer_peek();
	CU_ASSERT(seq > 0);
	CU_ASSERT_EQUAL(tc_acme_store_answer_seq(), seq);
	CU_ASSERT_EQUAL(tc_acme_store_answer_seq(), 0); /* forgotten once taken */
	/* A synced write is not one an answer waits for. */
	r = rec(8);
	CU_ASSERT_EQUAL(tc_acme_store_put(s, 'O', "b", r), 0);
	json_decref(r);
	CU_ASSERT_EQUAL(tc_acme_store_answer_seq(), 0);
}

static void test_waiter_after_sync(void)
{
	(void)tc_acme_store_answer_seq();
	json_t *r = rec(9);
	CU_ASSERT_EQUAL(tc_acme_store_put_deferred(s, 'O', "c", r), 0);
	json_decref(r);
	uint64_t seq = tc_acme_store_answer_seq();
	uint64_t syncs = tc_acme_store_syncs(s);
	atomic_store(&ran, 0);
	atomic_store(&ran_ok, 0);
	int rc = tc_acme_store_when_durable(s, seq, on_durable, NULL);
	CU_ASSERT(rc == 0 || rc == 1);
	CU_ASSERT_EQUAL(tc_acme_store_wait_durable(s, seq), 0);
	for (int i = 0; i < 500 && atomic_load(&ran) == 0; i++)
		usleep(1000);
	CU_ASSERT_EQUAL(atomic_load(&ran), 1);
	CU_ASSERT_EQUAL(atomic_load(&ran_ok), 1);
	CU_ASSERT(tc_acme_store_syncs(s) > syncs); /* a sync happened for it */
	/* Already durable: the waiter runs at once, on this thread. */
	CU_ASSERT_EQUAL(tc_acme_store_when_durable(s, seq, on_durable, NULL), 1);
	CU_ASSERT_EQUAL(atomic_load(&ran), 2);
}

static void *write_other(void *arg)
{
	uint64_t *seq = arg;
	(void)tc_acme_store_answer_seq();
	json_t *r = rec(11);
	if (tc_acme_store_put_deferred(s, 'O', "d", r) == 0)
		*seq = tc_acme_store_answer_seq();
	json_decref(r);
	return NULL;
}

/* Another request's write, not synced yet, read by this one: this answer
 * waits for it too (it shows the record), and not once it is durable. */
static void test_reader_waits_for_shown_write(void)
{
	CU_ASSERT_EQUAL(tc_acme_store_flush(s), 0);
	CU_ASSERT_EQUAL(tc_acme_store_answer_floor(s, 0), 0); /* nothing pending */
	uint64_t other = 0;
	pthread_t t;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, write_other, &other), 0);
	pthread_join(t, NULL);
	CU_ASSERT_FATAL(other > 0);
	CU_ASSERT_EQUAL(value("d"), 11);
	(void)tc_acme_store_answer_seq(); /* this thread wrote nothing */
	/* Nobody waits on the write, so the syncer has not taken it. */
	uint64_t floor = tc_acme_store_answer_floor(s, 0);
	CU_ASSERT(floor >= other);
	CU_ASSERT_EQUAL(tc_acme_store_wait_durable(s, floor), 0);
	CU_ASSERT_EQUAL(tc_acme_store_answer_floor(s, 0), 0);
	CU_ASSERT_EQUAL(tc_acme_store_answer_floor(s, other), 0);
}

static void *write_e(void *arg)
{
	uint64_t *seq = arg;
	(void)tc_acme_store_answer_seq();
	json_t *r = rec(12);
	if (tc_acme_store_put_deferred(s, 'O', "e", r) == 0)
		*seq = tc_acme_store_answer_seq();
	json_decref(r);
	return NULL;
}

static int count_row(void *arg, const char *id, size_t id_len, const char *val, size_t val_len)
{
	(void)id, (void)id_len, (void)val, (void)val_len;
	(*(int *)arg)++;
	return 0;
}

/* The floor is per record: an answer that read only durable records is
 * not held by another request's pending write; reading that record (get,
 * scan or a cache's note) makes it wait. */
static void test_floor_is_per_record(void)
{
	CU_ASSERT_EQUAL(tc_acme_store_flush(s), 0);
	uint64_t other = 0;
	pthread_t t;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, write_e, &other), 0);
	pthread_join(t, NULL);
	CU_ASSERT_FATAL(other > 0);
	tc_acme_store_answer_begin();
	CU_ASSERT_EQUAL(value("a"), 7);       /* durable */
	CU_ASSERT_EQUAL(value("nosuch"), -1); /* absent, never written */
	CU_ASSERT_EQUAL(tc_acme_store_answer_floor(s, 0), 0);
	CU_ASSERT_EQUAL(value("e"), 12);
	CU_ASSERT(tc_acme_store_answer_floor(s, 0) >= other);
	CU_ASSERT_EQUAL(tc_acme_store_answer_floor(s, 0), 0); /* the reads are forgotten */
	int rows = 0;
	CU_ASSERT(tc_acme_store_scan(s, 'O', "e", 10, count_row, &rows) >= 1);
	CU_ASSERT(tc_acme_store_answer_floor(s, 0) >= other);
	tc_acme_store_note_read(s, 'O', "e");
	CU_ASSERT(tc_acme_store_answer_floor(s, 0) >= other);
	/* Once durable, reading it holds nothing. */
	CU_ASSERT_EQUAL(tc_acme_store_flush(s), 0);
	CU_ASSERT_EQUAL(value("e"), 12);
	CU_ASSERT_EQUAL(tc_acme_store_answer_floor(s, 0), 0);
}

static void *writer(void *arg)
{
	int t = (int)(intptr_t)arg, *bad = calloc(1, sizeof(int));
	for (int i = 0; i < WRITES && bad; i++) {
		char id[32];
		snprintf(id, sizeof(id), "g%d-%d", t, i);
		json_t *r = rec(i);
		(void)tc_acme_store_answer_seq();
		if (tc_acme_store_put_deferred(s, 'O', id, r) != 0 ||
		    tc_acme_store_wait_durable(s, tc_acme_store_answer_seq()) != 0)
			*bad = 1;
		json_decref(r);
	}
	return bad;
}

static void test_writers_share_syncs(void)
{
	uint64_t before = tc_acme_store_syncs(s);
	pthread_t th[THREADS];
	for (int t = 0; t < THREADS; t++)
		CU_ASSERT_FATAL(pthread_create(&th[t], NULL, writer, (void *)(intptr_t)t) == 0);
	int failed = 0;
	for (int t = 0; t < THREADS; t++) {
		void *bad = NULL;
		pthread_join(th[t], &bad);
		failed += !bad || *(int *)bad;
		free(bad);
	}
	CU_ASSERT_EQUAL(failed, 0);
	uint64_t syncs = tc_acme_store_syncs(s) - before;
	printf("\n  %d waited writes, %llu syncs\n", THREADS * WRITES, (unsigned long long)syncs);
	CU_ASSERT(syncs > 0);
	CU_ASSERT(syncs < THREADS * WRITES);
	CU_ASSERT_EQUAL(value("g15-19"), 19);
}

static void test_close_answers_waiters(void)
{
	(void)tc_acme_store_answer_seq();
	json_t *r = rec(11);
	CU_ASSERT_EQUAL(tc_acme_store_put_deferred(s, 'O', "last", r), 0);
	json_decref(r);
	atomic_store(&ran, 0);
	atomic_store(&ran_ok, 0);
	CU_ASSERT(tc_acme_store_when_durable(s, tc_acme_store_answer_seq(), on_durable, NULL) >= 0);
	tc_acme_store_close(s);
	s = NULL;
	CU_ASSERT_EQUAL(atomic_load(&ran), 1);
	CU_ASSERT_EQUAL(atomic_load(&ran_ok), 1);
	char err[256];
	CU_ASSERT_FATAL(tc_acme_store_open(dir, &s, err, sizeof(err)) == 0);
	CU_ASSERT_EQUAL(value("last"), 11);
	CU_ASSERT_EQUAL(value("g0-0"), 0);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"a deferred write is readable at once and numbered for its answer", test_deferred_visible_and_numbered},
		{"a waiter runs after the sync that covers its write", test_waiter_after_sync},
		{"an answer waits for the unsynced writes it may show", test_reader_waits_for_shown_write},
		{"the floor is per record", test_floor_is_per_record},
		{"concurrent writers share syncs", test_writers_share_syncs},
		{"closing runs the queued waiters; the write survives reopening", test_close_answers_waiters},
		{NULL, NULL},
	};
	return tc_run_suite("acme_group_commit", tests, init, cleanup);
}
