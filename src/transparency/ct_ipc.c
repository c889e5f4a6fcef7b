#include "transparency/ct_ipc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/ipc_frame.h"
#include "common/ct_shard.h"
#include "common/log.h"
#include "internal/transparency.pb-c.h"
#include "transparency/ct_ipc_server.h"

typedef Trustchain__Internal__Ct__Request Request;
typedef Trustchain__Internal__Ct__Response Response;

/* Room left in a frame for everything but get-entries' entries. */
#define FRAME_SLACK 4096

struct tc_ct_ipc {
	struct tc_ct_ipc_server *srv;
	char bound_path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* unlinked at stop; "" when inherited */
};

/* Everything an answer points to, released after packing. */
struct answer {
	Response resp;
	union {
		Trustchain__Internal__Ct__AddChainResponse add;
		Trustchain__Internal__Ct__GetSthResponse sth;
		Trustchain__Internal__Ct__GetSthConsistencyResponse consistency;
		Trustchain__Internal__Ct__GetProofByHashResponse proof;
		Trustchain__Internal__Ct__GetEntriesResponse entries;
		Trustchain__Internal__Ct__GetRootsResponse roots;
		Trustchain__Internal__Ct__GetEntryAndProofResponse entry;
	} u;
	struct tc_ct_added added;
	struct tc_ct_sth sth_value;
	unsigned char sig[4 + TC_CT_STORE_MAX_SIGNATURE];
	unsigned char proof[TC_MERKLE_MAX_PROOF][TC_MERKLE_HASH_LEN];
	ProtobufCBinaryData path[TC_MERKLE_MAX_PROOF];
	ProtobufCBinaryData root;
	struct tc_ct_record rec;
	int have_rec;
	/* get-entries: copies of the records */
	Trustchain__Internal__Ct__Entry *entry_list;
	Trustchain__Internal__Ct__Entry **entry_ptrs;
	size_t n_entries, entry_bytes;
	char error[256];
	tc_ct_ipc_answer_fn done; /* gets the packed answer */
	void *done_arg;
};

static Trustchain__Internal__Ct__Status wire_status(enum tc_ct_op_status st)
{
	switch (st) {
	case TC_CT_OP_OK:
		return TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_OK;
	case TC_CT_OP_BAD_REQUEST:
		return TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_BAD_REQUEST;
	case TC_CT_OP_OUT_OF_RANGE:
		return TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_OUT_OF_RANGE;
	case TC_CT_OP_NOT_FOUND:
		return TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_NOT_FOUND;
	case TC_CT_OP_UNAVAILABLE:
	case TC_CT_OP_FROZEN: /* the error text says "frozen" */
		return TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_UNAVAILABLE;
	default:
		return TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_ERROR;
	}
}

static int refuse(struct answer *a, enum tc_ct_op_status st)
{
	a->resp.status = wire_status(st);
	a->resp.error = a->error;
	a->resp.result_case = TRUSTCHAIN__INTERNAL__CT__RESPONSE__RESULT__NOT_SET;
	return -1;
}

static void set_path(struct answer *a, size_t len, size_t *n_out, ProtobufCBinaryData **out)
{
	for (size_t i = 0; i < len; i++)
		a->path[i] = (ProtobufCBinaryData){.data = a->proof[i], .len = TC_MERKLE_HASH_LEN};
	*n_out = len;
	*out = a->path;
}

static void send_answer(struct answer *a);

/* The submission's answer, packed while added is valid. */
static void add_done(void *arg, enum tc_ct_op_status st, const struct tc_ct_added *added, const char *err)
{
	struct answer *a = arg;
	if (st != TC_CT_OP_OK) {
		snprintf(a->error, sizeof(a->error), "%s", err ? err : "submission failed");
		refuse(a, st);
		send_answer(a);
		return;
	}
	Trustchain__Internal__Ct__AddChainResponse *r = &a->u.add;
	trustchain__internal__ct__add_chain_response__init(r);
	r->sct = (ProtobufCBinaryData){.data = (uint8_t *)added->sct, .len = added->sct_len};
	r->log_id = (ProtobufCBinaryData){.data = (uint8_t *)added->parsed.log_id, .len = TC_CT_LOG_ID_LEN};
	r->timestamp = added->parsed.timestamp;
	r->leaf_hash = (ProtobufCBinaryData){.data = (uint8_t *)added->leaf_hash, .len = TC_MERKLE_HASH_LEN};
	r->leaf_index_known = added->leaf_index_known;
	r->leaf_index = added->leaf_index;
	a->resp.result_case = TRUSTCHAIN__INTERNAL__CT__RESPONSE__RESULT_ADD_CHAIN;
	a->resp.add_chain = r;
	send_answer(a);
}

