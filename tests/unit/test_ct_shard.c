/* Temporal shards of the CT log (ct.logs, common/ct_shard.h): the config
 * entries and their refusals, the notAfter of a certificate (UTCTime and
 * GeneralizedTime, precertificates too), picking the shard at the window
 * edges (start taken, end not), the single log as one unbounded shard with
 * its old paths, a shard's paths, and the log refusing a submission outside
 * its window with a clear reason before anything is logged. */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/config_ct.h"
#include "common/ct_shard.h"
#include "support/test_ca.h"
#include "transparency/ct_ops.h"
#include "unit/cunit_main.h"

static char tmpdir[] = "/tmp/tc-test-ct-shard-XXXXXX";
static char cfg_path[512];
static char err[1024];
static struct tc_config cfg;
static struct tc_test_ca root, inter;
static EVP_PKEY *leaf_key;

#define T_2027 1798761600 /* 2027-01-01T00:00:00Z */
#define T_2027H2 1814400000 /* 2027-07-01T00:00:00Z */

static int setup(void)
{
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(cfg_path, sizeof(cfg_path), "%s/trustchain.yaml", tmpdir);
	leaf_key = EVP_EC_gen("P-256");
	return leaf_key && tc_test_ca_root(&root, "Shard Root", 0, 0) == 0 &&
			       tc_test_ca_sub(&inter, &root, "Shard Intermediate", 0, 0) == 0
		       ? 0
		       : -1;
}

static int teardown(void)
{
	unlink(cfg_path);
	rmdir(tmpdir);
	EVP_PKEY_free(leaf_key);
	tc_test_ca_free(&root);
	tc_test_ca_free(&inter);
	return 0;
}

static int load(const char *ct_logs)
{
	FILE *f = fopen(cfg_path, "wb");
	CU_ASSERT_FATAL(f != NULL);
	fprintf(f, "server:\n  data_dir: %s\nct:\n%s", tmpdir, ct_logs);
	fclose(f);
	err[0] = '\0';
	return tc_config_load(&cfg, cfg_path, err, sizeof(err));
}

static void expect_refused(const char *ct_logs, const char *why)
{
	CU_ASSERT_EQUAL(load(ct_logs), -1);
	if (!strstr(err, "ct.logs") || !strstr(err, why)) {
		fprintf(stderr, "\n  want: ct.logs ... %s\n  got:  %s\n", why, err);
		CU_FAIL("wrong refusal");
	}
}

static const char two_logs[] = "  logs:\n"
			       "    - name: \"2027h1\"\n"
			       "      not_after_start: \"2027-01-01T00:00:00Z\"\n"
			       "      not_after_end: \"2027-07-01T00:00:00Z\"\n"
			       "    - name: \"2027h2\"\n"
			       "      not_after_start: \"2027-07-01T00:00:00Z\"\n"
			       "      frozen: true\n"
			       "      key_label: my-label\n";

