/* The RFC 6962 section 4 operations on typed values, shared by the HTTP API
 * (ct_api.c: JSON in and out) and the internal IPC (ct_ipc.c: protobuf in
 * and out), so both answer every request the same way. Reads are bounded
 * by the newest signed tree head: everything served is covered by a
 * signature a client can check.
 *
 * Each operation returns a status and, when not OK, a reason for the
 * requester in err. */
#ifndef TC_TRANSPARENCY_CT_OPS_H
#define TC_TRANSPARENCY_CT_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "transparency/chain_check.h"
#include "transparency/ct_store.h"
#include "transparency/sequencer.h"
#include "transparency/sct.h"

#define TC_CT_API_MAX_ENTRIES 1000 /* per get-entries answer */
#define TC_CT_API_MAX_CHAIN 16     /* certificates per submitted chain */

struct tc_ct_api {
	struct tc_ct_store *st;
	struct tc_sequencer *seq;
	struct tc_chain_checker *chk;
	const char *tiles_dir; /* static-ct-api files served at the log's URL prefix, or NULL */
	/* Temporal shards (common/ct_shard.h): this log's name ("" for the
	 * single log, served at the root) and notAfter window; a submission
	 * outside it is refused. */
	const char *name;
	int windowed; /* 0 (a zeroed struct): every notAfter is taken */
	int64_t not_after_start, not_after_end;
	/* Every log of the process (this one among them), for routing a
	 * request by its prefix or IPC log name; NULL: this log alone. */
	struct tc_ct_api *all;
	size_t n_all;
};

/* The log named name among api's (api itself when it has no siblings and
 * name is ""); NULL when there is none. */
struct tc_ct_api *tc_ct_api_route(struct tc_ct_api *api, const char *name);

enum tc_ct_op_status {
	TC_CT_OP_OK = 0,
	TC_CT_OP_BAD_REQUEST,  /* malformed or inconsistent arguments, chain refused */
	TC_CT_OP_OUT_OF_RANGE, /* an index or size beyond the signed tree */
	TC_CT_OP_NOT_FOUND,    /* no such leaf in the tree of that size */
	TC_CT_OP_UNAVAILABLE,  /* the log cannot take entries (or has no tree head) now */
	TC_CT_OP_INTERNAL,     /* store or encoding failure */
	TC_CT_OP_FROZEN,       /* the log is frozen (read-only): no new entries, ever */
};

/* What add-chain / add-pre-chain promise. */
struct tc_ct_added {
	unsigned char sct[TC_SCT_MAX_LEN]; /* serialized SCT */
	size_t sct_len;                    /* 0: logged without an SCT (log_only) */
	struct tc_ct_sct parsed;           /* points into sct; without one: log_id, timestamp, extensions (in ext) */
	unsigned char ext[TC_SCT_LEAF_INDEX_EXT_LEN];
	unsigned char leaf_hash[TC_MERKLE_HASH_LEN];
	int leaf_index_known;              /* 1 when already in the signed tree */
	uint64_t leaf_index;               /* also set for a log-only entry not signed yet */
};

/* certs[0] is the certificate (precert: with its poison), then its chain.
 * With log_only the entry is logged without an SCT when it has none yet
 * (out->sct_len 0; out->parsed has only log_id and timestamp). */
enum tc_ct_op_status tc_ct_op_add_chain(struct tc_ct_api *api, int precert, int log_only,
					unsigned char *const *certs, const size_t *lens, size_t n,
					struct tc_ct_added *out, char *err, size_t errlen);

/* tc_ct_op_add_chain without waiting: the chain is checked on the calling
 * thread, then done(arg, ...) gets the answer once the entry is durable and
 * its SCT signed (added NULL and err set unless OK); certs may be freed
 * when this returns. done runs exactly once, on the calling thread (a
 * refusal, a duplicate) or a sequencer/signer-link thread: it must not
 * block. */
typedef void (*tc_ct_added_fn)(void *arg, enum tc_ct_op_status st, const struct tc_ct_added *added,
			       const char *err);
void tc_ct_op_add_chain_async(struct tc_ct_api *api, int precert, int log_only, unsigned char *const *certs,
			      const size_t *lens, size_t n, tc_ct_added_fn done, void *arg);

enum tc_ct_op_status tc_ct_op_get_sth(struct tc_ct_api *api, struct tc_ct_sth *out, char *err, size_t errlen);

/* proof has room for TC_MERKLE_MAX_PROOF hashes. */
enum tc_ct_op_status tc_ct_op_consistency(struct tc_ct_api *api, uint64_t first, uint64_t second,
					  unsigned char (*proof)[TC_MERKLE_HASH_LEN], size_t *len, char *err,
					  size_t errlen);

enum tc_ct_op_status tc_ct_op_proof_by_hash(struct tc_ct_api *api, const unsigned char hash[TC_MERKLE_HASH_LEN],
					    uint64_t tree_size, uint64_t *index,
					    unsigned char (*proof)[TC_MERKLE_HASH_LEN], size_t *len, char *err,
					    size_t errlen);

/* Calls fn for entries start..end (inclusive), clamped to the signed tree
 * and TC_CT_API_MAX_ENTRIES; fn returning non-zero ends the list early
 * (e.g. a size budget) without an error. */
typedef int (*tc_ct_entry_fn)(void *ctx, uint64_t index, const struct tc_ct_record *rec);
enum tc_ct_op_status tc_ct_op_get_entries(struct tc_ct_api *api, uint64_t start, uint64_t end, tc_ct_entry_fn fn,
					  void *ctx, char *err, size_t errlen);

/* DER of the accepted root. */
void tc_ct_op_get_roots(struct tc_ct_api *api, const unsigned char **der, size_t *len);

/* rec is filled on OK (release with tc_ct_record_free). */
enum tc_ct_op_status tc_ct_op_entry_and_proof(struct tc_ct_api *api, uint64_t index, uint64_t tree_size,
					      struct tc_ct_record *rec, unsigned char (*proof)[TC_MERKLE_HASH_LEN],
					      size_t *len, char *err, size_t errlen);

#endif
