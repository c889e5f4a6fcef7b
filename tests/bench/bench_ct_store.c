/* Benchmark of the CT store: sequence N entries in synced batches, then
 * serve inclusion proofs, get-proof-by-hash lookups (hash -> index -> proof,
 * as the HTTP API does) and consistency proofs for random leaves, 5 s each.
 * Prints rates, the process RSS and the LevelDB directory's disk use.
 *
 *   bench_ct_store [entries=1000000] [batch=1000] [leaf_bytes=512] [dir]
 *
 * Without dir a temporary directory is used and removed afterwards. */
#define _GNU_SOURCE /* nftw */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "bench_util.h"

#include "transparency/ct_store.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

/* VmRSS, split into anonymous memory (heap, caches) and file pages
 * (LevelDB maps its table files: page cache the kernel can drop). */
static void print_rss(const char *when)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long rss = -1, anon = -1, file = -1;
	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "VmRSS: %ld kB", &rss);
		sscanf(line, "RssAnon: %ld kB", &anon);
		sscanf(line, "RssFile: %ld kB", &file);
	}
	if (f)
		fclose(f);
	printf("RSS %s: %ld KiB (anonymous %ld KiB, mapped files %ld KiB)\n", when, rss, anon, file);
}

static unsigned long long disk_bytes;