static void test_config_entries(void)
{
	CU_ASSERT_EQUAL_FATAL(load(two_logs), 0);
	CU_ASSERT_EQUAL(cfg.ct.log_count, 2);
	CU_ASSERT_STRING_EQUAL(cfg.ct.logs[0].name, "2027h1");
	CU_ASSERT_EQUAL(cfg.ct.logs[0].not_after_start, T_2027);
	CU_ASSERT_EQUAL(cfg.ct.logs[0].not_after_end, T_2027H2);
	CU_ASSERT_FALSE(cfg.ct.logs[0].frozen);
	CU_ASSERT_EQUAL(cfg.ct.logs[1].not_after_start, T_2027H2);
	CU_ASSERT_EQUAL(cfg.ct.logs[1].not_after_end, INT64_MAX);
	CU_ASSERT_TRUE(cfg.ct.logs[1].frozen);

	struct tc_ct_shard sh[TC_CFG_MAX_CT_LOGS];
	CU_ASSERT_EQUAL_FATAL(tc_ct_shards(&cfg, sh), 2);
	CU_ASSERT_STRING_EQUAL(sh[0].key_label, "tc-ct-log-2027h1"); /* <hsm.keys.ct_log>-<name> */
	CU_ASSERT_STRING_EQUAL(sh[1].key_label, "my-label");
	CU_ASSERT_EQUAL(tc_ct_shard_find(sh, 2, "2027h2"), 1);
	CU_ASSERT_EQUAL(tc_ct_shard_find(sh, 2, ""), -1);
	char w[96];
	tc_ct_shard_window(&sh[1], w, sizeof(w));
	CU_ASSERT_STRING_EQUAL(w, "[2027-07-01T00:00:00Z, +inf)");

	expect_refused("  logs:\n    - name: a\n      not_after_end: \"2027-01-01T00:00:00Z\"\n"
		       "    - name: b\n      not_after_end: \"2028-01-01T00:00:00Z\"\n",
		       "overlaps that of 'a'");
	expect_refused("  logs:\n    - name: a\n      not_after_end: \"2030-01-01T00:00:00Z\"\n"
		       "    - name: a\n      not_after_start: \"2030-01-01T00:00:00Z\"\n",
		       "duplicate log name: a");
	expect_refused("  logs:\n    - name: ct\n", "name");
	expect_refused("  logs:\n    - name: Upper\n", "name");
	expect_refused("  logs:\n    - name: \"a/b\"\n", "name");
	expect_refused("  logs:\n    - not_after_start: \"2027-01-01T00:00:00Z\"\n", "needs a name");
	expect_refused("  logs:\n    - name: a\n      not_after_start: \"2027-01-01T00:00:00Z\"\n"
		       "      not_after_end: \"2027-01-01T00:00:00Z\"\n",
		       "before not_after_end");
	expect_refused("  logs:\n    - name: a\n      not_after_start: \"2027-02-30T00:00:00Z\"\n", "UTC time");
	expect_refused("  logs:\n    - name: a\n      not_after_start: \"2027-01-01T00:00:00+01:00\"\n", "UTC time");
	expect_refused("  logs:\n    - name: a\n      window: 3\n", "unknown key");
	expect_refused("  logs: a\n", "expected a list");
}

static void test_single_log_is_one_unbounded_shard(void)
{
	CU_ASSERT_EQUAL_FATAL(load("  frozen: true\n"), 0);
	struct tc_ct_shard sh[TC_CFG_MAX_CT_LOGS];
	CU_ASSERT_EQUAL_FATAL(tc_ct_shards(&cfg, sh), 1);
	CU_ASSERT_STRING_EQUAL(sh[0].name, "");
	CU_ASSERT_TRUE(sh[0].frozen);
	CU_ASSERT_STRING_EQUAL(sh[0].key_label, "tc-ct-log");
	CU_ASSERT_EQUAL(tc_ct_shard_pick(sh, 1, INT64_MIN), 0);
	CU_ASSERT_EQUAL(tc_ct_shard_pick(sh, 1, 0), 0);
	CU_ASSERT_EQUAL(tc_ct_shard_pick(sh, 1, INT64_MAX - 1), 0);
	/* the paths of the log before shards existed */
	char rel[96];
	CU_ASSERT_EQUAL(tc_ct_shard_rel(&sh[0], TC_CT_SHARD_STORE, rel, sizeof(rel)), 0);
	CU_ASSERT_STRING_EQUAL(rel, "ct/log");
	CU_ASSERT_EQUAL(tc_ct_shard_rel(&sh[0], TC_CT_SHARD_PUBLIC_KEY, rel, sizeof(rel)), 0);
	CU_ASSERT_STRING_EQUAL(rel, "ct/log_public_key.pem");
	CU_ASSERT_EQUAL(tc_ct_shard_rel(&sh[0], TC_CT_SHARD_SUBMISSIONS, rel, sizeof(rel)), 0);
	CU_ASSERT_STRING_EQUAL(rel, "ct/submissions");
}