/* Starts a submission; its answer is sent by add_done. */
static void op_add(struct tc_ct_api *api, int precert, const Trustchain__Internal__Ct__AddChainRequest *rq,
		   struct answer *a)
{
	unsigned char *certs[TC_CT_API_MAX_CHAIN];
	size_t lens[TC_CT_API_MAX_CHAIN];
	if (rq->n_chain > TC_CT_API_MAX_CHAIN) {
		snprintf(a->error, sizeof(a->error), "chain too long");
		refuse(a, TC_CT_OP_BAD_REQUEST);
		send_answer(a);
		return;
	}
	for (size_t i = 0; i < rq->n_chain; i++) {
		certs[i] = rq->chain[i].data;
		lens[i] = rq->chain[i].len;
	}
	tc_ct_op_add_chain_async(api, precert, rq->log_only, certs, lens, rq->n_chain, add_done, a);
}

static int op_get_sth(struct tc_ct_api *api, struct answer *a)
{
	enum tc_ct_op_status st = tc_ct_op_get_sth(api, &a->sth_value, a->error, sizeof(a->error));
	if (st != TC_CT_OP_OK)
		return refuse(a, st);
	size_t sig_len = 0;
	if (tc_ct_encode_digitally_signed(TC_CT_SIG_ECDSA, a->sth_value.signature, a->sth_value.signature_len, a->sig,
					  sizeof(a->sig), &sig_len) != TC_CT_OK) {
		snprintf(a->error, sizeof(a->error), "stored tree head signature unreadable");
		return refuse(a, TC_CT_OP_INTERNAL);
	}
	Trustchain__Internal__Ct__GetSthResponse *r = &a->u.sth;
	trustchain__internal__ct__get_sth_response__init(r);
	r->tree_size = a->sth_value.tree_size;
	r->timestamp = a->sth_value.timestamp;
	r->sha256_root_hash = (ProtobufCBinaryData){.data = a->sth_value.root, .len = TC_MERKLE_HASH_LEN};
	r->tree_head_signature = (ProtobufCBinaryData){.data = a->sig, .len = sig_len};
	a->resp.result_case = TRUSTCHAIN__INTERNAL__CT__RESPONSE__RESULT_GET_STH;
	a->resp.get_sth = r;
	return 0;
}

static int op_consistency(struct tc_ct_api *api, const Trustchain__Internal__Ct__GetSthConsistencyRequest *rq,
			  struct answer *a)
{
	size_t len = 0;
	enum tc_ct_op_status st =
		tc_ct_op_consistency(api, rq->first, rq->second, a->proof, &len, a->error, sizeof(a->error));
	if (st != TC_CT_OP_OK)
		return refuse(a, st);
	Trustchain__Internal__Ct__GetSthConsistencyResponse *r = &a->u.consistency;
	trustchain__internal__ct__get_sth_consistency_response__init(r);
	set_path(a, len, &r->n_consistency, &r->consistency);
	a->resp.result_case = TRUSTCHAIN__INTERNAL__CT__RESPONSE__RESULT_GET_STH_CONSISTENCY;
	a->resp.get_sth_consistency = r;
	return 0;
}

static int op_proof_by_hash(struct tc_ct_api *api, const Trustchain__Internal__Ct__GetProofByHashRequest *rq,
			    struct answer *a)
{
	if (rq->hash.len != TC_MERKLE_HASH_LEN) {
		snprintf(a->error, sizeof(a->error), "hash must be a 32-byte SHA-256 leaf hash");
		return refuse(a, TC_CT_OP_BAD_REQUEST);
	}
	uint64_t index = 0;
	size_t len = 0;
	enum tc_ct_op_status st = tc_ct_op_proof_by_hash(api, rq->hash.data, rq->tree_size, &index, a->proof, &len,
							 a->error, sizeof(a->error));
	if (st != TC_CT_OP_OK)
		return refuse(a, st);
	Trustchain__Internal__Ct__GetProofByHashResponse *r = &a->u.proof;
	trustchain__internal__ct__get_proof_by_hash_response__init(r);
	r->leaf_index = index;
	set_path(a, len, &r->n_audit_path, &r->audit_path);
	a->resp.result_case = TRUSTCHAIN__INTERNAL__CT__RESPONSE__RESULT_GET_PROOF_BY_HASH;
	a->resp.get_proof_by_hash = r;
	return 0;
}

