/* A naive, recursive RFC 6962 2.1 Merkle tree written straight from the
 * RFC's definitions (MTH, PATH, SUBPROOF), against which the tests check the
 * O(log n) library and the LevelDB store. Deliberately slow and obvious. */
#ifndef TC_TESTS_MERKLE_REFERENCE_H
#define TC_TESTS_MERKLE_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

#include "transparency/merkle.h"

typedef unsigned char hash_t[TC_MERKLE_HASH_LEN];

/* MTH(D[0:n]) over leaf hashes; n == 0 gives the empty-tree root. */
void ref_mth(const hash_t *leaves, uint64_t n, hash_t out);
/* PATH(m, D[0:n]): appended to proof, *len counts. */
void ref_path(uint64_t m, const hash_t *leaves, uint64_t n, hash_t *proof, size_t *len);
/* SUBPROOF(m, D[0:n], b): PROOF(m, D[0:n]) is ref_subproof(m, ..., 1, ...). */
void ref_subproof(uint64_t m, const hash_t *leaves, uint64_t n, int b, hash_t *proof, size_t *len);

#endif