static void test_shard_paths(void)
{
	struct tc_ct_shard s = {.name = "2027h1"};
	char rel[96], path[1024];
	CU_ASSERT_EQUAL(tc_ct_shard_rel(&s, TC_CT_SHARD_STORE, rel, sizeof(rel)), 0);
	CU_ASSERT_STRING_EQUAL(rel, "ct/logs/2027h1/log");
	CU_ASSERT_EQUAL(tc_ct_shard_rel(&s, TC_CT_SHARD_PUBLIC_KEY, rel, sizeof(rel)), 0);
	CU_ASSERT_STRING_EQUAL(rel, "ct/keys/2027h1.pem");
	CU_ASSERT_EQUAL(tc_ct_shard_rel(&s, TC_CT_SHARD_LOG_ID, rel, sizeof(rel)), 0);
	CU_ASSERT_STRING_EQUAL(rel, "ct/keys/2027h1.log_id.txt");
	CU_ASSERT_EQUAL(tc_ct_shard_rel(&s, TC_CT_SHARD_STORE, rel, 8), -1); /* never cut */
	CU_ASSERT_EQUAL(load("  frozen: false\n"), 0);
	CU_ASSERT_EQUAL(tc_ct_shard_path(&cfg, &s, TC_CT_SHARD_SUBMISSIONS, path, sizeof(path)), 0);
	char want[1024];
	snprintf(want, sizeof(want), "%s/ct/logs/2027h1/submissions", tmpdir);
	CU_ASSERT_STRING_EQUAL(path, want);
}

static void test_pick_at_the_edges(void)
{
	struct tc_ct_shard sh[3] = {
		{.name = "old", .not_after_start = INT64_MIN, .not_after_end = T_2027},
		{.name = "h1", .not_after_start = T_2027, .not_after_end = T_2027H2},
		/* a gap of one day, then the rest */
		{.name = "late", .not_after_start = T_2027H2 + 86400, .not_after_end = INT64_MAX},
	};
	CU_ASSERT_EQUAL(tc_ct_shard_pick(sh, 3, T_2027 - 1), 0);
	CU_ASSERT_EQUAL(tc_ct_shard_pick(sh, 3, T_2027), 1); /* start is in */
	CU_ASSERT_EQUAL(tc_ct_shard_pick(sh, 3, T_2027H2 - 1), 1);
	CU_ASSERT_EQUAL(tc_ct_shard_pick(sh, 3, T_2027H2), -1); /* end is out: the gap */
	CU_ASSERT_EQUAL(tc_ct_shard_pick(sh, 3, T_2027H2 + 86400), 2);
	CU_ASSERT_EQUAL(tc_ct_shard_pick(sh, 3, INT64_MIN), 0);
	CU_ASSERT_FALSE(tc_ct_shard_holds(&sh[1], T_2027 - 1));
	CU_ASSERT_TRUE(tc_ct_shard_holds(&sh[1], T_2027));
}

/* DER of a leaf of inter with notAfter na (and the poison when precert). */
static unsigned char *leaf(int64_t na, int precert, size_t *len)
{
	struct tc_test_leaf o = {.dns = "a.example", .server = 1, .nb = na - 3600, .na = na, .poison = precert};
	X509 *x = tc_test_leaf_new(&inter, leaf_key, &o);
	unsigned char *der = x ? tc_test_der(x, len) : NULL;
	X509_free(x);
	return der;
}

static void test_not_after_of_certificates(void)
{
	/* UTCTime before 2050, GeneralizedTime from 2050 on (RFC 5280) */
	const int64_t times[] = {T_2027, T_2027H2 - 1, 2524608000 /* 2050-01-01 */, 2556143999};
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		for (int pre = 0; pre <= 1; pre++) {
			size_t len;
			unsigned char *der = leaf(times[i], pre, &len);
			CU_ASSERT_FATAL(der != NULL);
			int64_t na = 0;
			CU_ASSERT_EQUAL(tc_cert_not_after(der, len, &na), 0);
			CU_ASSERT_EQUAL(na, times[i]);
			OPENSSL_free(der);
		}
	}
	unsigned char junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
	int64_t na;
	CU_ASSERT_EQUAL(tc_cert_not_after(junk, sizeof(junk), &na), -1);
	CU_ASSERT_EQUAL(tc_cert_not_after(junk, 0, &na), -1);
}

