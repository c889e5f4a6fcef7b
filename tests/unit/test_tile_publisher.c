/* The tile publisher over a real LevelDB store: a log grown in uneven
 * batches past 65,536 entries (so level 2 exists) is published after each
 * batch, and the files are checked against the spec and the store, never
 * against the publisher's own arithmetic:
 *   - every data tile's TileLeaf entries hash to the level-0 tile's hashes,
 *     which are the store's leaf hashes; every level-n hash is the Merkle
 *     hash of the full tile below; the root rebuilt from the tiles with the
 *     reference Merkle tree is the checkpoint's, whose RFC6962NoteSignature
 *     verifies with the log key;
 *   - a full tile's bytes never change once written; partials of finished
 *     tiles are removed; issuers are the chain certificates;
 *   - a lost checkpoint and partial tiles (a crash) are written again at
 *     the next publish, and a tiles directory holding another log's
 *     checkpoint is refused. */
#define _GNU_SOURCE /* nftw */
#include <fcntl.h>
#include <ftw.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/merkle_reference.h"
#include "transparency/checkpoint.h"
#include "transparency/ct_store.h"
#include "transparency/tile_leaf.h"
#include "transparency/tile_path.h"
#include "transparency/tile_publisher.h"
#include "unit/cunit_main.h"

#define TOTAL 66000
#define ORIGIN "ct.test.example:6962"

static char dir[64], store_dir[96], tiles_dir[96];
static struct tc_ct_store *st;
static EVP_PKEY *key;
static unsigned char log_id[32];
static const unsigned char ISSUER_A[] = "issuer certificate A (DER stand-in)";
static const unsigned char ISSUER_B[] = "issuer certificate B";

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(p);
}

