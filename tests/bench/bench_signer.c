/* Signer throughput: the same number of ECDSA P-256 signatures with the CT
 * log key, first through a real trustchain-signer over IPC (framing,
 * protobuf, capability check, shape check, audit journal with fdatasync),
 * then in this process straight through libp11, each with the same number
 * of concurrent callers. The ratio is what privilege separation costs.
 *
 * usage: bench_signer BINDIR [requests] [concurrency...]   (prints figures) */
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench_util.h"

#include "common/config.h"
#include "common/signer_client.h"
#include "signer/hsm.h"
#include "signer/pin.h"
#include "support/signer_harness.h"

struct run {
	long per_thread;
	struct tc_signer_client *client; /* IPC mode */
	EVP_PKEY *key;                   /* raw mode */
	double *lat_ms;                  /* per-request latencies of this thread */
	long failures;
};

/* An RFC 6962 tree-head signature input: the shape the CT key may sign. */
static void sth_input(unsigned char buf[50], long i)
{
	memset(buf, 0, 50);
	buf[1] = 1;
	memcpy(buf + 18, &i, sizeof(i));
}

static void *ipc_thread(void *arg)
{
	struct run *r = arg;
	for (long i = 0; i < r->per_thread; i++) {
		unsigned char data[50];
		sth_input(data, i);
		Trustchain__Internal__Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
		Trustchain__Internal__SignDataRequest sd = TRUSTCHAIN__INTERNAL__SIGN_DATA_REQUEST__INIT;
		sd.key = TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_CT_LOG;
		sd.data.data = data;
		sd.data.len = sizeof(data);
		req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_SIGN_DATA;
		req.sign_data = &sd;
		char err[256];
		double t0 = bench_now_s();
		Trustchain__Internal__Response *resp = tc_signer_call(r->client, &req, 30000, err, sizeof(err));
		r->lat_ms[i] = (bench_now_s() - t0) * 1e3;
		if (!resp || resp->status != TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK)
			r->failures++;
		if (resp)
			trustchain__internal__response__free_unpacked(resp, NULL);
	}
	return NULL;
}

static void *raw_thread(void *arg)
{
	struct run *r = arg;
	for (long i = 0; i < r->per_thread; i++) {
		unsigned char data[50], md[32], sig[128];
		size_t siglen = sizeof(sig);
		sth_input(data, i);
		double t0 = bench_now_s();
		EVP_Digest(data, sizeof(data), md, NULL, EVP_sha256(), NULL);
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(r->key, NULL);
		if (!ctx || EVP_PKEY_sign_init(ctx) <= 0 || EVP_PKEY_sign(ctx, sig, &siglen, md, 32) <= 0)
			r->failures++;
		EVP_PKEY_CTX_free(ctx);
		r->lat_ms[i] = (bench_now_s() - t0) * 1e3;
	}
	return NULL;
}

/* Runs threads of fn and prints one line; returns signatures per second. */
static double measure(const char *label, void *(*fn)(void *), int conc, long total,
		      struct tc_signer_client *client, EVP_PKEY *key)
{
	long per = total / conc;
	struct run *runs = calloc((size_t)conc, sizeof(*runs));
	pthread_t *th = calloc((size_t)conc, sizeof(*th));
	double *all = calloc((size_t)(per * conc), sizeof(double));
	double t0 = bench_now_s();
	for (int i = 0; i < conc; i++) {
		runs[i] = (struct run){.per_thread = per, .client = client, .key = key, .lat_ms = all + i * per};
		pthread_create(&th[i], NULL, fn, &runs[i]);
	}
	long failures = 0;
	for (int i = 0; i < conc; i++) {
		pthread_join(th[i], NULL);
		failures += runs[i].failures;
	}
	double secs = bench_now_s() - t0;
	long n = per * conc;
	qsort(all, (size_t)n, sizeof(double), bench_cmp_double);
	double rate = (double)n / secs;
	printf("%-34s conc %3d  %7ld sigs in %6.2f s  %8.0f sig/s  p50 %6.2f ms  p99 %6.2f ms%s\n", label,
	       conc, n, secs, rate, all[n / 2], all[n * 99 / 100], failures ? "  FAILURES" : "");
	if (failures)
		printf("  %ld failed requests\n", failures);
	free(runs);
	free(th);
	free(all);
	return rate;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s BINDIR [requests] [concurrency...]\n", argv[0]);
		return 2;
	}
	long total = argc > 2 ? atol(argv[2]) : 20000;
	int concs[8] = {1, 8, 64};
	int nconc = 3;
	if (argc > 3) {
		nconc = 0;
		for (int i = 3; i < argc && nconc < 8; i++)
			concs[nconc++] = atoi(argv[i]);
	}
	static struct tc_harness h;
	if (tc_harness_setup(&h, argv[1], NULL) != 0 || tc_harness_start_signer(&h, NULL) != 0) {
		fprintf(stderr, "cannot set up a signer (ceremony or start failed)\n");
		tc_harness_cleanup(&h);
		return 1;
	}
	struct tc_signer_client *client = tc_signer_client_new(tc_harness_connect(&h, "transparency"));
	double ipc[8];
	printf("signer bench: %ld ECDSA P-256 signatures per run, SoftHSM token, key in the HSM\n", total);
	for (int i = 0; i < nconc; i++)
		ipc[i] = measure("IPC -> signer (journaled)", ipc_thread, concs[i], total, client, NULL);
	tc_signer_client_free(client);
	tc_harness_stop_signer(&h);

	/* Now the same key straight through libp11 in this process (the signer
	 * is stopped: the fork happened before the module was ever loaded here). */
	struct tc_config cfg;
	char err[512], pin[TC_PIN_MAX];
	if (tc_config_load(&cfg, h.config, err, sizeof(err)) != 0 || tc_pin_read(&cfg, pin, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		tc_harness_cleanup(&h);
		return 1;
	}
	setenv("SOFTHSM2_CONF", cfg.hsm.softhsm_conf, 1);
	struct tc_hsm *hsm = tc_hsm_open(cfg.hsm.module, cfg.hsm.token_label, pin, err, sizeof(err));
	tc_pin_wipe(pin);
	struct tc_hsm_key key;
	if (!hsm || tc_hsm_find_key(hsm, cfg.hsm.ct_key_label, &key, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		tc_hsm_close(hsm);
		tc_harness_cleanup(&h);
		return 1;
	}
	for (int i = 0; i < nconc; i++) {
		double raw = measure("raw libp11 in-process", raw_thread, concs[i], total, NULL, key.priv);
		printf("  => IPC overhead at concurrency %d: %.1f %% (IPC rate is %.1f %% of raw)\n", concs[i],
		       (raw / ipc[i] - 1.0) * 100.0, ipc[i] / raw * 100.0);
	}
	tc_hsm_close(hsm);
	tc_harness_cleanup(&h);
	return 0;
}
