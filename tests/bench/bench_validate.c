/* Validate throughput: N client threads, each with its own libtrustchain
 * client over TLS, asking a real trustchain-gateway (linked to a real
 * signer and CT log) for the STOQ trust decision on a certificate issued by
 * Issue (embedded SCT, so every check runs: path, validity, name, key
 * usage, SCT signature, revocation) for a fixed time. Prints calls/s,
 * latency percentiles and the CPU each side spent per call (the clients
 * share the machine with the gateway).
 *
 * Then the validator core alone in this process (no gRPC, same
 * certificate, same CRL source), one thread, to show what the decision
 * itself costs: with the leaf cache (a peer seen before, what the
 * end-to-end figure measures) and without (a certificate seen for the
 * first time: X.509 decode plus two ECDSA verifications).
 *
 * With -a ROUNDS, against the same gateway and the same connections,
 * ROUNDS rounds alternate -d seconds of Validate with -d seconds of each of
 * the two cheapest RPCs the gateway has (no public API is added for the
 * bench): GetCACertificates (served on the fast pool like Validate, no IPC:
 * it packs the root and chain PEMs it holds) and Health.Check of an unknown
 * service (SERVICE_UNKNOWN before any ping, but served on the backend pool,
 * one thread hop more). Each round prints the three rates, the gateway's
 * CPU per call and Validate's rate as a ratio of the faster empty call:
 * issue 17's target is >= 0.90 on the same server in the same run.
 *
 * usage: bench_validate BINDIR [-c clients] [-d seconds] [-g gateway_threads] [-L] [-a rounds]
 *        -L sends the leaf alone instead of leaf + intermediate
 *        (prints figures; not a test) */
#include <getopt.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bench_util.h"

#include "client/client_internal.h"
#include "trustchain/v1/ca.pb-c.h"

#include "common/signer_client.h"
#include "gateway/validator.h"
#include "support/gateway_process.h"
#include "support/peer_harness.h"
#include "support/signer_harness.h"
#include "trustchain/client.h"

/* What a worker calls: Validate, or one of the two empty calls. */
enum call_kind { CALL_VALIDATE, CALL_CA_CERTS, CALL_HEALTH_UNKNOWN };
static const char *const kind_name[] = {"Validate", "GetCACertificates", "Health(unknown service)"};

struct worker {
	struct tc_client *client;
	enum call_kind kind;
	const struct tc_validate_request *rq;
	double *lat_ms;
	size_t n, cap;
	long untrusted, failures;
	char first_error[768];
};

static atomic_int stop;

/* One call of w->kind: 0, or -1 with st filled (an UNTRUSTED answer or an
 * unexpected health status counts in w->untrusted). */
static int one_call(struct worker *w, struct tc_status *st)
{
	if (w->kind == CALL_CA_CERTS) {
		Trustchain__V1__GetCACertificatesRequest rq = TRUSTCHAIN__V1__GET_CACERTIFICATES_REQUEST__INIT;
		unsigned char *resp = NULL;
		size_t len = 0;
		int rc = tc_unary_call(w->client, "/trustchain.v1.CertificateAuthority/GetCACertificates", &rq.base,
				       &resp, &len, st);
		free(resp);
		return rc;
	}
	if (w->kind == CALL_HEALTH_UNKNOWN) {
		enum tc_health h;
		int rc = tc_health_check(w->client, "bench.unknown.service", &h, st);
		if (rc == 0 && h != TC_HEALTH_SERVICE_UNKNOWN && !w->untrusted++)
			snprintf(w->first_error, sizeof(w->first_error), "health status %d, not SERVICE_UNKNOWN", (int)h);
		return rc;
	}
	struct tc_validate_result *r = NULL;
	if (tc_validate(w->client, w->rq, &r, st) != 0)
		return -1;
	if (r->decision != TC_TRUSTED && !w->untrusted++)
		snprintf(w->first_error, sizeof(w->first_error), "UNTRUSTED: %s", r->detail);
	tc_validate_result_free(r);
	return 0;
}

