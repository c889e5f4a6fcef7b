/* Long-poll wake-ups (src/acme/wake.c): a wait ends at its deadline when
 * nothing changes, at once when the change came between the ticket and
 * the wait (no lost wake-up), and as soon as another thread notifies; a
 * parked waiter (a suspended connection) fires exactly once. */
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

/* Parked waiters (suspended connections): fired once by a notify, once by
 * the timer at the deadline, not parked when the record moved already. */
static pthread_mutex_t fired_lock = PTHREAD_MUTEX_INITIALIZER;
static int fired;
static uint64_t fired_at;

static void on_fire(void *arg)
{
	pthread_mutex_lock(&fired_lock);
	fired += *(int *)arg;
	fired_at = tc_acme_wake_now_ms();
	pthread_mutex_unlock(&fired_lock);
}

static int fired_now(void)
{
	pthread_mutex_lock(&fired_lock);
	int n = fired;
	pthread_mutex_unlock(&fired_lock);
	return n;
}

static void test_park(void)
{
	static int one = 1;
	w = tc_acme_wake_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	/* A notify fires it, once. */
	uint64_t t = tc_acme_wake_ticket(w, "order4");
	CU_ASSERT_EQUAL(tc_acme_wake_park(w, "order4", t, tc_acme_wake_now_ms() + 60000, on_fire, &one), 0);
	CU_ASSERT_EQUAL(fired_now(), 0);
	tc_acme_wake_notify(w, "order4");
	CU_ASSERT_EQUAL(fired_now(), 1);
	tc_acme_wake_notify(w, "order4");
	CU_ASSERT_EQUAL(fired_now(), 1);
	/* A notify before the park: not parked, the caller reads again. */
	t = tc_acme_wake_ticket(w, "order5");
	tc_acme_wake_notify(w, "order5");
	CU_ASSERT_EQUAL(tc_acme_wake_park(w, "order5", t, tc_acme_wake_now_ms() + 60000, on_fire, &one), 1);
	/* The deadline fires it (the timer thread), once. */
	t = tc_acme_wake_ticket(w, "order6");
	uint64_t t0 = tc_acme_wake_now_ms();
	CU_ASSERT_EQUAL(tc_acme_wake_park(w, "order6", t, t0 + 150, on_fire, &one), 0);
	for (int i = 0; i < 200 && fired_now() < 2; i++)
		usleep(10 * 1000);
	CU_ASSERT_EQUAL(fired_now(), 2);
	CU_ASSERT(fired_at >= t0 + 150 && fired_at < t0 + 1000);
	usleep(100 * 1000);
	CU_ASSERT_EQUAL(fired_now(), 2);
	/* What is still parked at the end fires on free (nothing leaks). */
	t = tc_acme_wake_ticket(w, "order7");
	CU_ASSERT_EQUAL(tc_acme_wake_park(w, "order7", t, tc_acme_wake_now_ms() + 60000, on_fire, &one), 0);
	tc_acme_wake_free(w);
	CU_ASSERT_EQUAL(fired_now(), 3);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"a wait ends at its deadline", test_deadline},
		{"a notify between ticket and wait is not lost", test_no_lost_wakeup},
		{"a notify from another thread ends the wait", test_notify_from_thread},
		{"a parked waiter fires once: notify, deadline, free", test_park},
		{NULL, NULL},
	};
	return tc_run_suite("acme_wake", tests, NULL, NULL);
}
