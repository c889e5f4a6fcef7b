#include "transparency/ct_api.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "transparency/ct_json.h"

struct request {
	struct tc_ct_api *api;
	tc_ct_query_fn query;
	void *query_ctx;
	const char *body;
	size_t body_len;
	tc_ct_reply_fn fn; /* where the reply goes */
	void *arg;
	int started; /* a submission took over: it sends the reply itself */
};

static void fail(struct tc_ct_reply *out, unsigned status, const char *msg)
{
	out->status = status;
	out->body = tc_json_error(msg);
}

/* HTTP status of an operation's refusal. */
static void fail_op(struct tc_ct_reply *out, enum tc_ct_op_status st, const char *msg)
{
	static const unsigned http[] = {
		[TC_CT_OP_OK] = 200,          [TC_CT_OP_BAD_REQUEST] = 400, [TC_CT_OP_OUT_OF_RANGE] = 400,
		[TC_CT_OP_NOT_FOUND] = 404,   [TC_CT_OP_UNAVAILABLE] = 503, [TC_CT_OP_INTERNAL] = 500,
		[TC_CT_OP_FROZEN] = 403, /* not 503: retrying later will not help */
	};
	fail(out, (unsigned)st < sizeof(http) / sizeof(http[0]) ? http[st] : 500, msg);
}

