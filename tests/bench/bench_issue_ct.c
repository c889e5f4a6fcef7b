/* End-to-end issuance throughput with embedded SCTs: a real signer on a
 * SoftHSM token, the CT log (trustchain-transparency) and the gateway, run
 * as the supervisor runs them, and C clients calling Issue over TLS. Each
 * issuance is: precertificate (HSM signature + journal fsync), add-pre-chain
 * (SCT signature in the HSM + synced pending write), final certificate (HSM
 * signature + journal fsync), add-chain of the final certificate when
 * ct.log_stoq_certificates (another SCT + synced write).
 *
 * usage: bench_issue_ct BINDIR [seconds] [concurrency...]
 * env:   TC_BENCH_GATEWAY_THREADS (default 64), TC_BENCH_SEQUENCE_MS (default
 *        100), TC_BENCH_LOG_FINAL (1/0, default 1), TC_BENCH_KEEP (keep the
 *        data directory)                                 (prints figures) */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "support/gateway_process.h"
#include "support/peer_harness.h"
#include "support/signer_harness.h"
#include "trustchain/client.h"

#define CSR_POOL 64
#define MAX_SAMPLES (1 << 20)

static unsigned char *csrs[CSR_POOL];
static size_t csr_lens[CSR_POOL];

struct worker {
	struct tc_client *client;
	double deadline;
	long ok, failed;
	double *lat_ms;
	long n_lat;
	char last_error[320];
	unsigned seed;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int make_csrs(void)
{
	for (int i = 0; i < CSR_POOL; i++) {
		EVP_PKEY *k = EVP_EC_gen("P-256");
		X509_REQ *req = X509_REQ_new();
		if (!k || !req || !X509_REQ_set_pubkey(req, k) || X509_REQ_sign(req, k, EVP_sha256()) <= 0)
			return -1;
		unsigned char *der = NULL;
		int n = i2d_X509_REQ(req, &der);
		X509_REQ_free(req);
		EVP_PKEY_free(k);
		if (n <= 0)
			return -1;
		csrs[i] = der;
		csr_lens[i] = (size_t)n;
	}
	return 0;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	const char *names[] = {"bench.hypermesh.online"};
	while (now_s() < w->deadline) {
		int i = (int)(rand_r(&w->seed) % CSR_POOL);
		struct tc_issue_request rq = {.csr = csrs[i], .csr_len = csr_lens[i], .dns_names = names,
					      .n_dns = 1, .profile = TC_PROFILE_SERVER, .validity_seconds = 3600};
		struct tc_issue_result *r = NULL;
		struct tc_status st;
		double t0 = now_s();
		int rc = tc_issue(w->client, &rq, &r, &st);
		double ms = (now_s() - t0) * 1e3;
		if (rc == 0 && r->n_scts == 1) {
			w->ok++;
			if (w->n_lat < MAX_SAMPLES)
				w->lat_ms[w->n_lat++] = ms;
		} else {
			w->failed++;
			snprintf(w->last_error, sizeof(w->last_error), "%s %s: %.160s", tc_status_code_name(st.code),
				 st.reason, st.message);
		}
		tc_issue_result_free(r);
	}
	return NULL;
}

/* CPU seconds (user + system) used so far by pid (0: this process). */
static double cpu_s(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), pid ? "/proc/%d/stat" : "/proc/self/stat", (int)pid);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	/* Fields after the command name "(...)": state is field 3, utime 14, stime 15. */
	char *p = strrchr(buf, ')');
	unsigned long ut = 0, st = 0;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The processes whose CPU time a run is charged with. */
