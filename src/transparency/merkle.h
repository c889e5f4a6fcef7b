/* RFC 6962 section 2.1 Merkle Tree Hash, audit paths and consistency proofs.
 *
 * Pure functions without I/O. Hashes of stored subtrees come from a caller
 * callback, so the same code serves the LevelDB store, an in-memory tree and
 * the tests. The callback is only ever asked for *complete* subtrees: node
 * (level, index) is MTH(D[index * 2^level : (index + 1) * 2^level]); level 0
 * is a leaf hash. RFC 6962 only splits trees at powers of two, so every
 * subtree a root or proof needs is a run of at most 64 such aligned nodes,
 * and a proof costs O(log n) callback reads however large the tree is.
 *
 * Indexes are 0-based (RFC 6962's PATH(m, D[n]) uses 0-based m as well).
 * Proofs are arrays of 32-byte hashes, ordered as the RFC lists them: from
 * the leaf (or the smaller tree) towards the root. */
#ifndef TC_TRANSPARENCY_MERKLE_H
#define TC_TRANSPARENCY_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define TC_MERKLE_HASH_LEN 32
/* Longest possible proof for a tree of fewer than 2^64 leaves: an audit
 * path has at most 64 nodes, a consistency proof at most 64 + 1. */
#define TC_MERKLE_MAX_PROOF 65

enum tc_merkle_status {
	TC_MERKLE_OK = 0,
	TC_MERKLE_ERR_RANGE = -1,  /* index or size outside the tree */
	TC_MERKLE_ERR_FETCH = -2,  /* the node callback failed */
	TC_MERKLE_ERR_SPACE = -3,  /* the caller's proof array is too small */
	TC_MERKLE_ERR_VERIFY = -4, /* a proof does not verify */
};

/* Returns 0 and writes the hash of node (level, index), or -1 when the node
 * cannot be read (missing, I/O error); the error ends the computation. */
typedef int (*tc_merkle_node_fn)(void *ctx, unsigned level, uint64_t index,
				 unsigned char out[TC_MERKLE_HASH_LEN]);

/* SHA-256(0x00 || data), the hash of one leaf. 0, or -1 when OpenSSL fails
 * (out of memory). */
int tc_merkle_leaf_hash(const unsigned char *data, size_t len, unsigned char out[TC_MERKLE_HASH_LEN]);
/* SHA-256(0x01 || left || right), an interior node. out may alias an input. */
void tc_merkle_node_hash(const unsigned char left[TC_MERKLE_HASH_LEN],
			 const unsigned char right[TC_MERKLE_HASH_LEN], unsigned char out[TC_MERKLE_HASH_LEN]);
/* SHA-256 of the empty string: the root of the empty tree. */
void tc_merkle_empty_root(unsigned char out[TC_MERKLE_HASH_LEN]);

/* MTH(D[start : start + size]), size >= 1. Any range works; ranges that
 * begin at a multiple of the smallest power of two >= size (all ranges a
 * proof uses) cost popcount(size) reads. */
int tc_merkle_subtree_root(tc_merkle_node_fn fetch, void *ctx, uint64_t start, uint64_t size,
			   unsigned char out[TC_MERKLE_HASH_LEN]);
/* MTH(D[0 : tree_size]); the empty tree's root when tree_size is 0. */
int tc_merkle_root(tc_merkle_node_fn fetch, void *ctx, uint64_t tree_size, unsigned char out[TC_MERKLE_HASH_LEN]);

/* PATH(index, D[0 : tree_size]) into proof[0 .. *len), index < tree_size. */
int tc_merkle_inclusion_proof(tc_merkle_node_fn fetch, void *ctx, uint64_t index, uint64_t tree_size,
			      unsigned char (*proof)[TC_MERKLE_HASH_LEN], size_t cap, size_t *len);
/* PROOF(old_size, D[0 : new_size]) into proof[0 .. *len),
 * 0 <= old_size <= new_size; empty when old_size is 0 or equals new_size. */
int tc_merkle_consistency_proof(tc_merkle_node_fn fetch, void *ctx, uint64_t old_size, uint64_t new_size,
				unsigned char (*proof)[TC_MERKLE_HASH_LEN], size_t cap, size_t *len);

/* RFC 9162 2.1.3.2: 0 when leaf_hash at index is in the tree of tree_size
 * leaves with root, TC_MERKLE_ERR_VERIFY otherwise. */
int tc_merkle_verify_inclusion(const unsigned char leaf_hash[TC_MERKLE_HASH_LEN], uint64_t index,
			       uint64_t tree_size, const unsigned char (*proof)[TC_MERKLE_HASH_LEN], size_t len,
			       const unsigned char root[TC_MERKLE_HASH_LEN]);
/* RFC 9162 2.1.4.2: 0 when the tree of new_size leaves with new_root
 * extends the tree of old_size leaves with old_root, TC_MERKLE_ERR_VERIFY
 * otherwise. Equal sizes need equal roots and an empty proof; old_size 0
 * is consistent with anything given an empty proof (the empty tree is a
 * prefix of every tree), in which case old_root is not examined. */
int tc_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
				 const unsigned char old_root[TC_MERKLE_HASH_LEN],
				 const unsigned char new_root[TC_MERKLE_HASH_LEN],
				 const unsigned char (*proof)[TC_MERKLE_HASH_LEN], size_t len);

/* Range proof (used by audit exports): 0 when leaf_hashes[0 .. count) are
 * exactly leaves first .. first + count - 1 of the tree of tree_size leaves
 * with root, given the audit paths of the first and of the last leaf of the
 * range (RFC 6962 PATH for that leaf and tree_size). The root is rebuilt
 * from the range's leaves plus the subtrees left of it (from the first
 * path) and right of it (from the last path), so no leaf of the range can
 * change, move or be missing. count >= 1. TC_MERKLE_ERR_VERIFY otherwise. */
int tc_merkle_verify_range(const unsigned char (*leaf_hashes)[TC_MERKLE_HASH_LEN], uint64_t first, uint64_t count,
			   uint64_t tree_size, const unsigned char (*first_path)[TC_MERKLE_HASH_LEN],
			   size_t first_len, const unsigned char (*last_path)[TC_MERKLE_HASH_LEN], size_t last_len,
			   const unsigned char root[TC_MERKLE_HASH_LEN]);

#endif