static int suite_init(void)
{
	strcpy(dir, "/tmp/tc_tiles_XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(store_dir, sizeof(store_dir), "%s/log", dir);
	snprintf(tiles_dir, sizeof(tiles_dir), "%s/tiles", dir);
	char err[256];
	if (tc_ct_store_open(store_dir, &st, err, sizeof(err)) != 0)
		return 1;
	key = EVP_EC_gen("P-256");
	return key && tc_checkpoint_log_id(key, log_id) == 0 ? 0 : 1;
}

static int suite_cleanup(void)
{
	if (st)
		tc_ct_store_close(st);
	EVP_PKEY_free(key);
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Entry i: an x509 entry (or every 5th a precert) with a two-certificate chain. */
static void append_entries(uint64_t first, size_t n)
{
	struct tc_ct_store_entry *es = calloc(n, sizeof(*es));
	unsigned char **bufs = calloc(n, sizeof(*bufs));
	CU_ASSERT_PTR_NOT_NULL_FATAL(es);
	for (size_t k = 0; k < n; k++) {
		uint64_t i = first + k;
		unsigned char cert[40];
		snprintf((char *)cert, sizeof(cert), "certificate number %llu", (unsigned long long)i);
		struct tc_ct_entry e = {.type = i % 5 == 0 ? TC_CT_PRECERT_ENTRY : TC_CT_X509_ENTRY,
					.timestamp = 1700000000000ull + i, .cert = cert, .cert_len = strlen((char *)cert)};
		memset(e.issuer_key_hash, 0x42, sizeof(e.issuer_key_hash));
		size_t leaf_len = 0;
		tc_ct_encode_leaf(&e, NULL, 0, &leaf_len);
		size_t chain = 3 + sizeof(ISSUER_A) + 3 + sizeof(ISSUER_B);
		size_t lead = e.type == TC_CT_PRECERT_ENTRY ? 3 + 10 : 0; /* PrecertChainEntry.pre_certificate */
		size_t extra_len = lead + 3 + chain;
		unsigned char *b = malloc(leaf_len + extra_len);
		CU_ASSERT_EQUAL_FATAL(tc_ct_encode_leaf(&e, b, leaf_len, &leaf_len), TC_CT_OK);
		unsigned char *x = b + leaf_len;
		if (lead) {
			x[0] = 0, x[1] = 0, x[2] = 10;
			memcpy(x + 3, "precert...", 10);
			x += lead;
		}
		x[0] = 0, x[1] = (unsigned char)(chain >> 8), x[2] = (unsigned char)chain;
		x += 3;
		x[0] = 0, x[1] = 0, x[2] = sizeof(ISSUER_A);
		memcpy(x + 3, ISSUER_A, sizeof(ISSUER_A));
		x += 3 + sizeof(ISSUER_A);
		x[0] = 0, x[1] = 0, x[2] = sizeof(ISSUER_B);
		memcpy(x + 3, ISSUER_B, sizeof(ISSUER_B));
		es[k] = (struct tc_ct_store_entry){.leaf_input = b, .leaf_len = leaf_len, .extra_data = b + leaf_len,
						   .extra_len = extra_len};
		bufs[k] = b;
	}
	uint64_t at;
	CU_ASSERT_EQUAL_FATAL(tc_ct_store_append_batch(st, es, n, &at), TC_CT_STORE_OK);
	CU_ASSERT_EQUAL_FATAL(at, first);
	for (size_t k = 0; k < n; k++)
		free(bufs[k]);
	free(bufs);
	free(es);
}

static void signed_head(uint64_t ts, struct tc_ct_sth *sth)
{
	memset(sth, 0, sizeof(*sth));
	sth->tree_size = tc_ct_store_size(st);
	sth->timestamp = ts;
	CU_ASSERT_EQUAL_FATAL(tc_ct_store_root(st, sth->tree_size, sth->root), TC_CT_STORE_OK);
	unsigned char input[TC_CT_STH_SIGNATURE_INPUT_LEN];
	tc_ct_encode_sth_signature_input(ts, sth->tree_size, sth->root, input);
	sth->signature_len = sizeof(sth->signature);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	CU_ASSERT_EQUAL_FATAL(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
	CU_ASSERT_EQUAL_FATAL(EVP_DigestSign(md, sth->signature, &sth->signature_len, input, sizeof(input)), 1);
	EVP_MD_CTX_free(md);
	CU_ASSERT_EQUAL_FATAL(tc_ct_store_put_sth(st, sth), TC_CT_STORE_OK);
}

/* The file at tiles_dir/rel, malloc'd; NULL when missing. */
static unsigned char *read_rel(const char *rel, size_t *len)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tiles_dir, rel);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *b = malloc(n > 0 ? (size_t)n + 1 : 1);
	*len = fread(b, 1, (size_t)n, f);
	fclose(f);
	b[*len] = 0;
	return b;
}

static unsigned char *read_tile(int level, uint64_t index, unsigned width, size_t *len)
{
	char rel[TC_TILE_PATH_MAX];
	CU_ASSERT_EQUAL_FATAL(tc_tile_path(rel, sizeof(rel), level, index, width), 0);
	return read_rel(rel, len);
}

/* SHA-256 of every full tile seen so far, by (level + 1) * 2^40 + index. */
#define MAX_FULL 1024
static struct {
	int level;
	uint64_t index;
	unsigned char digest[32];
} full_seen[MAX_FULL];
static size_t n_full_seen;

static void check_full_tiles_unchanged_and_record(uint64_t size)
{
	for (size_t i = 0; i < n_full_seen; i++) {
		size_t len = 0;
		unsigned char *b = read_tile(full_seen[i].level, full_seen[i].index, 256, &len), d[32];
		CU_ASSERT_PTR_NOT_NULL_FATAL(b);
		SHA256(b, len, d);
		CU_ASSERT_EQUAL(memcmp(d, full_seen[i].digest, 32), 0);
		free(b);
	}
	for (int level = TC_TILE_DATA_LEVEL; level <= 2; level++) {
		uint64_t count = tc_tile_full_count(size, level < 0 ? 0 : level);
		for (uint64_t n = 0; n < count; n++) {
			int known = 0;
			for (size_t i = 0; i < n_full_seen && !known; i++)
				known = full_seen[i].level == level && full_seen[i].index == n;
			if (known)
				continue;
			size_t len = 0;
			unsigned char *b = read_tile(level, n, 256, &len);
			CU_ASSERT_PTR_NOT_NULL_FATAL(b);
			CU_ASSERT_FATAL(n_full_seen < MAX_FULL);
			full_seen[n_full_seen].level = level;
			full_seen[n_full_seen].index = n;
			SHA256(b, len, full_seen[n_full_seen++].digest);
			free(b);
			/* its partial versions are gone */
			char rel[TC_TILE_PATH_MAX], p[TC_TILE_PATH_MAX + 8], path[256];
			tc_tile_path(rel, sizeof(rel), level, n, 256);
			snprintf(p, sizeof(p), "%s.p", rel);
			snprintf(path, sizeof(path), "%s/%s", tiles_dir, p);
			CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
		}
	}
}

/* Everything a monitor would check, from the files alone. */
static void check_published_tree(const struct tc_ct_sth *sth)
{
	size_t len = 0;
	char *note = (char *)read_rel("checkpoint", &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(note);
	struct tc_checkpoint cp;
	char err[256];
	CU_ASSERT_EQUAL_FATAL(tc_checkpoint_verify(note, len, ORIGIN, key, &cp, err, sizeof(err)), 0);
	free(note);
	CU_ASSERT_EQUAL_FATAL(cp.tree_size, sth->tree_size);
	CU_ASSERT_EQUAL(cp.timestamp, sth->timestamp);
	uint64_t size = cp.tree_size;
	hash_t *leaves = malloc((size ? size : 1) * sizeof(hash_t));
	CU_ASSERT_PTR_NOT_NULL_FATAL(leaves);
	/* level 0 and data tiles */
	for (uint64_t t = 0; t * 256 < size; t++) {
		unsigned width = (size - t * 256) >= 256 ? 256 : (unsigned)(size - t * 256);
		size_t hl = 0, dl = 0, pos = 0;
		unsigned char *h = read_tile(0, t, width, &hl), *d = read_tile(TC_TILE_DATA_LEVEL, t, width, &dl);
		CU_ASSERT_PTR_NOT_NULL_FATAL(h);
		CU_ASSERT_PTR_NOT_NULL_FATAL(d);
		CU_ASSERT_EQUAL_FATAL(hl, (size_t)width * 32);
		for (unsigned i = 0; i < width; i++) {
			struct tc_tile_leaf l;
			CU_ASSERT_EQUAL_FATAL(tc_tile_leaf_next(d, dl, &pos, &l), 0);
			unsigned char lh[32], stored[32];
			CU_ASSERT_EQUAL_FATAL(tc_tile_leaf_hash(&l, lh), 0);
			CU_ASSERT_EQUAL(memcmp(lh, h + 32 * i, 32), 0);
			CU_ASSERT_EQUAL(tc_ct_store_leaf_hash(st, t * 256 + i, stored), TC_CT_STORE_OK);
			CU_ASSERT_EQUAL(memcmp(lh, stored, 32), 0);
			CU_ASSERT_EQUAL_FATAL(l.n_chain, 2);
			unsigned char fa[32];
			SHA256(ISSUER_A, sizeof(ISSUER_A), fa);
			CU_ASSERT_EQUAL(memcmp(l.chain, fa, 32), 0);
			CU_ASSERT_EQUAL(l.entry.type, (t * 256 + i) % 5 == 0 ? TC_CT_PRECERT_ENTRY : TC_CT_X509_ENTRY);
			if (l.entry.type == TC_CT_PRECERT_ENTRY)
				CU_ASSERT(l.pre_cert_len == 10 && memcmp(l.pre_cert, "precert...", 10) == 0);
			memcpy(leaves[t * 256 + i], lh, 32);
		}
		CU_ASSERT_EQUAL(pos, dl); /* nothing after the last TileLeaf */
		free(h);
		free(d);
	}
	/* level 1 and 2 hashes are the Merkle hashes of full tiles below */
	for (int level = 1; level <= 2; level++) {
		uint64_t per = (uint64_t)1 << (8 * level), n_hashes = size / per;
		for (uint64_t t = 0; t * 256 < n_hashes; t++) {
			unsigned width = n_hashes - t * 256 >= 256 ? 256 : (unsigned)(n_hashes - t * 256);
			size_t hl = 0;
			unsigned char *h = read_tile(level, t, width, &hl);
			CU_ASSERT_PTR_NOT_NULL_FATAL(h);
			CU_ASSERT_EQUAL_FATAL(hl, (size_t)width * 32);
			for (unsigned i = 0; i < width; i++) {
				hash_t want;
				ref_mth(leaves + (t * 256 + i) * per, per, want);
				CU_ASSERT_EQUAL(memcmp(want, h + 32 * i, 32), 0);
			}
			free(h);
		}
	}
	hash_t root;
	ref_mth(leaves, size, root);
	CU_ASSERT_EQUAL(memcmp(root, cp.root, 32), 0);
	free(leaves);
	/* issuers, as submitted */
	unsigned char fp[32];
	char rel[80];
	SHA256(ISSUER_B, sizeof(ISSUER_B), fp);
	tc_tile_issuer_path(rel, sizeof(rel), fp);
	unsigned char *iss = read_rel(rel, &len);
	CU_ASSERT(iss && len == sizeof(ISSUER_B) && memcmp(iss, ISSUER_B, len) == 0);
	free(iss);
}

static void test_publish_growing_log(void)
{
	struct tc_tile_publisher *p;
	char err[512];
	CU_ASSERT_EQUAL_FATAL(tc_tile_publisher_open(tiles_dir, ORIGIN, log_id, &p, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(tc_tile_publisher_size(p), 0);
	static const size_t batches[] = {1, 7, 248, 1, 300, 2000, 255, 1, 13000, 50000, 100, 87};
	uint64_t ts = 1700000000000ull, grown = 0;
	struct tc_ct_sth sth;
	for (size_t b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
		append_entries(grown, batches[b]);
		grown += batches[b];
		signed_head(++ts, &sth);
		CU_ASSERT_EQUAL_FATAL(tc_tile_publisher_publish(p, st, &sth, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(tc_tile_publisher_size(p), grown);
		check_full_tiles_unchanged_and_record(grown);
		if (b < 4 || b == sizeof(batches) / sizeof(batches[0]) - 1)
			check_published_tree(&sth);
	}
	CU_ASSERT_EQUAL(grown, TOTAL);
	/* a fresh head of the same tree: only the checkpoint changes */
	struct tc_tile_publisher_stats before, after;
	tc_tile_publisher_stats(p, &before);
	signed_head(++ts, &sth);
	CU_ASSERT_EQUAL(tc_tile_publisher_publish(p, st, &sth, err, sizeof(err)), 0);
	tc_tile_publisher_stats(p, &after);
	CU_ASSERT_EQUAL(after.files_written, before.files_written + 1);
	check_published_tree(&sth);
	tc_tile_publisher_close(p);
}

static void unlink_rel(const char *rel)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tiles_dir, rel);
	CU_ASSERT_EQUAL(unlink(path), 0);
}

static void test_republish_after_crash(void)
{
	/* a crash between the tiles and the checkpoint of the next batch:
	 * entries sequenced, the new partials and checkpoint never written */
	uint64_t size = tc_ct_store_size(st);
	append_entries(size, 300);
	struct tc_ct_sth sth;
	signed_head(1800000000000ull, &sth);
	char rel[TC_TILE_PATH_MAX];
	tc_tile_path(rel, sizeof(rel), 0, size / 256, size % 256);
	unlink_rel(rel); /* and the partial tile the old checkpoint named, lost too */
	struct tc_tile_publisher *p;
	char err[512];
	CU_ASSERT_EQUAL_FATAL(tc_tile_publisher_open(tiles_dir, ORIGIN, log_id, &p, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(tc_tile_publisher_size(p), size);
	CU_ASSERT_EQUAL_FATAL(tc_tile_publisher_publish(p, st, &sth, err, sizeof(err)), 0);
	check_full_tiles_unchanged_and_record(sth.tree_size);
	check_published_tree(&sth);
	tc_tile_publisher_close(p);

	/* the checkpoint itself lost: everything is checked and rewritten */
	unlink_rel("checkpoint");
	tc_tile_path(rel, sizeof(rel), 1, tc_tile_full_count(sth.tree_size, 1), tc_tile_partial_width(sth.tree_size, 1));
	unlink_rel(rel);
	CU_ASSERT_EQUAL_FATAL(tc_tile_publisher_open(tiles_dir, ORIGIN, log_id, &p, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(tc_tile_publisher_size(p), 0);
	CU_ASSERT_EQUAL_FATAL(tc_tile_publisher_publish(p, st, &sth, err, sizeof(err)), 0);
	check_full_tiles_unchanged_and_record(sth.tree_size);
	check_published_tree(&sth);
	tc_tile_publisher_close(p);
}

static void test_refuses_another_logs_tiles(void)
{
	char other_dir[128], err[512];
	snprintf(other_dir, sizeof(other_dir), "%s/other", dir);
	struct tc_ct_store *other;
	CU_ASSERT_EQUAL_FATAL(tc_ct_store_open(other_dir, &other, err, sizeof(err)), 0);
	struct tc_ct_store *mine = st;
	st = other;
	append_entries(0, 3);
	struct tc_ct_sth sth;
	signed_head(1900000000000ull, &sth);
	st = mine;
	/* fewer entries than the published checkpoint: refused before any write */
	struct tc_tile_publisher *p;
	CU_ASSERT_EQUAL_FATAL(tc_tile_publisher_open(tiles_dir, ORIGIN, log_id, &p, err, sizeof(err)), 0);
	CU_ASSERT_NOT_EQUAL(tc_tile_publisher_publish(p, other, &sth, err, sizeof(err)), 0);
	tc_tile_publisher_close(p);
	tc_ct_store_close(other);
	CU_ASSERT_EQUAL(tc_tile_publisher_open(tiles_dir, "bad origin", log_id, &p, err, sizeof(err)), -1);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"a log grown in batches, published after each", test_publish_growing_log},
		{"missing tiles and checkpoint published again", test_republish_after_crash},
		{"another log's tiles directory refused", test_refuses_another_logs_tiles},
		{NULL, NULL},
	};
	return tc_run_suite("tile_publisher", tests, suite_init, suite_cleanup);
}
