/* The Transparency service (api/trustchain/v1/transparency.proto): each RPC
 * is the CT log's operation of the same name, forwarded over the internal
 * IPC (ct_link.c) to the log its request names (a ct.logs temporal shard;
 * "" the default). The gateway only translates messages and refuses a log
 * name the configuration does not have; the log checks the arguments and
 * answers exactly as its HTTP API does. */
#include <stdlib.h>

#include "common/ct_shard.h"
#include "gateway/ct_link.h"
#include "gateway/gateway.h"
#include "trustchain/v1/transparency.pb-c.h"

typedef Trustchain__Internal__Ct__Request CtRequest;
typedef Trustchain__Internal__Ct__Response CtResponse;

/* Sends req and checks the answer is OK and of kind expected; NULL with res
 * set otherwise. */
static CtResponse *forward(struct tc_gateway *gw, CtRequest *req, Trustchain__Internal__Ct__Response__ResultCase expected,
			   struct tc_rpc_result *res)
{
	char err[256];
	CtResponse *resp = tc_gateway_ct_call(gw, req, TC_GATEWAY_CT_TIMEOUT_MS, err, sizeof(err));
	if (tc_ct_status_to_rpc(resp, err, expected, res) != 0) {
		if (resp)
			trustchain__internal__ct__response__free_unpacked(resp, NULL);
		return NULL;
	}
	return resp;
}

static int malformed(struct tc_rpc_result *res, const char *what)
{
	return tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "malformed_request", "undecodable %s", what);
}

/* Sets ct->log to the log the request names (kept by the caller's request
 * message until the answer): "" passes on as it is (the default log); a
 * name ct.logs does not have is refused here with NOT_FOUND, so the caller
 * learns it is the log, not a leaf, that is missing. A name with a NUL
 * never gets here: rpc_server.c refuses every string field holding one
 * before any handler runs. 0, or -1 with res set. */
static int route(struct tc_gateway *gw, const char *log, CtRequest *ct, struct tc_rpc_result *res)
{
	ct->log = (char *)(log ? log : "");
	if (!ct->log[0])
		return 0;
	struct tc_ct_shard sh[TC_CFG_MAX_CT_LOGS];
	size_t n = gw->cfg->ct.log_count ? tc_ct_shards(gw->cfg, sh) : 0;
	if (tc_ct_shard_find(sh, n, ct->log) < 0)
		return tc_rpc_fail(res, GRPC_STATUS_NOT_FOUND, "ct_log_not_found",
				   "no CT log named '%.64s' (ct.logs: trustchainctl ct loglist lists them)", ct->log);
	return 0;
}

void tc_gateway_ct_get_sth(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req, size_t len,
			   struct tc_rpc_result *res)
{
	(void)caller;
	Trustchain__V1__GetSthRequest *rq = trustchain__v1__get_sth_request__unpack(NULL, len, req);
	if (!rq) {
		malformed(res, "GetSthRequest");
		return;
	}
	CtRequest ct = TRUSTCHAIN__INTERNAL__CT__REQUEST__INIT;
	Trustchain__Internal__Ct__GetSthRequest op = TRUSTCHAIN__INTERNAL__CT__GET_STH_REQUEST__INIT;
	ct.op_case = TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_GET_STH;
	ct.get_sth = &op;
	CtResponse *resp = route(ctx, rq->log, &ct, res) == 0
				   ? forward(ctx, &ct, TRUSTCHAIN__INTERNAL__CT__RESPONSE__RESULT_GET_STH, res)
				   : NULL;
	trustchain__v1__get_sth_request__free_unpacked(rq, NULL);
	if (!resp)
		return;
	const Trustchain__Internal__Ct__GetSthResponse *r = resp->get_sth;
	Trustchain__V1__GetSthResponse out = TRUSTCHAIN__V1__GET_STH_RESPONSE__INIT;
	out.tree_size = r->tree_size;
	out.timestamp = r->timestamp;
	out.sha256_root_hash = r->sha256_root_hash;
	out.tree_head_signature = r->tree_head_signature;
	tc_rpc_reply(res, &out.base);
	trustchain__internal__ct__response__free_unpacked(resp, NULL);
}

void tc_gateway_ct_get_sth_consistency(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req,
				       size_t len, struct tc_rpc_result *res)
{
	(void)caller;
	Trustchain__V1__GetSthConsistencyRequest *rq = trustchain__v1__get_sth_consistency_request__unpack(NULL, len, req);
	if (!rq) {
		malformed(res, "GetSthConsistencyRequest");
		return;
	}
	CtRequest ct = TRUSTCHAIN__INTERNAL__CT__REQUEST__INIT;
	Trustchain__Internal__Ct__GetSthConsistencyRequest op = TRUSTCHAIN__INTERNAL__CT__GET_STH_CONSISTENCY_REQUEST__INIT;
	op.first = rq->first;
	op.second = rq->second;
	ct.op_case = TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_GET_STH_CONSISTENCY;
	ct.get_sth_consistency = &op;
	CtResponse *resp = route(ctx, rq->log, &ct, res) == 0
				   ? forward(ctx, &ct, TRUSTCHAIN__INTERNAL__CT__RESPONSE__RESULT_GET_STH_CONSISTENCY, res)
				   : NULL;
	trustchain__v1__get_sth_consistency_request__free_unpacked(rq, NULL);
	if (!resp)
		return;
	Trustchain__V1__GetSthConsistencyResponse out = TRUSTCHAIN__V1__GET_STH_CONSISTENCY_RESPONSE__INIT;
	out.n_consistency = resp->get_sth_consistency->n_consistency;
	out.consistency = resp->get_sth_consistency->consistency;
	tc_rpc_reply(res, &out.base);
	trustchain__internal__ct__response__free_unpacked(resp, NULL);
}