/* Copies one record into the answer; 1 (stop) once the frame would
 * overflow, so an answer always fits the 1 MiB IPC frame. */
static int collect_entry(void *ctx, uint64_t index, const struct tc_ct_record *rec)
{
	(void)index;
	struct answer *a = ctx;
	size_t need = rec->leaf_len + rec->extra_len + 32;
	if (a->entry_bytes + need > TC_IPC_MAX_FRAME - FRAME_SLACK)
		return a->n_entries ? 1 : -1;
	Trustchain__Internal__Ct__Entry *e = &a->entry_list[a->n_entries];
	trustchain__internal__ct__entry__init(e);
	unsigned char *copy = malloc(rec->leaf_len + rec->extra_len + 1);
	if (!copy)
		return -1;
	memcpy(copy, rec->leaf_input, rec->leaf_len);
	memcpy(copy + rec->leaf_len, rec->extra_data, rec->extra_len);
	e->leaf_input = (ProtobufCBinaryData){.data = copy, .len = rec->leaf_len};
	e->extra_data = (ProtobufCBinaryData){.data = copy + rec->leaf_len, .len = rec->extra_len};
	a->entry_ptrs[a->n_entries++] = e;
	a->entry_bytes += need;
	return 0;
}

static int op_get_entries(struct tc_ct_api *api, const Trustchain__Internal__Ct__GetEntriesRequest *rq,
			  struct answer *a)
{
	a->entry_list = calloc(TC_CT_API_MAX_ENTRIES, sizeof(*a->entry_list));
	a->entry_ptrs = calloc(TC_CT_API_MAX_ENTRIES, sizeof(*a->entry_ptrs));
	if (!a->entry_list || !a->entry_ptrs) {
		snprintf(a->error, sizeof(a->error), "out of memory");
		return refuse(a, TC_CT_OP_INTERNAL);
	}
	enum tc_ct_op_status st =
		tc_ct_op_get_entries(api, rq->start, rq->end, collect_entry, a, a->error, sizeof(a->error));
	if (st != TC_CT_OP_OK)
		return refuse(a, st);
	Trustchain__Internal__Ct__GetEntriesResponse *r = &a->u.entries;
	trustchain__internal__ct__get_entries_response__init(r);
	r->n_entries = a->n_entries;
	r->entries = a->entry_ptrs;
	a->resp.result_case = TRUSTCHAIN__INTERNAL__CT__RESPONSE__RESULT_GET_ENTRIES;
	a->resp.get_entries = r;
	return 0;
}

static int op_get_roots(struct tc_ct_api *api, struct answer *a)
{
	const unsigned char *der;
	size_t len;
	tc_ct_op_get_roots(api, &der, &len);
	a->root = (ProtobufCBinaryData){.data = (uint8_t *)der, .len = len};
	Trustchain__Internal__Ct__GetRootsResponse *r = &a->u.roots;
	trustchain__internal__ct__get_roots_response__init(r);
	r->n_certificates = 1;
	r->certificates = &a->root;
	a->resp.result_case = TRUSTCHAIN__INTERNAL__CT__RESPONSE__RESULT_GET_ROOTS;
	a->resp.get_roots = r;
	return 0;
}

