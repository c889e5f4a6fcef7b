/* ct_store_check DIR: opens the CT log store in DIR (a state rebuilt by
 * crash_states.py) and reads hex leaf hashes, one per line, on stdin: each
 * must be in the store, sequenced (its leaf hash indexed) or pending (a
 * pending record whose leaf hashes to it). Prints what it found; exit 0
 * when every hash is there, 1 when some are missing, 2 when the store
 * does not open. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "common/hex.h"
#include "transparency/ct_store.h"

struct pending {
	unsigned char (*hashes)[32];
	size_t n, cap;
	uint64_t last; /* id of the last one seen */
};

static int add_pending(void *ctx, uint64_t id, const struct tc_ct_record *rec)
{
	struct pending *p = ctx;
	p->last = id;
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 256;
		void *grown = realloc(p->hashes, p->cap * sizeof(*p->hashes));
		if (!grown)
			return -1;
		p->hashes = grown;
	}
	/* RFC 6962 leaf hash: SHA-256(0x00 || MerkleTreeLeaf). */
	SHA256_CTX c;
	SHA256_Init(&c);
	SHA256_Update(&c, "\0", 1);
	SHA256_Update(&c, rec->leaf_input, rec->leaf_len);
	SHA256_Final(p->hashes[p->n++], &c);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: ct_store_check DIR < leaf-hashes\n");
		return 2;
	}
	struct tc_ct_store *st;
	char err[512];
	if (tc_ct_store_open(argv[1], &st, err, sizeof(err)) != 0) {
		printf("does not open: %s\n", err);
		return 2;
	}
	struct pending p = {0};
	size_t before;
	do {
		before = p.n;
		if (tc_ct_store_list_pending(st, p.last, 1024, add_pending, &p) != TC_CT_STORE_OK)
			break;
	} while (p.n > before);
	size_t wanted = 0, missing = 0;
	char line[128];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\r\n")] = '\0';
		unsigned char h[32];
		if (!line[0] || tc_hex_decode(line, h, sizeof(h)) != 0)
			continue;
		wanted++;
		uint64_t index;
		int found = tc_ct_store_find_by_hash(st, h, &index) == TC_CT_STORE_OK;
		for (size_t i = 0; !found && i < p.n; i++)
			found = memcmp(p.hashes[i], h, 32) == 0;
		if (!found) {
			missing++;
			printf("missing %s\n", line);
		}
	}
	printf("opened: %llu leaves, %zu pending; %zu of %zu acknowledged entries there\n",
	       (unsigned long long)tc_ct_store_size(st), p.n, wanted - missing, wanted);
	free(p.hashes);
	tc_ct_store_close(st);
	return missing ? 1 : 0;
}