static void *validate_loop(void *arg)
{
	struct worker *w = arg;
	while (!atomic_load(&stop)) {
		struct tc_status st;
		double t0 = bench_now_s();
		int rc = one_call(w, &st);
		double ms = (bench_now_s() - t0) * 1e3;
		if (rc != 0) {
			if (!w->failures++)
				snprintf(w->first_error, sizeof(w->first_error), "%s %s: %s", tc_status_code_name(st.code),
					 st.reason, st.message);
			continue;
		}
		if (w->n == w->cap) {
			w->cap = w->cap ? w->cap * 2 : 8192;
			w->lat_ms = realloc(w->lat_ms, w->cap * sizeof(double));
		}
		w->lat_ms[w->n++] = ms;
	}
	return NULL;
}

struct phase {
	double rate, gw_us, client_us, p50, p99, max;
	size_t n;
	long failures, untrusted;
};

/* Every worker calls kind for seconds; the figures of that phase. */
static struct phase run_phase(struct worker *ws, pthread_t *th, int clients, enum call_kind kind, double seconds,
			      pid_t gw_pid)
{
	struct phase ph = {0};
	for (int i = 0; i < clients; i++) {
		ws[i].kind = kind;
		ws[i].n = 0;
	}
	double cpu_c0 = bench_cpu_s(0), cpu_g0 = bench_cpu_s(gw_pid);
	atomic_store(&stop, 0);
	double t0 = bench_now_s();
	for (int i = 0; i < clients; i++)
		pthread_create(&th[i], NULL, validate_loop, &ws[i]);
	usleep((useconds_t)(seconds * 1e6));
	atomic_store(&stop, 1);
	for (int i = 0; i < clients; i++) {
		pthread_join(th[i], NULL);
		ph.n += ws[i].n;
		ph.failures += ws[i].failures;
		ph.untrusted += ws[i].untrusted;
	}
	double secs = bench_now_s() - t0;
	double cpu_client = bench_cpu_s(0) - cpu_c0, cpu_gw = bench_cpu_s(gw_pid) - cpu_g0;
	double *all = malloc((ph.n ? ph.n : 1) * sizeof(double));
	size_t k = 0;
	for (int i = 0; i < clients; i++) {
		if (ws[i].n)
			memcpy(all + k, ws[i].lat_ms, ws[i].n * sizeof(double));
		k += ws[i].n;
	}
	qsort(all, ph.n, sizeof(double), bench_cmp_double);
	ph.rate = (double)ph.n / secs;
	ph.gw_us = ph.n ? cpu_gw / (double)ph.n * 1e6 : 0;
	ph.client_us = ph.n ? cpu_client / (double)ph.n * 1e6 : 0;
	ph.p50 = ph.n ? all[ph.n / 2] : 0;
	ph.p99 = ph.n ? all[ph.n * 99 / 100] : 0;
	ph.max = ph.n ? all[ph.n - 1] : 0;
	free(all);
	return ph;
}

static void print_phase(const char *prefix, enum call_kind kind, const struct phase *ph)
{
	printf("%s%-24s %8.0f calls/s  p50 %.3f ms  p99 %.3f ms  cpu/call gateway %.1f us, clients %.1f us%s\n",
	       prefix, kind_name[kind], ph->rate, ph->p50, ph->p99, ph->gw_us, ph->client_us,
	       ph->failures || ph->untrusted ? "  (PROBLEMS)" : "");
}

/* -a: rounds of Validate alternated with the empty calls. Returns the
 * number of failed or unexpected answers. */
