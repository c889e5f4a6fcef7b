/* Crash safety of the CT log: kill -9 the log process while many add-chain
 * submissions are in flight, restart it on the same data directory, and
 * every SCT that was handed out must name an entry of the log within the
 * merge delay (here: seconds), the new tree must be consistent with the
 * last tree head signed before the crash, proofs for the old tree still
 * verify, and resubmitting everything yields exactly one entry per
 * certificate (the duplicate index survived the crash with its entries). */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/ct_log_fixture.h"
#include "unit/cunit_main.h"

#define CERTS 260
#define WARMUP 20   /* sequenced before the burst */
#define THREADS 16
#define KILL_AFTER 60 /* SCTs handed out in the burst before kill -9 */

static const char *bindir;
static struct tc_ct_fixture f;
static unsigned char *certs[CERTS];
static size_t cert_lens[CERTS];

/* Per certificate, written only by the thread that owns it. */
static struct tc_ct_entry entries[CERTS];
static char sct_sigs[CERTS][200];
static int got_sct[CERTS];
static atomic_int scts_in_burst;

static int suite_init(void)
{
	if (tc_ct_fixture_setup(&f, bindir, "  sequence_interval_ms: 50\n  batch_max: 64\n") != 0)
		return 1;
	for (int i = 0; i < CERTS; i++)
		if (!(certs[i] = tc_ct_fixture_issue(&f, &cert_lens[i])))
			return 1;
	return tc_ct_fixture_start_log(&f) == 0 ? 0 : 1;
}

static int suite_cleanup(void)
{
	for (int i = 0; i < CERTS; i++)
		free(certs[i]);
	tc_ct_fixture_cleanup(&f);
	return 0;
}

struct burst_arg {
	int first, step;
};

/* Submits its share until the log dies under it. */
static void *burst_client(void *p)
{
	struct burst_arg *a = p;
	struct tc_http_client *c = NULL;
	char err[128];
	if (tc_http_client_new(f.url, 10000, &c, err, sizeof(err)) != 0)
		return NULL;
	for (int i = a->first; i < CERTS; i += a->step) {
		if (tc_ct_fixture_submit(&f, c, certs[i], cert_lens[i], &entries[i], sct_sigs[i],
					 sizeof(sct_sigs[i])) != 0)
			break; /* the log was killed: stop like a real client would */
		got_sct[i] = 1;
		atomic_fetch_add(&scts_in_burst, 1);
	}
	tc_http_client_free(c);
	return NULL;
}

