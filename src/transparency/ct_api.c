#include "transparency/ct_api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/base64.h"
#include "transparency/ct_json.h"

struct request {
	struct tc_ct_api *api;
	tc_ct_query_fn query;
	void *query_ctx;
	const char *body;
	size_t body_len;
};

static void fail(struct tc_ct_reply *out, unsigned status, const char *msg)
{
	out->status = status;
	out->body = tc_json_error(msg);
}

static void reply_json(struct tc_ct_reply *out, json_t *obj)
{
	out->status = 200;
	if (!(out->body = tc_json_take(obj)))
		fail(out, 500, "out of memory");
}

/* Size of the newest signed tree head: the bound of every read. */
static uint64_t signed_size(struct tc_ct_api *api)
{
	struct tc_ct_sth sth;
	return tc_ct_store_latest_sth(api->st, &sth) == TC_CT_STORE_OK ? sth.tree_size : 0;
}

static int query_u64(struct request *rq, const char *name, uint64_t *v, struct tc_ct_reply *out)
{
	if (tc_parse_u64(rq->query(rq->query_ctx, name), v) == 0)
		return 0;
	char msg[96];
	snprintf(msg, sizeof(msg), "parameter %s missing or not a non-negative integer", name);
	fail(out, 400, msg);
	return -1;
}

static json_t *b64_digitally_signed(const unsigned char *sig, size_t sig_len)
{
	unsigned char buf[4 + TC_CT_STORE_MAX_SIGNATURE];
	size_t len = 0;
	if (tc_ct_encode_digitally_signed(TC_CT_SIG_ECDSA, sig, sig_len, buf, sizeof(buf), &len) != TC_CT_OK)
		return NULL;
	return tc_b64_json(buf, len);
}

