/* RFC 6962 Merkle tree: known answers and an exhaustive cross-check against
 * a naive recursive implementation written straight from RFC 6962 2.1. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "transparency/merkle.h"
#include "support/merkle_reference.h"
#include "unit/cunit_main.h"


/* ---- an in-memory "store": node (level, index) recomputed naively ---- */

struct mem_tree {
	const hash_t *leaves;
	uint64_t n;
	unsigned long fetches;
	int fail; /* make every fetch fail */
};

static int mem_fetch(void *ctx, unsigned level, uint64_t index, unsigned char out[TC_MERKLE_HASH_LEN])
{
	struct mem_tree *t = ctx;
	t->fetches++;
	uint64_t width = 1ull << level, start = index << level;
	if (t->fail || level >= 63 || start + width > t->n)
		return -1; /* the library must never ask for an incomplete node */
	ref_mth(t->leaves + start, width, out);
	return 0;
}

static void hex32(const char *hex, hash_t out)
{
	CU_ASSERT_FATAL(tc_hex_decode(hex, out, TC_MERKLE_HASH_LEN) == 0);
}

/* ---- known answers ---- */

/* The reference tree of the Certificate Transparency implementations:
 * google/certificate-transparency cpp/merkletree/merkle_tree_test.cc
 * (kInputs, kSHA256Roots, kSHA256Paths, kSHA256Proofs), the same vectors as
 * transparency-dev/merkle's testonly package. Paths there use 1-based leaf
 * numbers; the indexes below are 0-based. */
