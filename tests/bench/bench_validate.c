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
 * usage: bench_validate BINDIR [-c clients] [-d seconds] [-g gateway_threads] [-L]
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

#include "common/signer_client.h"
#include "gateway/validator.h"
#include "support/gateway_process.h"
#include "support/peer_harness.h"
#include "support/signer_harness.h"
#include "trustchain/client.h"

struct worker {
	struct tc_client *client;
	const struct tc_validate_request *rq;
	double *lat_ms;
	size_t n, cap;
	long untrusted, failures;
	char first_error[768];
};

static atomic_int stop;

static void *validate_loop(void *arg)
{
	struct worker *w = arg;
	while (!atomic_load(&stop)) {
		struct tc_validate_result *r = NULL;
		struct tc_status st;
		double t0 = bench_now_s();
		int rc = tc_validate(w->client, w->rq, &r, &st);
		double ms = (bench_now_s() - t0) * 1e3;
		if (rc != 0) {
			if (!w->failures++)
				snprintf(w->first_error, sizeof(w->first_error), "%s %s: %s", tc_status_code_name(st.code),
					 st.reason, st.message);
			continue;
		}
		if (r->decision != TC_TRUSTED && !w->untrusted++)
			snprintf(w->first_error, sizeof(w->first_error), "UNTRUSTED: %s", r->detail);
		tc_validate_result_free(r);
		if (w->n == w->cap) {
			w->cap = w->cap ? w->cap * 2 : 8192;
			w->lat_ms = realloc(w->lat_ms, w->cap * sizeof(double));
		}
		w->lat_ms[w->n++] = ms;
	}
	return NULL;
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
		fprintf(stderr, "usage: %s BINDIR [-c clients] [-d seconds] [-g gateway_threads] [-L]\n", argv[0]);
		return 2;
	}
	const char *bindir = argv[1];
	int clients = 16, gw_threads = 4, leaf_only = 0, c;
	double seconds = 10;
	optind = 2;
	while ((c = getopt(argc, argv, "c:d:g:L")) != -1) {
		if (c == 'c')
			clients = atoi(optarg);
		else if (c == 'd')
			seconds = atof(optarg);
		else if (c == 'g')
			gw_threads = atoi(optarg);
		else if (c == 'L')
			leaf_only = 1;
		else
			return 2;
	}
	if (clients < 1 || seconds <= 0 || gw_threads < 1)
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
	printf("validate bench: %d clients (TLS, own channel each), gateway %d threads, %.0f s, %s, "
	       "every check on (SCT required)\n",
	       clients, gw_threads, seconds, leaf_only ? "leaf alone" : "leaf + intermediate");
	pid_t procs[2] = {0, gw.pid};
	double cpu0[2] = {bench_cpu_s(procs[0]), bench_cpu_s(procs[1])};
	atomic_store(&stop, 0);
	double t0 = bench_now_s();
	for (int i = 0; i < clients; i++)
		pthread_create(&th[i], NULL, validate_loop, &ws[i]);
	usleep((useconds_t)(seconds * 1e6));
	atomic_store(&stop, 1);
	size_t n = 0;
	long failures = 0, untrusted = 0;
	for (int i = 0; i < clients; i++) {
		pthread_join(th[i], NULL);
		n += ws[i].n;
		failures += ws[i].failures;
		untrusted += ws[i].untrusted;
	}
	double secs = bench_now_s() - t0;
	double cpu_client = bench_cpu_s(procs[0]) - cpu0[0], cpu_gw = bench_cpu_s(procs[1]) - cpu0[1];
	double *all = malloc((n ? n : 1) * sizeof(double));
	size_t k2 = 0;
	for (int i = 0; i < clients; i++) {
		memcpy(all + k2, ws[i].lat_ms, ws[i].n * sizeof(double));
		k2 += ws[i].n;
	}
	qsort(all, n, sizeof(double), bench_cmp_double);
	printf("end to end: %zu decisions in %.2f s = %.0f calls/s  p50 %.3f ms  p99 %.3f ms  max %.2f ms\n", n, secs,
	       (double)n / secs, n ? all[n / 2] : 0, n ? all[n * 99 / 100] : 0, n ? all[n - 1] : 0);
	printf("cpu per call: gateway %.1f us, clients %.1f us (2 cores = %.0f us of CPU per second)\n",
	       n ? cpu_gw / (double)n * 1e6 : 0, n ? cpu_client / (double)n * 1e6 : 0, 2e6);
	if (failures || untrusted)
		printf("problems: %ld failed calls, %ld UNTRUSTED (first: %s)\n", failures, untrusted,
		       ws[0].first_error[0] ? ws[0].first_error : "see other workers");
	for (int i = 0; i < clients; i++) {
		tc_client_close(ws[i].client);
		free(ws[i].lat_ms);
	}
	core_rate(&h, &rq, seconds > 3 ? 3 : seconds, 0);
	core_rate(&h, &rq, seconds > 3 ? 3 : seconds, 1);

	free(all);
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
	return failures || untrusted ? 1 : 0;
}
