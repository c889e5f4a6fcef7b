#include "support/merkle_reference.h"

#include <string.h>

static uint64_t split_point(uint64_t n)
{
	uint64_t k = 1;
	while (k * 2 < n)
		k *= 2;
	return k;
}

void ref_mth(const hash_t *leaves, uint64_t n, hash_t out)
{
	if (n == 0) {
		tc_merkle_empty_root(out);
		return;
	}
	if (n == 1) {
		memcpy(out, leaves[0], sizeof(hash_t));
		return;
	}
	uint64_t k = split_point(n);
	hash_t l, r;
	ref_mth(leaves, k, l);
	ref_mth(leaves + k, n - k, r);
	tc_merkle_node_hash(l, r, out);
}

void ref_path(uint64_t m, const hash_t *leaves, uint64_t n, hash_t *proof, size_t *len)
{
	if (n == 1)
		return;
	uint64_t k = split_point(n);
	if (m < k) {
		ref_path(m, leaves, k, proof, len);
		ref_mth(leaves + k, n - k, proof[(*len)++]);
	} else {
		ref_path(m - k, leaves + k, n - k, proof, len);
		ref_mth(leaves, k, proof[(*len)++]);
	}
}

void ref_subproof(uint64_t m, const hash_t *leaves, uint64_t n, int b, hash_t *proof, size_t *len)
{
	if (m == n) {
		if (!b)
			ref_mth(leaves, m, proof[(*len)++]);
		return;
	}
	uint64_t k = split_point(n);
	if (m <= k) {
		ref_subproof(m, leaves, k, b, proof, len);
		ref_mth(leaves + k, n - k, proof[(*len)++]);
	} else {
		ref_subproof(m - k, leaves + k, n - k, 0, proof, len);
		ref_mth(leaves, k, proof[(*len)++]);
	}
}