static const char *const kInputs[8] = {
	"", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
};
static const char *const kEmptyRoot = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
static const char *const kRoots[8] = {
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

struct proof_vector {
	uint64_t a, b; /* leaf index and tree size, or old and new size */
	size_t len;
	const char *hashes[3];
};

static const struct proof_vector kPaths[] = {
	{ 0, 1, 0, { NULL } },
	{ 0, 8, 3,
	  { "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" } },
	{ 5, 8, 3,
	  { "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
	    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
	{ 2, 3, 1, { "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125" } },
	{ 1, 5, 3,
	  { "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" } },
};

static const struct proof_vector kProofs[] = {
	{ 1, 1, 0, { NULL } },
	{ 1, 8, 3,
	  { "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" } },
	{ 6, 8, 3,
	  { "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
	    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
	    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
	{ 2, 5, 2,
	  { "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" } },
};

static hash_t ref_leaves[8];

static void load_reference_leaves(void)
{
	for (int i = 0; i < 8; i++) {
		unsigned char data[16];
		size_t len = strlen(kInputs[i]) / 2;
		CU_ASSERT_FATAL(tc_hex_decode(kInputs[i], data, len) == 0);
		CU_ASSERT_FATAL(tc_merkle_leaf_hash(data, len, ref_leaves[i]) == 0);
	}
}

static void test_hash_primitives(void)
{
	hash_t h, want;
	tc_merkle_empty_root(h);
	hex32(kEmptyRoot, want);
	CU_ASSERT(memcmp(h, want, 32) == 0);
	/* Leaf "" hashes to SHA-256(0x00), which is also the size-1 root. */
	CU_ASSERT(tc_merkle_leaf_hash(NULL, 0, h) == 0);
	hex32(kRoots[0], want);
	CU_ASSERT(memcmp(h, want, 32) == 0);
	/* The domain separation prefixes matter: a node is not a leaf of the
	 * concatenation. */
	unsigned char concat[64];
	hash_t l, node, as_leaf;
	load_reference_leaves();
	memcpy(concat, ref_leaves[0], 32);
	memcpy(concat + 32, ref_leaves[1], 32);
	tc_merkle_node_hash(ref_leaves[0], ref_leaves[1], node);
	CU_ASSERT(tc_merkle_leaf_hash(concat, 64, as_leaf) == 0);
	CU_ASSERT(memcmp(node, as_leaf, 32) != 0);
	hex32(kRoots[1], want);
	CU_ASSERT(memcmp(node, want, 32) == 0);
	/* node_hash may write over an input. */
	memcpy(l, ref_leaves[0], 32);
	tc_merkle_node_hash(l, ref_leaves[1], l);
	CU_ASSERT(memcmp(l, want, 32) == 0);
}

static void test_reference_roots(void)
{
	load_reference_leaves();
	struct mem_tree t = { (const hash_t *)ref_leaves, 8, 0, 0 };
	hash_t root, want;
	CU_ASSERT(tc_merkle_root(mem_fetch, &t, 0, root) == TC_MERKLE_OK);
	hex32(kEmptyRoot, want);
	CU_ASSERT(memcmp(root, want, 32) == 0);
	for (uint64_t n = 1; n <= 8; n++) {
		CU_ASSERT(tc_merkle_root(mem_fetch, &t, n, root) == TC_MERKLE_OK);
		hex32(kRoots[n - 1], want);
		CU_ASSERT(memcmp(root, want, 32) == 0);
	}
}

static void test_reference_paths(void)
{
	load_reference_leaves();
	struct mem_tree t = { (const hash_t *)ref_leaves, 8, 0, 0 };
	for (size_t v = 0; v < sizeof(kPaths) / sizeof(kPaths[0]); v++) {
		const struct proof_vector *pv = &kPaths[v];
		hash_t proof[TC_MERKLE_MAX_PROOF], want, root;
		size_t len = 99;
		CU_ASSERT_FATAL(tc_merkle_inclusion_proof(mem_fetch, &t, pv->a, pv->b, proof, TC_MERKLE_MAX_PROOF,
							  &len) == TC_MERKLE_OK);
		CU_ASSERT_FATAL(len == pv->len);
		for (size_t i = 0; i < len; i++) {
			hex32(pv->hashes[i], want);
			CU_ASSERT(memcmp(proof[i], want, 32) == 0);
		}
		hex32(kRoots[pv->b - 1], root);
		CU_ASSERT(tc_merkle_verify_inclusion(ref_leaves[pv->a], pv->a, pv->b, (const hash_t *)proof, len,
						     root) == TC_MERKLE_OK);
	}
}

static void test_reference_consistency(void)
{
	load_reference_leaves();
	struct mem_tree t = { (const hash_t *)ref_leaves, 8, 0, 0 };
	for (size_t v = 0; v < sizeof(kProofs) / sizeof(kProofs[0]); v++) {
		const struct proof_vector *pv = &kProofs[v];
		hash_t proof[TC_MERKLE_MAX_PROOF], want, r1, r2;
		size_t len = 99;
		CU_ASSERT_FATAL(tc_merkle_consistency_proof(mem_fetch, &t, pv->a, pv->b, proof, TC_MERKLE_MAX_PROOF,
							    &len) == TC_MERKLE_OK);
		CU_ASSERT_FATAL(len == pv->len);
		for (size_t i = 0; i < len; i++) {
			hex32(pv->hashes[i], want);
			CU_ASSERT(memcmp(proof[i], want, 32) == 0);
		}
		hex32(kRoots[pv->a - 1], r1);
		hex32(kRoots[pv->b - 1], r2);
		CU_ASSERT(tc_merkle_verify_consistency(pv->a, pv->b, r1, r2, (const hash_t *)proof, len) ==
			  TC_MERKLE_OK);
		/* Swapped roots never verify. */
		if (len)
			CU_ASSERT(tc_merkle_verify_consistency(pv->a, pv->b, r2, r1, (const hash_t *)proof, len) ==
				  TC_MERKLE_ERR_VERIFY);
	}
}

/* ---- exhaustive cross-check, sizes 1..64 ---- */

#define MAX_N 64

static hash_t many[MAX_N];

static void make_many(void)
{
	for (int i = 0; i < MAX_N; i++) {
		unsigned char data[3] = { (unsigned char)i, (unsigned char)(i * 7), 0x5a };
		CU_ASSERT_FATAL(tc_merkle_leaf_hash(data, sizeof(data), many[i]) == 0);
	}
}

static unsigned ceil_log2(uint64_t n)
{
	unsigned l = 0;
	while ((1ull << l) < n)
		l++;
	return l;
}

/* Every way of damaging a valid inclusion proof must fail. */
static void check_inclusion_tampering(const hash_t leaf, uint64_t m, uint64_t n, const hash_t *proof, size_t len,
				      const hash_t root)
{
	hash_t bad[TC_MERKLE_MAX_PROOF + 1], bad_root, other_leaf;
	if (m > 0)
		CU_ASSERT(tc_merkle_verify_inclusion(leaf, m - 1, n, proof, len, root) != TC_MERKLE_OK);
	CU_ASSERT(tc_merkle_verify_inclusion(leaf, m + 1, n, proof, len, root) != TC_MERKLE_OK);
	if ((m ^ 2) < n)
		CU_ASSERT(tc_merkle_verify_inclusion(leaf, m ^ 2, n, proof, len, root) != TC_MERKLE_OK);
	CU_ASSERT(tc_merkle_verify_inclusion(leaf, m, n * 2, proof, len, root) != TC_MERKLE_OK);
	CU_ASSERT(tc_merkle_verify_inclusion(leaf, m, n / 2, proof, len, root) != TC_MERKLE_OK);
	memcpy(other_leaf, leaf, 32);
	other_leaf[0] ^= 1;
	CU_ASSERT(tc_merkle_verify_inclusion(other_leaf, m, n, proof, len, root) != TC_MERKLE_OK);
	memcpy(bad_root, root, 32);
	bad_root[31] ^= 0x80;
	CU_ASSERT(tc_merkle_verify_inclusion(leaf, m, n, proof, len, bad_root) != TC_MERKLE_OK);
	for (size_t i = 0; i < len; i++) {
		memcpy(bad, proof, len * sizeof(hash_t));
		bad[i][i % 32] ^= 0x01;
		CU_ASSERT(tc_merkle_verify_inclusion(leaf, m, n, (const hash_t *)bad, len, root) != TC_MERKLE_OK);
	}
	/* One node too many (at either end) or too few. */
	memcpy(bad, proof, len * sizeof(hash_t));
	memcpy(bad[len], root, 32);
	CU_ASSERT(tc_merkle_verify_inclusion(leaf, m, n, (const hash_t *)bad, len + 1, root) != TC_MERKLE_OK);
	if (len) {
		CU_ASSERT(tc_merkle_verify_inclusion(leaf, m, n, proof, len - 1, root) != TC_MERKLE_OK);
		memcpy(bad[0], leaf, 32);
		memcpy(bad + 1, proof, len * sizeof(hash_t));
		CU_ASSERT(tc_merkle_verify_inclusion(leaf, m, n, (const hash_t *)bad, len + 1, root) != TC_MERKLE_OK);
	}
}

static void test_inclusion_exhaustive(void)
{
	make_many();
	for (uint64_t n = 1; n <= MAX_N; n++) {
		struct mem_tree t = { (const hash_t *)many, n, 0, 0 };
		hash_t root, want;
		ref_mth(many, n, want);
		CU_ASSERT_FATAL(tc_merkle_root(mem_fetch, &t, n, root) == TC_MERKLE_OK);
		CU_ASSERT(memcmp(root, want, 32) == 0);
		for (uint64_t m = 0; m < n; m++) {
			hash_t proof[TC_MERKLE_MAX_PROOF], expect[TC_MERKLE_MAX_PROOF];
			size_t len, elen = 0;
			t.fetches = 0;
			CU_ASSERT_FATAL(tc_merkle_inclusion_proof(mem_fetch, &t, m, n, proof, TC_MERKLE_MAX_PROOF,
								  &len) == TC_MERKLE_OK);
			/* O(log n): at most one node per level plus one ragged edge. */
			CU_ASSERT(t.fetches <= 2 * ceil_log2(n) + 1);
			ref_path(m, many, n, expect, &elen);
			CU_ASSERT_FATAL(len == elen);
			CU_ASSERT(memcmp(proof, expect, len * sizeof(hash_t)) == 0);
			CU_ASSERT(tc_merkle_verify_inclusion(many[m], m, n, (const hash_t *)proof, len, root) ==
				  TC_MERKLE_OK);
			check_inclusion_tampering(many[m], m, n, (const hash_t *)proof, len, root);
		}
	}
}

static void check_consistency_tampering(uint64_t m, uint64_t n, const hash_t r1, const hash_t r2,
					const hash_t *proof, size_t len)
{
	hash_t bad[TC_MERKLE_MAX_PROOF + 1], bad_root;
	if (len == 0)
		return; /* m == n: covered by the root comparisons */
	CU_ASSERT(tc_merkle_verify_consistency(m - 1, n, r1, r2, proof, len) != TC_MERKLE_OK);
	CU_ASSERT(tc_merkle_verify_consistency(m + 1, n, r1, r2, proof, len) != TC_MERKLE_OK);
	if ((m ^ 2) <= n)
		CU_ASSERT(tc_merkle_verify_consistency(m ^ 2, n, r1, r2, proof, len) != TC_MERKLE_OK);
	CU_ASSERT(tc_merkle_verify_consistency(m, n * 2, r1, r2, proof, len) != TC_MERKLE_OK);
	CU_ASSERT(tc_merkle_verify_consistency(m, n / 2, r1, r2, proof, len) != TC_MERKLE_OK);
	memcpy(bad_root, r1, 32);
	bad_root[0] ^= 0x10;
	CU_ASSERT(tc_merkle_verify_consistency(m, n, bad_root, r2, proof, len) != TC_MERKLE_OK);
	memcpy(bad_root, r2, 32);
	bad_root[0] ^= 0x10;
	CU_ASSERT(tc_merkle_verify_consistency(m, n, r1, bad_root, proof, len) != TC_MERKLE_OK);
	CU_ASSERT(tc_merkle_verify_consistency(m, n, r2, r1, proof, len) != TC_MERKLE_OK);
	CU_ASSERT(tc_merkle_verify_consistency(m, n, r1, r2, proof, 0) != TC_MERKLE_OK);
	for (size_t i = 0; i < len; i++) {
		memcpy(bad, proof, len * sizeof(hash_t));
		bad[i][(i * 5) % 32] ^= 0x04;
		CU_ASSERT(tc_merkle_verify_consistency(m, n, r1, r2, (const hash_t *)bad, len) != TC_MERKLE_OK);
	}
	memcpy(bad, proof, len * sizeof(hash_t));
	memcpy(bad[len], proof[len - 1], 32);
	CU_ASSERT(tc_merkle_verify_consistency(m, n, r1, r2, (const hash_t *)bad, len + 1) != TC_MERKLE_OK);
	CU_ASSERT(tc_merkle_verify_consistency(m, n, r1, r2, proof, len - 1) != TC_MERKLE_OK);
	memcpy(bad[0], proof[0], 32);
	memcpy(bad + 1, proof, len * sizeof(hash_t));
	CU_ASSERT(tc_merkle_verify_consistency(m, n, r1, r2, (const hash_t *)bad, len + 1) != TC_MERKLE_OK);
}

static void test_consistency_exhaustive(void)
{
	make_many();
	for (uint64_t n = 1; n <= MAX_N; n++) {
		struct mem_tree t = { (const hash_t *)many, n, 0, 0 };
		hash_t r2;
		ref_mth(many, n, r2);
		for (uint64_t m = 0; m <= n; m++) {
			hash_t proof[TC_MERKLE_MAX_PROOF], expect[TC_MERKLE_MAX_PROOF], r1;
			size_t len, elen = 0;
			t.fetches = 0;
			CU_ASSERT_FATAL(tc_merkle_consistency_proof(mem_fetch, &t, m, n, proof, TC_MERKLE_MAX_PROOF,
								    &len) == TC_MERKLE_OK);
			CU_ASSERT(t.fetches <= 2 * ceil_log2(n) + 2);
			if (m > 0 && m < n)
				ref_subproof(m, many, n, 1, expect, &elen);
			CU_ASSERT_FATAL(len == elen);
			CU_ASSERT(memcmp(proof, expect, len * sizeof(hash_t)) == 0);
			if (m == 0)
				tc_merkle_empty_root(r1);
			else
				ref_mth(many, m, r1);
			CU_ASSERT(tc_merkle_verify_consistency(m, n, r1, r2, (const hash_t *)proof, len) ==
				  TC_MERKLE_OK);
			check_consistency_tampering(m, n, r1, r2, (const hash_t *)proof, len);
		}
	}
}

/* ---- edges and errors ---- */

/* Every range of every tree of 1..40 leaves: the range proof (paths of its
 * first and last leaf) verifies, and any changed, swapped or shifted leaf,
 * or a changed path node, fails. */
static void test_range_exhaustive(void)
{
	make_many();
	for (uint64_t n = 1; n <= 40; n++) {
		hash_t root;
		ref_mth(many, n, root);
		for (uint64_t a = 0; a < n; a++) {
			for (uint64_t b = a; b < n; b++) {
				hash_t p1[TC_MERKLE_MAX_PROOF], p2[TC_MERKLE_MAX_PROOF], leaves[64];
				size_t l1 = 0, l2 = 0;
				uint64_t cnt = b - a + 1;
				ref_path(a, many, n, p1, &l1);
				ref_path(b, many, n, p2, &l2);
				memcpy(leaves, many + a, cnt * sizeof(hash_t));
				CU_ASSERT_FATAL(tc_merkle_verify_range((const hash_t *)leaves, a, cnt, n, (const hash_t *)p1,
								       l1, (const hash_t *)p2, l2, root) == TC_MERKLE_OK);
				uint64_t i = (a * 7 + b) % cnt;
				leaves[i][3] ^= 1;
				CU_ASSERT(tc_merkle_verify_range((const hash_t *)leaves, a, cnt, n, (const hash_t *)p1, l1,
								 (const hash_t *)p2, l2, root) != TC_MERKLE_OK);
				leaves[i][3] ^= 1;
				if (cnt > 1 && memcmp(leaves[0], leaves[1], 32) != 0) {
					hash_t t;
					memcpy(t, leaves[0], 32);
					memcpy(leaves[0], leaves[1], 32);
					memcpy(leaves[1], t, 32);
					CU_ASSERT(tc_merkle_verify_range((const hash_t *)leaves, a, cnt, n,
									 (const hash_t *)p1, l1, (const hash_t *)p2, l2,
									 root) != TC_MERKLE_OK);
					memcpy(leaves[1], leaves[0], 32);
					memcpy(leaves[0], t, 32);
				}
				if (cnt > 1) /* one leaf dropped from the end */
					CU_ASSERT(tc_merkle_verify_range((const hash_t *)leaves, a, cnt - 1, n,
									 (const hash_t *)p1, l1, (const hash_t *)p2, l2,
									 root) != TC_MERKLE_OK);
				if (a + 1 < n && b + 1 < n) /* claimed one position later */
					CU_ASSERT(tc_merkle_verify_range((const hash_t *)leaves, a + 1, cnt, n,
									 (const hash_t *)p1, l1, (const hash_t *)p2, l2,
									 root) != TC_MERKLE_OK);
				if (l2) {
					p2[l2 - 1][0] ^= 0x80;
					CU_ASSERT(tc_merkle_verify_range((const hash_t *)leaves, a, cnt, n,
									 (const hash_t *)p1, l1, (const hash_t *)p2, l2,
									 root) != TC_MERKLE_OK);
				}
			}
		}
	}
	CU_ASSERT(tc_merkle_verify_range((const hash_t *)many, 0, 0, 4, NULL, 0, NULL, 0, many[0]) != TC_MERKLE_OK);
	CU_ASSERT(tc_merkle_verify_range((const hash_t *)many, 3, 2, 4, NULL, 0, NULL, 0, many[0]) != TC_MERKLE_OK);
}

static void test_errors(void)
{
	make_many();
	struct mem_tree t = { (const hash_t *)many, 10, 0, 0 };
	hash_t proof[TC_MERKLE_MAX_PROOF], root, r2;
	size_t len = 7;
	CU_ASSERT(tc_merkle_inclusion_proof(mem_fetch, &t, 10, 10, proof, TC_MERKLE_MAX_PROOF, &len) ==
		  TC_MERKLE_ERR_RANGE);
	CU_ASSERT(len == 0);
	CU_ASSERT(tc_merkle_inclusion_proof(mem_fetch, &t, 0, 0, proof, TC_MERKLE_MAX_PROOF, &len) ==
		  TC_MERKLE_ERR_RANGE);
	CU_ASSERT(tc_merkle_consistency_proof(mem_fetch, &t, 5, 4, proof, TC_MERKLE_MAX_PROOF, &len) ==
		  TC_MERKLE_ERR_RANGE);
	CU_ASSERT(tc_merkle_subtree_root(mem_fetch, &t, 3, 0, root) == TC_MERKLE_ERR_RANGE);
	CU_ASSERT(tc_merkle_subtree_root(mem_fetch, &t, UINT64_MAX, 2, root) == TC_MERKLE_ERR_RANGE);
	/* An unaligned range still computes MTH correctly (just more reads). */
	hash_t want;
	ref_mth(many + 3, 5, want);
	CU_ASSERT(tc_merkle_subtree_root(mem_fetch, &t, 3, 5, root) == TC_MERKLE_OK);
	CU_ASSERT(memcmp(root, want, 32) == 0);
	/* Too small a proof buffer. */
	CU_ASSERT(tc_merkle_inclusion_proof(mem_fetch, &t, 3, 10, proof, 2, &len) == TC_MERKLE_ERR_SPACE);
	CU_ASSERT(tc_merkle_consistency_proof(mem_fetch, &t, 3, 10, proof, 1, &len) == TC_MERKLE_ERR_SPACE);
	/* A failing node source fails the computation. */
	t.fail = 1;
	CU_ASSERT(tc_merkle_root(mem_fetch, &t, 10, root) == TC_MERKLE_ERR_FETCH);
	CU_ASSERT(tc_merkle_inclusion_proof(mem_fetch, &t, 3, 10, proof, TC_MERKLE_MAX_PROOF, &len) ==
		  TC_MERKLE_ERR_FETCH);
	CU_ASSERT(tc_merkle_consistency_proof(mem_fetch, &t, 3, 10, proof, TC_MERKLE_MAX_PROOF, &len) ==
		  TC_MERKLE_ERR_FETCH);
	/* Verification edge cases (the CT reference verifier's rules). */
	tc_merkle_empty_root(root);
	ref_mth(many, 1, r2);
	CU_ASSERT(tc_merkle_verify_inclusion(many[0], 0, 0, NULL, 0, root) == TC_MERKLE_ERR_VERIFY);
	CU_ASSERT(tc_merkle_verify_inclusion(many[0], 0, 1, NULL, 0, r2) == TC_MERKLE_OK);
	CU_ASSERT(tc_merkle_verify_inclusion(many[0], 1, 1, NULL, 0, r2) == TC_MERKLE_ERR_VERIFY);
	CU_ASSERT(tc_merkle_verify_consistency(0, 0, root, root, NULL, 0) == TC_MERKLE_OK);
	CU_ASSERT(tc_merkle_verify_consistency(0, 1, root, r2, NULL, 0) == TC_MERKLE_OK);
	CU_ASSERT(tc_merkle_verify_consistency(1, 1, r2, r2, NULL, 0) == TC_MERKLE_OK);
	CU_ASSERT(tc_merkle_verify_consistency(1, 0, r2, root, NULL, 0) == TC_MERKLE_ERR_VERIFY);
	CU_ASSERT(tc_merkle_verify_consistency(1, 1, r2, root, NULL, 0) == TC_MERKLE_ERR_VERIFY);
	CU_ASSERT(tc_merkle_verify_consistency(1, 1, r2, r2, (const hash_t *)&r2, 1) == TC_MERKLE_ERR_VERIFY);
	CU_ASSERT(tc_merkle_verify_consistency(0, 1, root, r2, (const hash_t *)&r2, 1) == TC_MERKLE_ERR_VERIFY);
	CU_ASSERT(tc_merkle_verify_consistency(1, 2, r2, r2, NULL, 0) == TC_MERKLE_ERR_VERIFY);
}

/* Proof generation on a huge (virtual) tree stays O(log n) in reads: the
 * callback answers with a hash derived from the coordinates. */
static int synthetic_fetch(void *ctx, unsigned level, uint64_t index, unsigned char out[TC_MERKLE_HASH_LEN])
{
	unsigned long *count = ctx;
	(*count)++;
	memset(out, 0, TC_MERKLE_HASH_LEN);
	memcpy(out, &level, sizeof(level));
	memcpy(out + 8, &index, sizeof(index));
	return 0;
}

static void test_large_tree_read_cost(void)
{
	const uint64_t sizes[] = { (1ull << 40) - 1, (1ull << 40) + 12345, 1000000007ull, (1ull << 62) + 3 };
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint64_t n = sizes[s];
		hash_t proof[TC_MERKLE_MAX_PROOF], root;
		size_t len;
		unsigned long count = 0;
		CU_ASSERT(tc_merkle_inclusion_proof(synthetic_fetch, &count, n / 3, n, proof, TC_MERKLE_MAX_PROOF,
						    &len) == TC_MERKLE_OK);
		CU_ASSERT(len <= ceil_log2(n));
		CU_ASSERT(count <= 2 * ceil_log2(n) + 1);
		count = 0;
		CU_ASSERT(tc_merkle_consistency_proof(synthetic_fetch, &count, n / 2 + 1, n, proof,
						      TC_MERKLE_MAX_PROOF, &len) == TC_MERKLE_OK);
		CU_ASSERT(len <= ceil_log2(n) + 1);
		CU_ASSERT(count <= 2 * ceil_log2(n) + 2);
		count = 0;
		CU_ASSERT(tc_merkle_root(synthetic_fetch, &count, n, root) == TC_MERKLE_OK);
		CU_ASSERT(count == (unsigned long)__builtin_popcountll(n));
	}
}

int main(void)
{
	static const struct tc_test tests[] = {
		{ "hash primitives", test_hash_primitives },
		{ "RFC 6962 reference roots", test_reference_roots },
		{ "RFC 6962 reference audit paths", test_reference_paths },
		{ "RFC 6962 reference consistency proofs", test_reference_consistency },
		{ "inclusion proofs, sizes 1..64, vs naive", test_inclusion_exhaustive },
		{ "consistency proofs, sizes 1..64, vs naive", test_consistency_exhaustive },
		{ "range proofs, every range of sizes 1..40", test_range_exhaustive },
		{ "errors and verification edge cases", test_errors },
		{ "O(log n) reads on huge trees", test_large_tree_read_cost },
		{ NULL, NULL },
	};
	return tc_run_suite("merkle", tests, NULL, NULL);
}
