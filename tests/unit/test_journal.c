/* The hash-chained audit journal: appends (single and concurrent), reopening,
 * torn tails, and tampering that the verifier must pin to the right line. */
#include <jansson.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hex.h"
#include "common/journal_format.h"
#include "signer/journal.h"
#include "signer/journal_record.h"
#include "unit/cunit_main.h"

static char tmpdir[] = "/tmp/tc-test-journal-XXXXXX";
static char path[512];
static int case_no;

static int suite_init(void)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int suite_cleanup(void)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A fresh journal path per test. */
static const char *new_path(void)
{
	snprintf(path, sizeof(path), "%s/journal-%d.log", tmpdir, ++case_no);
	return path;
}

static uint64_t append_one(struct tc_journal *j, int i)
{
	char data[32], detail[64];
	snprintf(data, sizeof(data), "tbs-%d", i);
	snprintf(detail, sizeof(detail), "record %d", i);
	struct tc_journal_entry e = {
	    .peer = "gateway",
	    .op = "sign_certificate",
	    .key = "tc-intermediate",
	    .data = (const unsigned char *)data,
	    .data_len = strlen(data),
	    .result = "ok",
	    .detail = detail,
	};
	return tc_journal_append(j, &e);
}

/* Creates p with n records. */
static void make_journal(const char *p, int n)
{
	char err[512];
	struct tc_journal *j = tc_journal_open(p, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	for (int i = 1; i <= n; i++)
		CU_ASSERT_EQUAL(append_one(j, i), (uint64_t)i);
	tc_journal_close(j);
}

static int verify_file(const char *p, struct tc_journal_verify_result *vr)
{
	FILE *f = fopen(p, "rb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	int rc = tc_journal_verify(f, vr);
	fclose(f);
	return rc;
}

/* The journal's lines, each without its '\n'. */
struct lines {
	char *l[64];
	int n;
};

static void read_lines(const char *p, struct lines *ls)
{
	FILE *f = fopen(p, "rb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	ls->n = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, f)) > 0 && ls->n < 64) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		ls->l[ls->n++] = strdup(line);
	}
	free(line);
	fclose(f);
}

static void write_lines(const char *p, const struct lines *ls)
{
	FILE *f = fopen(p, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	for (int i = 0; i < ls->n; i++)
		fprintf(f, "%s\n", ls->l[i]);
	fclose(f);
}

static void free_lines(struct lines *ls)
{
	for (int i = 0; i < ls->n; i++)
		free(ls->l[i]);
	ls->n = 0;
}

/* "<json>\t<sha256 hex of json>": what a forger without a key can compute. */
static char *sealed_line(const char *json)
{
	unsigned char h[32];
	char hex[65];
	SHA256((const unsigned char *)json, strlen(json), h);
	tc_hex_encode(h, sizeof(h), hex);
	char *out = malloc(strlen(json) + 66);
	sprintf(out, "%s\t%s", json, hex);
	return out;
}

static void expect_tampered(const char *p, uint64_t line, const char *problem)
{
	struct tc_journal_verify_result vr;
	CU_ASSERT_EQUAL(verify_file(p, &vr), -1);
	CU_ASSERT_EQUAL(vr.bad_line, line);
	char want[300];
	snprintf(want, sizeof(want), "line %llu: %s", (unsigned long long)line, problem);
	if (!strstr(vr.problem, want)) {
		fprintf(stderr, "\n  want: %s\n  got:  %s\n", want, vr.problem);
		CU_FAIL("wrong tamper report");
	}
	/* And the signer refuses to continue such a chain. */
	char err[512] = "";
	struct tc_journal *j = tc_journal_open(p, err, sizeof(err));
	CU_ASSERT_PTR_NULL(j);
	tc_journal_close(j);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "is damaged or tampered with"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
}

/* The record as the signer built it with jansson before journal_record.c:
 * the reference the hand-written JSON must equal byte for byte. NULL when
 * jansson refuses the input. */
static char *jansson_record(const struct tc_journal_entry *e, uint64_t seq, const char *when,
			    const unsigned char prev[32])
{
	unsigned char digest[32];
	char digest_hex[65], prev_hex[65];
	SHA256(e->data ? e->data : (const unsigned char *)"", e->data_len, digest);
	tc_hex_encode(digest, sizeof(digest), digest_hex);
	tc_hex_encode(prev, 32, prev_hex);
	json_t *rec = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "seq", (json_int_t)seq, "time",
				when, "peer", e->peer, "op", e->op, "key", e->key ? e->key : "", "digest", digest_hex,
				"result", e->result, "detail", e->detail ? e->detail : "", "prev", prev_hex);
	if (!rec)
		return NULL;
	char *s = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	json_decref(rec);
	return s;
}

/* The hand-written record; NULL when it refuses the input. */
static char *our_record(const struct tc_journal_entry *e, uint64_t seq, const char *when,
			const unsigned char prev[32])
{
	size_t body_len;
	char *body = tc_journal_record_body(e, &body_len);
	if (!body)
		return NULL;
	char *out = malloc(tc_journal_record_size(body_len) + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	size_t n = tc_journal_record_write(out, seq, when, body, body_len, prev);
	CU_ASSERT_EQUAL(n, strlen(out));
	CU_ASSERT(n <= tc_journal_record_size(body_len));
	free(body);
	return out;
}

static int same_record(const struct tc_journal_entry *e, uint64_t seq, const unsigned char prev[32])
{
	const char *when = "2026-11-26T05:58:52.935123Z";
	char *want = jansson_record(e, seq, when, prev), *got = our_record(e, seq, when, prev);
	int same = (!want && !got) || (want && got && strcmp(want, got) == 0);
	if (!same)
		fprintf(stderr, "\n  jansson: %s\n  ours:    %s\n", want ? want : "(refused)", got ? got : "(refused)");
	free(want);
	free(got);
	return same;
}

static void test_record_bytes_equal_jansson(void)
{
	static const char *texts[] = {
	    "",
	    "plain",
	    "quote \" and backslash \\ and slash /",
	    "\b\f\n\r\t",
	    "\x01\x02\x1f\x7f control and DEL",
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91 \xef\xbf\xbf \xf4\x8f\xbf\xbf",
	    "\xc3", "\xe2\x82", "\xf0\x9f\x94", /* cut short */
	    "\xc0\x80", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", /* overlong */
	    "\xed\xa0\x80", "\xed\xbf\xbf", /* surrogates */
	    "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\x80", /* out of range, stray bytes */
	    "name \"*.svc\\x\" outside the permitted suffixes\n",
	};
	unsigned char prev[32];
	for (int i = 0; i < 32; i++)
		prev[i] = (unsigned char)(i * 37);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct tc_journal_entry e = {.peer = texts[i], .op = "sign_certificate", .key = texts[i],
					     .data = (const unsigned char *)texts[i], .data_len = strlen(texts[i]),
					     .result = "policy", .detail = texts[i]};
		CU_ASSERT(same_record(&e, i + 1, prev));
		e.key = NULL;
		e.detail = NULL;
		e.data = NULL;
		e.data_len = 0;
		e.op = texts[i];
		CU_ASSERT(same_record(&e, (uint64_t)1 << 40, prev));
	}
	/* Random bytes, mostly invalid UTF-8, some valid: the same verdict and
	 * the same text either way. */
	unsigned seed = 12345;
	for (int round = 0; round < 20000; round++) {
		char text[24];
		size_t n = (size_t)(rand_r(&seed) % (sizeof(text) - 1));
		for (size_t k = 0; k < n; k++) {
			int r = rand_r(&seed);
			/* Bias towards ASCII and well-formed lead/continuation pairs. */
			text[k] = (char)(r % 3 == 0 ? 0x20 + r % 0x60 : r % 3 == 1 ? 0x80 + r % 0x40 : 1 + r % 255);
		}
		text[n] = '\0';
		struct tc_journal_entry e = {.peer = "gateway", .op = "sign_data", .key = "k", .result = "ok",
					     .detail = text};
		if (!same_record(&e, (uint64_t)round + 1, prev)) {
			CU_FAIL("record differs from jansson's");
			break;
		}
	}
	/* A NULL in a required field is refused, as jansson did. */
	struct tc_journal_entry bad = {.peer = NULL, .op = "x", .result = "ok"};
	CU_ASSERT(same_record(&bad, 1, prev));
}

/* The lines the journal writes are jansson's records for their seq, time
 * and prev. */
static void test_journal_lines_equal_jansson(void)
{
	const char *p = new_path();
	char err[512];
	struct tc_journal *j = tc_journal_open(p, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	struct tc_journal_entry e = {.peer = "gateway", .op = "sign_certificate", .key = "tc-intermediate",
				     .data = (const unsigned char *)"der", .data_len = 3, .result = "policy",
				     .detail = "name \"caf\xc3\xa9\\\" \x01 refused"};
	CU_ASSERT_EQUAL(tc_journal_append(j, &e), 1);
	CU_ASSERT_EQUAL(tc_journal_append(j, &e), 2);
	tc_journal_close(j);
	struct lines ls;
	read_lines(p, &ls);
	CU_ASSERT_EQUAL_FATAL(ls.n, 2);
	unsigned char prev[32] = {0};
	for (int i = 0; i < 2; i++) {
		char *tab = strrchr(ls.l[i], '\t');
		CU_ASSERT_PTR_NOT_NULL_FATAL(tab);
		*tab = '\0';
		json_t *rec = json_loads(ls.l[i], 0, NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
		const char *when = json_string_value(json_object_get(rec, "time"));
		CU_ASSERT_PTR_NOT_NULL_FATAL(when);
		CU_ASSERT_EQUAL(strlen(when), strlen("2026-11-26T05:58:52.935123Z"));
		char *want = jansson_record(&e, (uint64_t)i + 1, when, prev);
		CU_ASSERT_STRING_EQUAL(ls.l[i], want);
		free(want);
		json_decref(rec);
		CU_ASSERT_EQUAL(tc_hex_decode(tab + 1, prev, sizeof(prev)), 0);
	}
	free_lines(&ls);
}

static void test_append_and_verify(void)
{
	enum { N = 40 };
	const char *p = new_path();
	make_journal(p, N);
	struct tc_journal_verify_result vr;
	CU_ASSERT_EQUAL(verify_file(p, &vr), 0);
	CU_ASSERT_EQUAL(vr.records, N);
	CU_ASSERT_EQUAL(vr.bad_line, 0);
	CU_ASSERT_FALSE(vr.truncated_tail);
	struct stat st;
	CU_ASSERT_EQUAL(stat(p, &st), 0);
	CU_ASSERT_EQUAL((size_t)st.st_size, vr.valid_bytes);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);

	/* The record says what the format promises. */
	struct lines ls;
	read_lines(p, &ls);
	CU_ASSERT_EQUAL_FATAL(ls.n, N);
	*strrchr(ls.l[0], '\t') = '\0';
	json_t *rec = json_loads(ls.l[0], 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(rec, "seq")), 1);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(rec, "peer")), "gateway");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(rec, "op")), "sign_certificate");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(rec, "key")), "tc-intermediate");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(rec, "result")), "ok");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(rec, "detail")), "record 1");
	char zeros[65];
	memset(zeros, '0', 64);
	zeros[64] = '\0';
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(rec, "prev")), zeros);
	unsigned char d[32];
	char dhex[65];
	SHA256((const unsigned char *)"tbs-1", 5, d);
	tc_hex_encode(d, sizeof(d), dhex);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(rec, "digest")), dhex);
	json_decref(rec);
	free_lines(&ls);
}