void tc_gateway_ct_get_proof_by_hash(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req,
				     size_t len, struct tc_rpc_result *res)
{
	(void)caller;
	Trustchain__V1__GetProofByHashRequest *rq = trustchain__v1__get_proof_by_hash_request__unpack(NULL, len, req);
	if (!rq) {
		malformed(res, "GetProofByHashRequest");
		return;
	}
	CtRequest ct = TRUSTCHAIN__INTERNAL__CT__REQUEST__INIT;
	Trustchain__Internal__Ct__GetProofByHashRequest op = TRUSTCHAIN__INTERNAL__CT__GET_PROOF_BY_HASH_REQUEST__INIT;
	op.hash = rq->hash;
	op.tree_size = rq->tree_size;
	ct.op_case = TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_GET_PROOF_BY_HASH;
	ct.get_proof_by_hash = &op;
	CtResponse *resp = route(ctx, rq->log, &ct, res) == 0
				   ? forward(ctx, &ct, TRUSTCHAIN__INTERNAL__CT__RESPONSE__RESULT_GET_PROOF_BY_HASH, res)
				   : NULL;
	trustchain__v1__get_proof_by_hash_request__free_unpacked(rq, NULL);
	if (!resp)
		return;
	Trustchain__V1__GetProofByHashResponse out = TRUSTCHAIN__V1__GET_PROOF_BY_HASH_RESPONSE__INIT;
	out.leaf_index = resp->get_proof_by_hash->leaf_index;
	out.n_audit_path = resp->get_proof_by_hash->n_audit_path;
	out.audit_path = resp->get_proof_by_hash->audit_path;
	tc_rpc_reply(res, &out.base);
	trustchain__internal__ct__response__free_unpacked(resp, NULL);
}

void tc_gateway_ct_get_entries(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req, size_t len,
			       struct tc_rpc_result *res)
{
	(void)caller;
	Trustchain__V1__GetEntriesRequest *rq = trustchain__v1__get_entries_request__unpack(NULL, len, req);
	if (!rq) {
		malformed(res, "GetEntriesRequest");
		return;
	}
	CtRequest ct = TRUSTCHAIN__INTERNAL__CT__REQUEST__INIT;
	Trustchain__Internal__Ct__GetEntriesRequest op = TRUSTCHAIN__INTERNAL__CT__GET_ENTRIES_REQUEST__INIT;
	op.start = rq->start;
	op.end = rq->end;
	ct.op_case = TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_GET_ENTRIES;
	ct.get_entries = &op;
	CtResponse *resp = route(ctx, rq->log, &ct, res) == 0
				   ? forward(ctx, &ct, TRUSTCHAIN__INTERNAL__CT__RESPONSE__RESULT_GET_ENTRIES, res)
				   : NULL;
	trustchain__v1__get_entries_request__free_unpacked(rq, NULL);
	if (!resp)
		return;
	const Trustchain__Internal__Ct__GetEntriesResponse *r = resp->get_entries;
	Trustchain__V1__LogEntry *entries = calloc(r->n_entries ? r->n_entries : 1, sizeof(*entries));
	Trustchain__V1__LogEntry **ptrs = calloc(r->n_entries ? r->n_entries : 1, sizeof(*ptrs));
	if (!entries || !ptrs) {
		tc_rpc_fail(res, GRPC_STATUS_INTERNAL, "internal", "out of memory");
	} else {
		for (size_t i = 0; i < r->n_entries; i++) {
			trustchain__v1__log_entry__init(&entries[i]);
			entries[i].leaf_input = r->entries[i]->leaf_input;
			entries[i].extra_data = r->entries[i]->extra_data;
			ptrs[i] = &entries[i];
		}
		Trustchain__V1__GetEntriesResponse out = TRUSTCHAIN__V1__GET_ENTRIES_RESPONSE__INIT;
		out.n_entries = r->n_entries;
		out.entries = ptrs;
		tc_rpc_reply(res, &out.base);
	}
	free(entries);
	free(ptrs);
	trustchain__internal__ct__response__free_unpacked(resp, NULL);
}

