/* Zone journal compaction (resolver/update.h tc_update_fold,
 * zone_journal.h tc_zone_journal_compact) and the bounded IXFR history
 * (ixfr_log.h): a long history of updates folds into its net changes,
 * which rebuild exactly the same zone; the compacted journal replays to
 * those changes and takes appends; a fold larger than one record is cut
 * into several; a secondary older than the kept deltas finds no chain
 * (the server then answers AXFR). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "resolver/dns_name.h"
#include "resolver/ixfr_log.h"
#include "resolver/update.h"
#include "resolver/zone.h"
#include "resolver/zone_journal.h"
#include "unit/cunit_main.h"

static char dir[] = "/tmp/tc-zone-compact-XXXXXX";
static char path[256];

static int setup(void)
{
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/zone.journal", dir);
	return 0;
}

static int teardown(void)
{
	unlink(path);
	return rmdir(dir) == 0 ? 0 : 1;
}

static struct tc_zone *configured(void)
{
	static const char text[] = "$ORIGIN example.test.\n$TTL 300\n"
				   "@ IN SOA ns1 host 1 3600 600 86400 300\n"
				   "@ IN NS ns1\nns1 IN A 192.0.2.1\nwww IN A 192.0.2.2\n"
				   "old IN TXT \"configured\"\n";
	struct tc_zone *z = NULL;
	char err[256];
	CU_ASSERT_FATAL(tc_zone_new("example.test", &z, err, sizeof(err)) == 0);
	CU_ASSERT_FATAL(tc_zone_load_text(z, text, sizeof(text) - 1, "test", err, sizeof(err)) == 0);
	return z;
}

/* One encoded change (update.h) appended to *ops. */
static void change(uint8_t **ops, size_t *len, const char *owner, uint16_t type, uint16_t rclass, const char *txt)
{
	uint8_t name[TC_DNS_MAX_NAME];
	size_t nlen = 0;
	char full[128];
	const char *why;
	snprintf(full, sizeof(full), "%s.", owner);
	CU_ASSERT_FATAL(tc_dns_name_from_text(full, strlen(full), NULL, 0, name, &nlen, &why) == 0);
	size_t tl = txt ? strlen(txt) : 0;
	uint16_t rdlen = txt ? (uint16_t)(tl + 1) : 0;
	/* The buffer is always a power of two long: geometric growth. */
	size_t cap = 64, need = *len + nlen + 10 + rdlen;
	while (cap < *len)
		cap *= 2;
	if (!*ops || need > cap) {
		while (cap < need)
			cap *= 2;
		*ops = realloc(*ops, cap);
	}
	CU_ASSERT_FATAL(*ops != NULL);
	uint8_t *o = *ops + *len;
	memcpy(o, name, nlen);
	o += nlen;
	uint8_t f[10] = {(uint8_t)(type >> 8), (uint8_t)type, (uint8_t)(rclass >> 8), (uint8_t)rclass, 0, 0, 1, 44,
			 (uint8_t)(rdlen >> 8), (uint8_t)rdlen};
	if (rclass != TC_DNS_CLASS_IN)
		f[4] = f[5] = f[6] = f[7] = 0;
	memcpy(o, f, 10);
	if (txt) {
		o[10] = (uint8_t)tl;
		memcpy(o + 11, txt, tl);
	}
	*len += nlen + 10 + rdlen;
}

/* The zone a start would build: configured zone, changes, records only. */
static struct tc_zone *replay(const uint8_t *ops, size_t len)
{
	struct tc_zone *z = configured(), *copy = NULL;
	char err[256];
	CU_ASSERT_FATAL(tc_update_apply(z, ops, len, err, sizeof(err)) == 0);
	CU_ASSERT_FATAL(tc_update_copy_records(z, &copy, err, sizeof(err)) == 0);
	tc_zone_free(z);
	return copy;
}

static int same_zone(const struct tc_zone *a, const struct tc_zone *b)
{
	uint8_t *d1 = NULL, *d2 = NULL;
	size_t l1 = 1, l2 = 1;
	int ok = tc_update_fold(a, b, &d1, &l1) == 0 && tc_update_fold(b, a, &d2, &l2) == 0 && l1 == 0 &&
		 l2 == 0 && tc_zone_rr_count(a) == tc_zone_rr_count(b);
	free(d1);
	free(d2);
	return ok;
}

/* An ACME-like history: 2,000 challenge TXT sets replaced in turn, a
 * configured record deleted, a name added then removed. */
