/* Freezing the CT log (ct.frozen, rotation): the real log process with its
 * signer, restarted with ct.frozen: true. New submissions are refused with
 * a clear error (HTTP 403 naming the frozen log, over HTTP and the internal
 * IPC too), while every read goes on: get-sth is the final tree head
 * covering every entry, proofs verify, a resubmitted entry gets its SCT
 * back, the static-ct-api checkpoint is the same tree; no tree head is
 * signed after the freeze. */
#include <CUnit/Basic.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/http_client.h"
#include "support/ct_log_fixture.h"
#include "transparency/checkpoint.h"
#include "unit/cunit_main.h"

#define CERTS 6

static const char *bindir;
static struct tc_ct_fixture f;
static unsigned char *certs[CERTS + 1];
static size_t cert_lens[CERTS + 1];
static struct tc_ct_entry entries[CERTS];
static char sigs[CERTS][200];

static int suite_init(void)
{
	/* a short refresh, so a log that still signed heads would show it */
	if (tc_ct_fixture_setup(&f, bindir, "  sequence_interval_ms: 50\n  sth_refresh_s: 1\n") != 0)
		return -1;
	for (int i = 0; i <= CERTS; i++)
		if (!(certs[i] = tc_ct_fixture_issue(&f, &cert_lens[i])))
			return -1;
	return tc_ct_fixture_start_log(&f);
}

static int suite_cleanup(void)
{
	tc_ct_fixture_cleanup(&f);
	for (int i = 0; i <= CERTS; i++)
		free(certs[i]);
	return 0;
}

/* Rewrites the harness's config with "frozen: true" under ct:. */
static int set_frozen(void)
{
	FILE *in = fopen(f.h.config, "r");
	char buf[16384];
	size_t n = in ? fread(buf, 1, sizeof(buf) - 1, in) : 0;
	if (in)
		fclose(in);
	buf[n] = '\0';
	char *ct = strstr(buf, "\nct:\n");
	if (!ct && strncmp(buf, "ct:\n", 4) == 0)
		ct = buf - 1;
	if (!ct || n == 0 || n >= sizeof(buf) - 1)
		return -1;
	size_t head = (size_t)(ct + 5 - buf);
	FILE *out = fopen(f.h.config, "w");
	if (!out)
		return -1;
	fwrite(buf, 1, head, out);
	fputs("  frozen: true\n", out);
	fwrite(buf + head, 1, n - head, out);
	return fclose(out) == 0 ? 0 : -1;
}

/* add-chain of cert: the HTTP status and the error message (if any). */
static int add_chain_raw(const unsigned char *cert, size_t len, char *msg, size_t cap)
{
	char *c64 = tc_base64_encode(cert, len), *i64 = tc_base64_encode(f.inter_der, f.inter_len);
	json_t *body = json_pack("{s:[s,s]}", "chain", c64, i64);
	char *text = json_dumps(body, JSON_COMPACT);
	free(c64);
	free(i64);
	json_decref(body);
	struct tc_http_response r;
	char err[256];
	int status = -1;
	msg[0] = '\0';
	if (text && tc_http_request(f.http, "POST", "/ct/v1/add-chain", text, strlen(text), &r, err, sizeof(err)) == 0) {
		status = r.status;
		json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
		const char *m = json_string_value(json_object_get(j, "error_message"));
		snprintf(msg, cap, "%s", m ? m : "");
		json_decref(j);
		tc_http_response_free(&r);
	}
	free(text);
	return status;
}