void tc_gateway_ct_get_roots(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req, size_t len,
			     struct tc_rpc_result *res)
{
	(void)caller;
	Trustchain__V1__GetRootsRequest *rq = trustchain__v1__get_roots_request__unpack(NULL, len, req);
	if (!rq) {
		malformed(res, "GetRootsRequest");
		return;
	}
	CtRequest ct = TRUSTCHAIN__INTERNAL__CT__REQUEST__INIT;
	Trustchain__Internal__Ct__GetRootsRequest op = TRUSTCHAIN__INTERNAL__CT__GET_ROOTS_REQUEST__INIT;
	ct.op_case = TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_GET_ROOTS;
	ct.get_roots = &op;
	CtResponse *resp = route(ctx, rq->log, &ct, res) == 0
				   ? forward(ctx, &ct, TRUSTCHAIN__INTERNAL__CT__RESPONSE__RESULT_GET_ROOTS, res)
				   : NULL;
	trustchain__v1__get_roots_request__free_unpacked(rq, NULL);
	if (!resp)
		return;
	Trustchain__V1__GetRootsResponse out = TRUSTCHAIN__V1__GET_ROOTS_RESPONSE__INIT;
	out.n_certificates = resp->get_roots->n_certificates;
	out.certificates = resp->get_roots->certificates;
	tc_rpc_reply(res, &out.base);
	trustchain__internal__ct__response__free_unpacked(resp, NULL);
}

void tc_gateway_ct_get_entry_and_proof(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req,
				       size_t len, struct tc_rpc_result *res)
{
	(void)caller;
	Trustchain__V1__GetEntryAndProofRequest *rq = trustchain__v1__get_entry_and_proof_request__unpack(NULL, len, req);
	if (!rq) {
		malformed(res, "GetEntryAndProofRequest");
		return;
	}
	CtRequest ct = TRUSTCHAIN__INTERNAL__CT__REQUEST__INIT;
	Trustchain__Internal__Ct__GetEntryAndProofRequest op = TRUSTCHAIN__INTERNAL__CT__GET_ENTRY_AND_PROOF_REQUEST__INIT;
	op.leaf_index = rq->leaf_index;
	op.tree_size = rq->tree_size;
	ct.op_case = TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_GET_ENTRY_AND_PROOF;
	ct.get_entry_and_proof = &op;
	CtResponse *resp = route(ctx, rq->log, &ct, res) == 0
				   ? forward(ctx, &ct, TRUSTCHAIN__INTERNAL__CT__RESPONSE__RESULT_GET_ENTRY_AND_PROOF, res)
				   : NULL;
	trustchain__v1__get_entry_and_proof_request__free_unpacked(rq, NULL);
	if (!resp)
		return;
	const Trustchain__Internal__Ct__GetEntryAndProofResponse *r = resp->get_entry_and_proof;
	Trustchain__V1__GetEntryAndProofResponse out = TRUSTCHAIN__V1__GET_ENTRY_AND_PROOF_RESPONSE__INIT;
	out.leaf_input = r->leaf_input;
	out.extra_data = r->extra_data;
	out.n_audit_path = r->n_audit_path;
	out.audit_path = r->audit_path;
	tc_rpc_reply(res, &out.base);
	trustchain__internal__ct__response__free_unpacked(resp, NULL);
}

static void add(struct tc_gateway *gw, int precert, const uint8_t *req, size_t len, struct tc_rpc_result *res)
{
	Trustchain__V1__AddChainRequest *rq = trustchain__v1__add_chain_request__unpack(NULL, len, req);
	if (!rq) {
		malformed(res, "AddChainRequest");
		return;
	}
	CtRequest ct = TRUSTCHAIN__INTERNAL__CT__REQUEST__INIT;
	Trustchain__Internal__Ct__AddChainRequest op = TRUSTCHAIN__INTERNAL__CT__ADD_CHAIN_REQUEST__INIT;
	op.n_chain = rq->n_chain;
	op.chain = rq->chain;
	if (precert) {
		ct.op_case = TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_ADD_PRE_CHAIN;
		ct.add_pre_chain = &op;
	} else {
		ct.op_case = TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_ADD_CHAIN;
		ct.add_chain = &op;
	}
	CtResponse *resp = route(gw, rq->log, &ct, res) == 0
				   ? forward(gw, &ct, TRUSTCHAIN__INTERNAL__CT__RESPONSE__RESULT_ADD_CHAIN, res)
				   : NULL;
	trustchain__v1__add_chain_request__free_unpacked(rq, NULL);
	if (!resp)
		return;
	const Trustchain__Internal__Ct__AddChainResponse *r = resp->add_chain;
	Trustchain__V1__AddChainResponse out = TRUSTCHAIN__V1__ADD_CHAIN_RESPONSE__INIT;
	out.sct = r->sct;
	out.log_id = r->log_id;
	out.timestamp = r->timestamp;
	out.leaf_hash = r->leaf_hash;
	out.leaf_index_known = r->leaf_index_known;
	out.leaf_index = r->leaf_index;
	tc_rpc_reply(res, &out.base);
	trustchain__internal__ct__response__free_unpacked(resp, NULL);
}

void tc_gateway_ct_add_chain(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req, size_t len,
			     struct tc_rpc_result *res)
{
	(void)caller;
	add(ctx, 0, req, len, res);
}

void tc_gateway_ct_add_pre_chain(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req, size_t len,
				 struct tc_rpc_result *res)
{
	(void)caller;
	add(ctx, 1, req, len, res);
}