static long alternate(struct worker *ws, pthread_t *th, int clients, double seconds, int rounds, pid_t gw_pid)
{
	long problems = 0;
	double *ratios = calloc((size_t)rounds, sizeof(double)), *cpu_ratios = calloc((size_t)rounds, sizeof(double));
	for (int r = 1; r <= rounds; r++) {
		struct phase ph[3];
		/* Each round starts with another call: no kind always runs first
		 * after the previous round's last. */
		for (int j = 0; j < 3; j++) {
			int k = (j + r - 1) % 3;
			ph[k] = run_phase(ws, th, clients, (enum call_kind)k, seconds, gw_pid);
			problems += ph[k].failures + ph[k].untrusted;
			char prefix[32];
			snprintf(prefix, sizeof(prefix), "round %d: ", r);
			print_phase(prefix, (enum call_kind)k, &ph[k]);
		}
		double floor_rate = ph[1].rate > ph[2].rate ? ph[1].rate : ph[2].rate;
		double ratio = floor_rate > 0 ? ph[0].rate / floor_rate : 0;
		/* The box is shared: the CPU both sides spend per call is the
		 * figure least moved by other load, so its ratio is printed too,
		 * against the cheaper of the two empty calls. */
		const struct phase *e = ph[1].rate > ph[2].rate ? &ph[1] : &ph[2];
		double cpu_e1 = ph[1].gw_us + ph[1].client_us, cpu_e2 = ph[2].gw_us + ph[2].client_us;
		double cpu_v = ph[0].gw_us + ph[0].client_us;
		double cpu_ratio = cpu_v > 0 ? (cpu_e1 < cpu_e2 ? cpu_e1 : cpu_e2) / cpu_v : 0;
		ratios[r - 1] = ratio;
		cpu_ratios[r - 1] = cpu_ratio;
		printf("round %d: Validate / faster empty call = %.2f (%s); gateway CPU per call %.1f vs %.1f us; "
		       "CPU per call (both sides) cheaper empty call / Validate = %.2f\n",
		       r, ratio, kind_name[e == &ph[1] ? 1 : 2], ph[0].gw_us, e->gw_us, cpu_ratio);
		fflush(stdout);
	}
	qsort(ratios, (size_t)rounds, sizeof(double), bench_cmp_double);
	qsort(cpu_ratios, (size_t)rounds, sizeof(double), bench_cmp_double);
	printf("Validate / empty call over %d rounds: min %.2f, median %.2f, max %.2f (target >= 0.90); "
	       "CPU-per-call ratio min %.2f, median %.2f, max %.2f\n",
	       rounds, ratios[0], ratios[rounds / 2], ratios[rounds - 1], cpu_ratios[0], cpu_ratios[rounds / 2],
	       cpu_ratios[rounds - 1]);
	free(ratios);
	free(cpu_ratios);
	if (problems)
		printf("problems: %ld failed or unexpected answers (first: %s)\n", problems,
		       ws[0].first_error[0] ? ws[0].first_error : "see other workers");
	return problems;
}

static unsigned char *pem_to_der(const char *pem, size_t *len)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	unsigned char *der = NULL;
	int n = x ? i2d_X509(x, &der) : -1;
	X509_free(x);
	*len = n > 0 ? (size_t)n : 0;
	return n > 0 ? der : NULL;
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = f ? calloc(1, 65536) : NULL;
	if (buf && fread(buf, 1, 65535, f) == 0) {
		free(buf);
		buf = NULL;
	}
	if (f)
		fclose(f);
	return buf;
}

/* The signer's GetCrl for the in-process validator. */
static int fetch_crl(void *arg, unsigned char **der, size_t *len, uint64_t *number, char *err, size_t errlen)
{
	Trustchain__Internal__Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__GetCrlRequest gc = TRUSTCHAIN__INTERNAL__GET_CRL_REQUEST__INIT;
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_GET_CRL;
	req.get_crl = &gc;
	Trustchain__Internal__Response *r = tc_signer_call(arg, &req, 5000, err, errlen);
	int rc = -1;
	if (r && r->result_case == TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_GET_CRL && (*der = malloc(r->get_crl->crl.len))) {
		memcpy(*der, r->get_crl->crl.data, r->get_crl->crl.len);
		*len = r->get_crl->crl.len;
		*number = r->get_crl->crl_number;
		rc = 0;
	}
	if (r)
		trustchain__internal__response__free_unpacked(r, NULL);
	return rc;
}

/* The validator core alone, one thread, for seconds; cold: without the
 * leaf cache (a certificate seen for the first time). */