static void history(uint8_t **ops, size_t *len)
{
	char owner[64], val[32];
	for (int i = 0; i < 2000; i++) {
		snprintf(owner, sizeof(owner), "_acme-challenge.h%d.example.test", i % 10);
		snprintf(val, sizeof(val), "token-%d", i);
		change(ops, len, owner, TC_DNS_TYPE_TXT, TC_DNS_CLASS_ANY, NULL);
		change(ops, len, owner, TC_DNS_TYPE_TXT, TC_DNS_CLASS_IN, val);
	}
	change(ops, len, "old.example.test", TC_DNS_TYPE_TXT, TC_DNS_CLASS_ANY, NULL);
	change(ops, len, "gone.example.test", TC_DNS_TYPE_TXT, TC_DNS_CLASS_IN, "soon gone");
	change(ops, len, "gone.example.test", TC_DNS_TYPE_ANY, TC_DNS_CLASS_ANY, NULL);
	change(ops, len, "www.example.test", TC_DNS_TYPE_TXT, TC_DNS_CLASS_IN, "kept");
}

static void test_fold_rebuilds_the_zone(void)
{
	uint8_t *ops = NULL, *folded = NULL;
	size_t len = 0, flen = 0;
	history(&ops, &len);
	struct tc_zone *base = configured(), *now = replay(ops, len);
	CU_ASSERT_FATAL(tc_update_fold(base, now, &folded, &flen) == 0);
	/* 10 TXT sets (delete + add each), the configured TXT deleted, the
	 * new TXT at www: far smaller than 4,004 changes. */
	CU_ASSERT(flen > 0 && flen * 50 < len);
	struct tc_zone *again = replay(folded, flen);
	CU_ASSERT(same_zone(again, now));
	CU_ASSERT(!same_zone(base, now));
	tc_zone_free(base);
	tc_zone_free(now);
	tc_zone_free(again);
	free(ops);
	free(folded);
}

static void test_journal_compacts_and_appends(void)
{
	struct tc_zone_journal *j = NULL;
	uint8_t *ops = NULL, *read = NULL, *folded = NULL;
	size_t len = 0, rlen = 0, records = 0, flen = 0;
	char err[256];
	unlink(path);
	CU_ASSERT_FATAL(tc_zone_journal_open(path, &j, &read, &rlen, &records, err, sizeof(err)) == 0);
	free(read);
	history(&ops, &len);
	/* One record per four updates (a delete and an add each), as group commits. */
	size_t pos = 0, n = 0;
	while (pos < len) {
		size_t one = 0;
		for (int c = 0; c < 8 && pos + one < len; c++) {
			size_t nl = tc_dns_name_wire_len(ops + pos + one, len - pos - one);
			one += nl + 10 + (size_t)((ops[pos + one + nl + 8] << 8) | ops[pos + one + nl + 9]);
		}
		CU_ASSERT_FATAL(tc_zone_journal_append(j, ops + pos, one) == 0);
		pos += one;
		n++;
	}
	struct stat before, after;
	CU_ASSERT_FATAL(stat(path, &before) == 0);
	struct tc_zone *base = configured(), *now = replay(ops, len);
	CU_ASSERT_FATAL(tc_update_fold(base, now, &folded, &flen) == 0);
	CU_ASSERT_FATAL(tc_zone_journal_compact(j, path, folded, flen, err, sizeof(err)) == 0);
	CU_ASSERT_FATAL(stat(path, &after) == 0);
	CU_ASSERT(after.st_size < before.st_size / 20);
	/* Appends go to the compacted file. */
	uint8_t *more = NULL;
	size_t mlen = 0;
	change(&more, &mlen, "late.example.test", TC_DNS_TYPE_TXT, TC_DNS_CLASS_IN, "after compaction");
	CU_ASSERT(tc_zone_journal_append(j, more, mlen) == 0);
	tc_zone_journal_close(j);
	CU_ASSERT_FATAL(tc_zone_journal_open(path, &j, &read, &rlen, &records, err, sizeof(err)) == 0);
	CU_ASSERT_EQUAL(records, 2);
	CU_ASSERT_EQUAL(rlen, flen + mlen);
	CU_ASSERT(rlen == flen + mlen && memcmp(read, folded, flen) == 0 && memcmp(read + flen, more, mlen) == 0);
	struct tc_zone *replayed = replay(read, rlen), *expect = NULL;
	CU_ASSERT_FATAL(tc_update_copy_records(now, &expect, err, sizeof(err)) == 0);
	tc_update_apply(expect, more, mlen, err, sizeof(err));
	CU_ASSERT(same_zone(replayed, expect));
	CU_ASSERT(n > 400);
	tc_zone_journal_close(j);
	tc_zone_free(base);
	tc_zone_free(now);
	tc_zone_free(replayed);
	tc_zone_free(expect);
	free(ops);
	free(read);
	free(folded);
	free(more);
}

