/* Long-poll wake-ups (src/acme/wake.c): a wait ends at its deadline when
 * nothing changes, at once when the change came between the ticket and
 * the wait (no lost wake-up), and as soon as another thread notifies. */
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <unistd.h>

#include "acme/wake.h"
#include "unit/cunit_main.h"

static struct tc_acme_wake *w;

static void test_deadline(void)
{
	w = tc_acme_wake_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	uint64_t t = tc_acme_wake_ticket(w, "order1");
	uint64_t t0 = tc_acme_wake_now_ms();
	CU_ASSERT_EQUAL(tc_acme_wake_wait(w, "order1", t, t0 + 150), -1);
	uint64_t took = tc_acme_wake_now_ms() - t0;
	CU_ASSERT(took >= 140 && took < 1000);
}

static void test_no_lost_wakeup(void)
{
	uint64_t t = tc_acme_wake_ticket(w, "order2");
	tc_acme_wake_notify(w, "order2"); /* the writer was quicker than the reader */
	uint64_t t0 = tc_acme_wake_now_ms();
	CU_ASSERT_EQUAL(tc_acme_wake_wait(w, "order2", t, t0 + 5000), 0);
	CU_ASSERT(tc_acme_wake_now_ms() - t0 < 100);
}

static void *notifier(void *arg)
{
	usleep(100 * 1000);
	tc_acme_wake_notify(w, arg);
	return NULL;
}

static void test_notify_from_thread(void)
{
	uint64_t t = tc_acme_wake_ticket(w, "order3");
	pthread_t th;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, notifier, "order3"), 0);
	uint64_t t0 = tc_acme_wake_now_ms();
	CU_ASSERT_EQUAL(tc_acme_wake_wait(w, "order3", t, t0 + 5000), 0);
	uint64_t took = tc_acme_wake_now_ms() - t0;
	CU_ASSERT(took >= 50 && took < 2000);
	pthread_join(th, NULL);
	tc_acme_wake_free(w);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"a wait ends at its deadline", test_deadline},
		{"a notify between ticket and wait is not lost", test_no_lost_wakeup},
		{"a notify from another thread ends the wait", test_notify_from_thread},
		{NULL, NULL},
	};
	return tc_run_suite("acme_wake", tests, NULL, NULL);
}
