/* tc_hsm_open's refusals: every way the token can be unreachable gives an
 * error message and a NULL handle, never a crash (libp11 0.4.12 crashed in
 * PKCS11_CTX_unload after a failed module load), and the PIN never appears
 * in the message. A real SoftHSM token in a temporary directory. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cunit_main.h"
#include "signer/hsm.h"

#define SOFTHSM_MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define PIN "531842"

static char tmpdir[] = "/tmp/tc-hsm-open-XXXXXX";

static int setup(void)
{
	if (!mkdtemp(tmpdir))
		return 1;
	char path[512], cmd[1024];
	snprintf(path, sizeof(path), "%s/softhsm2.conf", tmpdir);
	FILE *f = fopen(path, "w");
	if (!f)
		return 1;
	fprintf(f, "directories.tokendir = %s\nobjectstore.backend = file\n", tmpdir);
	fclose(f);
	setenv("SOFTHSM2_CONF", path, 1);
	snprintf(cmd, sizeof(cmd), "softhsm2-util --init-token --free --label hsm-open "
		 "--so-pin 87654321 --pin %s > /dev/null", PIN);
	return system(cmd) == 0 ? 0 : 1;
}

static int teardown(void)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : 1;
}

static void refused(const char *module, const char *label, const char *pin, const char *want)
{
	char err[256] = "";
	struct tc_hsm *h = tc_hsm_open(module, label, pin, err, sizeof(err));
	CU_ASSERT_PTR_NULL(h);
	tc_hsm_close(h);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
	CU_ASSERT_PTR_NULL(strstr(err, pin));
}

static void test_missing_module(void)
{
	refused("/nonexistent/libpkcs11.so", "hsm-open", PIN, "cannot load PKCS#11 module");
}

static void test_not_a_module(void)
{
	/* A shared object without C_GetFunctionList. */
	refused("libc.so.6", "hsm-open", PIN, "cannot load PKCS#11 module");
}

static void test_unknown_token(void)
{
	refused(SOFTHSM_MODULE, "no-such-token", PIN, "no initialised token labelled 'no-such-token'");
}

static void test_wrong_pin(void)
{
	refused(SOFTHSM_MODULE, "hsm-open", "000000", "login to token 'hsm-open' failed");
}

static void test_opens(void)
{
	char err[256] = "";
	struct tc_hsm *h = tc_hsm_open(SOFTHSM_MODULE, "hsm-open", PIN, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(h);
	tc_hsm_close(h);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"missing module", test_missing_module},
		{"not a PKCS#11 module", test_not_a_module},
		{"unknown token", test_unknown_token},
		{"wrong PIN", test_wrong_pin},
		{"the right token and PIN open", test_opens},
		{NULL, NULL},
	};
	return tc_run_suite("hsm_open", tests, setup, teardown);
}
