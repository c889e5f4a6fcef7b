/* Audit exports end to end: trustchainctl export ct reads a running log over
 * HTTP, export journal copies the signer's journal; verify-export checks
 * both offline with only a public key, and must fail, naming what failed,
 * on any altered entry or tree head byte, a dropped, reordered or extra
 * entry or journal line, a truncated bundle or the wrong key. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/base64.h"
#include "support/ct_log_fixture.h"
#include "unit/cunit_main.h"

#define FIRST_BATCH 10
#define TOTAL 30

static const char *bindir;
static struct tc_ct_fixture f;
static char b1[600], b2[600], jb[600], work[600], out[600];

static int submit_new(int n)
{
	for (int i = 0; i < n; i++) {
		size_t len = 0;
		unsigned char *der = tc_ct_fixture_issue(&f, &len);
		struct tc_ct_entry e;
		int rc = der ? tc_ct_fixture_submit(&f, f.http, der, len, &e, NULL, 0) : -1;
		free(der);
		if (rc != 0)
			return -1;
	}
	return 0;
}

static int suite_init(void)
{
	if (tc_ct_fixture_setup(&f, bindir, "  sequence_interval_ms: 50\n") != 0 || tc_ct_fixture_start_log(&f) != 0)
		return 1;
	snprintf(b1, sizeof(b1), "%s/full.ctx", f.h.dir);
	snprintf(b2, sizeof(b2), "%s/range.ctx", f.h.dir);
	snprintf(jb, sizeof(jb), "%s/journal.ctx", f.h.dir);
	snprintf(work, sizeof(work), "%s/work.ctx", f.h.dir);
	snprintf(out, sizeof(out), "%s/out.txt", f.h.dir);
	return 0;
}

static int suite_cleanup(void)
{
	tc_ct_fixture_cleanup(&f);
	return 0;
}

/* trustchainctl ARGS; its exit status, its output in out. */
static int ctl(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int ctl(const char *fmt, ...)
{
	char args[1800], cmd[2500];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s >%s 2>&1", args, out);
	return tc_harness_ctl(&f.h, cmd);
}

/* Whether the last ctl output contains text (printed when not). */
static int said(const char *text)
{
	FILE *fp = fopen(out, "r");
	char buf[8192] = "";
	size_t n = fp ? fread(buf, 1, sizeof(buf) - 1, fp) : 0;
	if (fp)
		fclose(fp);
	buf[n] = 0;
	if (!strstr(buf, text))
		fprintf(stderr, "\n  expected \"%s\" in: %s", text, buf);
	return strstr(buf, text) != NULL;
}

static int verify_ct(const char *bundle)
{
	return ctl("verify-export %s --log-key %s", bundle, tc_harness_path(&f.h, "ct/log_public_key.pem"));
}

static int verify_journal(const char *bundle)
{
	return ctl("verify-export %s --audit-key %s", bundle, tc_harness_path(&f.h, "audit/audit_public_key.pem"));
}

/* ---- bundle surgery: the bundle as lines, edited, written to work ---- */

static char *lines[256];
static size_t nlines;

static void load_lines(const char *path)
{
	for (size_t i = 0; i < nlines; i++)
		free(lines[i]);
	nlines = 0;
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	while (fp && getline(&line, &cap, fp) > 0 && nlines < 256)
		lines[nlines++] = strdup(line);
	free(line);
	if (fp)
		fclose(fp);
}

static void save_lines(void)
{
	FILE *fp = fopen(work, "w");
	for (size_t i = 0; fp && i < nlines; i++)
		fputs(lines[i], fp);
	if (fp)
		fclose(fp);
}

/* Replaces line i by obj (consumed). */
static void set_line(size_t i, json_t *obj)
{
	char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	free(lines[i]);
	size_t n = strlen(text);
	lines[i] = realloc(text, n + 2);
	strcpy(lines[i] + n, "\n");
}

/* Flips one byte of the base64 field key of line i's object. */
static void flip_b64(size_t i, const char *key, size_t byte)
{
	json_t *o = json_loads(lines[i], 0, NULL);
	unsigned char *raw = NULL;
	size_t len = 0;
	CU_ASSERT_FATAL(tc_base64_decode(json_string_value(json_object_get(o, key)), &raw, &len) == 0 && byte < len);
	raw[byte] ^= 0x01;
	char *b64 = tc_base64_encode(raw, len);
	json_object_set_new(o, key, json_string(b64));
	free(b64);
	free(raw);
	set_line(i, o);
}

/* ---- tests ---- */

static void test_export_ct_full_and_range(void)
{
	CU_ASSERT_FATAL(submit_new(FIRST_BATCH) == 0);
	struct tc_ct_head h;
	CU_ASSERT_FATAL(tc_ct_fixture_wait_sth(&f, FIRST_BATCH, 5000, &h) == 0);
	CU_ASSERT_EQUAL(ctl("export ct --url %s --out %s", f.url, b1), 0);
	CU_ASSERT(said("exported 10 entries (0..9) of the tree of 10"));
	CU_ASSERT_EQUAL(verify_ct(b1), 0);
	CU_ASSERT(said("OK: tree head of 10 entries") && said("entries 0..9 (10) are in the signed tree"));

	CU_ASSERT_FATAL(submit_new(TOTAL - FIRST_BATCH) == 0);
	CU_ASSERT_FATAL(tc_ct_fixture_wait_sth(&f, TOTAL, 5000, &h) == 0);
	/* A range, proven consistent with the tree head of the first bundle. */
	CU_ASSERT_EQUAL(ctl("export ct --url %s --from 5 --to 17 --since-sth %s --out %s", f.url, b1, b2), 0);
	CU_ASSERT_EQUAL(verify_ct(b2), 0);
	CU_ASSERT(said("1 consistency proof verified") && said("entries 5..17 (13)"));
	/* Single entries at both ends of the tree, and the whole tree. */
	CU_ASSERT_EQUAL(ctl("export ct --url %s --from 29 --to 29 --out %s", f.url, work), 0);
	CU_ASSERT_EQUAL(verify_ct(work), 0);
	CU_ASSERT_EQUAL(ctl("export ct --url %s --to 0 --out %s", f.url, work), 0);
	CU_ASSERT_EQUAL(verify_ct(work), 0);

	/* Bad requests are usage errors or refusals, not crashes. */
	CU_ASSERT_EQUAL(ctl("export ct --url %s --from 5 --to 30 --out %s", f.url, work), 1);
	CU_ASSERT(said("need --from <= --to < 30"));
	CU_ASSERT_EQUAL(ctl("export ct --url %s --from x --out %s", f.url, work), 2);
	CU_ASSERT_EQUAL(ctl("export ct --url %s --since-sth /nonexistent --out %s", f.url, work), 1);
	CU_ASSERT_EQUAL(ctl("export ct --url http://127.0.0.1:1 --out %s", work), 1);
	CU_ASSERT(said("cannot connect"));
	CU_ASSERT_EQUAL(ctl("verify-export %s", b2), 2);
	CU_ASSERT(said("--log-key"));
}

static void expect_ct_failure(const char *text)
{
	save_lines();
	CU_ASSERT_EQUAL(verify_ct(work), 1);
	CU_ASSERT(said("FAILED") && said(text));
	load_lines(b2);
}

static void test_ct_tampering_detected(void)
{
	load_lines(b2); /* header, entries 5..17 on lines 1..13 */
	CU_ASSERT_FATAL(nlines == 14);
	flip_b64(5, "leaf_input", 200); /* entry 9: a certificate byte */
	expect_ct_failure("entries 5..17 do not rebuild the signed root");
	flip_b64(1, "leaf_input", 300); /* entry 5, the first */
	expect_ct_failure("entry 5 is not in the signed tree");
	flip_b64(13, "leaf_input", 100); /* entry 17, the last */
	expect_ct_failure("entry 17 is not in the signed tree");
	flip_b64(5, "leaf_input", 0); /* the leaf version byte */
	expect_ct_failure("entry 9: leaf_input is not an RFC 6962 MerkleTreeLeaf");

	/* One byte of the tree head: its timestamp, root, signature. */
	json_t *hdr = json_loads(lines[0], 0, NULL);
	json_t *sth = json_object_get(hdr, "sth");
	json_object_set_new(sth, "timestamp", json_integer(json_integer_value(json_object_get(sth, "timestamp")) + 1));
	set_line(0, hdr);
	expect_ct_failure("tree head: signature does not verify with the log key");
	hdr = json_loads(lines[0], 0, NULL);
	set_line(0, hdr);
	lines[0][strstr(lines[0], "\"sha256_root_hash\":\"") - lines[0] + 21] ^= 0x01;
	expect_ct_failure("tree head:");
	/* The older head of the consistency proof, and the proof itself. */
	hdr = json_loads(lines[0], 0, NULL);
	json_t *proof = json_object_get(json_array_get(json_object_get(hdr, "consistency"), 0), "proof");
	CU_ASSERT_FATAL(json_array_size(proof) > 0);
	unsigned char *raw = NULL;
	size_t len = 0;
	tc_base64_decode(json_string_value(json_array_get(proof, 0)), &raw, &len);
	raw[7] ^= 0x20;
	char *b64 = tc_base64_encode(raw, len);
	json_array_set_new(proof, 0, json_string(b64));
	free(b64);
	free(raw);
	set_line(0, hdr);
	expect_ct_failure("consistency proof 1: the tree of 10 is NOT a prefix");

	/* Dropped, reordered, duplicated, truncated, appended. */
	free(lines[6]);
	memmove(&lines[6], &lines[7], (nlines - 7) * sizeof(char *));
	nlines--;
	expect_ct_failure("expected entry 10 but found entry 11");
	char *t = lines[3];
	lines[3] = lines[4];
	lines[4] = t;
	expect_ct_failure("expected entry 7 but found entry 8");
	free(lines[--nlines]);
	expect_ct_failure("bundle ends after 12 of 13 entries");
	lines[nlines++] = strdup(lines[1]);
	expect_ct_failure("data after the last of the 13 entries");

	/* Another key (the audit key) is not the log key. */
	CU_ASSERT_EQUAL(ctl("verify-export %s --log-key %s", b2, tc_harness_path(&f.h, "audit/audit_public_key.pem")), 1);
	CU_ASSERT(said("signature does not verify with the log key"));
	CU_ASSERT_EQUAL(ctl("verify-export %s --log-key %s", tc_harness_path(&f.h, "ca/root.pem"),
			    tc_harness_path(&f.h, "ct/log_public_key.pem")), 1);
	CU_ASSERT(said("not a TrustChain export"));
}

static void expect_journal_failure(const char *text)
{
	save_lines();
	CU_ASSERT_EQUAL(verify_journal(work), 1);
	CU_ASSERT(said("FAILED") && said(text));
	load_lines(jb);
}

static void test_export_journal(void)
{
	CU_ASSERT_EQUAL(ctl("export journal --data-dir %s/data --out %s", f.h.dir, jb), 0);
	CU_ASSERT(said("ceremony transcripts"));
	CU_ASSERT_EQUAL(verify_journal(jb), 0);
	CU_ASSERT(said("hash chain intact") && said("transcripts signed by the audit key"));
	load_lines(jb);
	CU_ASSERT_FATAL(nlines > 8);

	free(lines[3]); /* journal record 3 dropped */
	memmove(&lines[3], &lines[4], (nlines - 4) * sizeof(char *));
	nlines--;
	expect_journal_failure("chain broken");
	char *t = lines[4];
	lines[4] = lines[5];
	lines[5] = t;
	expect_journal_failure("journal record line 4");
	free(lines[--nlines]);
	expect_journal_failure("records dropped from the end");
	lines[2][10] ^= 0x01; /* a byte of record 2 */
	expect_journal_failure("record hash does not match its content");
	/* One byte of a signed transcript. */
	json_t *hdr = json_loads(lines[0], 0, NULL);
	json_t *tr = json_array_get(json_object_get(hdr, "transcripts"), 1);
	char *content = strdup(json_string_value(json_object_get(tr, "content")));
	char *op = strstr(content, "\"operator\": \"");
	CU_ASSERT_FATAL(op != NULL);
	op[13] ^= 0x01;
	json_object_set_new(tr, "content", json_string(content));
	free(content);
	set_line(0, hdr);
	expect_journal_failure("signature does not verify with the audit key");
	/* A transcript removed from the bundle leaves its record unbacked. */
	hdr = json_loads(lines[0], 0, NULL);
	json_array_remove(json_object_get(hdr, "transcripts"), 2);
	set_line(0, hdr);
	expect_journal_failure("its signed transcript is missing");

	CU_ASSERT_EQUAL(ctl("verify-export %s --audit-key %s", jb, tc_harness_path(&f.h, "ct/log_public_key.pem")), 1);
	CU_ASSERT(said("exported for audit key"));
	CU_ASSERT_EQUAL(ctl("verify-export %s --log-key %s", jb, tc_harness_path(&f.h, "ct/log_public_key.pem")), 2);
	for (size_t i = 0; i < nlines; i++)
		free(lines[i]);
	nlines = 0;
}

int main(int argc, char **argv)
{
	bindir = argc > 1 ? argv[1] : "build/bin";
	struct tc_test tests[] = {
		{"export ct (whole tree, range with consistency) verifies offline", test_export_ct_full_and_range},
		{"altered, dropped, reordered CT bundle content is detected", test_ct_tampering_detected},
		{"export journal verifies; tampering is detected", test_export_journal},
		{NULL, NULL},
	};
	return tc_run_suite("ct_export", tests, suite_init, suite_cleanup);
}