static int op_entry_and_proof(struct tc_ct_api *api, const Trustchain__Internal__Ct__GetEntryAndProofRequest *rq,
			      struct answer *a)
{
	size_t len = 0;
	enum tc_ct_op_status st = tc_ct_op_entry_and_proof(api, rq->leaf_index, rq->tree_size, &a->rec, a->proof,
							   &len, a->error, sizeof(a->error));
	if (st != TC_CT_OP_OK)
		return refuse(a, st);
	a->have_rec = 1;
	Trustchain__Internal__Ct__GetEntryAndProofResponse *r = &a->u.entry;
	trustchain__internal__ct__get_entry_and_proof_response__init(r);
	r->leaf_input = (ProtobufCBinaryData){.data = a->rec.leaf_input, .len = a->rec.leaf_len};
	r->extra_data = (ProtobufCBinaryData){.data = a->rec.extra_data, .len = a->rec.extra_len};
	set_path(a, len, &r->n_audit_path, &r->audit_path);
	a->resp.result_case = TRUSTCHAIN__INTERNAL__CT__RESPONSE__RESULT_GET_ENTRY_AND_PROOF;
	a->resp.get_entry_and_proof = r;
	return 0;
}

/* Runs the request; a submission's answer is sent when it is durable and
 * signed, any other's at once. */
static void dispatch(struct tc_ct_api *api, const Request *rq, struct answer *a)
{
	switch (rq->op_case) {
	case TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_ADD_CHAIN:
		op_add(api, 0, rq->add_chain, a);
		return;
	case TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_ADD_PRE_CHAIN:
		op_add(api, 1, rq->add_pre_chain, a);
		return;
	case TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_GET_STH:
		op_get_sth(api, a);
		break;
	case TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_GET_STH_CONSISTENCY:
		op_consistency(api, rq->get_sth_consistency, a);
		break;
	case TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_GET_PROOF_BY_HASH:
		op_proof_by_hash(api, rq->get_proof_by_hash, a);
		break;
	case TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_GET_ENTRIES:
		op_get_entries(api, rq->get_entries, a);
		break;
	case TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_GET_ROOTS:
		op_get_roots(api, a);
		break;
	case TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_GET_ENTRY_AND_PROOF:
		op_entry_and_proof(api, rq->get_entry_and_proof, a);
		break;
	default:
		snprintf(a->error, sizeof(a->error), "unknown operation");
		refuse(a, TC_CT_OP_BAD_REQUEST);
		break;
	}
	send_answer(a);
}

/* The log a request is for (transparency.proto Request.log): the named
 * temporal shard; without a name the single log, or for a submission the
 * shard whose window holds the certificate's notAfter. NULL (refused in a)
 * when there is none. */
static struct tc_ct_api *pick_log(struct tc_ct_api *api, const Request *rq, struct answer *a)
{
	const char *name = rq->log ? rq->log : "";
	const Trustchain__Internal__Ct__AddChainRequest *add =
		rq->op_case == TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_ADD_CHAIN	   ? rq->add_chain
		: rq->op_case == TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_ADD_PRE_CHAIN ? rq->add_pre_chain
										     : NULL;
	/* a submission without a name goes by its notAfter, never to the
	 * retired single log (unnamed, frozen) that may sit among the shards */
	int by_time = !name[0] && api->all && add && add->n_chain > 0;
	struct tc_ct_api *log = by_time ? NULL : tc_ct_api_route(api, name);
	if (by_time) {
		int64_t na;
		if (tc_cert_not_after(add->chain[0].data, add->chain[0].len, &na) == 0)
			for (size_t i = 0; i < api->n_all && !log; i++)
				if (api->all[i].windowed && na >= api->all[i].not_after_start &&
				    na < api->all[i].not_after_end)
					log = &api->all[i];
		if (!log) {
			snprintf(a->error, sizeof(a->error), "no CT log (ct.logs) takes this certificate's notAfter");
			refuse(a, TC_CT_OP_BAD_REQUEST);
			return NULL;
		}
	}
	if (!log) { /* the log, not a leaf, is what is missing */
		snprintf(a->error, sizeof(a->error), "no such CT log: '%.64s'", name);
		refuse(a, TC_CT_OP_NOT_FOUND);
	}
	return log;
}

static void answer_free(struct answer *a)
{
	if (a->have_rec)
		tc_ct_record_free(&a->rec);
	for (size_t i = 0; i < a->n_entries; i++)
		free(a->entry_list[i].leaf_input.data);
	free(a->entry_list);
	free(a->entry_ptrs);
}