static void reply_json(struct tc_ct_reply *out, json_t *obj)
{
	out->status = 200;
	if (!(out->body = tc_json_take(obj)))
		fail(out, 500, "out of memory");
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

/* A submission in progress: where its reply goes. */
struct add_reply {
	tc_ct_reply_fn fn;
	void *arg;
};

static void add_chain_done(void *arg, enum tc_ct_op_status st, const struct tc_ct_added *added, const char *err)
{
	struct add_reply *ar = arg;
	struct tc_ct_reply out = {0};
	if (st != TC_CT_OP_OK) {
		fail_op(&out, st, err);
	} else {
		const struct tc_ct_sct *sct = &added->parsed;
		reply_json(&out, json_pack("{s:i, s:o, s:I, s:o, s:o}", "sct_version", 0, "id",
					   tc_b64_json(sct->log_id, sizeof(sct->log_id)), "timestamp",
					   (json_int_t)sct->timestamp, "extensions",
					   tc_b64_json(sct->extensions, sct->extensions_len), "signature",
					   b64_digitally_signed(sct->signature, sct->signature_len)));
	}
	tc_ct_reply_fn fn = ar->fn;
	void *fn_arg = ar->arg;
	free(ar);
	fn(fn_arg, &out);
}

/* Decodes the chain and starts the submission (rq->started: its reply
 * comes from add_chain_done), or refuses it in *out. */
static void add_chain(struct request *rq, int precert, struct tc_ct_reply *out)
{
	json_error_t jerr;
	json_t *doc = json_loadb(rq->body ? rq->body : "", rq->body_len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *chain = doc ? json_object_get(doc, "chain") : NULL;
	unsigned char *certs[TC_CT_API_MAX_CHAIN] = {0};
	size_t lens[TC_CT_API_MAX_CHAIN] = {0}, n = 0;
	struct add_reply *ar = NULL;
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
	if (!(ar = malloc(sizeof(*ar)))) {
		fail(out, 500, "out of memory");
		goto done;
	}
	*ar = (struct add_reply){.fn = rq->fn, .arg = rq->arg};
	rq->started = 1;
	/* the chain is copied when checked: certs are freed below */
	tc_ct_op_add_chain_async(rq->api, precert, 0, certs, lens, n, add_chain_done, ar);
done:
	for (size_t i = 0; i < TC_CT_API_MAX_CHAIN; i++)
		free(certs[i]);
	json_decref(doc);
}

/* ---- reads ---- */

static void get_sth(struct request *rq, struct tc_ct_reply *out)
{
	struct tc_ct_sth sth;
	char err[256];
	enum tc_ct_op_status st = tc_ct_op_get_sth(rq->api, &sth, err, sizeof(err));
	if (st != TC_CT_OP_OK) {
		fail_op(out, st, err);
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
	unsigned char proof[TC_MERKLE_MAX_PROOF][TC_MERKLE_HASH_LEN];
	size_t len = 0;
	char err[256];
	enum tc_ct_op_status st = tc_ct_op_consistency(rq->api, first, second, proof, &len, err, sizeof(err));
	if (st != TC_CT_OP_OK) {
		fail_op(out, st, err);
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
	unsigned char proof[TC_MERKLE_MAX_PROOF][TC_MERKLE_HASH_LEN];
	size_t len = 0;
	char err[256];
	enum tc_ct_op_status st =
		tc_ct_op_proof_by_hash(rq->api, hash, tree_size, &index, proof, &len, err, sizeof(err));
	free(hash);
	if (st != TC_CT_OP_OK) {
		fail_op(out, st, err);
		return;
	}
	reply_json(out, json_pack("{s:I, s:o}", "leaf_index", (json_int_t)index, "audit_path",
				  proof_json(proof, len)));
}

static int append_entry(void *ctx, uint64_t index, const struct tc_ct_record *rec)
{
	(void)index;
	json_t *e = json_pack("{s:o, s:o}", "leaf_input", tc_b64_json(rec->leaf_input, rec->leaf_len), "extra_data",
			      tc_b64_json(rec->extra_data, rec->extra_len));
	return e && json_array_append_new(ctx, e) == 0 ? 0 : -1;
}

static void get_entries(struct request *rq, struct tc_ct_reply *out)
{
	uint64_t start, end;
	if (query_u64(rq, "start", &start, out) || query_u64(rq, "end", &end, out))
		return;
	json_t *entries = json_array();
	if (!entries) {
		fail(out, 500, "out of memory");
		return;
	}
	char err[256];
	enum tc_ct_op_status st = tc_ct_op_get_entries(rq->api, start, end, append_entry, entries, err, sizeof(err));
	if (st != TC_CT_OP_OK) {
		json_decref(entries);
		fail_op(out, st, err);
		return;
	}
	reply_json(out, json_pack("{s:o}", "entries", entries));
}

static void get_roots(struct request *rq, struct tc_ct_reply *out)
{
	const unsigned char *der;
	size_t len;
	tc_ct_op_get_roots(rq->api, &der, &len);
	reply_json(out, json_pack("{s:[o]}", "certificates", tc_b64_json(der, len)));
}

static void get_entry_and_proof(struct request *rq, struct tc_ct_reply *out)
{
	uint64_t index, tree_size;
	if (query_u64(rq, "leaf_index", &index, out) || query_u64(rq, "tree_size", &tree_size, out))
		return;
	unsigned char proof[TC_MERKLE_MAX_PROOF][TC_MERKLE_HASH_LEN];
	size_t len = 0;
	struct tc_ct_record rec;
	char err[256];
	enum tc_ct_op_status st =
		tc_ct_op_entry_and_proof(rq->api, index, tree_size, &rec, proof, &len, err, sizeof(err));
	if (st != TC_CT_OP_OK) {
		fail_op(out, st, err);
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

/* Routes the request; 1 when a submission was started (it replies
 * itself), 0 with *out set. */
static int route(struct request *rq, const char *method, const char *path, struct tc_ct_reply *out)
{
	static const char prefix[] = "/ct/v1/";
	memset(out, 0, sizeof(*out));
	if (strncmp(path, prefix, sizeof(prefix) - 1) == 0) {
		const char *name = path + sizeof(prefix) - 1;
		for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
			if (strcmp(name, routes[i].name) != 0)
				continue;
			if (strcmp(method, routes[i].method) != 0) {
				out->allow = routes[i].method;
				fail(out, 405, "method not allowed");
				return 0;
			}
			routes[i].fn(rq, out);
			return rq->started;
		}
	}
	fail(out, 404, "no such endpoint");
	return 0;
}

void tc_ct_api_handle_async(struct tc_ct_api *api, const char *method, const char *path, tc_ct_query_fn query,
			    void *query_ctx, const char *body, size_t body_len, tc_ct_reply_fn fn, void *arg)
{
	struct request rq = {.api = api, .query = query, .query_ctx = query_ctx, .body = body,
			     .body_len = body_len, .fn = fn, .arg = arg};
	struct tc_ct_reply out;
	if (!route(&rq, method, path, &out))
		fn(arg, &out);
}

/* tc_ct_api_handle waits for its reply here. */
struct sync_reply {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done;
	struct tc_ct_reply *out;
};

static void sync_replied(void *arg, struct tc_ct_reply *r)
{
	struct sync_reply *w = arg;
	pthread_mutex_lock(&w->lock);
	*w->out = *r;
	w->done = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

void tc_ct_api_handle(struct tc_ct_api *api, const char *method, const char *path, tc_ct_query_fn query,
		      void *query_ctx, const char *body, size_t body_len, struct tc_ct_reply *out)
{
	struct sync_reply w = {.out = out};
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	tc_ct_api_handle_async(api, method, path, query, query_ctx, body, body_len, sync_replied, &w);
	pthread_mutex_lock(&w.lock);
	while (!w.done)
		pthread_cond_wait(&w.cond, &w.lock);
	pthread_mutex_unlock(&w.lock);
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.lock);
}
