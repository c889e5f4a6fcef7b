/* The gateway's two worker pools (rpc.h: enum tc_rpc_pool) and Issue's
 * asynchronous handler: with the signer stopped, Issue calls wait without
 * holding a worker (the only backend worker still answers a call that does
 * not need the signer), a backend call that pings the signer waits, and a
 * fast call (Validate) is still answered at once; once the signer runs
 * again the Issue calls complete and both pools serve. Real signer, CT log
 * and gateway processes. */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support/gateway_process.h"
#include "support/peer_harness.h"
#include "support/signer_harness.h"
#include "trustchain/client.h"
#include "unit/cunit_main.h"

#define GRPC_DEADLINE_EXCEEDED 4

static const char *bindir;
static struct tc_harness h;
static struct tc_peer_proc ct_log;
static struct tc_gateway_proc gw;
static char target[64], root_ca[600];

static struct tc_client *open_client(int timeout_ms)
{
	char err[256];
	struct tc_client_options o = {.root_ca_file = root_ca};
	struct tc_client *c = tc_client_open_opts(target, &o, err, sizeof(err));
	if (!c)
		fprintf(stderr, "client: %s\n", err);
	else
		tc_client_set_timeout(c, timeout_ms);
	return c;
}

static int suite_init(void)
{
	int port = tc_free_tcp_port();
	if (port <= 0)
		return 1;
	char extra[256];
	snprintf(extra, sizeof(extra), "gateway:\n  listen: 127.0.0.1:%d\n  threads: 2\n  backend_threads: 1\n", port);
	snprintf(target, sizeof(target), "127.0.0.1:%d", port);
	char ready[256];
	if (tc_harness_setup(&h, bindir, extra) != 0 || tc_harness_start_signer(&h, NULL) != 0 ||
	    tc_peer_start(&h, "transparency", &ct_log) != 0 || tc_gateway_proc_start(&gw, &h, ready, sizeof(ready)) != 0)
		return 1;
	fprintf(stderr, "gateway: %s\n", ready);
	snprintf(root_ca, sizeof(root_ca), "%s/data/ca/root.pem", h.dir);
	return 0;
}

static int suite_cleanup(void)
{
	if (h.signer_pid > 0)
		kill(h.signer_pid, SIGCONT);
	if (gw.pid > 0)
		tc_gateway_proc_stop(&gw);
	tc_peer_stop(&ct_log, SIGKILL);
	tc_harness_cleanup(&h);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct issue_call {
	struct tc_client *client;
	int rc;
	struct tc_status st;
};

static void *issue_thread(void *arg)
{
	struct issue_call *ic = arg;
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509_REQ *req = X509_REQ_new();
	X509_REQ_set_pubkey(req, k);
	X509_REQ_sign(req, k, EVP_sha256());
	unsigned char *der = NULL;
	int n = i2d_X509_REQ(req, &der);
	const char *names[] = {"pools.svc.hypermesh.online"};
	struct tc_issue_request rq = {.csr = der, .csr_len = n > 0 ? (size_t)n : 0, .dns_names = names, .n_dns = 1,
				      .profile = TC_PROFILE_SERVER, .validity_seconds = 3600};
	struct tc_issue_result *r = NULL;
	ic->rc = tc_issue(ic->client, &rq, &r, &ic->st);
	tc_issue_result_free(r);
	OPENSSL_free(der);
	X509_REQ_free(req);
	EVP_PKEY_free(k);
	return NULL;
}

static void test_fast_calls_not_held_by_backend_waits(void)
{
	struct tc_client *issuer = open_client(30000), *prober = open_client(800), *validator = open_client(5000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(issuer);
	CU_ASSERT_PTR_NOT_NULL_FATAL(prober);
	CU_ASSERT_PTR_NOT_NULL_FATAL(validator);
	struct tc_status st;
	enum tc_health hs;
	/* Connections up (TLS handshakes done) before the signer stops. */
	CU_ASSERT_EQUAL_FATAL(tc_health_check(prober, "", &hs, &st), 0);
	CU_ASSERT_EQUAL_FATAL(tc_health_check(issuer, "", &hs, &st), 0);

	CU_ASSERT_EQUAL_FATAL(kill(h.signer_pid, SIGSTOP), 0);
	enum { N_ISSUES = 4 };
	struct issue_call ic[N_ISSUES];
	pthread_t th[N_ISSUES];
	for (int i = 0; i < N_ISSUES; i++) {
		ic[i] = (struct issue_call){.client = issuer};
		CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, issue_thread, &ic[i]), 0);
	}
	usleep(500 * 1000); /* the Issue calls now wait on the signer */

	/* They hold no worker: the only backend worker answers a call that
	 * needs the CT log alone (before issue 17 it waited behind them). */
	CU_ASSERT_EQUAL(tc_health_check(prober, "trustchain.v1.Transparency", &hs, &st), 0);
	CU_ASSERT_EQUAL(hs, TC_HEALTH_SERVING);

	/* A backend call that pings the stopped signer waits (the client gives
	 * up first). */
	CU_ASSERT_NOT_EQUAL(tc_health_check(prober, "", &hs, &st), 0);
	CU_ASSERT_EQUAL(st.code, GRPC_DEADLINE_EXCEEDED);

	/* A fast call is answered at once: a chain that is not a certificate
	 * gets its refusal from the validator without any IPC. */
	static const unsigned char junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
	const unsigned char *chain[] = {junk};
	size_t lens[] = {sizeof(junk)};
	struct tc_validate_request vr = {.chain = chain, .chain_lens = lens, .n_chain = 1};
	struct tc_validate_result *res = NULL;
	double t0 = now_s();
	int rc = tc_validate(validator, &vr, &res, &st);
	double took = now_s() - t0;
	fprintf(stderr, " (Validate answered in %.0f ms: rc %d, status %d %s) ", took * 1e3, rc, st.code, st.reason);
	CU_ASSERT(rc == 0 || st.code != GRPC_DEADLINE_EXCEEDED);
	CU_ASSERT(took < 3.0);
	tc_validate_result_free(res);

	/* The signer runs again: the waiting Issues complete, Health answers. */
	CU_ASSERT_EQUAL(kill(h.signer_pid, SIGCONT), 0);
	for (int i = 0; i < N_ISSUES; i++) {
		pthread_join(th[i], NULL);
		if (ic[i].rc != 0)
			fprintf(stderr, " (issue: %d %s: %s) ", ic[i].st.code, ic[i].st.reason, ic[i].st.message);
		CU_ASSERT_EQUAL(ic[i].rc, 0);
	}
	CU_ASSERT_EQUAL(tc_health_check(prober, "", &hs, &st), 0);
	tc_client_close(issuer);
	tc_client_close(prober);
	tc_client_close(validator);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s BINDIR\n", argv[0]);
		return 2;
	}
	bindir = argv[1];
	static const struct tc_test tests[] = {
		{"pools: a fast call is answered while the backend pool waits on the signer",
		 test_fast_calls_not_held_by_backend_waits},
		{NULL, NULL},
	};
	return tc_run_suite("gateway_pools", tests, suite_init, suite_cleanup);
}
