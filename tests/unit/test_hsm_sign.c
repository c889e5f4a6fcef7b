/* EC signatures through the HSM's own session pool (src/signer/hsm_sign.c):
 * a real SoftHSM token (file object store) with a P-256 key made by
 * pkcs11-tool. Signatures from several threads at once all verify against
 * the key's public half, and signing opens none of the token's files
 * (inotify on the token directory): through libp11's token object SoftHSM
 * opened the key's object file twice per signature. */
#define _GNU_SOURCE
#include <dirent.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>
#include "cunit_main.h"
#include "signer/hsm.h"

#define SOFTHSM_MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define PIN "531842"
#define THREADS 4
#define SIGNS_PER_THREAD 200

static char tmpdir[] = "/tmp/tc-hsm-sign-XXXXXX";
static struct tc_hsm *hsm;
static struct tc_hsm_key key;

static int setup(void)
{
	if (!mkdtemp(tmpdir))
		return 1;
	char path[512], cmd[1400];
	snprintf(path, sizeof(path), "%s/softhsm2.conf", tmpdir);
	FILE *f = fopen(path, "w");
	if (!f)
		return 1;
	fprintf(f, "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n", tmpdir);
	fclose(f);
	setenv("SOFTHSM2_CONF", path, 1);
	snprintf(cmd, sizeof(cmd),
		 "softhsm2-util --init-token --free --label hsm-sign --so-pin 87654321 --pin %s > /dev/null && "
		 "pkcs11-tool --module %s --token-label hsm-sign --login --pin %s --keypairgen "
		 "--key-type EC:prime256v1 --label sign-key --id 0a0b > /dev/null 2>&1",
		 PIN, SOFTHSM_MODULE, PIN);
	if (system(cmd) != 0)
		return 1;
	char err[256];
	hsm = tc_hsm_open(SOFTHSM_MODULE, "hsm-sign", PIN, err, sizeof(err));
	if (!hsm || tc_hsm_find_key(hsm, "sign-key", &key, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	return 0;
}

static int teardown(void)
{
	tc_hsm_close(hsm);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : 1;
}

/* Signs msg with the token key and checks it with the software public key;
 * 1 when it verifies. */
static int sign_verifies(const unsigned char *msg, size_t len)
{
	unsigned char sig[128];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *s = EVP_MD_CTX_new(), *v = EVP_MD_CTX_new();
	int ok = s && v && EVP_DigestSignInit(s, NULL, EVP_sha256(), NULL, key.priv) == 1 &&
		 EVP_DigestSign(s, sig, &siglen, msg, len) == 1 &&
		 EVP_DigestVerifyInit(v, NULL, EVP_sha256(), NULL, key.verify) == 1 &&
		 EVP_DigestVerify(v, sig, siglen, msg, len) == 1;
	EVP_MD_CTX_free(s);
	EVP_MD_CTX_free(v);
	return ok;
}

static void *sign_loop(void *arg)
{
	long *good = arg;
	unsigned char msg[64];
	for (int i = 0; i < SIGNS_PER_THREAD; i++) {
		memset(msg, i, sizeof(msg));
		msg[0] = (unsigned char)(uintptr_t)good;
		*good += sign_verifies(msg, sizeof(msg));
	}
	return NULL;
}

static void test_threads_sign(void)
{
	pthread_t t[THREADS];
	long good[THREADS] = {0};
	for (int i = 0; i < THREADS; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, sign_loop, &good[i]), 0);
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		CU_ASSERT_EQUAL(good[i], SIGNS_PER_THREAD);
	}
}

static void test_no_file_per_signature(void)
{
	/* Watches the token's own directory (tokendir/<uuid>/). */
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	CU_ASSERT_FATAL(in >= 0);
	DIR *d = opendir(tmpdir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	int watches = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		char path[600];
		snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
		watches += inotify_add_watch(in, path, IN_OPEN) >= 0;
	}
	closedir(d);
	CU_ASSERT_EQUAL(watches, 1);
	int good = 0;
	for (int i = 0; i < 50; i++)
		good += sign_verifies((const unsigned char *)"fifty", 5);
	CU_ASSERT_EQUAL(good, 50);
	char buf[4096];
	ssize_t n = read(in, buf, sizeof(buf));
	CU_ASSERT(n < 0); /* no event: nothing was opened */
	close(in);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"signatures from several threads verify", test_threads_sign},
		{"a signature opens no token file", test_no_file_per_signature},
		{NULL, NULL},
	};
	return tc_run_suite("hsm_sign", tests, setup, teardown);
}