static void core_rate(struct tc_harness *h, const struct tc_validate_request *rq, double seconds, int cold)
{
	char *root = read_text(tc_harness_path(h, "ca/root.pem"));
	char *inter = read_text(tc_harness_path(h, "ca/intermediate.pem"));
	FILE *f = fopen(tc_harness_path(h, "ct/log_public_key.pem"), "r");
	EVP_PKEY *log_key = f ? PEM_read_PUBKEY(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	struct tc_signer_client *sc = tc_signer_client_new(tc_harness_connect(h, "gateway"));
	struct tc_validator_config cfg = {.root_pem = root, .intermediate_pem = inter, .log_key = log_key,
					  .require_sct = 1, .fetch_crl = fetch_crl, .fetch_arg = sc, .no_leaf_cache = cold};
	char err[256];
	struct tc_validator *v = sc ? tc_validator_new(&cfg, err, sizeof(err)) : NULL;
	if (v) {
		long n = 0, trusted = 0;
		double t0 = bench_now_s(), t;
		while ((t = bench_now_s()) - t0 < seconds) {
			for (int i = 0; i < 100; i++, n++) {
				struct tc_validation vr;
				tc_validator_run(v, rq->chain, rq->chain_lens, rq->n_chain, rq->name, 0,
						 TRUSTCHAIN__V1__PURPOSE__PURPOSE_SERVER_AUTH, &vr);
				trusted += vr.trusted;
				tc_validation_release(&vr);
			}
		}
		printf("validator core, 1 thread, no RPC, %s: %.0f decisions/s (%.1f us each), %ld of %ld TRUSTED\n",
		       cold ? "leaf decoded and verified every time" : "leaf cached", (double)n / (t - t0),
		       (t - t0) / (double)n * 1e6, trusted, n);
	} else {
		fprintf(stderr, "in-process validator: %s\n", sc ? err : "no signer link");
	}
	tc_validator_free(v);
	tc_signer_client_free(sc);
	EVP_PKEY_free(log_key);
	free(root);
	free(inter);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s BINDIR [-c clients] [-d seconds] [-g gateway_threads] [-L] [-a rounds]\n", argv[0]);
		return 2;
	}
	const char *bindir = argv[1];
	int clients = 16, gw_threads = 4, leaf_only = 0, rounds = 0, c;
	double seconds = 10;
	optind = 2;
	while ((c = getopt(argc, argv, "c:d:g:La:")) != -1) {
		if (c == 'c')
			clients = atoi(optarg);
		else if (c == 'd')
			seconds = atof(optarg);
		else if (c == 'g')
			gw_threads = atoi(optarg);
		else if (c == 'L')
			leaf_only = 1;
		else if (c == 'a')
			rounds = atoi(optarg);
		else
			return 2;
	}
	if (clients < 1 || seconds <= 0 || gw_threads < 1 || rounds < 0)
		return 2;
	int port = tc_free_tcp_port();
	char extra[256], ready[128], target[64], root[600];
	snprintf(extra, sizeof(extra), "gateway:\n  listen: 127.0.0.1:%d\n  threads: %d\n", port, gw_threads);
	static struct tc_harness h;
	struct tc_gateway_proc gw;
	struct tc_peer_proc ct_log = {0};
	if (tc_harness_setup(&h, bindir, extra) != 0 || tc_harness_start_signer(&h, NULL) != 0 ||
	    tc_peer_start(&h, "transparency", &ct_log) != 0 || tc_gateway_proc_start(&gw, &h, ready, sizeof(ready)) != 0) {
		fprintf(stderr, "cannot start the signer, CT log and gateway\n");
		return 1;
	}
	snprintf(target, sizeof(target), "127.0.0.1:%d", port);
	snprintf(root, sizeof(root), "%s/data/ca/root.pem", h.dir);
	struct tc_client_options o = {.root_ca_file = root};
	char err[256];

	/* One certificate from Issue (with its SCT) to validate over and over,
	 * as a STOQ node validates the same peers again and again. */
	struct tc_client *issuer = tc_client_open_opts(target, &o, err, sizeof(err));
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509_REQ *req = X509_REQ_new();
	X509_REQ_set_pubkey(req, k);
	X509_REQ_sign(req, k, EVP_sha256());
	unsigned char *csr = NULL;
	int csr_len = i2d_X509_REQ(req, &csr);
	const char *names[] = {"bench.svc.hypermesh.online"};
	struct tc_issue_request irq = {.csr = csr, .csr_len = (size_t)csr_len, .dns_names = names, .n_dns = 1,
				       .profile = TC_PROFILE_SERVER};
	struct tc_issue_result *ir = NULL;
	struct tc_status st;
	if (!issuer || tc_issue(issuer, &irq, &ir, &st) != 0) {
		fprintf(stderr, "issue: %s %s: %s\n", tc_status_code_name(st.code), st.reason, st.message);
		return 1;
	}
	size_t leaf_len, inter_len;
	unsigned char *leaf = pem_to_der(ir->certificate_pem, &leaf_len), *inter = pem_to_der(ir->chain_pem, &inter_len);
	const unsigned char *chain[2] = {leaf, inter};
	size_t lens[2] = {leaf_len, inter_len};
	struct tc_validate_request rq = {.chain = chain, .chain_lens = lens, .n_chain = leaf_only ? 1 : 2,
					 .name = names[0], .purpose = TC_PURPOSE_SERVER_AUTH};

	struct worker *ws = calloc((size_t)clients, sizeof(*ws));
	pthread_t *th = calloc((size_t)clients, sizeof(*th));
	for (int i = 0; i < clients; i++) {
		ws[i].client = tc_client_open_opts(target, &o, err, sizeof(err));
		ws[i].rq = &rq;
		if (!ws[i].client) {
			fprintf(stderr, "client %d: %s\n", i, err);
			return 1;
		}
		/* Connect (TLS handshake) and warm the caches before the clock starts. */
		struct tc_validate_result *r = NULL;
		if (tc_validate(ws[i].client, &rq, &r, &st) != 0 || r->decision != TC_TRUSTED) {
			fprintf(stderr, "warm-up: %s\n", r ? r->detail : st.message);
			return 1;
		}
		tc_validate_result_free(r);
	}
	printf("validate bench: %d clients (TLS, own channel each), gateway %d threads, %.0f s%s, %s, "
	       "every check on (SCT required)\n",
	       clients, gw_threads, seconds, rounds ? " per phase" : "", leaf_only ? "leaf alone" : "leaf + intermediate");
	long problems;
	if (rounds > 0) {
		problems = alternate(ws, th, clients, seconds, rounds, gw.pid);
	} else {
		struct phase ph = run_phase(ws, th, clients, CALL_VALIDATE, seconds, gw.pid);
		printf("end to end: %zu decisions in %.0f s = %.0f calls/s  p50 %.3f ms  p99 %.3f ms  max %.2f ms\n", ph.n,
		       seconds, ph.rate, ph.p50, ph.p99, ph.max);
		printf("cpu per call: gateway %.1f us, clients %.1f us (2 cores = %.0f us of CPU per second)\n", ph.gw_us,
		       ph.client_us, 2e6);
		if (ph.failures || ph.untrusted)
			printf("problems: %ld failed calls, %ld UNTRUSTED (first: %s)\n", ph.failures, ph.untrusted,
			       ws[0].first_error[0] ? ws[0].first_error : "see other workers");
		problems = ph.failures + ph.untrusted;
	}
	for (int i = 0; i < clients; i++) {
		tc_client_close(ws[i].client);
		free(ws[i].lat_ms);
	}
	if (rounds == 0) {
		core_rate(&h, &rq, seconds > 3 ? 3 : seconds, 0);
		core_rate(&h, &rq, seconds > 3 ? 3 : seconds, 1);
	}

	free(ws);
	free(th);
	OPENSSL_free(leaf);
	OPENSSL_free(inter);
	OPENSSL_free(csr);
	X509_REQ_free(req);
	EVP_PKEY_free(k);
	tc_issue_result_free(ir);
	tc_client_close(issuer);
	tc_gateway_proc_stop(&gw);
	tc_peer_stop(&ct_log, SIGTERM);
	tc_harness_cleanup(&h);
	return problems ? 1 : 0;
}