static void test_freeze(void)
{
	for (int i = 0; i < CERTS; i++)
		CU_ASSERT_EQUAL_FATAL(tc_ct_fixture_submit(&f, f.http, certs[i], cert_lens[i], &entries[i], sigs[i],
							   sizeof(sigs[i])), 0);
	CU_ASSERT_EQUAL_FATAL(tc_ct_fixture_stop_log(&f), 0);
	CU_ASSERT_EQUAL_FATAL(set_frozen(), 0);
	CU_ASSERT_EQUAL_FATAL(tc_ct_fixture_start_log(&f), 0);

	/* the final tree head covers every entry, and proofs verify in it */
	struct tc_ct_head head, later;
	CU_ASSERT_EQUAL_FATAL(tc_ct_fixture_wait_sth(&f, CERTS, 10000, &head), 0);
	CU_ASSERT_EQUAL(head.size, CERTS);
	for (int i = 0; i < CERTS; i++) {
		uint64_t index = UINT64_MAX;
		CU_ASSERT_EQUAL(tc_ct_fixture_prove(&f, f.http, &entries[i], &head, &index), 0);
		CU_ASSERT_EQUAL(index, tc_ct_fixture_leaf_index(&entries[i]));
	}

	/* a new certificate is refused, clearly, over HTTP */
	char msg[300];
	CU_ASSERT_EQUAL(add_chain_raw(certs[CERTS], cert_lens[CERTS], msg, sizeof(msg)), 403);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "frozen"));
	printf("\n    refused: %s\n", msg);
	/* a resubmitted one still gets its SCT (a read) */
	struct tc_ct_entry again;
	char sig[200];
	CU_ASSERT_EQUAL(tc_ct_fixture_submit(&f, f.http, certs[0], cert_lens[0], &again, sig, sizeof(sig)), 0);
	CU_ASSERT_STRING_EQUAL(sig, sigs[0]);

	/* nothing signed after the freeze: with sth_refresh_s 1 a live log
	 * would have a newer head by now */
	sleep(3);
	CU_ASSERT_EQUAL_FATAL(tc_ct_fixture_sth(&f, f.http, &later), 0);
	CU_ASSERT_EQUAL(later.size, CERTS);
	CU_ASSERT_EQUAL(later.timestamp, head.timestamp);
	CU_ASSERT(memcmp(later.root, head.root, 32) == 0);

	/* the static-ct-api checkpoint is that tree, verified with the log key */
	FILE *cf = fopen(tc_harness_path(&f.h, "ct/tiles/checkpoint"), "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cf);
	char note[4096];
	size_t nl = fread(note, 1, sizeof(note), cf);
	fclose(cf);
	struct tc_checkpoint cp;
	char err[256];
	CU_ASSERT_EQUAL_FATAL(tc_checkpoint_verify(note, nl, NULL, f.log_key, &cp, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cp.tree_size, CERTS);
	CU_ASSERT(memcmp(cp.root, head.root, 32) == 0);

	/* the retired log stays verifiable: an audit export of it verifies
	 * offline, and the log list names it frozen (its key still listed) */
	char bundle[600], list[600], cmd[2000];
	snprintf(bundle, sizeof(bundle), "%s", tc_harness_path(&f.h, "frozen-export"));
	snprintf(list, sizeof(list), "%s", tc_harness_path(&f.h, "frozen-loglist"));
	snprintf(cmd, sizeof(cmd), "export ct --url %s --out %s >/dev/null 2>&1", f.url, bundle);
	CU_ASSERT_EQUAL(tc_harness_ctl(&f.h, cmd), 0);
	snprintf(cmd, sizeof(cmd), "verify-export %s --log-key %s >/dev/null 2>&1", bundle,
		 tc_harness_path(&f.h, "ct/log_public_key.pem"));
	CU_ASSERT_EQUAL(tc_harness_ctl(&f.h, cmd), 0);
	snprintf(cmd, sizeof(cmd), "ct loglist --out %s", list);
	CU_ASSERT_EQUAL(tc_harness_ctl(&f.h, cmd), 0);
	FILE *lf = fopen(list, "r");
	char lbuf[4096] = "";
	size_t ll = lf ? fread(lbuf, 1, sizeof(lbuf) - 1, lf) : 0;
	if (lf)
		fclose(lf);
	lbuf[ll] = '\0';
	CU_ASSERT_PTR_NOT_NULL(strstr(lbuf, "# state: frozen"));
	CU_ASSERT_PTR_NOT_NULL(strstr(lbuf, "key = "));

	/* still frozen after another restart, still serving */
	CU_ASSERT_EQUAL_FATAL(tc_ct_fixture_stop_log(&f), 0);
	CU_ASSERT_EQUAL_FATAL(tc_ct_fixture_start_log(&f), 0);
	CU_ASSERT_EQUAL(add_chain_raw(certs[CERTS], cert_lens[CERTS], msg, sizeof(msg)), 403);
	CU_ASSERT_EQUAL_FATAL(tc_ct_fixture_sth(&f, f.http, &later), 0);
	CU_ASSERT_EQUAL(later.timestamp, head.timestamp);
}

int main(int argc, char **argv)
{
	bindir = argc > 1 ? argv[1] : "bin";
	static const struct tc_test tests[] = {
		{"frozen log: submissions refused, reads go on", test_freeze},
		{NULL, NULL},
	};
	return tc_run_suite("ct_freeze", tests, suite_init, suite_cleanup);
}
