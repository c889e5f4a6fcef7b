/* End-to-end issuance throughput: N client threads, each with its own
 * libtrustchain client over TLS with a bearer token, issuing P-256 server
 * certificates from a real trustchain-gateway, trustchain-transparency
 * (precertificate logged durably, SCT embedded, final certificate logged)
 * and trustchain-signer (SoftHSM token, audit journal fdatasync'd) for a
 * fixed time. Then, in the
 * same run with the signer stopped, the raw SoftHSM signing rate of the
 * issuing key through tc_hsm (the signer's session pool) in this process, so the ratio shows what the
 * whole path costs on top of the HSM.
 *
 * Also prints the servers' context switches per issuance (hand-offs
 * between threads, waits) and the CPU time each process spent per issuance
 * (client, signer, CT log, gateway), which bounds the rate on this machine whatever
 * the concurrency: with the final certificate logged, an issuance is three
 * HSM signatures (precertificate, its SCT, final certificate: the final
 * certificate is logged without an SCT of its own), three journal appends
 * and two synced log writes.
 *
 * usage: bench_issue BINDIR [-c clients] [-d seconds]
 *        [-g gateway.backend_threads; by default the production default, 8. Issue
 *            holds no thread since issue 17 (earlier figures: 32, the workers
 *            Issue ran on)] [-s ct.sequence_interval_ms]
 *        [-l 0|1 (ct.log_stoq_certificates)]
 *        [-m hsm.module: another PKCS#11 module, e.g. lib/pkcs11_fault.so with
 *            TC_FAULT_LATENCY_MS=50 in the environment for a slow HSM]
 *        (prints figures; not a test) */
#include <dirent.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "bench_hsm.h"
#include "bench_util.h"

#include "common/config.h"
#include "common/hex.h"
#include "support/gateway_process.h"
#include "support/peer_harness.h"
#include "support/signer_harness.h"
#include "trustchain/client.h"

#define TOKEN "bench-token-0123456789abcdef0123456789abcdef"

struct worker {
	struct tc_client *client;  /* own channel */
	unsigned char *csr;
	size_t csr_len;
	double *lat_ms;
	size_t n, cap;
	long failures;
	char first_error[768];
};

static atomic_int stop;

/* Context switches (voluntary and not) of every live thread of pid: each
 * is a hand-off or a wait, the cost issue 17 chases besides CPU. Threads
 * that exited are not counted (the servers' pools live as long as they). */
static long ctx_switches(pid_t pid)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	long total = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char path[128], line[128];
		snprintf(path, sizeof(path), "%s/%.32s/status", dir, e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		long v;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "voluntary_ctxt_switches: %ld", &v) == 1 ||
			    sscanf(line, "nonvoluntary_ctxt_switches: %ld", &v) == 1)
				total += v;
		fclose(f);
	}
	closedir(d);
	return total;
}

static unsigned char *make_csr(size_t *len)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509_REQ *req = X509_REQ_new();
	X509_REQ_set_pubkey(req, k);
	X509_REQ_sign(req, k, EVP_sha256());
	unsigned char *der = NULL;
	int n = i2d_X509_REQ(req, &der);
	X509_REQ_free(req);
	EVP_PKEY_free(k);
	*len = n > 0 ? (size_t)n : 0;
	return der;
}

