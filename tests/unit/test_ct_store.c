/* The LevelDB CT store against an in-memory brute force: 1000 entries
 * appended in batches of random sizes, every root and many proofs compared
 * with a naive RFC 6962 implementation, before and after a restart; hash
 * lookups, tree heads, the pending area and concurrent readers. */
#define _GNU_SOURCE /* nftw */
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <leveldb/c.h>

#include "transparency/ct_store.h"
#include "transparency/submission_index.h"
#include "support/merkle_reference.h"
#include "unit/cunit_main.h"


#define TOTAL 1000
#define MORE 37
#define MAX_ENTRIES (TOTAL + MORE + 300)

/* ---- fixture: the entries and a temporary store directory ---- */

static char dir[64];
static unsigned char *leaf_data[MAX_ENTRIES];
static size_t leaf_len[MAX_ENTRIES];
static unsigned char extra_data[MAX_ENTRIES][16];
static hash_t leaf_hashes[MAX_ENTRIES];
static uint64_t boundaries[TOTAL + 1];
static size_t nboundaries;
static uint64_t rng = 0x853c49e6748fea9bull;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static int make_entry(size_t i)
{
	/* Unique (the index is in the first bytes), of varying length. */
	leaf_len[i] = 8 + (size_t)(rnd() % 300);
	leaf_data[i] = malloc(leaf_len[i]);
	if (!leaf_data[i])
		return -1;
	for (size_t b = 0; b < leaf_len[i]; b++)
		leaf_data[i][b] = (unsigned char)rnd();
	memcpy(leaf_data[i], &i, sizeof(i));
	for (size_t b = 0; b < sizeof(extra_data[i]); b++)
		extra_data[i][b] = (unsigned char)(i + b);
	return tc_merkle_leaf_hash(leaf_data[i], leaf_len[i], leaf_hashes[i]);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int suite_init(void)
{
	strcpy(dir, "/tmp/tc_ct_store_XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	/* Runs outside any test: failures are reported by return value. */
	for (size_t i = 0; i < MAX_ENTRIES; i++)
		if (make_entry(i) != 0)
			return 1;
	return 0;
}

static int suite_cleanup(void)
{
	for (size_t i = 0; i < MAX_ENTRIES; i++)
		free(leaf_data[i]);
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *store_path(const char *name)
{
	static char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static struct tc_ct_store *open_store(const char *name)
{
	struct tc_ct_store *st = NULL;
	char err[256] = "";
	int rc = tc_ct_store_open(store_path(name), &st, err, sizeof(err));
	if (rc != TC_CT_STORE_OK)
		fprintf(stderr, "open: %s\n", err);
	CU_ASSERT_FATAL(rc == TC_CT_STORE_OK && st != NULL);
	return st;
}

static int append_range(struct tc_ct_store *st, size_t from, size_t n)
{
	struct tc_ct_store_entry e[256];
	for (size_t i = 0; i < n; i++) {
		e[i].leaf_input = leaf_data[from + i];
		e[i].leaf_len = leaf_len[from + i];
		e[i].extra_data = extra_data[from + i];
		e[i].extra_len = sizeof(extra_data[from + i]);
		e[i].pending_id = 0;
		e[i].sub = NULL;
	}
	uint64_t first = UINT64_MAX;
	int rc = tc_ct_store_append_batch(st, e, n, &first);
	if (rc == TC_CT_STORE_OK)
		CU_ASSERT(first == from);
	return rc;
}

/* ---- comparisons with the brute force ---- */

/* Naive roots are O(n) each; remember them per size. */
static hash_t ref_roots[MAX_ENTRIES + 1];
static unsigned char have_ref_root[MAX_ENTRIES + 1];

static const unsigned char *ref_root(uint64_t n)
{
	if (!have_ref_root[n]) {
		ref_mth((const hash_t *)leaf_hashes, n, ref_roots[n]);
		have_ref_root[n] = 1;
	}
	return ref_roots[n];
}

static void check_root(struct tc_ct_store *st, uint64_t n)
{
	hash_t got;
	CU_ASSERT_FATAL(tc_ct_store_root(st, n, got) == TC_CT_STORE_OK);
	CU_ASSERT(memcmp(got, ref_root(n), sizeof(got)) == 0);
}

static void check_inclusion(struct tc_ct_store *st, uint64_t m, uint64_t n)
{
	hash_t proof[TC_MERKLE_MAX_PROOF], want[TC_MERKLE_MAX_PROOF];
	size_t len, wlen = 0;
	CU_ASSERT_FATAL(tc_ct_store_inclusion_proof(st, m, n, proof, TC_MERKLE_MAX_PROOF, &len) == TC_CT_STORE_OK);
	ref_path(m, (const hash_t *)leaf_hashes, n, want, &wlen);
	CU_ASSERT_FATAL(len == wlen);
	CU_ASSERT(memcmp(proof, want, len * sizeof(hash_t)) == 0);
	CU_ASSERT(tc_merkle_verify_inclusion(leaf_hashes[m], m, n, (const hash_t *)proof, len, ref_root(n)) ==
		  TC_MERKLE_OK);
}

static void check_consistency(struct tc_ct_store *st, uint64_t m, uint64_t n)
{
	hash_t proof[TC_MERKLE_MAX_PROOF], want[TC_MERKLE_MAX_PROOF];
	size_t len, wlen = 0;
	CU_ASSERT_FATAL(tc_ct_store_consistency_proof(st, m, n, proof, TC_MERKLE_MAX_PROOF, &len) ==
			TC_CT_STORE_OK);
	if (m > 0 && m < n)
		ref_subproof(m, (const hash_t *)leaf_hashes, n, 1, want, &wlen);
	CU_ASSERT_FATAL(len == wlen);
	CU_ASSERT(memcmp(proof, want, len * sizeof(hash_t)) == 0);
	CU_ASSERT(tc_merkle_verify_consistency(m, n, ref_root(m), ref_root(n), (const hash_t *)proof, len) ==
		  TC_MERKLE_OK);
}

/* Every root at a batch boundary and sizes 0..64, every inclusion proof in
 * the full tree and at a few other sizes, every consistency proof into the
 * full tree, random pairs for the rest. */
static void check_everything(struct tc_ct_store *st, uint64_t size)
{
	CU_ASSERT_FATAL(tc_ct_store_size(st) == size);
	for (uint64_t n = 0; n <= 64 && n <= size; n++)
		check_root(st, n);
	for (size_t b = 0; b < nboundaries; b++)
		if (boundaries[b] <= size)
			check_root(st, boundaries[b]);
	check_root(st, size);
	const uint64_t sizes[] = { size, 512, 513, 777 };
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		for (uint64_t m = 0; m < sizes[s] && sizes[s] <= size; m++)
			check_inclusion(st, m, sizes[s]);
	for (uint64_t m = 0; m <= size; m++)
		check_consistency(st, m, size);
	for (int i = 0; i < 500; i++) {
		uint64_t n = 1 + rnd() % size;
		check_inclusion(st, rnd() % n, n);
		check_consistency(st, rnd() % (n + 1), n);
	}
}

static void check_leaves(struct tc_ct_store *st, uint64_t size)
{
	for (uint64_t i = 0; i < size; i++) {
		struct tc_ct_record rec;
		CU_ASSERT_FATAL(tc_ct_store_get_leaf(st, i, &rec) == TC_CT_STORE_OK);
		CU_ASSERT(rec.leaf_len == leaf_len[i] && memcmp(rec.leaf_input, leaf_data[i], leaf_len[i]) == 0);
		CU_ASSERT(rec.extra_len == sizeof(extra_data[i]) &&
			  memcmp(rec.extra_data, extra_data[i], rec.extra_len) == 0);
		tc_ct_record_free(&rec);
		hash_t h;
		CU_ASSERT(tc_ct_store_leaf_hash(st, i, h) == TC_CT_STORE_OK && memcmp(h, leaf_hashes[i], 32) == 0);
		uint64_t index = UINT64_MAX;
		CU_ASSERT(tc_ct_store_find_by_hash(st, leaf_hashes[i], &index) == TC_CT_STORE_OK);
		CU_ASSERT(index == i);
	}
}

/* ---- tests ---- */

static void test_append_and_prove(void)
{
	struct tc_ct_store *st = open_store("main");
	CU_ASSERT(tc_ct_store_size(st) == 0);
	check_root(st, 0);
	size_t done = 0;
	nboundaries = 0;
	while (done < TOTAL) {
		size_t n = 1 + (size_t)(rnd() % 64);
		if (n > TOTAL - done)
			n = TOTAL - done;
		CU_ASSERT_FATAL(append_range(st, done, n) == TC_CT_STORE_OK);
		done += n;
		boundaries[nboundaries++] = done;
		check_root(st, done);
	}
	check_everything(st, TOTAL);
	check_leaves(st, TOTAL);

	/* Beyond the tree. */
	struct tc_ct_record rec;
	hash_t h, proof[TC_MERKLE_MAX_PROOF];
	size_t len;
	CU_ASSERT(tc_ct_store_get_leaf(st, TOTAL, &rec) == TC_CT_STORE_ERR_RANGE);
	CU_ASSERT(tc_ct_store_leaf_hash(st, TOTAL, h) == TC_CT_STORE_ERR_RANGE);
	CU_ASSERT(tc_ct_store_root(st, TOTAL + 1, h) == TC_CT_STORE_ERR_RANGE);
	CU_ASSERT(tc_ct_store_inclusion_proof(st, 5, TOTAL + 1, proof, TC_MERKLE_MAX_PROOF, &len) ==
		  TC_CT_STORE_ERR_RANGE);
	CU_ASSERT(tc_ct_store_inclusion_proof(st, 10, 10, proof, TC_MERKLE_MAX_PROOF, &len) ==
		  TC_CT_STORE_ERR_RANGE);
	CU_ASSERT(tc_ct_store_consistency_proof(st, 10, TOTAL + 1, proof, TC_MERKLE_MAX_PROOF, &len) ==
		  TC_CT_STORE_ERR_RANGE);
	CU_ASSERT(tc_ct_store_consistency_proof(st, 11, 10, proof, TC_MERKLE_MAX_PROOF, &len) ==
		  TC_CT_STORE_ERR_RANGE);
	CU_ASSERT(tc_ct_store_inclusion_proof(st, 5, TOTAL, proof, 3, &len) == TC_CT_STORE_ERR_SPACE);
	memset(h, 0x5c, sizeof(h));
	uint64_t index;
	CU_ASSERT(tc_ct_store_find_by_hash(st, h, &index) == TC_CT_STORE_ERR_NOT_FOUND);
	CU_ASSERT(tc_ct_store_append_batch(st, NULL, 0, NULL) == TC_CT_STORE_ERR_ARG);
	struct tc_ct_store_entry bad = { NULL, 5, NULL, 0, 0, NULL };
	CU_ASSERT(tc_ct_store_append_batch(st, &bad, 1, NULL) == TC_CT_STORE_ERR_ARG);
	CU_ASSERT(tc_ct_store_size(st) == TOTAL);
	tc_ct_store_close(st);
}

static void test_reopen(void)
{
	/* A restart: everything reads back, and appending continues from the
	 * frontier loaded from disk. */
	struct tc_ct_store *st = open_store("main");
	check_everything(st, TOTAL);
	check_leaves(st, TOTAL);
	CU_ASSERT_FATAL(append_range(st, TOTAL, MORE) == TC_CT_STORE_OK);
	for (uint64_t n = TOTAL; n <= TOTAL + MORE; n++)
		check_root(st, n);
	tc_ct_store_close(st);

	st = open_store("main");
	check_everything(st, TOTAL + MORE);
	tc_ct_store_close(st);
}

static void test_duplicates_keep_first_index(void)
{
	struct tc_ct_store *st = open_store("dups");
	CU_ASSERT_FATAL(append_range(st, 0, 5) == TC_CT_STORE_OK);
	/* Leaf 3 again, and leaf 6 twice within one batch. */
	struct tc_ct_store_entry e[3] = {
		{ leaf_data[3], leaf_len[3], NULL, 0, 0, NULL },
		{ leaf_data[6], leaf_len[6], NULL, 0, 0, NULL },
		{ leaf_data[6], leaf_len[6], NULL, 0, 0, NULL },
	};
	uint64_t first;
	CU_ASSERT_FATAL(tc_ct_store_append_batch(st, e, 3, &first) == TC_CT_STORE_OK);
	CU_ASSERT(first == 5 && tc_ct_store_size(st) == 8);
	uint64_t index;
	CU_ASSERT(tc_ct_store_find_by_hash(st, leaf_hashes[3], &index) == TC_CT_STORE_OK && index == 3);
	CU_ASSERT(tc_ct_store_find_by_hash(st, leaf_hashes[6], &index) == TC_CT_STORE_OK && index == 6);
	/* The tree itself holds every appended leaf. */
	hash_t tree[8], root, want;
	memcpy(tree, leaf_hashes, 5 * sizeof(hash_t));
	memcpy(tree[5], leaf_hashes[3], 32);
	memcpy(tree[6], leaf_hashes[6], 32);
	memcpy(tree[7], leaf_hashes[6], 32);
	ref_mth((const hash_t *)tree, 8, want);
	CU_ASSERT(tc_ct_store_root(st, 8, root) == TC_CT_STORE_OK && memcmp(root, want, 32) == 0);
	tc_ct_store_close(st);
}

static void test_tree_heads(void)
{
	struct tc_ct_store *st = open_store("sth");
	struct tc_ct_sth sth, got;
	CU_ASSERT(tc_ct_store_latest_sth(st, &got) == TC_CT_STORE_ERR_NOT_FOUND);
	CU_ASSERT_FATAL(append_range(st, 0, 100) == TC_CT_STORE_OK);

	memset(&sth, 0, sizeof(sth));
	sth.tree_size = 50;
	sth.timestamp = 1700000000123ull;
	ref_mth((const hash_t *)leaf_hashes, 50, sth.root);
	sth.signature_len = 71;
	memset(sth.signature, 0x30, sth.signature_len);
	CU_ASSERT(tc_ct_store_put_sth(st, &sth) == TC_CT_STORE_OK);
	CU_ASSERT(tc_ct_store_latest_sth(st, &got) == TC_CT_STORE_OK);
	CU_ASSERT(got.tree_size == 50 && got.timestamp == sth.timestamp && got.signature_len == 71);
	CU_ASSERT(memcmp(got.root, sth.root, 32) == 0 && memcmp(got.signature, sth.signature, 71) == 0);

	/* A root that is not the tree's, a size beyond it, an oversized signature. */
	struct tc_ct_sth bad = sth;
	bad.root[0] ^= 1;
	CU_ASSERT(tc_ct_store_put_sth(st, &bad) == TC_CT_STORE_ERR_MISMATCH);
	bad = sth;
	bad.tree_size = 101;
	CU_ASSERT(tc_ct_store_put_sth(st, &bad) == TC_CT_STORE_ERR_RANGE);
	bad = sth;
	bad.signature_len = TC_CT_STORE_MAX_SIGNATURE + 1;
	CU_ASSERT(tc_ct_store_put_sth(st, &bad) == TC_CT_STORE_ERR_ARG);

	/* A larger head moves the pointer; an older one is stored but does not. */
	struct tc_ct_sth big = sth;
	big.tree_size = 100;
	big.timestamp++;
	ref_mth((const hash_t *)leaf_hashes, 100, big.root);
	CU_ASSERT(tc_ct_store_put_sth(st, &big) == TC_CT_STORE_OK);
	struct tc_ct_sth small = sth;
	small.tree_size = 0;
	small.signature_len = 0;
	tc_merkle_empty_root(small.root);
	CU_ASSERT(tc_ct_store_put_sth(st, &small) == TC_CT_STORE_OK);
	CU_ASSERT(tc_ct_store_latest_sth(st, &got) == TC_CT_STORE_OK && got.tree_size == 100);
	CU_ASSERT(tc_ct_store_get_sth(st, 0, &got) == TC_CT_STORE_OK && got.signature_len == 0);
	CU_ASSERT(tc_ct_store_get_sth(st, 50, &got) == TC_CT_STORE_OK && got.timestamp == sth.timestamp);
	CU_ASSERT(tc_ct_store_get_sth(st, 51, &got) == TC_CT_STORE_ERR_NOT_FOUND);
	tc_ct_store_close(st);

	st = open_store("sth");
	CU_ASSERT(tc_ct_store_latest_sth(st, &got) == TC_CT_STORE_OK && got.tree_size == 100);
	CU_ASSERT(memcmp(got.root, big.root, 32) == 0);
	tc_ct_store_close(st);
}

struct pending_seen {
	uint64_t ids[64];
	size_t leaf_index[64];
	size_t n;
	size_t stop_after;
};

static int collect_pending(void *ctx, uint64_t id, const struct tc_ct_record *rec)
{
	struct pending_seen *s = ctx;
	if (s->n < 64) {
		s->ids[s->n] = id;
		size_t index = 0;
		if (rec->leaf_len >= sizeof(index))
			memcpy(&index, rec->leaf_input, sizeof(index));
		s->leaf_index[s->n] = index;
		CU_ASSERT(index < MAX_ENTRIES && rec->leaf_len == leaf_len[index] &&
			  memcmp(rec->leaf_input, leaf_data[index], rec->leaf_len) == 0);
		CU_ASSERT(rec->extra_len == 3 && memcmp(rec->extra_data, "xyz", 3) == 0);
		s->n++;
	}
	return s->stop_after && s->n >= s->stop_after;
}

static void test_pending(void)
{
	struct tc_ct_store *st = open_store("pending");
	uint64_t ids[6];
	for (int i = 0; i < 6; i++) {
		CU_ASSERT_FATAL(tc_ct_store_put_pending(st, leaf_data[i], leaf_len[i], (const unsigned char *)"xyz", 3,
							&ids[i]) == TC_CT_STORE_OK);
		if (i)
			CU_ASSERT(ids[i] > ids[i - 1]);
	}
	CU_ASSERT(tc_ct_store_delete_pending(st, ids[2]) == TC_CT_STORE_OK);
	struct pending_seen seen = { .n = 0 };
	CU_ASSERT(tc_ct_store_list_pending(st, 0, 100, collect_pending, &seen) == TC_CT_STORE_OK);
	CU_ASSERT_FATAL(seen.n == 5);
	CU_ASSERT(seen.ids[0] == ids[0] && seen.ids[2] == ids[3] && seen.leaf_index[2] == 3);
	tc_ct_store_close(st);

	/* Durable across a restart; new ids go on after the largest. */
	st = open_store("pending");
	memset(&seen, 0, sizeof(seen));
	CU_ASSERT(tc_ct_store_list_pending(st, 0, 100, collect_pending, &seen) == TC_CT_STORE_OK);
	CU_ASSERT_FATAL(seen.n == 5);
	CU_ASSERT(seen.ids[4] == ids[5] && seen.leaf_index[4] == 5);
	uint64_t id6;
	CU_ASSERT(tc_ct_store_put_pending(st, leaf_data[6], leaf_len[6], (const unsigned char *)"xyz", 3, &id6) ==
		  TC_CT_STORE_OK);
	CU_ASSERT(id6 > ids[5]);

	/* Paging: after_id and max, and a callback that stops early. */
	memset(&seen, 0, sizeof(seen));
	CU_ASSERT(tc_ct_store_list_pending(st, ids[1], 2, collect_pending, &seen) == TC_CT_STORE_OK);
	CU_ASSERT(seen.n == 2 && seen.ids[0] == ids[3] && seen.ids[1] == ids[4]);
	memset(&seen, 0, sizeof(seen));
	seen.stop_after = 1;
	CU_ASSERT(tc_ct_store_list_pending(st, 0, 100, collect_pending, &seen) == TC_CT_STORE_OK);
	CU_ASSERT(seen.n == 1);

	/* Sequencing pending entries removes them in the same write. */
	struct tc_ct_store_entry e[2] = {
		{ leaf_data[0], leaf_len[0], (const unsigned char *)"xyz", 3, ids[0], NULL },
		{ leaf_data[6], leaf_len[6], (const unsigned char *)"xyz", 3, id6, NULL },
	};
	CU_ASSERT(tc_ct_store_append_batch(st, e, 2, NULL) == TC_CT_STORE_OK);
	memset(&seen, 0, sizeof(seen));
	CU_ASSERT(tc_ct_store_list_pending(st, 0, 100, collect_pending, &seen) == TC_CT_STORE_OK);
	CU_ASSERT(seen.n == 4 && seen.ids[0] == ids[1] && seen.ids[3] == ids[5]);
	/* Pending entries are not part of the tree. */
	CU_ASSERT(tc_ct_store_size(st) == 2);
	uint64_t index;
	CU_ASSERT(tc_ct_store_find_by_hash(st, leaf_hashes[1], &index) == TC_CT_STORE_ERR_NOT_FOUND);
	CU_ASSERT(tc_ct_store_find_by_hash(st, leaf_hashes[6], &index) == TC_CT_STORE_OK && index == 1);
	CU_ASSERT(tc_ct_store_put_pending(st, NULL, 4, NULL, 0, &id6) == TC_CT_STORE_ERR_ARG);
	tc_ct_store_close(st);
}

/* An entry logged without an SCT (log_only) is indexed by its timestamp. */
static void test_logged_without_sct(void)
{
	struct tc_ct_store *st = open_store("logged");
	unsigned char logged_id[32], logged[TC_SUBMISSION_LOGGED_LEN], got[TC_CT_STORE_MAX_SCT];
	memset(logged_id, 0x5a, sizeof(logged_id));
	tc_submission_logged_record(0x0102030405060708ull, logged);
	struct tc_ct_submission log_only = {logged_id, logged, sizeof(logged)};
	uint64_t pid = 0, ts = 0;
	size_t len = 99;
	CU_ASSERT_FATAL(tc_ct_store_put_pending_submission(st, leaf_data[2], leaf_len[2], NULL, 0, &log_only, &pid) ==
			TC_CT_STORE_OK);
	CU_ASSERT(tc_submission_index_get(st, logged_id, got, sizeof(got), &len, &ts) == TC_SUBMISSION_LOGGED &&
		  ts == 0x0102030405060708ull && len == 0);
	/* once it gets an SCT, the SCT replaces the record */
	unsigned char sct[60] = {0};
	struct tc_ct_submission signed_sub = {logged_id, sct, sizeof(sct)};
	CU_ASSERT_FATAL(tc_ct_store_put_submissions(st, &signed_sub, 1) == TC_CT_STORE_OK);
	CU_ASSERT(tc_submission_index_get(st, logged_id, got, sizeof(got), &len, &ts) == TC_SUBMISSION_HAS_SCT &&
		  len == sizeof(sct));
	tc_ct_store_close(st);
}

/* The duplicate index: written with its pending record, durable, bounded. */
static void test_submissions(void)
{
	struct tc_ct_store *st = open_store("submissions");
	unsigned char id[32], other[32], sct[TC_CT_STORE_MAX_SCT], got[TC_CT_STORE_MAX_SCT];
	memset(id, 0x11, sizeof(id));
	memset(other, 0x22, sizeof(other));
	memset(sct, 0x5a, sizeof(sct));
	struct tc_ct_submission sub = { id, sct, 119 };
	uint64_t pid = 0;
	size_t len = 0;
	CU_ASSERT(tc_ct_store_get_submission(st, id, got, sizeof(got), &len) == TC_CT_STORE_ERR_NOT_FOUND);
	CU_ASSERT_FATAL(tc_ct_store_put_pending_submission(st, leaf_data[0], leaf_len[0], (const unsigned char *)"xyz", 3,
						   &sub, &pid) ==
			TC_CT_STORE_OK);
	CU_ASSERT(tc_ct_store_get_submission(st, id, got, sizeof(got), &len) == TC_CT_STORE_OK && len == 119 &&
		  memcmp(got, sct, len) == 0);
	CU_ASSERT(tc_ct_store_get_submission(st, id, got, 10, &len) == TC_CT_STORE_ERR_SPACE);
	uint64_t ts = 0;
	CU_ASSERT(tc_submission_index_get(st, other, got, sizeof(got), &len, &ts) == TC_SUBMISSION_UNKNOWN);
	CU_ASSERT(tc_submission_index_get(st, id, got, sizeof(got), &len, &ts) == TC_SUBMISSION_HAS_SCT &&
		  len == 119);
	/* Bad records are refused before anything is written. */
	struct tc_ct_submission empty = { id, sct, 0 }, huge = { other, sct, TC_CT_STORE_MAX_SCT + 1 };
	CU_ASSERT(tc_ct_store_put_pending_submission(st, leaf_data[1], leaf_len[1], NULL, 0, &empty, &pid) ==
		  TC_CT_STORE_ERR_ARG);
	CU_ASSERT(tc_ct_store_put_submissions(st, &huge, 1) == TC_CT_STORE_ERR_ARG);
	CU_ASSERT(tc_ct_store_get_submission(st, other, got, sizeof(got), &len) == TC_CT_STORE_ERR_NOT_FOUND);
	tc_ct_store_close(st);

	/* Durable: pending record and index record both survive a reopen. */
	st = open_store("submissions");
	struct pending_seen seen = { .n = 0 };
	CU_ASSERT(tc_ct_store_list_pending(st, 0, 100, collect_pending, &seen) == TC_CT_STORE_OK);
	CU_ASSERT(seen.n == 1 && seen.ids[0] == pid);
	CU_ASSERT(tc_ct_store_get_submission(st, id, got, sizeof(got), &len) == TC_CT_STORE_OK && len == 119);
	tc_ct_store_close(st);
}

/* An index from before it moved into the store is imported once. */
static void test_submission_import(void)
{
	char legacy[128], imported[160];
	snprintf(legacy, sizeof(legacy), "%s", store_path("legacy_index"));
	snprintf(imported, sizeof(imported), "%s.imported", legacy);
	leveldb_options_t *o = leveldb_options_create();
	leveldb_options_set_create_if_missing(o, 1);
	char *lerr = NULL;
	leveldb_t *db = leveldb_open(o, legacy, &lerr);
	CU_ASSERT_FATAL(db && !lerr);
	leveldb_writeoptions_t *w = leveldb_writeoptions_create();
	unsigned char id[32], sct[100];
	for (int i = 0; i < 3; i++) {
		memset(id, i + 1, sizeof(id));
		memset(sct, 0x40 + i, sizeof(sct));
		leveldb_put(db, w, (const char *)id, sizeof(id), (const char *)sct, 90 + (size_t)i, &lerr);
		CU_ASSERT(!lerr);
	}
	leveldb_put(db, w, "short", 5, "x", 1, &lerr); /* malformed: skipped */
	leveldb_writeoptions_destroy(w);
	leveldb_close(db);
	leveldb_options_destroy(o);

	struct tc_ct_store *st = open_store("import");
	char err[256] = "";
	CU_ASSERT(tc_submission_index_import(st, legacy, err, sizeof(err)) == 0);
	unsigned char got[TC_CT_STORE_MAX_SCT];
	size_t len = 0;
	for (int i = 0; i < 3; i++) {
		memset(id, i + 1, sizeof(id));
		uint64_t ts;
		CU_ASSERT(tc_submission_index_get(st, id, got, sizeof(got), &len, &ts) == TC_SUBMISSION_HAS_SCT);
		CU_ASSERT(len == 90 + (size_t)i && got[0] == 0x40 + i);
	}
	CU_ASSERT(access(legacy, F_OK) != 0 && access(imported, F_OK) == 0);
	/* Nothing left to import is not an error. */
	CU_ASSERT(tc_submission_index_import(st, legacy, err, sizeof(err)) == 0);
	tc_ct_store_close(st);
}

static void test_rejects_foreign_database(void)
{
	/* A LevelDB that is not ours must not be adopted as an empty log. */
	leveldb_options_t *o = leveldb_options_create();
	leveldb_options_set_create_if_missing(o, 1);
	char *err = NULL;
	leveldb_t *db = leveldb_open(o, store_path("foreign"), &err);
	CU_ASSERT_FATAL(db && !err);
	leveldb_writeoptions_t *w = leveldb_writeoptions_create();
	leveldb_put(db, w, "hello", 5, "world", 5, &err);
	CU_ASSERT(!err);
	leveldb_writeoptions_destroy(w);
	leveldb_close(db);
	leveldb_options_destroy(o);

	struct tc_ct_store *st = NULL;
	char msg[256] = "";
	CU_ASSERT(tc_ct_store_open(store_path("foreign"), &st, msg, sizeof(msg)) == TC_CT_STORE_ERR_CORRUPT);
	CU_ASSERT(st == NULL && strstr(msg, "not a CT log store") != NULL);
	/* And an unopenable path. */
	CU_ASSERT(tc_ct_store_open("/proc/no/such/dir", &st, msg, sizeof(msg)) != TC_CT_STORE_OK);
	CU_ASSERT(st == NULL && strlen(msg) > 0);
}

/* Readers prove against whatever size is published while the sequencer
 * appends: every proof must verify against the naive root of its size. */
static atomic_int readers_stop;

struct reader_arg {
	struct tc_ct_store *st;
	uint64_t seed;
	atomic_ulong proofs;
	unsigned long failures;
};

static void *reader_main(void *p)
{
	struct reader_arg *a = p;
	uint64_t local_rng = a->seed;
	while (!atomic_load(&readers_stop)) {
		uint64_t n = tc_ct_store_size(a->st);
		if (n == 0)
			continue;
		local_rng = local_rng * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t m = (local_rng >> 33) % n;
		hash_t proof[TC_MERKLE_MAX_PROOF], root;
		size_t len;
		int ok = tc_ct_store_root(a->st, n, root) == TC_CT_STORE_OK &&
			 tc_ct_store_inclusion_proof(a->st, m, n, proof, TC_MERKLE_MAX_PROOF, &len) == TC_CT_STORE_OK &&
			 tc_merkle_verify_inclusion(leaf_hashes[m], m, n, (const hash_t *)proof, len, root) ==
				 TC_MERKLE_OK;
		a->proofs++;
		if (!ok)
			a->failures++;
	}
	return NULL;
}

static void test_concurrent_readers(void)
{
	struct tc_ct_store *st = open_store("concurrent");
	struct reader_arg arg[2] = { { st, 1, 0, 0 }, { st, 2, 0, 0 } };
	pthread_t th[2];
	atomic_store(&readers_stop, 0);
	for (int i = 0; i < 2; i++)
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, reader_main, &arg[i]) == 0);
	size_t done = 0;
	while (done < 300) {
		size_t n = 1 + (size_t)(rnd() % 17);
		if (n > 300 - done)
			n = 300 - done;
		CU_ASSERT(append_range(st, done, n) == TC_CT_STORE_OK);
		done += n;
	}
	/* On a loaded machine the readers may not have run yet: give each time
	 * for at least one proof on the finished tree before stopping them. */
	for (int waited = 0; waited < 10000; waited++) {
		if (atomic_load(&arg[0].proofs) > 0 && atomic_load(&arg[1].proofs) > 0)
			break;
		usleep(1000);
	}
	atomic_store(&readers_stop, 1);
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		CU_ASSERT(arg[i].proofs > 0);
		CU_ASSERT(arg[i].failures == 0);
	}
	check_root(st, 300);
	tc_ct_store_close(st);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{ "append 1000 in random batches, roots and proofs vs brute force", test_append_and_prove },
		{ "reopen: proofs unchanged, appends continue", test_reopen },
		{ "duplicate leaves keep their first index", test_duplicates_keep_first_index },
		{ "signed tree heads and the latest pointer", test_tree_heads },
		{ "pending area: durable, paged, removed by sequencing", test_pending },
		{ "duplicate index: written with the pending record, durable", test_submissions },
		{ "an entry logged without an SCT is indexed by its timestamp", test_logged_without_sct },
		{ "an older stand-alone duplicate index is imported", test_submission_import },
		{ "foreign or unopenable directories are refused", test_rejects_foreign_database },
		{ "concurrent readers during appends", test_concurrent_readers },
		{ NULL, NULL },
	};
	return tc_run_suite("ct_store", tests, suite_init, suite_cleanup);
}