static void test_shard_for_certificate(void)
{
	CU_ASSERT_EQUAL_FATAL(load(two_logs), 0);
	size_t len;
	unsigned char *h1 = leaf(T_2027 + 5, 1, &len);
	CU_ASSERT_FATAL(h1 != NULL);
	char name[TC_CT_LOG_NAME_MAX];
	CU_ASSERT_EQUAL(tc_ct_shard_for_cert(&cfg, h1, len, name, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(name, "2027h1");
	CU_ASSERT_STRING_EQUAL(tc_ct_shard_name_for_cert(&cfg, h1, len), "2027h1");
	CU_ASSERT_STRING_EQUAL(tc_ct_shard_name_for_cert(NULL, h1, len), ""); /* the log picks */
	OPENSSL_free(h1);
	unsigned char *h2 = leaf(T_2027H2, 0, &len);
	CU_ASSERT_STRING_EQUAL(tc_ct_shard_name_for_cert(&cfg, h2, len), "2027h2");
	OPENSSL_free(h2);
	unsigned char *early = leaf(T_2027 - 1, 0, &len);
	CU_ASSERT_EQUAL(tc_ct_shard_for_cert(&cfg, early, len, name, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no CT log (ct.logs) takes notAfter 2026-12-31T23:59:59Z"));
	CU_ASSERT_STRING_EQUAL(tc_ct_shard_name_for_cert(&cfg, early, len), "");
	OPENSSL_free(early);
}

/* The log's own check (ct_ops): a shard refuses what is outside its window
 * with the window in the reason, before the sequencer is asked (there is
 * none here: reaching it would crash the test). */
static void test_log_refuses_outside_its_window(void)
{
	struct tc_chain_checker *chk = NULL;
	CU_ASSERT_EQUAL_FATAL(tc_chain_checker_new(root.cert, inter.cert, &chk, err, sizeof(err)), 0);
	struct tc_ct_api logs[2] = {
		{.chk = chk, .name = "2027h1", .windowed = 1, .not_after_start = T_2027, .not_after_end = T_2027H2},
		{.chk = chk, .name = "2027h2", .windowed = 1, .not_after_start = T_2027H2, .not_after_end = INT64_MAX},
	};
	for (int i = 0; i < 2; i++) {
		logs[i].all = logs;
		logs[i].n_all = 2;
	}
	CU_ASSERT_PTR_EQUAL(tc_ct_api_route(&logs[0], "2027h2"), &logs[1]);
	CU_ASSERT_PTR_NULL(tc_ct_api_route(&logs[0], ""));
	CU_ASSERT_PTR_NULL(tc_ct_api_route(&logs[0], "2027h3"));
	struct tc_ct_api alone = {.chk = chk};
	CU_ASSERT_PTR_EQUAL(tc_ct_api_route(&alone, ""), &alone);

	size_t len, inter_len;
	unsigned char *cert = leaf(T_2027H2 + 10, 1, &len), *inter_der = tc_test_der(inter.cert, &inter_len);
	CU_ASSERT_FATAL(cert && inter_der);
	unsigned char *certs[2] = {cert, inter_der};
	size_t lens[2] = {len, inter_len};
	static struct tc_ct_added added;
	char why[512] = "";
	CU_ASSERT_EQUAL(tc_ct_op_add_chain(&logs[0], 1, 0, certs, lens, 2, &added, why, sizeof(why)),
			TC_CT_OP_BAD_REQUEST);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "outside this log's window"));
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "'2027h1' takes certificates with notAfter in "
					   "[2027-01-01T00:00:00Z, 2027-07-01T00:00:00Z)"));
	OPENSSL_free(cert);
	OPENSSL_free(inter_der);
	tc_chain_checker_free(chk);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"ct.logs entries and refusals", test_config_entries},
		{"the single log is one unbounded shard", test_single_log_is_one_unbounded_shard},
		{"a shard's paths", test_shard_paths},
		{"picking at the window edges", test_pick_at_the_edges},
		{"notAfter of certificates", test_not_after_of_certificates},
		{"the shard of a certificate", test_shard_for_certificate},
		{"a log refuses outside its window", test_log_refuses_outside_its_window},
		{NULL, NULL},
	};
	return tc_run_suite("ct_shard", tests, setup, teardown);
}