static void *issue_loop(void *arg)
{
	struct worker *w = arg;
	const char *names[] = {"bench.svc.hypermesh.online"};
	struct tc_issue_request rq = {.csr = w->csr, .csr_len = w->csr_len, .dns_names = names, .n_dns = 1,
				      .profile = TC_PROFILE_SERVER, .validity_seconds = 3600};
	while (!atomic_load(&stop)) {
		struct tc_issue_result *r = NULL;
		struct tc_status st;
		double t0 = bench_now_s();
		int rc = tc_issue(w->client, &rq, &r, &st);
		double ms = (bench_now_s() - t0) * 1e3;
		tc_issue_result_free(r);
		if (rc != 0) {
			if (!w->failures++)
				snprintf(w->first_error, sizeof(w->first_error), "%s %s: %s",
					 tc_status_code_name(st.code), st.reason, st.message);
			continue;
		}
		if (w->n == w->cap) {
			w->cap = w->cap ? w->cap * 2 : 4096;
			w->lat_ms = realloc(w->lat_ms, w->cap * sizeof(double));
		}
		w->lat_ms[w->n++] = ms;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s BINDIR [-c clients] [-d seconds] [-g gateway_backend_threads] [-t gateway_threads]\n", argv[0]);
		return 2;
	}
	const char *bindir = argv[1];
	int clients = 64, gw_threads = 8, gw_fast_threads = 0, sequence_ms = 100, log_final = 1;
	const char *module = NULL;
	double seconds = 10;
	int c;
	optind = 2;
	while ((c = getopt(argc, argv, "c:d:g:s:l:t:m:")) != -1) {
		if (c == 'c')
			clients = atoi(optarg);
		else if (c == 'd')
			seconds = atof(optarg);
		else if (c == 'g')
			gw_threads = atoi(optarg);
		else if (c == 's')
			sequence_ms = atoi(optarg);
		else if (c == 'l')
			log_final = atoi(optarg);
		else if (c == 't') /* gateway.threads (the pool Issue runs on); 0: the default */
			gw_fast_threads = atoi(optarg);
		else if (c == 'm')
			module = optarg;
		else
			return 2;
	}
	if (clients < 1 || seconds <= 0 || gw_threads < 1 || sequence_ms < 1 || gw_fast_threads < 0)
		return 2;

	char tokdir[] = "/tmp/tc-bench-issue-XXXXXX";
	if (!mkdtemp(tokdir))
		return 1;
	unsigned char md[32];
	char hash[65], path[128], extra[2048];
	SHA256((const unsigned char *)TOKEN, strlen(TOKEN), md);
	tc_hex_encode(md, 32, hash);
	snprintf(path, sizeof(path), "%s/tokens", tokdir);
	FILE *f = fopen(path, "w");
	fprintf(f, "%s bench *.svc.hypermesh.online\n", hash);
	fclose(f);
	chmod(path, 0600);
	int port = tc_free_tcp_port();
	char fast[64] = "", hsm[700] = "";
	if (module)
		snprintf(hsm, sizeof(hsm), "hsm:\n  module: %s\n", module);
	if (gw_fast_threads)
		snprintf(fast, sizeof(fast), "  threads: %d\n", gw_fast_threads);
	snprintf(extra, sizeof(extra),
		 "gateway:\n  listen: 127.0.0.1:%d\n  backend_threads: %d\n%s  require_auth: true\n  tokens_file: %s\n"
		 "ct:\n  sequence_interval_ms: %d\n  log_stoq_certificates: %s\n%s",
		 port, gw_threads, fast, path, sequence_ms, log_final ? "true" : "false", hsm);
	static struct tc_harness h;
	struct tc_gateway_proc gw;
	struct tc_peer_proc ct_log = {0};
	char ready[128], target[64], root[600];
	if (tc_harness_setup(&h, bindir, extra) != 0 || tc_harness_start_signer(&h, NULL) != 0 ||
	    tc_peer_start(&h, "transparency", &ct_log) != 0 || tc_gateway_proc_start(&gw, &h, ready, sizeof(ready)) != 0) {
		fprintf(stderr, "cannot start the signer, CT log and gateway\n");
		return 1;
	}
	snprintf(target, sizeof(target), "127.0.0.1:%d", port);
	snprintf(root, sizeof(root), "%s/data/ca/root.pem", h.dir);

	struct worker *ws = calloc((size_t)clients, sizeof(*ws));
	pthread_t *th = calloc((size_t)clients, sizeof(*th));
	struct tc_client_options o = {.root_ca_file = root, .bearer_token = TOKEN};
	for (int i = 0; i < clients; i++) {
		char err[256];
		ws[i].client = tc_client_open_opts(target, &o, err, sizeof(err));
		ws[i].csr = make_csr(&ws[i].csr_len);
		if (!ws[i].client || !ws[i].csr) {
			fprintf(stderr, "client %d: %s\n", i, err);
			return 1;
		}
		/* Connect (TLS handshake) before the clock starts. */
		struct tc_status st;
		enum tc_health hs;
		tc_health_check(ws[i].client, "", &hs, &st);
	}
	printf("issue bench: %d clients (TLS, bearer token), gateway.backend_threads %d, %.0f s, P-256 leaf certificates, "
	       "ct.sequence_interval_ms %d, final certificate %slogged\n",
	       clients, gw_threads, seconds, sequence_ms, log_final ? "" : "not ");
	static const char *const proc_names[] = {"client", "signer", "CT log", "gateway"};
	pid_t procs[4] = {0, h.signer_pid, ct_log.pid, gw.pid};
	double cpu0[4];
	long cs0[4];
	for (int i = 0; i < 4; i++) {
		cpu0[i] = bench_cpu_s(procs[i]);
		cs0[i] = i ? ctx_switches(procs[i]) : 0;
	}
	atomic_store(&stop, 0);
	double t0 = bench_now_s();
	for (int i = 0; i < clients; i++)
		pthread_create(&th[i], NULL, issue_loop, &ws[i]);
	usleep((useconds_t)(seconds * 1e6));
	atomic_store(&stop, 1);
	size_t n = 0;
	long failures = 0;
	for (int i = 0; i < clients; i++) {
		pthread_join(th[i], NULL);
		n += ws[i].n;
		failures += ws[i].failures;
	}
	double secs = bench_now_s() - t0;
	double cpu[4], cpu_total = 0;
	long cs[4] = {0};
	for (int i = 0; i < 4; i++) {
		cpu[i] = bench_cpu_s(procs[i]) - cpu0[i];
		cpu_total += cpu[i];
		if (i)
			cs[i] = ctx_switches(procs[i]) - cs0[i];
	}
	double *all = malloc((n ? n : 1) * sizeof(double));
	size_t k = 0;
	for (int i = 0; i < clients; i++) {
		memcpy(all + k, ws[i].lat_ms, ws[i].n * sizeof(double));
		k += ws[i].n;
	}
	qsort(all, n, sizeof(double), bench_cmp_double);
	double rate = (double)n / secs;
	printf("end to end: %zu certificates in %.2f s = %.0f issuances/s  p50 %.2f ms  p99 %.2f ms  max %.2f ms%s\n",
	       n, secs, rate, n ? all[n / 2] : 0, n ? all[n * 99 / 100] : 0, n ? all[n - 1] : 0,
	       failures ? "" : "  (no failures)");
	if (n > 0) {
		printf("CPU per issuance: %.2f ms (", cpu_total * 1e3 / (double)n);
		for (int i = 0; i < 4; i++)
			printf("%s%s %.2f", i ? ", " : "", proc_names[i], cpu[i] * 1e3 / (double)n);
		printf(") => at most %.0f issuances/s per CPU core\n", (double)n / cpu_total);
		printf("context switches per issuance: ");
		for (int i = 1; i < 4; i++)
			printf("%s%s %.1f", i > 1 ? ", " : "", proc_names[i], (double)cs[i] / (double)n);
		printf("\n");
	}
	for (int i = 0; i < clients && failures; i++)
		if (ws[i].failures) {
			printf("  %ld failed calls, first: %s\n", failures, ws[i].first_error);
			break;
		}
	for (int i = 0; i < clients; i++) {
		tc_client_close(ws[i].client);
		OPENSSL_free(ws[i].csr);
		free(ws[i].lat_ms);
	}
	free(ws);
	free(th);
	free(all);
	tc_gateway_proc_stop(&gw);
	tc_peer_stop(&ct_log, SIGTERM);
	tc_harness_stop_signer(&h);

	/* The same token, the signer gone: what the HSM alone signs. */
	int raw_threads = clients < 8 ? clients : 8;
	double raw = -1;
	struct tc_config hcfg;
	char herr[512];
	if (tc_config_load(&hcfg, h.config, herr, sizeof(herr)) == 0)
		raw = bench_hsm_sign_rate(h.config, hcfg.hsm.intermediate_key_label, raw_threads,
					  seconds < 3 ? seconds : 3);
	if (raw > 0) {
		/* Three HSM signatures per certificate (precertificate, its SCT,
		 * final certificate): the most the HSM allows, whatever the code. */
		double ceiling = raw / 3.0;
		printf("raw SoftHSM (tc_hsm: session pool, issuing key, %d threads): %.0f signatures/s  => end-to-end is %.1f %% of "
		       "raw\n", raw_threads, raw, rate / raw * 100.0);
		printf("HSM-bound ceiling (raw / 3 signatures per certificate): %.0f issuances/s  => end-to-end is "
		       "%.1f %% of it\n", ceiling, rate / ceiling * 100.0);
	}
	tc_harness_cleanup(&h);
	unlink(path);
	rmdir(tokdir);
	return 0;
}