/* Packs a's answer, hands it to its receiver and frees a. */
static void send_answer(struct answer *a)
{
	size_t n = trustchain__internal__ct__response__get_packed_size(&a->resp);
	uint8_t *out = malloc(n ? n : 1);
	size_t out_len = out ? trustchain__internal__ct__response__pack(&a->resp, out) : 0;
	tc_ct_ipc_answer_fn done = a->done;
	void *arg = a->done_arg;
	answer_free(a);
	free(a);
	done(arg, out, out_len);
}

void tc_ct_ipc_handle_async(struct tc_ct_api *api, const uint8_t *req, size_t len, tc_ct_ipc_answer_fn done,
			    void *arg)
{
	Request *rq = trustchain__internal__ct__request__unpack(NULL, len, req);
	/* Large (proof arrays, SCT buffer): on the heap, not a thread's stack. */
	struct answer *a = rq ? calloc(1, sizeof(*a)) : NULL;
	if (!a) {
		if (rq)
			trustchain__internal__ct__request__free_unpacked(rq, NULL);
		done(arg, NULL, 0);
		return;
	}
	a->done = done;
	a->done_arg = arg;
	trustchain__internal__ct__response__init(&a->resp);
	a->resp.id = rq->id;
	struct tc_ct_api *log = pick_log(api, rq, a);
	if (log)
		dispatch(log, rq, a);
	else
		send_answer(a);
	/* a submission took what it needs (the chain is copied when checked) */
	trustchain__internal__ct__request__free_unpacked(rq, NULL);
}

/* tc_ct_ipc_handle waits for its answer here. */
struct sync_answer {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done;
	uint8_t *out;
	size_t out_len;
};

static void sync_answered(void *arg, uint8_t *frame, size_t len)
{
	struct sync_answer *w = arg;
	pthread_mutex_lock(&w->lock);
	w->out = frame;
	w->out_len = len;
	w->done = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

int tc_ct_ipc_handle(struct tc_ct_api *api, const uint8_t *req, size_t len, uint8_t **out, size_t *out_len)
{
	struct sync_answer w = {.done = 0};
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	tc_ct_ipc_handle_async(api, req, len, sync_answered, &w);
	pthread_mutex_lock(&w.lock);
	while (!w.done)
		pthread_cond_wait(&w.cond, &w.lock);
	pthread_mutex_unlock(&w.lock);
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.lock);
	*out = w.out;
	*out_len = w.out_len;
	return w.out ? 0 : -1;
}

static void conn_answered(void *arg, uint8_t *frame, size_t len)
{
	tc_ct_ipc_server_answer(arg, frame, len);
}

static void serve(void *ctx, struct tc_ct_ipc_conn *conn, const uint8_t *req, size_t len)
{
	tc_ct_ipc_handle_async(ctx, req, len, conn_answered, conn);
}

/* Binds a fresh AF_UNIX listener at path (its directory made 0700). */
static int bind_path(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path %s is too long", path);
		return -1;
	}
	char dir[sizeof(sa.sun_path)];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
			return -1;
		}
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* A socket file left by a previous run: the store's lock, taken
	 * before this, guarantees no other log process serves this data dir. */
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	mode_t old = umask(0077);
	int ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(fd, 128) == 0;
	umask(old);
	if (!ok) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int tc_ct_ipc_start(struct tc_ct_api *api, int listen_fd, const char *path, struct tc_ct_ipc **out, char *err,
		    size_t errlen)
{
	struct tc_ct_ipc *ipc = calloc(1, sizeof(*ipc));
	if (!ipc) {
		snprintf(err, errlen, "out of memory");
		if (listen_fd >= 0)
			close(listen_fd);
		return -1;
	}
	if (listen_fd < 0) {
		if ((listen_fd = bind_path(path, err, errlen)) < 0) {
			free(ipc);
			return -1;
		}
		snprintf(ipc->bound_path, sizeof(ipc->bound_path), "%s", path);
	}
	if (!(ipc->srv = tc_ct_ipc_server_start(listen_fd, serve, api, err, errlen))) {
		tc_ct_ipc_stop(ipc);
		return -1;
	}
	*out = ipc;
	return 0;
}

void tc_ct_ipc_stop(struct tc_ct_ipc *ipc)
{
	if (!ipc)
		return;
	tc_ct_ipc_server_stop(ipc->srv);
	if (ipc->bound_path[0])
		unlink(ipc->bound_path);
	free(ipc);
}