/* A fold over TC_ZONE_JOURNAL_MAX_RECORD becomes several records, each
 * one the reader accepts. */
static void test_large_fold_is_split(void)
{
	uint8_t *ops = NULL, *read = NULL;
	size_t len = 0, rlen = 0, records = 0;
	char owner[64], val[256], err[256];
	memset(val, 'x', 200);
	val[200] = '\0';
	for (int i = 0; len <= 2 * TC_ZONE_JOURNAL_MAX_RECORD + 1000; i++) {
		snprintf(owner, sizeof(owner), "n%d.example.test", i);
		change(&ops, &len, owner, TC_DNS_TYPE_TXT, TC_DNS_CLASS_IN, val);
	}
	struct tc_zone_journal *j = NULL;
	unlink(path);
	CU_ASSERT_FATAL(tc_zone_journal_open(path, &j, &read, &rlen, &records, err, sizeof(err)) == 0);
	free(read);
	CU_ASSERT_FATAL(tc_zone_journal_compact(j, path, ops, len, err, sizeof(err)) == 0);
	tc_zone_journal_close(j);
	CU_ASSERT_FATAL(tc_zone_journal_open(path, &j, &read, &rlen, &records, err, sizeof(err)) == 0);
	CU_ASSERT_EQUAL(records, 3);
	CU_ASSERT(rlen == len && memcmp(read, ops, len) == 0);
	tc_zone_journal_close(j);
	free(read);
	free(ops);
}

/* The IXFR history is bounded: with room for a few deltas, the oldest
 * serials have no chain (AXFR), the recent ones do. */
static void test_ixfr_history_bounded(void)
{
	struct tc_ixfr_log *log = NULL;
	struct tc_zone *prev = configured();
	uint8_t *d = NULL, *chain = NULL;
	size_t dlen = 0, clen = 0, total = 0;
	for (uint32_t s = 2; s <= 40; s++) {
		struct tc_zone *next = NULL;
		char err[256], owner[64];
		CU_ASSERT_FATAL(tc_update_copy_records(prev, &next, err, sizeof(err)) == 0);
		uint8_t *op = NULL;
		size_t oplen = 0;
		snprintf(owner, sizeof(owner), "r%u.example.test", s);
		change(&op, &oplen, owner, TC_DNS_TYPE_TXT, TC_DNS_CLASS_IN, "delta");
		tc_update_apply(next, op, oplen, err, sizeof(err));
		free(op);
		tc_zone_set_serial(next, s);
		CU_ASSERT_FATAL(tc_ixfr_diff(prev, next, &d, &dlen) == 0);
		if (!log)
			log = tc_ixfr_log_new(dlen * 10); /* about ten deltas */
		CU_ASSERT_FATAL(log != NULL);
		CU_ASSERT(tc_ixfr_log_append(log, d, dlen) == 0);
		total += dlen;
		free(d);
		tc_zone_free(prev);
		prev = next;
	}
	CU_ASSERT(total > 30 * (total / 39));
	CU_ASSERT_EQUAL(tc_ixfr_log_chain(log, 1, 40, &chain, &clen), -1);  /* the oldest: AXFR */
	CU_ASSERT_EQUAL(tc_ixfr_log_chain(log, 20, 40, &chain, &clen), -1); /* beyond the history */
	CU_ASSERT_EQUAL(tc_ixfr_log_chain(log, 35, 40, &chain, &clen), 0);
	free(chain);
	tc_ixfr_log_free(log);
	tc_zone_free(prev);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"a long history folds into its net changes", test_fold_rebuilds_the_zone},
		{"the compacted journal replays the same zone and takes appends", test_journal_compacts_and_appends},
		{"a fold over one record's limit is split", test_large_fold_is_split},
		{"IXFR beyond the kept history has no chain (AXFR)", test_ixfr_history_bounded},
		{NULL, NULL},
	};
	return tc_run_suite("zone_compact", tests, setup, teardown);
}
