#include "bench_hsm.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench_util.h"
#include "common/config.h"
#include "signer/hsm.h"
#include "signer/pin.h"

struct signer_thread {
	EVP_PKEY *key;
	atomic_int *stop;
	long n;
};

static void *sign_loop(void *arg)
{
	struct signer_thread *t = arg;
	unsigned char md[32] = {1}, sig[160];
	while (!atomic_load(t->stop)) {
		size_t siglen = sizeof(sig);
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(t->key, NULL);
		if (ctx && EVP_PKEY_sign_init(ctx) > 0 && EVP_PKEY_sign(ctx, sig, &siglen, md, 32) > 0)
			t->n++;
		EVP_PKEY_CTX_free(ctx);
	}
	return NULL;
}

double bench_hsm_sign_rate(const char *config_path, const char *key_label, int threads, double seconds)
{
	struct tc_config cfg;
	char err[512], pin[TC_PIN_MAX];
	if (tc_config_load(&cfg, config_path, err, sizeof(err)) != 0 || tc_pin_read(&cfg, pin, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	setenv("SOFTHSM2_CONF", cfg.hsm.softhsm_conf, 1);
	struct tc_hsm *hsm = tc_hsm_open(cfg.hsm.module, cfg.hsm.token_label, pin, err, sizeof(err));
	tc_pin_wipe(pin);
	struct tc_hsm_key key;
	if (!hsm || tc_hsm_find_key(hsm, key_label, &key, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		tc_hsm_close(hsm);
		return -1;
	}
	atomic_int stop = 0;
	struct signer_thread *ts = calloc((size_t)threads, sizeof(*ts));
	pthread_t *th = calloc((size_t)threads, sizeof(*th));
	double t0 = bench_now_s();
	for (int i = 0; i < threads; i++) {
		ts[i] = (struct signer_thread){.key = key.priv, .stop = &stop};
		pthread_create(&th[i], NULL, sign_loop, &ts[i]);
	}
	usleep((useconds_t)(seconds * 1e6));
	atomic_store(&stop, 1);
	long n = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		n += ts[i].n;
	}
	double rate = (double)n / (bench_now_s() - t0);
	free(ts);
	free(th);
	tc_hsm_close(hsm);
	return rate;
}

double bench_p256_verify_rate(double seconds)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	unsigned char msg[512] = {0}, sig[80];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!key || !ctx || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, msg, sizeof(msg)) != 1) {
		EVP_MD_CTX_free(ctx);
		EVP_PKEY_free(key);
		return -1;
	}
	long n = 0;
	double t0 = bench_now_s(), t;
	do {
		EVP_MD_CTX_reset(ctx);
		if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
		    EVP_DigestVerify(ctx, sig, siglen, msg, sizeof(msg)) == 1)
			n++;
	} while ((t = bench_now_s() - t0) < seconds);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return (double)n / t;
}
