/* The CT log's durable state in LevelDB: sequenced leaves, the Merkle tree's
 * node hashes, signed tree heads and the pending (accepted, not yet
 * sequenced) entries.
 *
 * Key space (all integers big-endian, so key order is numeric order):
 *   "L" index(8)             -> leaf record: leaf_len(4) leaf_input extra_data
 *   "H" leaf_hash(32)        -> index(8); the first index wins for duplicates
 *   "N" level(1) index(8)    -> hash(32) of the complete subtree of 2^level
 *                               leaves starting at leaf index * 2^level
 *                               (level 0 holds the leaf hashes)
 *   "T" tree_size(8)         -> tree head: timestamp(8) root(32) signature
 *   "P" pending_id(8)        -> pending record: leaf_len(4) leaf_input extra
 *   "S" submission_id(32)    -> the serialized SCT given to that submission
 *                               (the duplicate index: written in the same
 *                               synced batch as its pending record, so the
 *                               two can never disagree after a crash)
 *   "M" "format"             -> store format version ("1")
 *   "M" "size"               -> number of sequenced leaves(8)
 *   "M" "latest_sth"         -> tree_size(8) of the newest tree head
 * Only complete subtrees are stored and a node is never rewritten, so every
 * root and proof for any tree size up to the current one is O(log n) reads,
 * and nothing needs the tree in memory: the store keeps only the O(log n)
 * "frontier" of left siblings still waiting for their right half.
 *
 * Thread safety: one handle per process, shared by all threads. Readers
 * (get_leaf, find_by_hash, root, proofs, get/latest STH, list_pending) may
 * run concurrently with each other and with the writer: the tree size they
 * see is published only after the write that made it durable, and nodes of
 * a published size never change. append_batch and put_sth are serialized
 * by an internal lock; the design has a single sequencer calling them.
 * put_pending / delete_pending may be called from any thread (LevelDB
 * groups concurrent synced writes into one fsync). */
#ifndef TC_TRANSPARENCY_CT_STORE_H
#define TC_TRANSPARENCY_CT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "transparency/merkle.h"

#define TC_CT_STORE_MAX_SIGNATURE 512 /* bytes of a tree head signature */
#define TC_CT_STORE_SUBMISSION_ID_LEN 32
#define TC_CT_STORE_MAX_SCT 512 /* bytes of a stored serialized SCT */
#define TC_CT_STORE_MAX_LEAF 0xffffffffu

enum tc_ct_store_status {
	TC_CT_STORE_OK = 0,
	TC_CT_STORE_ERR_IO = -1,        /* LevelDB failed (message logged) */
	TC_CT_STORE_ERR_NOT_FOUND = -2, /* no such leaf / hash / tree head */
	TC_CT_STORE_ERR_RANGE = -3,     /* index or size beyond the tree */
	TC_CT_STORE_ERR_CORRUPT = -4,   /* a stored record has the wrong shape */
	TC_CT_STORE_ERR_ARG = -5,
	TC_CT_STORE_ERR_NOMEM = -6,
	TC_CT_STORE_ERR_SPACE = -7,     /* proof array too small */
	TC_CT_STORE_ERR_MISMATCH = -8,  /* tree head root differs from the tree */
};

const char *tc_ct_store_strerror(int status);

struct tc_ct_store;

struct tc_ct_submission;

/* One entry to sequence: leaf_input is the MerkleTreeLeaf (hashed into the
 * tree), extra_data is returned with it by get-entries (the chain). A
 * non-zero pending_id names a pending record deleted in the same write, so
 * an entry is never both sequenced and still pending. A non-NULL sub is
 * the entry's duplicate-index record, written in the same synced batch. */
struct tc_ct_store_entry {
	const unsigned char *leaf_input;
	size_t leaf_len;
	const unsigned char *extra_data;
	size_t extra_len;
	uint64_t pending_id;
	const struct tc_ct_submission *sub;
};

/* A stored leaf or pending entry; owns its memory, release with
 * tc_ct_record_free(). */
struct tc_ct_record {
	unsigned char *leaf_input;
	size_t leaf_len;
	unsigned char *extra_data;
	size_t extra_len;
	char *raw; /* the single allocation the pointers point into */
};
void tc_ct_record_free(struct tc_ct_record *r);

struct tc_ct_sth {
	uint64_t tree_size;
	uint64_t timestamp; /* milliseconds since the epoch */
	unsigned char root[TC_MERKLE_HASH_LEN];
	unsigned char signature[TC_CT_STORE_MAX_SIGNATURE]; /* the DER signature */
	size_t signature_len;
};

/* Opens (creating if needed) the store in directory path. On failure returns
 * non-zero and describes why in err. */
int tc_ct_store_open(const char *path, struct tc_ct_store **out, char *err, size_t errlen);
void tc_ct_store_close(struct tc_ct_store *st);

/* 1 once a write failed: the handle refuses every write from then on (a
 * torn record in LevelDB's log would make its next recovery drop what was
 * written after it); *free_bytes is then the room on the store's
 * filesystem, for the caller to decide when to reopen it. */
int tc_ct_store_write_failed(struct tc_ct_store *st, uint64_t *free_bytes);