static int add_size(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	if (flag == FTW_F)
		disk_bytes += (unsigned long long)sb->st_blocks * 512;
	return 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static unsigned long long parse_count(const char *s, const char *what)
{
	char *end;
	double v = strtod(s, &end); /* accepts 1e6 */
	if (end == s || *end || v < 1 || v > 1e12) {
		fprintf(stderr, "bad %s: %s\n", what, s);
		exit(2);
	}
	return (unsigned long long)v;
}

int main(int argc, char **argv)
{
	unsigned long long total = argc > 1 ? parse_count(argv[1], "entry count") : 1000000;
	size_t batch = argc > 2 ? (size_t)parse_count(argv[2], "batch size") : 1000;
	size_t leaf_bytes = argc > 3 ? (size_t)parse_count(argv[3], "leaf size") : 512;
	char tmpdir[] = "/tmp/bench_ct_store_XXXXXX";
	const char *dir = argc > 4 ? argv[4] : mkdtemp(tmpdir);
	if (!dir || leaf_bytes < 8) {
		fprintf(stderr, "cannot create a temporary directory or leaf_bytes < 8\n");
		return 1;
	}

	struct tc_ct_store *st;
	char err[256];
	if (tc_ct_store_open(dir, &st, err, sizeof(err)) != TC_CT_STORE_OK) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	uint64_t base = tc_ct_store_size(st);
	print_rss("after open");
	printf("store %s: %llu existing entries; appending %llu in batches of %zu, %zu-byte leaves\n", dir,
	       (unsigned long long)base, total, batch, leaf_bytes);

	unsigned char *data = malloc(batch * leaf_bytes);
	struct tc_ct_store_entry *entries = calloc(batch, sizeof(*entries));
	if (!data || !entries)
		return 1;
	double t0 = bench_now_s(), last_report = t0;
	unsigned long long done = 0, batches = 0;
	while (done < total) {
		size_t n = total - done < batch ? (size_t)(total - done) : batch;
		for (size_t i = 0; i < n; i++) {
			unsigned char *leaf = data + i * leaf_bytes;
			uint64_t index = base + done + i; /* makes every leaf unique */
			memcpy(leaf, &index, sizeof(index));
			for (size_t b = 8; b < leaf_bytes; b += 8) {
				uint64_t r = rnd();
				memcpy(leaf + b, &r, leaf_bytes - b < 8 ? leaf_bytes - b : 8);
			}
			entries[i] = (struct tc_ct_store_entry){ leaf, leaf_bytes, NULL, 0, 0, NULL };
		}
		int rc = tc_ct_store_append_batch(st, entries, n, NULL);
		if (rc != TC_CT_STORE_OK) {
			fprintf(stderr, "append failed: %s\n", tc_ct_store_strerror(rc));
			return 1;
		}
		done += n;
		batches++;
		if (bench_now_s() - last_report > 10) {
			last_report = bench_now_s();
			printf("  %llu appended, %.0f entries/s\n", done, (double)done / (last_report - t0));
			fflush(stdout);
		}
	}
	double append_s = bench_now_s() - t0;
	printf("append: %llu entries in %.2f s = %.0f entries/s (%llu synced batches, %.1f ms/batch)\n", done,
	       append_s, (double)done / append_s, batches, 1000.0 * append_s / (double)batches);
	print_rss("after append");

	uint64_t size = tc_ct_store_size(st);
	unsigned char root[TC_MERKLE_HASH_LEN];
	if (tc_ct_store_root(st, size, root) != TC_CT_STORE_OK)
		return 1;

	/* Inclusion proofs for random leaves, each verified (cheap next to the
	 * reads), for 5 seconds. */
	unsigned long proofs = 0, bad = 0;
	double max_len = 0;
	t0 = bench_now_s();
	while (bench_now_s() - t0 < 5.0) {
		for (int k = 0; k < 64; k++) {
			uint64_t m = rnd() % size;
			unsigned char proof[TC_MERKLE_MAX_PROOF][TC_MERKLE_HASH_LEN], leaf_hash[TC_MERKLE_HASH_LEN];
			size_t len;
			if (tc_ct_store_inclusion_proof(st, m, size, proof, TC_MERKLE_MAX_PROOF, &len) != TC_CT_STORE_OK ||
			    tc_ct_store_leaf_hash(st, m, leaf_hash) != TC_CT_STORE_OK ||
			    tc_merkle_verify_inclusion(leaf_hash, m, size, (const unsigned char (*)[32])proof, len,
						       root) != TC_MERKLE_OK)
				bad++;
			if (len > max_len)
				max_len = (double)len;
			proofs++;
		}
	}
	double incl_s = bench_now_s() - t0;
	printf("inclusion proofs: %lu in %.2f s = %.0f proofs/s (path length up to %.0f), %lu failed\n", proofs,
	       incl_s, (double)proofs / incl_s, max_len, bad);

	/* get-proof-by-hash: the leaf's index from its hash, then its proof,
	 * verified. The hashes are picked (and read) outside the clock. */
	unsigned long hproofs = 0;
	double hash_s = 0;
	while (hash_s < 5.0) {
		unsigned char hashes[64][TC_MERKLE_HASH_LEN];
		for (int k = 0; k < 64; k++)
			if (tc_ct_store_leaf_hash(st, rnd() % size, hashes[k]) != TC_CT_STORE_OK)
				bad++;
		double t1 = bench_now_s();
		for (int k = 0; k < 64; k++) {
			uint64_t m;
			unsigned char proof[TC_MERKLE_MAX_PROOF][TC_MERKLE_HASH_LEN];
			size_t len;
			if (tc_ct_store_find_by_hash(st, hashes[k], &m) != TC_CT_STORE_OK ||
			    tc_ct_store_inclusion_proof(st, m, size, proof, TC_MERKLE_MAX_PROOF, &len) != TC_CT_STORE_OK ||
			    tc_merkle_verify_inclusion(hashes[k], m, size, (const unsigned char (*)[32])proof, len,
						       root) != TC_MERKLE_OK)
				bad++;
			hproofs++;
		}
		hash_s += bench_now_s() - t1;
	}
	printf("proofs by hash (lookup + proof + verify): %lu in %.2f s = %.0f proofs/s, %lu failed\n", hproofs,
	       hash_s, (double)hproofs / hash_s, bad);

	unsigned long cproofs = 0;
	t0 = bench_now_s();
	while (bench_now_s() - t0 < 5.0) {
		for (int k = 0; k < 64; k++) {
			uint64_t m = 1 + rnd() % size;
			unsigned char proof[TC_MERKLE_MAX_PROOF][TC_MERKLE_HASH_LEN];
			size_t len;
			if (tc_ct_store_consistency_proof(st, m, size, proof, TC_MERKLE_MAX_PROOF, &len) != TC_CT_STORE_OK)
				bad++;
			cproofs++;
		}
	}
	double cons_s = bench_now_s() - t0;
	printf("consistency proofs: %lu in %.2f s = %.0f proofs/s\n", cproofs, cons_s, (double)cproofs / cons_s);
	print_rss("after proofs");
	tc_ct_store_close(st);

	nftw(dir, add_size, 16, FTW_PHYS);
	printf("disk: %.1f MiB in %s (%.0f bytes/entry)\n", (double)disk_bytes / (1 << 20), dir,
	       (double)disk_bytes / (double)size);
	if (argc <= 4)
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(entries);
	free(data);
	return bad ? 1 : 0;
}