static json_t *proof_json(const unsigned char (*proof)[TC_MERKLE_HASH_LEN], size_t len)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < len; i++)
		if (json_array_append_new(a, tc_b64_json(proof[i], TC_MERKLE_HASH_LEN)) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* ---- submissions ---- */

static void add_chain(struct request *rq, int precert, struct tc_ct_reply *out)
{
	json_error_t jerr;
	json_t *doc = json_loadb(rq->body ? rq->body : "", rq->body_len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *chain = doc ? json_object_get(doc, "chain") : NULL;
	unsigned char *certs[TC_CT_API_MAX_CHAIN] = {0};
	size_t lens[TC_CT_API_MAX_CHAIN] = {0}, n = 0;
	if (!doc) {
		char msg[256];
		snprintf(msg, sizeof(msg), "malformed JSON: %s", jerr.text);
		fail(out, 400, msg);
		goto done;
	}
	if (!json_is_array(chain) || json_array_size(chain) == 0) {
		fail(out, 400, "\"chain\" must be a non-empty array of base64 certificates");
		goto done;
	}
	if (json_array_size(chain) > TC_CT_API_MAX_CHAIN) {
		fail(out, 400, "chain too long");
		goto done;
	}
	for (n = 0; n < json_array_size(chain); n++) {
		const char *text = json_string_value(json_array_get(chain, n));
		if (!text || tc_base64_decode(text, &certs[n], &lens[n]) != 0) {
			char msg[64];
			snprintf(msg, sizeof(msg), "chain[%zu] is not valid base64", n);
			fail(out, 400, msg);
			goto done;
		}
	}
	char err[256];
	struct tc_checked_chain cc;
	if (tc_chain_check(rq->api->chk, precert, certs, lens, n, &cc, err, sizeof(err)) != 0) {
		fail(out, 400, err);
		goto done;
	}
	unsigned char sct_bytes[TC_SCT_MAX_LEN];
	size_t sct_len = 0;
	struct tc_ct_sct sct;
	if (tc_sequencer_submit(rq->api->seq, &cc.entry, cc.extra, cc.extra_len, sct_bytes, &sct_len, err,
				sizeof(err)) != 0) {
		tc_warn("submission not logged: %s", err);
		fail(out, 503, "the log cannot accept entries right now");
	} else if (tc_ct_parse_sct(sct_bytes, sct_len, &sct) != TC_CT_OK) {
		fail(out, 500, "stored SCT unreadable");
	} else {
		reply_json(out, json_pack("{s:i, s:o, s:I, s:s, s:o}", "sct_version", 0, "id",
					  tc_b64_json(sct.log_id, sizeof(sct.log_id)), "timestamp",
					  (json_int_t)sct.timestamp, "extensions", "", "signature",
					  b64_digitally_signed(sct.signature, sct.signature_len)));
	}
	tc_checked_chain_free(&cc);
done:
	for (size_t i = 0; i < TC_CT_API_MAX_CHAIN; i++)
		free(certs[i]);
	json_decref(doc);
}

/* ---- reads ---- */

static void get_sth(struct request *rq, struct tc_ct_reply *out)
{
	struct tc_ct_sth sth;
	if (tc_ct_store_latest_sth(rq->api->st, &sth) != TC_CT_STORE_OK) {
		fail(out, 503, "no signed tree head yet");
		return;
	}
	reply_json(out, json_pack("{s:I, s:I, s:o, s:o}", "tree_size", (json_int_t)sth.tree_size, "timestamp",
				  (json_int_t)sth.timestamp, "sha256_root_hash",
				  tc_b64_json(sth.root, sizeof(sth.root)), "tree_head_signature",
				  b64_digitally_signed(sth.signature, sth.signature_len)));
}

static void get_sth_consistency(struct request *rq, struct tc_ct_reply *out)
{
	uint64_t first, second;
	if (query_u64(rq, "first", &first, out) || query_u64(rq, "second", &second, out))
		return;
	if (first > second || second > signed_size(rq->api)) {
		fail(out, 400, "need first <= second <= the signed tree size");
		return;
	}
	unsigned char proof[TC_MERKLE_MAX_PROOF][TC_MERKLE_HASH_LEN];
	size_t len = 0;
	int st = tc_ct_store_consistency_proof(rq->api->st, first, second, proof, TC_MERKLE_MAX_PROOF, &len);
	if (st != TC_CT_STORE_OK) {
		fail(out, 500, tc_ct_store_strerror(st));
		return;
	}
	reply_json(out, json_pack("{s:o}", "consistency", proof_json(proof, len)));
}

static void get_proof_by_hash(struct request *rq, struct tc_ct_reply *out)
{
	uint64_t tree_size, index;
	if (query_u64(rq, "tree_size", &tree_size, out))
		return;
	const char *hash_text = rq->query(rq->query_ctx, "hash");
	char fixed[64];
	unsigned char *hash = NULL;
	size_t hash_len = 0;
	/* A '+' left unescaped in a query arrives as a space. */
	if (hash_text && strlen(hash_text) < sizeof(fixed)) {
		snprintf(fixed, sizeof(fixed), "%s", hash_text);
		for (char *p = fixed; *p; p++)
			if (*p == ' ')
				*p = '+';
	}
	if (!hash_text || strlen(hash_text) >= sizeof(fixed) || tc_base64_decode(fixed, &hash, &hash_len) != 0 ||
	    hash_len != TC_MERKLE_HASH_LEN) {
		free(hash);
		fail(out, 400, "hash must be a base64 SHA-256 leaf hash");
		return;
	}
	if (tree_size == 0 || tree_size > signed_size(rq->api)) {
		free(hash);
		fail(out, 400, "tree_size must be between 1 and the signed tree size");
		return;
	}
	int st = tc_ct_store_find_by_hash(rq->api->st, hash, &index);
	free(hash);
	if (st == TC_CT_STORE_ERR_NOT_FOUND || (st == TC_CT_STORE_OK && index >= tree_size)) {
		fail(out, 404, "no leaf with that hash in the tree of that size");
		return;
	}
	unsigned char proof[TC_MERKLE_MAX_PROOF][TC_MERKLE_HASH_LEN];
	size_t len = 0;
	if (st == TC_CT_STORE_OK)
		st = tc_ct_store_inclusion_proof(rq->api->st, index, tree_size, proof, TC_MERKLE_MAX_PROOF, &len);
	if (st != TC_CT_STORE_OK) {
		fail(out, 500, tc_ct_store_strerror(st));
		return;
	}
	reply_json(out, json_pack("{s:I, s:o}", "leaf_index", (json_int_t)index, "audit_path",
				  proof_json(proof, len)));
}

static json_t *entry_json(struct tc_ct_api *api, uint64_t index)
{
	struct tc_ct_record rec;
	if (tc_ct_store_get_leaf(api->st, index, &rec) != TC_CT_STORE_OK)
		return NULL;
	json_t *e = json_pack("{s:o, s:o}", "leaf_input", tc_b64_json(rec.leaf_input, rec.leaf_len), "extra_data",
			      tc_b64_json(rec.extra_data, rec.extra_len));
	tc_ct_record_free(&rec);
	return e;
}

static void get_entries(struct request *rq, struct tc_ct_reply *out)
{
	uint64_t start, end, size = signed_size(rq->api);
	if (query_u64(rq, "start", &start, out) || query_u64(rq, "end", &end, out))
		return;
	if (start > end || start >= size) {
		fail(out, 400, "need start <= end and start below the signed tree size");
		return;
	}
	if (end >= size)
		end = size - 1;
	if (end - start >= TC_CT_API_MAX_ENTRIES)
		end = start + TC_CT_API_MAX_ENTRIES - 1;
	json_t *entries = json_array();
	for (uint64_t i = start; entries && i <= end; i++) {
		json_t *e = entry_json(rq->api, i);
		if (!e || json_array_append_new(entries, e) != 0) {
			json_decref(entries);
			fail(out, 500, "cannot read the entries");
			return;
		}
	}
	reply_json(out, json_pack("{s:o}", "entries", entries));
}

static void get_roots(struct request *rq, struct tc_ct_reply *out)
{
	const unsigned char *der;
	size_t len;
	tc_chain_checker_root(rq->api->chk, &der, &len);
	reply_json(out, json_pack("{s:[o]}", "certificates", tc_b64_json(der, len)));
}

static void get_entry_and_proof(struct request *rq, struct tc_ct_reply *out)
{
	uint64_t index, tree_size;
	if (query_u64(rq, "leaf_index", &index, out) || query_u64(rq, "tree_size", &tree_size, out))
		return;
	if (index >= tree_size || tree_size > signed_size(rq->api)) {
		fail(out, 400, "need leaf_index < tree_size <= the signed tree size");
		return;
	}
	unsigned char proof[TC_MERKLE_MAX_PROOF][TC_MERKLE_HASH_LEN];
	size_t len = 0;
	struct tc_ct_record rec;
	int st = tc_ct_store_inclusion_proof(rq->api->st, index, tree_size, proof, TC_MERKLE_MAX_PROOF, &len);
	if (st == TC_CT_STORE_OK)
		st = tc_ct_store_get_leaf(rq->api->st, index, &rec);
	if (st != TC_CT_STORE_OK) {
		fail(out, 500, tc_ct_store_strerror(st));
		return;
	}
	reply_json(out, json_pack("{s:o, s:o, s:o}", "leaf_input", tc_b64_json(rec.leaf_input, rec.leaf_len),
				  "extra_data", tc_b64_json(rec.extra_data, rec.extra_len), "audit_path",
				  proof_json(proof, len)));
	tc_ct_record_free(&rec);
}

/* ---- routing ---- */

static void add_x509_chain(struct request *rq, struct tc_ct_reply *out) { add_chain(rq, 0, out); }
static void add_pre_chain(struct request *rq, struct tc_ct_reply *out) { add_chain(rq, 1, out); }

static const struct route {
	const char *name;
	const char *method;
	void (*fn)(struct request *, struct tc_ct_reply *);
} routes[] = {
	{"add-chain", "POST", add_x509_chain},
	{"add-pre-chain", "POST", add_pre_chain},
	{"get-sth", "GET", get_sth},
	{"get-sth-consistency", "GET", get_sth_consistency},
	{"get-proof-by-hash", "GET", get_proof_by_hash},
	{"get-entries", "GET", get_entries},
	{"get-roots", "GET", get_roots},
	{"get-entry-and-proof", "GET", get_entry_and_proof},
};

void tc_ct_api_handle(struct tc_ct_api *api, const char *method, const char *path, tc_ct_query_fn query,
		      void *query_ctx, const char *body, size_t body_len, struct tc_ct_reply *out)
{
	static const char prefix[] = "/ct/v1/";
	memset(out, 0, sizeof(*out));
	struct request rq = {.api = api, .query = query, .query_ctx = query_ctx, .body = body,
			     .body_len = body_len};
	if (strncmp(path, prefix, sizeof(prefix) - 1) == 0) {
		const char *name = path + sizeof(prefix) - 1;
		for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
			if (strcmp(name, routes[i].name) != 0)
				continue;
			if (strcmp(method, routes[i].method) != 0) {
				out->allow = routes[i].method;
				fail(out, 405, "method not allowed");
				return;
			}
			routes[i].fn(&rq, out);
			return;
		}
	}
	fail(out, 404, "no such endpoint");
}