static const char *const proc_names[] = {"bench (client)", "signer", "transparency", "gateway"};
static pid_t procs[4];

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void run(struct tc_client *client, int conc, double seconds)
{
	struct worker *w = calloc((size_t)conc, sizeof(*w));
	pthread_t *t = calloc((size_t)conc, sizeof(*t));
	double start = now_s();
	for (int i = 0; i < conc; i++) {
		w[i].client = client;
		w[i].deadline = start + seconds;
		w[i].seed = (unsigned)i * 7919u + 1;
		w[i].lat_ms = malloc(sizeof(double) * MAX_SAMPLES / 16);
		pthread_create(&t[i], NULL, work, &w[i]);
	}
	long ok = 0, failed = 0, n = 0;
	double cpu0[4];
	for (int i = 0; i < 4; i++)
		cpu0[i] = cpu_s(procs[i]);
	for (int i = 0; i < conc; i++) {
		pthread_join(t[i], NULL);
		ok += w[i].ok;
		failed += w[i].failed;
		n += w[i].n_lat;
	}
	double elapsed = now_s() - start;
	double cpu[4], cpu_total = 0;
	for (int i = 0; i < 4; i++) {
		cpu[i] = cpu_s(procs[i]) - cpu0[i];
		cpu_total += cpu[i];
	}
	double *all = malloc(sizeof(double) * (size_t)(n ? n : 1));
	long k = 0;
	for (int i = 0; i < conc; i++) {
		memcpy(all + k, w[i].lat_ms, sizeof(double) * (size_t)w[i].n_lat);
		k += w[i].n_lat;
	}
	qsort(all, (size_t)n, sizeof(double), cmp_double);
	printf("concurrency %3d: %6ld issued in %.1f s = %7.1f Issue/s  p50 %6.1f ms  p99 %6.1f ms  failed %ld\n",
	       conc, ok, elapsed, (double)ok / elapsed, n ? all[n / 2] : 0.0, n ? all[(n * 99) / 100] : 0.0,
	       failed);
	if (ok > 0) {
		printf("  CPU per Issue: %.2f ms total (", cpu_total * 1e3 / (double)ok);
		for (int i = 0; i < 4; i++)
			printf("%s%s %.2f", i ? ", " : "", proc_names[i], cpu[i] * 1e3 / (double)ok);
		printf(") -> at most %.0f Issue/s per core\n", (double)ok / cpu_total);
	}
	for (int i = 0; i < conc; i++)
		if (w[i].failed) {
			printf("  last failure: %s\n", w[i].last_error);
			break;
		}
	fflush(stdout);
	for (int i = 0; i < conc; i++)
		free(w[i].lat_ms);
	free(all);
	free(w);
	free(t);
}

/* The log's size once everything handed out is sequenced. */
static void report_log(struct tc_harness *h)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "du -sh %s/data/ct 2>/dev/null | cut -f1 | sed 's/^/  CT log on disk: /'", h->dir);
	if (system(cmd) != 0)
		printf("  (du failed)\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s BINDIR [seconds] [concurrency...]\n", argv[0]);
		return 2;
	}
	double seconds = argc > 2 ? atof(argv[2]) : 10;
	int gw_threads = getenv("TC_BENCH_GATEWAY_THREADS") ? atoi(getenv("TC_BENCH_GATEWAY_THREADS")) : 64;
	int seq_ms = getenv("TC_BENCH_SEQUENCE_MS") ? atoi(getenv("TC_BENCH_SEQUENCE_MS")) : 100;
	int log_final = getenv("TC_BENCH_LOG_FINAL") ? atoi(getenv("TC_BENCH_LOG_FINAL")) : 1;
	int port = tc_free_tcp_port();
	char extra[512];
	snprintf(extra, sizeof(extra),
		 "gateway:\n  listen: 127.0.0.1:%d\n  threads: %d\nct:\n  sequence_interval_ms: %d\n"
		 "  log_stoq_certificates: %s\n",
		 port, gw_threads, seq_ms, log_final ? "true" : "false");
	struct tc_harness h;
	struct tc_peer_proc ct_log = {0};
	struct tc_gateway_proc gw = {0};
	if (make_csrs() != 0 || tc_harness_setup(&h, argv[1], extra) != 0 || tc_harness_start_signer(&h, NULL) != 0 ||
	    tc_peer_start(&h, "transparency", &ct_log) != 0 || tc_gateway_proc_start(&gw, &h, NULL, 0) != 0) {
		fprintf(stderr, "cannot start the processes\n");
		return 1;
	}
	procs[0] = 0;
	procs[1] = h.signer_pid;
	procs[2] = ct_log.pid;
	procs[3] = gw.pid;
	char target[64], root[600], err[256];
	snprintf(target, sizeof(target), "127.0.0.1:%d", port);
	snprintf(root, sizeof(root), "%s/data/ca/root.pem", h.dir);
	struct tc_client_options o = {.root_ca_file = root};
	struct tc_client *client = tc_client_open_opts(target, &o, err, sizeof(err));
	if (!client) {
		fprintf(stderr, "client: %s\n", err);
		return 1;
	}
	printf("bench_issue_ct: gateway threads %d, ct.sequence_interval_ms %d, ct.log_stoq_certificates %s, "
	       "%.0f s per run\n",
	       gw_threads, seq_ms, log_final ? "on" : "off", seconds);
	run(client, 4, 1); /* warm-up: connections, TLS, caches */
	if (argc <= 3) {
		static const int defaults[] = {1, 8, 32, 64};
		for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
			run(client, defaults[i], seconds);
	}
	for (int i = 3; i < argc; i++)
		run(client, atoi(argv[i]), seconds);
	report_log(&h);
	tc_client_close(client);
	tc_gateway_proc_stop(&gw);
	tc_peer_stop(&ct_log, SIGTERM);
	if (getenv("TC_BENCH_KEEP"))
		printf("  data directory kept: %s\n", h.dir);
	else
		tc_harness_cleanup(&h);
	for (int i = 0; i < CSR_POOL; i++)
		OPENSSL_free(csrs[i]);
	return 0;
}