static void test_reopen_continues_chain(void)
{
	const char *p = new_path();
	make_journal(p, 5);
	char err[512];
	struct tc_journal *j = tc_journal_open(p, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_EQUAL(append_one(j, 6), 6);
	CU_ASSERT_EQUAL(append_one(j, 7), 7);
	tc_journal_close(j);
	struct tc_journal_verify_result vr;
	CU_ASSERT_EQUAL(verify_file(p, &vr), 0);
	CU_ASSERT_EQUAL(vr.records, 7);

	/* Free text with tabs, newlines and non-ASCII stays one line. */
	j = tc_journal_open(p, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	struct tc_journal_entry e = {.peer = "ctl\tadmin", .op = "ceremony", .key = NULL,
				     .data = NULL, .data_len = 0, .result = "ok",
				     .detail = "line one\nline two\t\xc3\xa9"};
	CU_ASSERT_EQUAL(tc_journal_append(j, &e), 8);
	tc_journal_close(j);
	CU_ASSERT_EQUAL(verify_file(p, &vr), 0);
	CU_ASSERT_EQUAL(vr.records, 8);

	/* An empty file is an empty chain. */
	const char *q = new_path();
	FILE *f = fopen(q, "wb");
	fclose(f);
	j = tc_journal_open(q, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_EQUAL(append_one(j, 1), 1);
	tc_journal_close(j);
}

enum { THREADS = 8, PER_THREAD = 25 };

struct appender {
	struct tc_journal *j;
	int index;
	uint64_t seqs[PER_THREAD];
};

static void *appender_main(void *arg)
{
	struct appender *a = arg;
	for (int i = 0; i < PER_THREAD; i++)
		a->seqs[i] = append_one(a->j, a->index * 1000 + i);
	return NULL;
}

static void test_concurrent_appends(void)
{
	const char *p = new_path();
	char err[512];
	struct tc_journal *j = tc_journal_open(p, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	struct appender a[THREADS];
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++) {
		a[i] = (struct appender){.j = j, .index = i};
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, appender_main, &a[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	tc_journal_close(j);

	unsigned char seen[THREADS * PER_THREAD + 1] = {0};
	for (int i = 0; i < THREADS; i++) {
		for (int k = 0; k < PER_THREAD; k++) {
			uint64_t s = a[i].seqs[k];
			CU_ASSERT_TRUE_FATAL(s >= 1 && s <= THREADS * PER_THREAD);
			CU_ASSERT_FALSE(seen[s]);
			seen[s] = 1;
			/* Each thread's own records are in order. */
			if (k)
				CU_ASSERT_TRUE(s > a[i].seqs[k - 1]);
		}
	}
	struct tc_journal_verify_result vr;
	CU_ASSERT_EQUAL(verify_file(p, &vr), 0);
	CU_ASSERT_EQUAL(vr.records, THREADS * PER_THREAD);
}

/* A deferred append returns at once; its callback runs only once the record
 * is in the file (read back from disk when the callback fires), and every
 * held answer is settled before close returns. */
struct held {
	const char *path;
	uint64_t seq;
	int called, durable;
	long lines_when_called;
};

static long count_lines(const char *p)
{
	FILE *f = fopen(p, "r");
	long n = 0;
	int ch;
	while (f && (ch = fgetc(f)) != EOF)
		n += ch == '\n';
	if (f)
		fclose(f);
	return n;
}

static void on_durable(void *arg, int durable)
{
	struct held *h = arg;
	h->lines_when_called = count_lines(h->path);
	h->durable = durable;
	__atomic_store_n(&h->called, 1, __ATOMIC_RELEASE);
}

static void test_deferred_append(void)
{
	const char *p = new_path();
	char err[512];
	struct tc_journal *j = tc_journal_open(p, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	enum { N = 200 };
	static struct held h[N];
	for (int i = 0; i < N; i++) {
		uint64_t last = 99;
		tc_journal_defer_begin(&last);
		uint64_t seq = append_one(j, i);
		tc_journal_defer_end();
		CU_ASSERT_EQUAL(seq, (uint64_t)i + 1);
		CU_ASSERT_EQUAL(last, seq);
		h[i] = (struct held){.path = p, .seq = seq};
		tc_journal_when_durable(j, seq, on_durable, &h[i]);
	}
	/* Without deferral the append waits: its record is on disk on return. */
	CU_ASSERT_EQUAL(append_one(j, N), (uint64_t)N + 1);
	CU_ASSERT_EQUAL(count_lines(p), N + 1);
	tc_journal_close(j);
	for (int i = 0; i < N; i++) {
		CU_ASSERT_TRUE(__atomic_load_n(&h[i].called, __ATOMIC_ACQUIRE));
		CU_ASSERT_TRUE(h[i].durable);
		CU_ASSERT_TRUE(h[i].lines_when_called >= (long)h[i].seq);
	}
	/* A sequence number already durable is answered on the spot. */
	struct tc_journal *again = tc_journal_open(p, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(again);
	struct held old = {.path = p, .seq = 1};
	tc_journal_when_durable(again, 1, on_durable, &old);
	CU_ASSERT_TRUE(old.called && old.durable);
	tc_journal_close(again);
	struct tc_journal_verify_result vr;
	CU_ASSERT_EQUAL(verify_file(p, &vr), 0);
	CU_ASSERT_EQUAL(vr.records, N + 1);
}

static void test_tamper_changed_byte(void)
{
	const char *p = new_path();
	make_journal(p, 5);
	struct lines ls;
	read_lines(p, &ls);
	char *d = strstr(ls.l[2], "record 3");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	d[7] = '9'; /* "record 9" */
	write_lines(p, &ls);
	free_lines(&ls);
	expect_tampered(p, 3, "record hash does not match its content");
}

static void test_tamper_deleted_line(void)
{
	const char *p = new_path();
	make_journal(p, 5);
	struct lines ls;
	read_lines(p, &ls);
	free(ls.l[2]);
	memmove(&ls.l[2], &ls.l[3], 2 * sizeof(ls.l[0]));
	ls.n--;
	write_lines(p, &ls);
	free_lines(&ls);
	expect_tampered(p, 3, "chain broken: prev is not the hash of the record before");

	/* Deleting the first line breaks the chain at once. */
	p = new_path();
	make_journal(p, 3);
	read_lines(p, &ls);
	free(ls.l[0]);
	memmove(&ls.l[0], &ls.l[1], 2 * sizeof(ls.l[0]));
	ls.n--;
	write_lines(p, &ls);
	free_lines(&ls);
	expect_tampered(p, 1, "chain broken");
}

static void test_tamper_swapped_lines(void)
{
	const char *p = new_path();
	make_journal(p, 5);
	struct lines ls;
	read_lines(p, &ls);
	char *tmp = ls.l[1];
	ls.l[1] = ls.l[2];
	ls.l[2] = tmp;
	write_lines(p, &ls);
	free_lines(&ls);
	expect_tampered(p, 2, "chain broken: prev is not the hash of the record before");
}

static void test_tamper_changed_hash(void)
{
	const char *p = new_path();
	make_journal(p, 5);
	struct lines ls;
	read_lines(p, &ls);
	char *tab = strrchr(ls.l[3], '\t');
	tab[1] = tab[1] == 'a' ? 'b' : 'a';
	write_lines(p, &ls);
	free_lines(&ls);
	expect_tampered(p, 4, "record hash does not match its content");

	/* A hash that is not hex at all. */
	p = new_path();
	make_journal(p, 3);
	read_lines(p, &ls);
	tab = strrchr(ls.l[1], '\t');
	tab[5] = 'z';
	write_lines(p, &ls);
	free_lines(&ls);
	expect_tampered(p, 2, "malformed record (no hash)");

	/* Rewriting a record and resealing its own hash still breaks the next link. */
	p = new_path();
	make_journal(p, 5);
	read_lines(p, &ls);
	*strrchr(ls.l[1], '\t') = '\0';
	char *d = strstr(ls.l[1], "\"result\":\"ok\"");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	memcpy(d, "\"result\":\"no\"", 13);
	char *resealed = sealed_line(ls.l[1]);
	free(ls.l[1]);
	ls.l[1] = resealed;
	write_lines(p, &ls);
	free_lines(&ls);
	expect_tampered(p, 3, "chain broken");
}

static void test_tamper_forged_records(void)
{
	char zeros[65];
	memset(zeros, '0', 64);
	zeros[64] = '\0';
	char json[512];
	struct lines ls = {0};

	/* Correctly chained and sealed, but the sequence skips. */
	const char *p = new_path();
	snprintf(json, sizeof(json), "{\"seq\":2,\"prev\":\"%s\"}", zeros);
	ls.l[ls.n++] = sealed_line(json);
	write_lines(p, &ls);
	free_lines(&ls);
	expect_tampered(p, 1, "sequence number out of order");

	/* Sealed JSON without a prev. */
	p = new_path();
	ls.l[ls.n++] = sealed_line("{\"seq\":1}");
	write_lines(p, &ls);
	free_lines(&ls);
	expect_tampered(p, 1, "malformed record (no prev)");

	/* Not JSON at all, but sealed. */
	p = new_path();
	ls.l[ls.n++] = sealed_line("hello");
	write_lines(p, &ls);
	free_lines(&ls);
	expect_tampered(p, 1, "malformed record (no prev)");

	/* A blank line in the middle. */
	p = new_path();
	make_journal(p, 2);
	read_lines(p, &ls);
	ls.l[ls.n++] = strdup("");
	write_lines(p, &ls);
	free_lines(&ls);
	expect_tampered(p, 3, "malformed record (no hash)");
}

static void test_torn_tail(void)
{
	const char *p = new_path();
	make_journal(p, 3);
	struct tc_journal_verify_result vr;
	CU_ASSERT_EQUAL(verify_file(p, &vr), 0);
	size_t good = vr.valid_bytes;
	/* A crash in the middle of writing record 4. */
	FILE *f = fopen(p, "ab");
	fputs("{\"seq\":4,\"time\":\"2024-", f);
	fclose(f);

	CU_ASSERT_EQUAL(verify_file(p, &vr), 0);
	CU_ASSERT_EQUAL(vr.records, 3);
	CU_ASSERT_TRUE(vr.truncated_tail);
	CU_ASSERT_EQUAL(vr.valid_bytes, good);

	/* Opening cuts the torn record and continues the chain after record 3. */
	char err[512];
	struct tc_journal *j = tc_journal_open(p, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	struct stat st;
	CU_ASSERT_EQUAL(stat(p, &st), 0);
	CU_ASSERT_EQUAL((size_t)st.st_size, good);
	CU_ASSERT_EQUAL(append_one(j, 4), 4);
	tc_journal_close(j);
	CU_ASSERT_EQUAL(verify_file(p, &vr), 0);
	CU_ASSERT_EQUAL(vr.records, 4);
	CU_ASSERT_FALSE(vr.truncated_tail);

	/* A damaged line followed by more lines is tampering, not a torn tail. */
	struct lines ls;
	read_lines(p, &ls);
	ls.l[1][10] ^= 1;
	write_lines(p, &ls);
	free_lines(&ls);
	expect_tampered(p, 2, "record hash does not match its content");
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"append and verify", test_append_and_verify},
		{"reopen continues the chain", test_reopen_continues_chain},
		{"concurrent appends", test_concurrent_appends},
		{"deferred appends answered once durable", test_deferred_append},
		{"tamper: changed byte", test_tamper_changed_byte},
		{"tamper: deleted line", test_tamper_deleted_line},
		{"tamper: swapped lines", test_tamper_swapped_lines},
		{"tamper: changed hash", test_tamper_changed_hash},
		{"tamper: forged records", test_tamper_forged_records},
		{"torn tail", test_torn_tail},
		{"record bytes equal jansson's", test_record_bytes_equal_jansson},
		{"journal lines equal jansson's", test_journal_lines_equal_jansson},
		{NULL, NULL},
	};
	return tc_run_suite("journal", tests, suite_init, suite_cleanup);
}