static void test_kill_9_during_burst(void)
{
	/* A tree with some entries and a signed head before the crash. */
	for (int i = 0; i < WARMUP; i++) {
		CU_ASSERT_FATAL(tc_ct_fixture_submit(&f, f.http, certs[i], cert_lens[i], &entries[i], sct_sigs[i],
						     sizeof(sct_sigs[i])) == 0);
		got_sct[i] = 1;
	}
	struct tc_ct_head before, pre_crash, after;
	CU_ASSERT_FATAL(tc_ct_fixture_wait_sth(&f, WARMUP, 5000, &before) == 0);
	CU_ASSERT_EQUAL_FATAL(before.size, WARMUP);

	pthread_t th[THREADS];
	struct burst_arg args[THREADS];
	for (int t = 0; t < THREADS; t++) {
		args[t] = (struct burst_arg){WARMUP + t, THREADS};
		CU_ASSERT_FATAL(pthread_create(&th[t], NULL, burst_client, &args[t]) == 0);
	}
	for (int waited = 0; atomic_load(&scts_in_burst) < KILL_AFTER && waited < 20000; waited += 2)
		usleep(2000);
	CU_ASSERT_FATAL(tc_ct_fixture_sth(&f, f.http, &pre_crash) == 0);
	CU_ASSERT_EQUAL(tc_ct_fixture_kill_log(&f), SIGKILL);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	int handed_out = 0;
	for (int i = 0; i < CERTS; i++)
		handed_out += got_sct[i];
	fprintf(stderr, "\n  %d SCTs handed out before kill -9 (%d in the burst), signed tree %llu then\n",
		handed_out, atomic_load(&scts_in_burst), (unsigned long long)pre_crash.size);
	CU_ASSERT(atomic_load(&scts_in_burst) >= KILL_AFTER);
	CU_ASSERT(handed_out < CERTS); /* the kill really interrupted the burst */

	/* Restarted, the log sequences what was pending within seconds. */
	CU_ASSERT_FATAL(tc_ct_fixture_start_log(&f) == 0);
	CU_ASSERT_FATAL(tc_ct_fixture_wait_sth(&f, (uint64_t)handed_out, 5000, &after) == 0);
	CU_ASSERT(after.size >= pre_crash.size);
	int missing = 0;
	for (int i = 0; i < CERTS; i++) {
		uint64_t index;
		if (got_sct[i] && tc_ct_fixture_prove(&f, f.http, &entries[i], &after, &index) != 0) {
			fprintf(stderr, "  certificate %d: SCT handed out but no entry in the log\n", i);
			missing++;
		}
	}
	CU_ASSERT_EQUAL(missing, 0);
	CU_ASSERT(tc_ct_fixture_consistent(&f, f.http, &pre_crash, &after) == 0);
	CU_ASSERT(tc_ct_fixture_consistent(&f, f.http, &before, &after) == 0);
	/* Proofs for the tree signed before the crash still verify. */
	for (int i = 0; i < WARMUP; i++) {
		uint64_t index = 99;
		CU_ASSERT(tc_ct_fixture_prove(&f, f.http, &entries[i], &before, &index) == 0 && index == (uint64_t)i);
	}

	/* Every certificate again: the ones with an SCT get that same SCT -
	 * same timestamp, same leaf_index, a signature that verifies - the
	 * others are logged now, and each certificate is one entry. The
	 * signature bytes may differ: an entry is durable before its SCT is
	 * signed (the index goes into the SCT), the stored SCT is not synced,
	 * and after a crash it is signed again (ECDSA draws a new nonce). */
	int changed = 0, refused = 0, resigned = 0;
	for (int i = 0; i < CERTS; i++) {
		struct tc_ct_entry e;
		char sig[200];
		if (tc_ct_fixture_submit(&f, f.http, certs[i], cert_lens[i], &e, sig, sizeof(sig)) != 0) {
			refused++;
			continue;
		}
		if (got_sct[i] && (e.timestamp != entries[i].timestamp ||
				   tc_ct_fixture_leaf_index(&e) != tc_ct_fixture_leaf_index(&entries[i])))
			changed++;
		else if (got_sct[i] && strcmp(sig, sct_sigs[i]) != 0)
			resigned++;
	}
	fprintf(stderr, "  resubmitted: %d SCTs the same entry signed again after the crash\n", resigned);
	CU_ASSERT_EQUAL(refused, 0);
	CU_ASSERT_EQUAL(changed, 0);
	struct tc_ct_head full;
	CU_ASSERT_FATAL(tc_ct_fixture_wait_sth(&f, CERTS, 5000, &full) == 0);
	usleep(300000); /* nothing more may arrive */
	CU_ASSERT(tc_ct_fixture_sth(&f, f.http, &full) == 0);
	CU_ASSERT_EQUAL(full.size, CERTS);
	CU_ASSERT(tc_ct_fixture_consistent(&f, f.http, &after, &full) == 0);
}

int main(int argc, char **argv)
{
	bindir = argc > 1 ? argv[1] : "build/bin";
	struct tc_test tests[] = {
		{"kill -9 during a burst: every SCT's entry is logged, tree consistent", test_kill_9_during_burst},
		{NULL, NULL},
	};
	return tc_run_suite("ct_crash", tests, suite_init, suite_cleanup);
}