/* Number of sequenced leaves. */
uint64_t tc_ct_store_size(struct tc_ct_store *st);

/* Sequences n >= 1 entries as leaves size .. size + n - 1 (*first_index =
 * the old size): leaf records, hash index, every newly completed node hash,
 * the new size and the pending deletions go in ONE synced write batch. */
int tc_ct_store_append_batch(struct tc_ct_store *st, const struct tc_ct_store_entry *entries, size_t n,
			     uint64_t *first_index);

int tc_ct_store_get_leaf(struct tc_ct_store *st, uint64_t index, struct tc_ct_record *out);
/* Stored hash of leaf index (node (0, index)). */
int tc_ct_store_leaf_hash(struct tc_ct_store *st, uint64_t index, unsigned char out[TC_MERKLE_HASH_LEN]);
int tc_ct_store_find_by_hash(struct tc_ct_store *st, const unsigned char leaf_hash[TC_MERKLE_HASH_LEN],
			     uint64_t *index);

/* Hash of the complete subtree node (level, index), MTH(D[index * 2^level :
 * (index + 1) * 2^level]), which must lie within the tree (else
 * TC_CT_STORE_ERR_RANGE): what the static-ct-api hash tiles are made of. */
int tc_ct_store_node_hash(struct tc_ct_store *st, unsigned level, uint64_t index,
			  unsigned char out[TC_MERKLE_HASH_LEN]);
/* Root of the tree of the first tree_size leaves (tree_size <= size). */
int tc_ct_store_root(struct tc_ct_store *st, uint64_t tree_size, unsigned char out[TC_MERKLE_HASH_LEN]);
int tc_ct_store_inclusion_proof(struct tc_ct_store *st, uint64_t index, uint64_t tree_size,
				unsigned char (*proof)[TC_MERKLE_HASH_LEN], size_t cap, size_t *len);
int tc_ct_store_consistency_proof(struct tc_ct_store *st, uint64_t old_size, uint64_t new_size,
				  unsigned char (*proof)[TC_MERKLE_HASH_LEN], size_t cap, size_t *len);

/* Stores a signed tree head under its size (replacing an older head of
 * that size) and moves the latest pointer when no larger head exists. The
 * root must be the store's root at that size (TC_CT_STORE_ERR_MISMATCH). */
int tc_ct_store_put_sth(struct tc_ct_store *st, const struct tc_ct_sth *sth);
int tc_ct_store_get_sth(struct tc_ct_store *st, uint64_t tree_size, struct tc_ct_sth *out);
/* The newest tree head; served from memory (loaded at open, replaced by
 * put_sth after its write), so every API read can afford it. */
int tc_ct_store_latest_sth(struct tc_ct_store *st, struct tc_ct_sth *out);

/* Durably records an accepted entry (synced before returning) and gives it
 * an id, increasing within one open store. */
int tc_ct_store_put_pending(struct tc_ct_store *st, const unsigned char *leaf_input, size_t leaf_len,
			    const unsigned char *extra_data, size_t extra_len, uint64_t *id);

/* A submission's identity (a hash the caller defines) and the SCT it got. */
struct tc_ct_submission {
	const unsigned char *id; /* TC_CT_STORE_SUBMISSION_ID_LEN bytes */
	const unsigned char *sct;
	size_t sct_len; /* 1 .. TC_CT_STORE_MAX_SCT */
};

/* put_pending plus the duplicate-index record of sub, in ONE synced write:
 * after a crash either both exist or neither. Concurrent callers share
 * LevelDB's group commit (one fsync for all writers waiting). */
int tc_ct_store_put_pending_submission(struct tc_ct_store *st, const unsigned char *leaf_input, size_t leaf_len,
				       const unsigned char *extra_data, size_t extra_len,
				       const struct tc_ct_submission *sub, uint64_t *id);
/* The SCT recorded for submission id: TC_CT_STORE_OK, or
 * TC_CT_STORE_ERR_NOT_FOUND, TC_CT_STORE_ERR_SPACE when cap is too small. */
int tc_ct_store_get_submission(struct tc_ct_store *st, const unsigned char id[TC_CT_STORE_SUBMISSION_ID_LEN],
			       unsigned char *sct, size_t cap, size_t *sct_len);
/* Records n duplicate-index entries without pending records (one synced
 * write); for importing an older index. Existing ids are overwritten. */
int tc_ct_store_put_submissions(struct tc_ct_store *st, const struct tc_ct_submission *subs, size_t n);
/* The same without waiting for the disk: for records a crash may lose
 * (an SCT that can be signed again from the durable record it replaces);
 * the next synced write makes it durable too. */
int tc_ct_store_put_submissions_nosync(struct tc_ct_store *st, const struct tc_ct_submission *subs, size_t n);
/* Calls fn for up to max pending entries with id > after_id, in id order;
 * fn returning non-zero stops the walk. The record pointers are only valid
 * during the call. */
typedef int (*tc_ct_pending_fn)(void *ctx, uint64_t id, const struct tc_ct_record *rec);
int tc_ct_store_list_pending(struct tc_ct_store *st, uint64_t after_id, size_t max, tc_ct_pending_fn fn,
			     void *ctx);
int tc_ct_store_delete_pending(struct tc_ct_store *st, uint64_t id);

#endif
