#include "transparency/ct_ops.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ct_shard.h"
#include "common/log.h"

static enum tc_ct_op_status fail(enum tc_ct_op_status st, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static enum tc_ct_op_status fail(enum tc_ct_op_status st, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return st;
}

/* Size of the newest signed tree head: the bound of every read. */
static uint64_t signed_size(struct tc_ct_api *api)
{
	struct tc_ct_sth sth;
	return tc_ct_store_latest_sth(api->st, &sth) == TC_CT_STORE_OK ? sth.tree_size : 0;
}

/* The leaf the SCT promises (the entry at the SCT's timestamp), its hash,
 * and its index when the sequencer has already put it in a signed tree.
 * An SCT with a leaf_index extension names its index itself; only an
 * entry of an earlier version is looked up by its hash. */
static void locate_leaf(struct tc_ct_api *api, const struct tc_ct_entry *entry, struct tc_ct_added *out)
{
	struct tc_ct_entry e = *entry;
	e.timestamp = out->parsed.timestamp;
	e.extensions = out->parsed.extensions;
	e.extensions_len = out->parsed.extensions_len;
	size_t leaf_len = 0;
	unsigned char buf[4096], *leaf = buf;
	if (tc_ct_encode_leaf(&e, NULL, 0, &leaf_len) != TC_CT_ERR_SPACE ||
	    (leaf_len > sizeof(buf) && !(leaf = malloc(leaf_len))) ||
	    tc_ct_encode_leaf(&e, leaf, leaf_len, &leaf_len) != TC_CT_OK ||
	    tc_merkle_leaf_hash(leaf, leaf_len, out->leaf_hash) != 0) {
		if (leaf != buf)
			free(leaf);
		return;
	}
	if (leaf != buf)
		free(leaf);
	uint64_t index;
	int named = tc_sct_find_leaf_index(e.extensions, e.extensions_len, &index) == 1;
	if ((named || tc_ct_store_find_by_hash(api->st, out->leaf_hash, &index) == TC_CT_STORE_OK) &&
	    index < signed_size(api)) {
		out->leaf_index_known = 1;
		out->leaf_index = index;
	}
}

struct tc_ct_api *tc_ct_api_route(struct tc_ct_api *api, const char *name)
{
	if (!api->all)
		return strcmp(name, api->name ? api->name : "") == 0 ? api : NULL;
	for (size_t i = 0; i < api->n_all; i++)
		if (strcmp(api->all[i].name, name) == 0)
			return &api->all[i];
	return NULL;
}

/* A temporal shard takes only certificates whose notAfter is in its
 * window (an unbounded window takes everything, undecodable times too). */
static int window_check(const struct tc_ct_api *api, const unsigned char *cert, size_t len, char *err,
			size_t errlen)
{
	if (!api->windowed)
		return 0;
	struct tc_ct_shard sh = {.not_after_start = api->not_after_start, .not_after_end = api->not_after_end};
	int64_t na;
	char window[96];
	if (tc_cert_not_after(cert, len, &na) != 0) {
		snprintf(err, errlen, "the certificate's notAfter does not decode");
		return -1;
	}
	if (tc_ct_shard_holds(&sh, na))
		return 0;
	tc_ct_shard_window(&sh, window, sizeof(window));
	snprintf(err, errlen,
		 "notAfter outside this log's window: log '%s' takes certificates with notAfter in %s; "
		 "submit to the shard whose window holds it",
		 api->name ? api->name : "", window);
	return -1;
}

/* Checks the chain and the window; 0 with *cc to free, or the refusal. */
static enum tc_ct_op_status admit(struct tc_ct_api *api, int precert, unsigned char *const *certs,
				  const size_t *lens, size_t n, struct tc_checked_chain *cc, char *err, size_t errlen)
{
	if (n > TC_CT_API_MAX_CHAIN)
		return fail(TC_CT_OP_BAD_REQUEST, err, errlen, "chain too long");
	if (tc_chain_check(api->chk, precert, certs, lens, n, cc, err, errlen) != 0)
		return TC_CT_OP_BAD_REQUEST;
	if (window_check(api, certs[0], lens[0], err, errlen) != 0) {
		tc_checked_chain_free(cc);
		return TC_CT_OP_BAD_REQUEST;
	}
	return TC_CT_OP_OK;
}

/* Turns the sequencer's answer for entry into out (out->sct holds the
 * SCT, if any). */
static enum tc_ct_op_status added_from(struct tc_ct_api *api, const struct tc_ct_entry *entry,
				       const struct tc_sequencer_result *r, struct tc_ct_added *out, char *err,
				       size_t errlen)
{
	if (r->rc == TC_SEQUENCER_FROZEN)
		return fail(TC_CT_OP_FROZEN, err, errlen, "%s", r->err ? r->err : "the log is frozen");
	if (r->rc != 0) {
		tc_warn("submission not logged: %s", r->err ? r->err : "?");
		return fail(TC_CT_OP_UNAVAILABLE, err, errlen, "the log cannot accept entries right now");
	}
	if (r->sct_len > sizeof(out->sct))
		return fail(TC_CT_OP_INTERNAL, err, errlen, "SCT too long");
	if (r->sct_len && r->sct != out->sct)
		memcpy(out->sct, r->sct, r->sct_len);
	out->sct_len = r->sct_len;
	if (out->sct_len == 0) {
		/* the index is the entry's from its durable write on (static-ct-api);
		 * leaf_index_known still says whether a signed tree covers it */
		if (r->leaf_index != UINT64_MAX)
			out->leaf_index = r->leaf_index;
		memcpy(out->parsed.log_id, tc_sequencer_log_id(api->seq), TC_CT_LOG_ID_LEN);
		out->parsed.timestamp = r->timestamp;
		/* no SCT to read the leaf's extensions from: they are the index's */
		if (r->leaf_index != UINT64_MAX && tc_sct_leaf_index_ext(r->leaf_index, out->ext) == 0) {
			out->parsed.extensions = out->ext;
			out->parsed.extensions_len = sizeof(out->ext);
		}
	} else if (tc_ct_parse_sct(out->sct, out->sct_len, &out->parsed) != TC_CT_OK) {
		return fail(TC_CT_OP_INTERNAL, err, errlen, "stored SCT unreadable");
	}
	locate_leaf(api, entry, out);
	return TC_CT_OP_OK;
}

enum tc_ct_op_status tc_ct_op_add_chain(struct tc_ct_api *api, int precert, int log_only,
					unsigned char *const *certs, const size_t *lens, size_t n,
					struct tc_ct_added *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	struct tc_checked_chain cc;
	enum tc_ct_op_status st = admit(api, precert, certs, lens, n, &cc, err, errlen);
	if (st != TC_CT_OP_OK)
		return st;
	char why[256] = "";
	struct tc_sequencer_result r = {.leaf_index = UINT64_MAX, .sct = out->sct};
	r.rc = tc_sequencer_submit(api->seq, &cc.entry, cc.extra, cc.extra_len, !log_only, out->sct, &r.sct_len,
				   &r.timestamp, &r.leaf_index, why, sizeof(why));
	r.err = why;
	st = added_from(api, &cc.entry, &r, out, err, errlen);
	tc_checked_chain_free(&cc);
	return st;
}

/* An add-chain in progress: the checked chain stays until the answer. */
struct add_op {
	struct tc_ct_api *api;
	struct tc_checked_chain cc;
	tc_ct_added_fn done;
	void *arg;
	struct tc_ct_added added;
	char err[256];
};

static void add_submitted(void *arg, const struct tc_sequencer_result *r)
{
	struct add_op *op = arg;
	enum tc_ct_op_status st = added_from(op->api, &op->cc.entry, r, &op->added, op->err, sizeof(op->err));
	op->done(op->arg, st, st == TC_CT_OP_OK ? &op->added : NULL, st == TC_CT_OP_OK ? NULL : op->err);
	tc_checked_chain_free(&op->cc);
	free(op);
}

void tc_ct_op_add_chain_async(struct tc_ct_api *api, int precert, int log_only, unsigned char *const *certs,
			      const size_t *lens, size_t n, tc_ct_added_fn done, void *arg)
{
	struct add_op *op = calloc(1, sizeof(*op));
	if (!op) {
		done(arg, TC_CT_OP_INTERNAL, NULL, "out of memory");
		return;
	}
	op->api = api;
	op->done = done;
	op->arg = arg;
	enum tc_ct_op_status st = admit(api, precert, certs, lens, n, &op->cc, op->err, sizeof(op->err));
	if (st != TC_CT_OP_OK) {
		done(arg, st, NULL, op->err);
		free(op);
		return;
	}
	if (tc_sequencer_submit_async(api->seq, &op->cc.entry, op->cc.extra, op->cc.extra_len, !log_only,
				      add_submitted, op) != 0) {
		tc_checked_chain_free(&op->cc);
		free(op);
		done(arg, TC_CT_OP_UNAVAILABLE, NULL, "the log cannot accept entries right now (out of memory)");
	}
}

enum tc_ct_op_status tc_ct_op_get_sth(struct tc_ct_api *api, struct tc_ct_sth *out, char *err, size_t errlen)
{
	if (tc_ct_store_latest_sth(api->st, out) != TC_CT_STORE_OK)
		return fail(TC_CT_OP_UNAVAILABLE, err, errlen, "no signed tree head yet");
	return TC_CT_OP_OK;
}

enum tc_ct_op_status tc_ct_op_consistency(struct tc_ct_api *api, uint64_t first, uint64_t second,
					  unsigned char (*proof)[TC_MERKLE_HASH_LEN], size_t *len, char *err,
					  size_t errlen)
{
	static const char bounds[] = "need first <= second <= the signed tree size";
	if (first > second)
		return fail(TC_CT_OP_BAD_REQUEST, err, errlen, "%s", bounds);
	if (second > signed_size(api))
		return fail(TC_CT_OP_OUT_OF_RANGE, err, errlen, "%s", bounds);
	int st = tc_ct_store_consistency_proof(api->st, first, second, proof, TC_MERKLE_MAX_PROOF, len);
	if (st != TC_CT_STORE_OK)
		return fail(TC_CT_OP_INTERNAL, err, errlen, "%s", tc_ct_store_strerror(st));
	return TC_CT_OP_OK;
}

enum tc_ct_op_status tc_ct_op_proof_by_hash(struct tc_ct_api *api, const unsigned char hash[TC_MERKLE_HASH_LEN],
					    uint64_t tree_size, uint64_t *index,
					    unsigned char (*proof)[TC_MERKLE_HASH_LEN], size_t *len, char *err,
					    size_t errlen)
{
	static const char bounds[] = "tree_size must be between 1 and the signed tree size";
	if (tree_size == 0)
		return fail(TC_CT_OP_BAD_REQUEST, err, errlen, "%s", bounds);
	if (tree_size > signed_size(api))
		return fail(TC_CT_OP_OUT_OF_RANGE, err, errlen, "%s", bounds);
	int st = tc_ct_store_find_by_hash(api->st, hash, index);
	if (st == TC_CT_STORE_ERR_NOT_FOUND || (st == TC_CT_STORE_OK && *index >= tree_size))
		return fail(TC_CT_OP_NOT_FOUND, err, errlen, "no leaf with that hash in the tree of that size");
	if (st == TC_CT_STORE_OK)
		st = tc_ct_store_inclusion_proof(api->st, *index, tree_size, proof, TC_MERKLE_MAX_PROOF, len);
	if (st != TC_CT_STORE_OK)
		return fail(TC_CT_OP_INTERNAL, err, errlen, "%s", tc_ct_store_strerror(st));
	return TC_CT_OP_OK;
}

enum tc_ct_op_status tc_ct_op_get_entries(struct tc_ct_api *api, uint64_t start, uint64_t end, tc_ct_entry_fn fn,
					  void *ctx, char *err, size_t errlen)
{
	static const char bounds[] = "need start <= end and start below the signed tree size";
	uint64_t size = signed_size(api);
	if (start > end)
		return fail(TC_CT_OP_BAD_REQUEST, err, errlen, "%s", bounds);
	if (start >= size)
		return fail(TC_CT_OP_OUT_OF_RANGE, err, errlen, "%s", bounds);
	if (end >= size)
		end = size - 1;
	if (end - start >= TC_CT_API_MAX_ENTRIES)
		end = start + TC_CT_API_MAX_ENTRIES - 1;
	for (uint64_t i = start; i <= end; i++) {
		struct tc_ct_record rec;
		if (tc_ct_store_get_leaf(api->st, i, &rec) != TC_CT_STORE_OK)
			return fail(TC_CT_OP_INTERNAL, err, errlen, "cannot read the entries");
		int r = fn(ctx, i, &rec);
		tc_ct_record_free(&rec);
		if (r < 0)
			return fail(TC_CT_OP_INTERNAL, err, errlen, "cannot read the entries");
		if (r > 0)
			break;
	}
	return TC_CT_OP_OK;
}

void tc_ct_op_get_roots(struct tc_ct_api *api, const unsigned char **der, size_t *len)
{
	tc_chain_checker_root(api->chk, der, len);
}

enum tc_ct_op_status tc_ct_op_entry_and_proof(struct tc_ct_api *api, uint64_t index, uint64_t tree_size,
					      struct tc_ct_record *rec, unsigned char (*proof)[TC_MERKLE_HASH_LEN],
					      size_t *len, char *err, size_t errlen)
{
	static const char bounds[] = "need leaf_index < tree_size <= the signed tree size";
	if (index >= tree_size)
		return fail(TC_CT_OP_BAD_REQUEST, err, errlen, "%s", bounds);
	if (tree_size > signed_size(api))
		return fail(TC_CT_OP_OUT_OF_RANGE, err, errlen, "%s", bounds);
	int st = tc_ct_store_inclusion_proof(api->st, index, tree_size, proof, TC_MERKLE_MAX_PROOF, len);
	if (st == TC_CT_STORE_OK)
		st = tc_ct_store_get_leaf(api->st, index, rec);
	if (st != TC_CT_STORE_OK)
		return fail(TC_CT_OP_INTERNAL, err, errlen, "%s", tc_ct_store_strerror(st));
	return TC_CT_OP_OK;
}
