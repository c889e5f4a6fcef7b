/* The DoQ listener's routing table (connection ID map) and deadline heap,
 * checked against naive references under random operations. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/quic_cid_map.h"
#include "resolver/quic_timer_heap.h"
#include "unit/cunit_main.h"

#define N 5000

static void test_cid_map_random(void)
{
	static struct {
		uint8_t cid[TC_CID_MAX];
		uint8_t len;
		bool present, dup;
		void *val;
	} ref[N];
	struct tc_cid_map m;
	CU_ASSERT_FATAL(tc_cid_map_init(&m) == 0);
	srand(7);
	for (int i = 0; i < N; i++) {
		ref[i].len = (uint8_t)(1 + rand() % TC_CID_MAX);
		for (int k = 0; k < ref[i].len; k++)
			ref[i].cid[k] = (uint8_t)rand();
		/* Shared prefixes and lengths stress the probing. */
		if (i > 0 && i % 5 == 0)
			memcpy(ref[i].cid, ref[i - 1].cid, ref[i].len < ref[i - 1].len ? ref[i].len : ref[i - 1].len);
		ref[i].val = (void *)(uintptr_t)(i + 1);
		for (int j = 0; j < i && !ref[i].dup; j++)
			ref[i].dup = ref[j].len == ref[i].len && memcmp(ref[j].cid, ref[i].cid, ref[i].len) == 0;
	}
	size_t live = 0;
	for (int round = 0; round < 20 * N; round++) {
		int i = rand() % N;
		if (ref[i].dup)
			continue;
		if (ref[i].present && rand() % 2) {
			tc_cid_map_del(&m, ref[i].cid, ref[i].len, ref[i].val);
			ref[i].present = false;
			live--;
		} else if (!ref[i].present) {
			CU_ASSERT_FATAL(tc_cid_map_put(&m, ref[i].cid, ref[i].len, ref[i].val) == 0);
			ref[i].present = true;
			live++;
		}
		if (round % 997 == 0) {
			for (int j = 0; j < N; j++) {
				void *got = tc_cid_map_get(&m, ref[j].cid, ref[j].len);
				if (ref[j].present)
					CU_ASSERT_PTR_EQUAL(got, ref[j].val);
			}
			CU_ASSERT_EQUAL(m.n, live);
		}
	}
	/* A stale removal (other owner) leaves the entry alone. */
	for (int j = 0; j < N; j++) {
		if (ref[j].present) {
			tc_cid_map_del(&m, ref[j].cid, ref[j].len, (void *)1);
			CU_ASSERT_PTR_EQUAL(tc_cid_map_get(&m, ref[j].cid, ref[j].len), ref[j].val);
			break;
		}
	}
	CU_ASSERT_PTR_NULL(tc_cid_map_get(&m, (const uint8_t *)"x", 0));
	CU_ASSERT_EQUAL(tc_cid_map_put(&m, (const uint8_t *)"0123456789012345678901", 21, (void *)1), -1);
	tc_cid_map_free(&m);
}

static void test_timer_heap_order(void)
{
	static struct tc_timer t[N];
	struct tc_timer_heap h = {0};
	srand(11);
	for (int i = 0; i < N; i++) {
		tc_timer_init(&t[i]);
		CU_ASSERT_FATAL(tc_timer_set(&h, &t[i], (uint64_t)(rand() % 100000)) == 0);
	}
	/* Move, cancel and re-add at random. */
	for (int r = 0; r < 3 * N; r++) {
		int i = rand() % N;
		switch (rand() % 3) {
		case 0:
			tc_timer_set(&h, &t[i], (uint64_t)(rand() % 100000));
			break;
		case 1:
			tc_timer_cancel(&h, &t[i]);
			break;
		default:
			tc_timer_set(&h, &t[i], UINT64_MAX);
			break;
		}
	}
	size_t scheduled = 0;
	for (int i = 0; i < N; i++)
		scheduled += t[i].idx != TC_TIMER_IDLE;
	CU_ASSERT_EQUAL(h.n, scheduled);
	uint64_t last = 0;
	size_t popped = 0;
	struct tc_timer *top;
	while ((top = tc_timer_top(&h)) != NULL) {
		CU_ASSERT(top->at >= last);
		last = top->at;
		tc_timer_cancel(&h, top);
		popped++;
	}
	CU_ASSERT_EQUAL(popped, scheduled);
	tc_timer_heap_free(&h);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"connection ID map under random put/del", test_cid_map_random},
		{"deadline heap keeps order under moves and cancels", test_timer_heap_order},
		{NULL, NULL},
	};
	return tc_run_suite("quic structures", tests, NULL, NULL);
}
