#include "gateway/rpc_server.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/metrics_proc.h"
#include "common/metrics_rpc.h"
#include "common/pb_strings.h"
#include "gateway/auth.h"
#include "gateway/conn_cap.h"

/* Calls of unknown methods requested ahead (they are only refused). */
#define GENERIC_CALLS_AHEAD 4
#define MAX_WORKERS 64
/* Methods of the table are registered with the core, which then delivers
 * each call with its request message already read: one completion per call
 * instead of two (call, then message). Anything else arrives as a generic
 * call and is refused as unknown. */
#define MAX_METHODS 32
#define GENERIC -1
/* Calls of asynchronous handlers (rpc.h) in flight at once unless the
 * limits say (gateway.max_inflight_issues); beyond, a call is refused
 * RESOURCE_EXHAUSTED at once with retry advice rather than queued without
 * bound in the signer's and the log's links. */
#define DEFAULT_MAX_ASYNC_IN_FLIGHT 4096
/* How long a stop waits for asynchronous calls to end (their IPC steps
 * time out by themselves; a log that is away is waited for 10 s). */
#define ASYNC_DRAIN_MS 25000

enum call_state {
	CALL_REQUESTED,     /* waiting for a client to start a call */
	CALL_READING,       /* waiting for the request message */
	CALL_FINISHING,     /* response and status sent, waiting for close */
};

/* Every completion-queue tag starts with this, so a worker can tell a call
 * from the server's shutdown notification. */
struct tag {
	int is_shutdown;
};

struct rpc_call {
	struct tag tag;
	struct tc_rpc_server *srv;
	enum call_state state;
	grpc_call *call;
	int method;                 /* index in the table, or GENERIC */
	gpr_timespec deadline;      /* registered calls */
	grpc_call_details details;  /* generic calls */
	grpc_metadata_array request_md;
	grpc_byte_buffer *request;
	grpc_byte_buffer *response;
	grpc_slice status_details;
	grpc_metadata trailing;
	int has_trailing;
	int cancelled;
	struct tc_rpc_caller caller;
	double t0; /* when its handler started, for the latency metric */
};

/* One completion queue and the threads that serve it (rpc.h: enum
 * tc_rpc_pool). */
struct pool {
	struct tc_rpc_server *srv;
	grpc_completion_queue *cq;
	pthread_t workers[MAX_WORKERS];
	unsigned n_workers;
};

struct tc_rpc_server {
	grpc_server *server;
	struct pool pools[2];
	const struct tc_rpc_method *methods;
	size_t n_methods;
	void *registered[MAX_METHODS];
	void *ctx;
	const struct tc_auth *auth;
	atomic_int stopping;
	atomic_int async_in_flight;
	int max_async_in_flight;
	struct tag shutdown_tag;
};

static void call_free(struct rpc_call *c)
{
	if (c->call)
		grpc_call_unref(c->call);
	grpc_call_details_destroy(&c->details);
	grpc_metadata_array_destroy(&c->request_md);
	if (c->request)
		grpc_byte_buffer_destroy(c->request);
	if (c->response)
		grpc_byte_buffer_destroy(c->response);
	grpc_slice_unref(c->status_details);
	if (c->has_trailing) {
		grpc_slice_unref(c->trailing.key);
		grpc_slice_unref(c->trailing.value);
	}
	free(c);
}

/* Asks the server for the next incoming call of method (an index in the
 * table, or GENERIC for a path outside it). */
static void request_call(struct tc_rpc_server *s, int method)
{
	if (atomic_load(&s->stopping))
		return;
	struct rpc_call *c = calloc(1, sizeof(*c));
	if (!c) {
		tc_err("out of memory requesting a call");
		return;
	}
	c->srv = s;
	c->state = CALL_REQUESTED;
	c->method = method;
	c->status_details = grpc_empty_slice();
	grpc_call_details_init(&c->details);
	grpc_metadata_array_init(&c->request_md);
	grpc_completion_queue *cq = s->pools[method == GENERIC ? TC_RPC_FAST : s->methods[method].pool].cq;
	grpc_call_error e = method == GENERIC
				    ? grpc_server_request_call(s->server, &c->call, &c->details, &c->request_md, cq,
							       cq, c)
				    : grpc_server_request_registered_call(s->server, s->registered[method], &c->call,
									  &c->deadline, &c->request_md, &c->request,
									  cq, cq, c);
	if (e != GRPC_CALL_OK) {
		tc_err("grpc_server_request_call: %s", grpc_call_error_to_string(e));
		call_free(c);
	}
}

static const struct tc_rpc_method *find_method(struct tc_rpc_server *s, grpc_slice path)
{
	for (size_t i = 0; i < s->n_methods; i++)
		if (grpc_slice_str_cmp(path, s->methods[i].path) == 0)
			return &s->methods[i];
	return NULL;
}

#define MAX_CERT_IDS 8
#define AUTHORIZATION_KEY "authorization"

/* Copies the values of the auth context's properties called name. */
static size_t property_values(const grpc_auth_context *ctx, const char *name, char ids[][256], size_t max)
{
	size_t n = 0;
	grpc_auth_property_iterator it = grpc_auth_context_find_properties_by_name(ctx, name);
	const grpc_auth_property *p;
	while (n < max && (p = grpc_auth_property_iterator_next(&it)) != NULL) {
		if (p->value_length == 0 || p->value_length >= 256 || memchr(p->value, 0, p->value_length))
			continue;
		memcpy(ids[n], p->value, p->value_length);
		ids[n][p->value_length] = '\0';
		n++;
	}
	return n;
}

/* Who is calling: the bearer token in the request metadata, else the
 * client certificate TLS verified (its DNS subjectAltNames, or its CN). */
static enum tc_auth_outcome identify(struct rpc_call *c)
{
	struct tc_rpc_caller *caller = &c->caller;
	char *peer = grpc_call_get_peer(c->call);
	snprintf(caller->peer, sizeof(caller->peer), "%s", peer ? peer : "?");
	gpr_free(peer);
	const char *authz = NULL;
	size_t authz_len = 0;
	for (size_t i = 0; i < c->request_md.count; i++) {
		if (grpc_slice_str_cmp(c->request_md.metadata[i].key, AUTHORIZATION_KEY) != 0)
			continue;
		if (authz) /* two credentials: which one counts would be a guess */
			return TC_AUTH_INVALID_TOKEN;
		authz = (const char *)GRPC_SLICE_START_PTR(c->request_md.metadata[i].value);
		authz_len = GRPC_SLICE_LENGTH(c->request_md.metadata[i].value);
	}
	char ids[MAX_CERT_IDS][256];
	const char *id_ptrs[MAX_CERT_IDS];
	size_t n_ids = 0;
	grpc_auth_context *ctx = grpc_call_auth_context(c->call);
	if (ctx && grpc_auth_context_peer_is_authenticated(ctx)) {
		n_ids = property_values(ctx, GRPC_PEER_DNS_PROPERTY_NAME, ids, MAX_CERT_IDS);
		if (n_ids == 0)
			n_ids = property_values(ctx, GRPC_X509_CN_PROPERTY_NAME, ids, MAX_CERT_IDS);
	}
	grpc_auth_context_release(ctx);
	for (size_t i = 0; i < n_ids; i++)
		id_ptrs[i] = ids[i];
	enum tc_auth_outcome o = tc_auth_authenticate(c->srv->auth, authz, authz_len, id_ptrs, n_ids, caller);
	if (o == TC_AUTH_ANONYMOUS && n_ids > 0)
		snprintf(caller->identity, sizeof(caller->identity), "anonymous (certificate %.180s is in no "
			 "gateway.clients_file line)", ids[0]);
	return o;
}

/* The method's full path, for logs. */
static const char *call_path(const struct rpc_call *c, int *len)
{
	if (c->method != GENERIC) {
		*len = (int)strlen(c->srv->methods[c->method].path);
		return c->srv->methods[c->method].path;
	}
	*len = (int)GRPC_SLICE_LENGTH(c->details.method);
	return (const char *)GRPC_SLICE_START_PTR(c->details.method);
}

/* Refuses a request whose string fields are not what protobuf-c will make
 * of them: one holding a NUL would reach the handler cut at the NUL
 * ("a.example\0.evil.com" as "a.example"). A message the walk cannot read
 * is refused too rather than handed on unchecked. Returns 0 when the
 * handler may run. */
static int check_strings(const struct tc_rpc_method *m, const uint8_t *msg, size_t len, struct tc_rpc_result *res)
{
	struct tc_pb_strings_where where;
	switch (tc_pb_strings_check(m->request, msg, len, &where)) {
	case TC_PB_STRINGS_OK:
		return 0;
	case TC_PB_STRINGS_NUL:
		return tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, TC_RPC_REASON_NUL_IN_STRING,
				   "%s.%s holds a NUL byte: names are compared in full, never cut at a NUL",
				   where.message->short_name, where.field->name);
	case TC_PB_STRINGS_MALFORMED:
		break;
	}
	return tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "malformed_request", "undecodable %s",
			   m->request->short_name);
}

static void finish(struct rpc_call *c, struct tc_rpc_result *res);

/* Hands the checked request to an asynchronous handler (it owns the call
 * until tc_rpc_finish), or refuses it when too many are in flight. */
static void start_async(struct rpc_call *c, const struct tc_rpc_method *m, const uint8_t *msg, size_t len,
			struct tc_rpc_result *res)
{
	struct tc_rpc_server *s = c->srv;
	if (atomic_load(&s->stopping)) {
		tc_rpc_fail(res, GRPC_STATUS_UNAVAILABLE, "shutting_down", "the gateway is stopping, retry");
		finish(c, res);
		return;
	}
	if (atomic_fetch_add(&s->async_in_flight, 1) >= s->max_async_in_flight) {
		atomic_fetch_sub(&s->async_in_flight, 1);
		tc_rpc_fail(res, GRPC_STATUS_RESOURCE_EXHAUSTED, "overloaded",
			    "%d calls of this kind are in flight; retry after a short back-off",
			    s->max_async_in_flight);
		finish(c, res);
		return;
	}
	m->async(s->ctx, &c->caller, msg, len, (struct tc_rpc_pending *)c);
}

void tc_rpc_finish(struct tc_rpc_pending *p, struct tc_rpc_result *res)
{
	struct rpc_call *c = (struct rpc_call *)p;
	struct tc_rpc_server *s = c->srv;
	finish(c, res);
	/* Last: a stop waiting for this count may free the server. */
	atomic_fetch_sub(&s->async_in_flight, 1);
}

/* Runs the handler on the request; fills res. Returns 1 when an
 * asynchronous handler took the call (it answers it later). */
static int handle(struct rpc_call *c, struct tc_rpc_result *res)
{
	const struct tc_rpc_method *m =
		c->method != GENERIC ? &c->srv->methods[c->method] : find_method(c->srv, c->details.method);
	if (!m)
		return tc_rpc_fail(res, GRPC_STATUS_UNIMPLEMENTED, "unknown_method", "unknown method"), 0;
	if (identify(c) == TC_AUTH_INVALID_TOKEN) {
		/* A wrong credential is refused whatever the method: an
		 * anonymous call would be allowed less, never more. */
		tc_rpc_fail(res, GRPC_STATUS_UNAUTHENTICATED, "invalid_token",
			    "the bearer token is malformed or unknown");
		return 0;
	}
	if (!c->request)
		return tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "malformed_request",
				   "the call carried no request message"), 0;
	grpc_byte_buffer_reader reader;
	if (!grpc_byte_buffer_reader_init(&reader, c->request))
		return tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "malformed_request",
				   "cannot read the request message"), 0;
	grpc_slice all = grpc_byte_buffer_reader_readall(&reader);
	grpc_byte_buffer_reader_destroy(&reader);
	int taken = 0;
	if (check_strings(m, GRPC_SLICE_START_PTR(all), GRPC_SLICE_LENGTH(all), res) == 0) {
		if (m->async) {
			start_async(c, m, GRPC_SLICE_START_PTR(all), GRPC_SLICE_LENGTH(all), res);
			taken = 1;
		} else {
			m->handler(c->srv->ctx, &c->caller, GRPC_SLICE_START_PTR(all), GRPC_SLICE_LENGTH(all), res);
		}
	}
	grpc_slice_unref(all);
	return taken;
}

/* Sends the response (if OK), the status with its reason, and waits for
 * the client's close in the same batch. */
static int send_result(struct rpc_call *c, struct tc_rpc_result *res)
{
	grpc_op ops[4];
	size_t n = 0;
	memset(ops, 0, sizeof(ops));
	ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
	if (res->code == GRPC_STATUS_OK) {
		grpc_slice body = grpc_slice_from_copied_buffer((const char *)res->body, res->body_len);
		c->response = grpc_raw_byte_buffer_create(&body, 1);
		grpc_slice_unref(body);
		ops[n].op = GRPC_OP_SEND_MESSAGE;
		ops[n++].data.send_message.send_message = c->response;
	}
	ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
	ops[n].data.send_status_from_server.status = res->code;
	if (res->code != GRPC_STATUS_OK) {
		c->status_details = grpc_slice_from_copied_string(res->message);
		ops[n].data.send_status_from_server.status_details = &c->status_details;
	}
	if (res->reason[0]) {
		c->trailing.key = grpc_slice_from_static_string(TC_RPC_REASON_KEY);
		c->trailing.value = grpc_slice_from_copied_string(res->reason);
		c->has_trailing = 1;
		ops[n].data.send_status_from_server.trailing_metadata = &c->trailing;
		ops[n].data.send_status_from_server.trailing_metadata_count = 1;
	}
	n++;
	ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
	ops[n++].data.recv_close_on_server.cancelled = &c->cancelled;
	c->state = CALL_FINISHING;
	grpc_call_error e = grpc_call_start_batch(c->call, ops, n, c, NULL);
	if (e != GRPC_CALL_OK) {
		tc_warn("cannot send a response: %s", grpc_call_error_to_string(e));
		return -1;
	}
	return 0;
}

/* Refusals at info (without tokens: the caller's principal name at most),
 * successes at debug. */
static void log_call(struct rpc_call *c, const struct tc_rpc_result *res)
{
	enum tc_log_level lvl = res->code == GRPC_STATUS_OK ? TC_LOG_DEBUG : TC_LOG_INFO;
	if (tc_log_get_level() < lvl)
		return;
	int path_len;
	const char *path = call_path(c, &path_len);
	char method[256], code[16];
	snprintf(method, sizeof(method), "%.*s", path_len, path);
	snprintf(code, sizeof(code), "%d", (int)res->code);
	/* Stable event names for alerting (README "Operating"). */
	const char *event = res->code == GRPC_STATUS_OK                  ? "rpc_ok"
			    : res->code == GRPC_STATUS_UNAUTHENTICATED     ? "auth_failure"
			    : res->code == GRPC_STATUS_PERMISSION_DENIED   ? "policy_violation"
									   : "rpc_refused";
	tc_log_event(lvl, event,
		     TC_KV("peer", c->caller.peer, "identity", c->caller.identity, "method", method, "code", code,
			   "reason", res->reason),
		     "%s %s %.*s -> %d%s%s%s%s", c->caller.peer[0] ? c->caller.peer : "?",
		     c->caller.identity[0] ? c->caller.identity : "-", path_len, path, res->code,
		     res->reason[0] ? " " : "", res->reason, res->message[0] ? ": " : "", res->message);
}

/* Counts, logs and sends a call's result; frees its body. */
static void finish(struct rpc_call *c, struct tc_rpc_result *res)
{
	int path_len;
	const char *path = call_path(c, &path_len);
	tc_metrics_rpc(path, (size_t)path_len, res->code == GRPC_STATUS_OK, res->reason, tc_pm_now() - c->t0);
	log_call(c, res);
	int sent = send_result(c, res);
	free(res->body);
	res->body = NULL;
	if (sent != 0)
		call_free(c);
}

/* Runs the handler and sends its result (an asynchronous handler's
 * later). */
static void answer(struct rpc_call *c)
{
	struct tc_rpc_result res;
	memset(&res, 0, sizeof(res));
	c->t0 = tc_pm_now();
	if (!handle(c, &res))
		finish(c, &res);
}

/* Advances one call by one completion. */
static void step(struct rpc_call *c, int ok)
{
	switch (c->state) {
	case CALL_REQUESTED: {
		if (!ok) { /* the server is shutting down */
			call_free(c);
			return;
		}
		request_call(c->srv, c->method);
		if (c->method != GENERIC) { /* the request came with the call */
			answer(c);
			return;
		}
		grpc_op op;
		memset(&op, 0, sizeof(op));
		op.op = GRPC_OP_RECV_MESSAGE;
		op.data.recv_message.recv_message = &c->request;
		c->state = CALL_READING;
		if (grpc_call_start_batch(c->call, &op, 1, c, NULL) != GRPC_CALL_OK)
			call_free(c);
		return;
	}
	case CALL_READING: {
		if (!ok) {
			/* The transport failed the read (cancelled, or the message
			 * exceeded the size cap: the core has already sent the
			 * client RESOURCE_EXHAUSTED). Nothing more to say. */
			call_free(c);
			return;
		}
		answer(c);
		return;
	}
	case CALL_FINISHING:
		call_free(c);
		return;
	}
}

/* Serves a queue until it is shut down. The server's shutdown notification
 * arrives on the fast queue once every call is done or cancelled: then
 * both queues are shut down and their workers drain out. */
static void serve(struct tc_rpc_server *s, grpc_completion_queue *cq, int stopping)
{
	for (;;) {
		grpc_event ev = grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
		if (ev.type == GRPC_QUEUE_SHUTDOWN)
			break;
		if (ev.type != GRPC_OP_COMPLETE)
			continue;
		struct tag *t = ev.tag;
		if (t->is_shutdown) {
			for (int i = 0; i < 2; i++)
				grpc_completion_queue_shutdown(s->pools[i].cq);
			continue;
		}
		/* Drained by tc_rpc_server_stop (the pool had no worker): a
		 * call only ends. */
		step((struct rpc_call *)t, stopping ? 0 : ev.success);
	}
}

static void *worker_main(void *arg)
{
	struct pool *p = arg;
	serve(p->srv, p->cq, 0);
	return NULL;
}

/* Queues that never started serving: shut down and emptied. */
static void destroy_queues(struct tc_rpc_server *s)
{
	for (int i = 0; i < 2; i++) {
		grpc_completion_queue_shutdown(s->pools[i].cq);
		while (grpc_completion_queue_next(s->pools[i].cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
		       GRPC_QUEUE_SHUTDOWN)
			;
		grpc_completion_queue_destroy(s->pools[i].cq);
	}
}

struct tc_rpc_server *tc_rpc_server_start(const char *listen, grpc_server_credentials *creds,
					  const struct tc_auth *auth, const struct tc_rpc_conn_limits *limits,
					  unsigned threads, unsigned backend_threads,
					  const struct tc_rpc_method *methods, size_t n_methods, void *ctx,
					  char *err, size_t errlen)
{
	for (size_t i = 0; i < n_methods; i++)
		if (!methods[i].request) { /* its strings could not be checked */
			grpc_server_credentials_release(creds);
			snprintf(err, errlen, "method %s declares no request type", methods[i].path);
			return NULL;
		}
	struct tc_rpc_server *s = calloc(1, sizeof(*s));
	if (!s) {
		grpc_server_credentials_release(creds);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->methods = methods;
	s->n_methods = n_methods;
	s->ctx = ctx;
	s->auth = auth;
	s->shutdown_tag.is_shutdown = 1;
	s->max_async_in_flight = limits->max_async_in_flight && limits->max_async_in_flight <= INT_MAX / 2
					 ? (int)limits->max_async_in_flight
					 : DEFAULT_MAX_ASYNC_IN_FLIGHT;
	unsigned pool_threads[2] = {threads, backend_threads};
	for (int i = 0; i < 2; i++) {
		if (pool_threads[i] < 1)
			pool_threads[i] = 1;
		if (pool_threads[i] > MAX_WORKERS)
			pool_threads[i] = MAX_WORKERS;
	}

	/* Idle connections are bounded in time (closed after max_connection_idle_s
	 * without a call, dead peers found by keepalive pings) and their
	 * buffers in memory (a resource quota: gRPC shrinks its reads under
	 * pressure instead of growing without end). */
	grpc_resource_quota *quota = grpc_resource_quota_create("gateway");
	grpc_resource_quota_resize(quota, (size_t)limits->memory_limit_mb << 20);
	const struct {
		const char *key;
		int value;
	} ints[] = {
		{GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, TC_RPC_MAX_REQUEST},
		{GRPC_ARG_MAX_CONCURRENT_STREAMS, (int)limits->max_concurrent_streams},
		{GRPC_ARG_MAX_CONNECTION_IDLE_MS,
		 limits->max_connection_idle_s ? (int)(limits->max_connection_idle_s * 1000) : INT_MAX},
		{GRPC_ARG_KEEPALIVE_TIME_MS, (int)(limits->keepalive_s * 1000)},
		{GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20000},
		/* Clients may ping as often as the keepalive we announce. */
		{GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000},
	};
	enum { N_INTS = sizeof(ints) / sizeof(ints[0]) };
	grpc_arg args[N_INTS + 2];
	memset(args, 0, sizeof(args));
	for (size_t i = 0; i < N_INTS; i++) {
		args[i].type = GRPC_ARG_INTEGER;
		args[i].key = (char *)ints[i].key;
		args[i].value.integer = ints[i].value;
	}
	args[N_INTS].type = GRPC_ARG_POINTER;
	args[N_INTS].key = (char *)GRPC_ARG_RESOURCE_QUOTA;
	args[N_INTS].value.pointer.p = quota;
	args[N_INTS].value.pointer.vtable = grpc_resource_quota_arg_vtable();
	grpc_channel_args chargs = {.num_args = N_INTS + 1, .args = args};
	/* The quota does not bound a connection's TLS state: a cap on accept
	 * does (conn_cap.h). */
	struct tc_conn_cap *cap =
		tc_conn_cap_new(limits->max_connections, limits->max_per_source, &args[N_INTS + 1], err, errlen);
	if (!cap && err[0]) {
		grpc_resource_quota_unref(quota);
		grpc_server_credentials_release(creds);
		free(s);
		return NULL;
	}
	if (cap)
		chargs.num_args++;

	s->server = grpc_server_create(&chargs, NULL);
	grpc_resource_quota_unref(quota); /* the server holds its own reference */
	tc_conn_cap_unref(cap);
	/* Only the fast pool's threads poll the sockets: the backend pool's
	 * mostly wait on the signer or the log, and as pollers too they would
	 * take turns at every socket event (measured: more context switches
	 * per call). Its queue still gets its calls' completions. */
	static const grpc_completion_queue_attributes backend_attr = {GRPC_CQ_CURRENT_VERSION, GRPC_CQ_NEXT,
								      GRPC_CQ_NON_POLLING, NULL};
	for (int i = 0; i < 2; i++) {
		s->pools[i].srv = s;
		s->pools[i].cq = i == TC_RPC_BACKEND ? grpc_completion_queue_create(
							       grpc_completion_queue_factory_lookup(&backend_attr),
							       &backend_attr, NULL)
						     : grpc_completion_queue_create_for_next(NULL);
		grpc_server_register_completion_queue(s->server, s->pools[i].cq, NULL);
	}
	int registered = n_methods <= MAX_METHODS;
	for (size_t i = 0; registered && i < n_methods; i++)
		registered = (s->registered[i] = grpc_server_register_method(
				      s->server, methods[i].path, NULL, GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0)) != NULL;
	int port = registered ? grpc_server_add_http2_port(s->server, listen, creds) : 0;
	grpc_server_credentials_release(creds);
	if (port <= 0) {
		snprintf(err, errlen, registered ? "cannot listen on %s" : "cannot register the methods for %s", listen);
		grpc_server_destroy(s->server);
		destroy_queues(s);
		free(s);
		return NULL;
	}
	grpc_server_start(s->server);
	/* Each method can have a call in hand for every worker; a burst beyond
	 * that waits in the core until a worker takes the next one. */
	for (size_t m = 0; m < n_methods; m++)
		for (unsigned i = 0; i < pool_threads[methods[m].pool]; i++)
			request_call(s, (int)m);
	for (unsigned i = 0; i < GENERIC_CALLS_AHEAD; i++)
		request_call(s, GENERIC);
	for (int p = 0; p < 2; p++)
		for (unsigned i = 0; i < pool_threads[p]; i++) {
			struct pool *pl = &s->pools[p];
			if (pthread_create(&pl->workers[pl->n_workers], NULL, worker_main, pl) != 0)
				break;
			pl->n_workers++;
		}
	if (s->pools[0].n_workers == 0 || s->pools[1].n_workers == 0) {
		snprintf(err, errlen, "cannot start worker threads");
		tc_rpc_server_stop(s);
		return NULL;
	}
	return s;
}

void tc_rpc_server_stop(struct tc_rpc_server *s)
{
	if (!s)
		return;
	atomic_store(&s->stopping, 1);
	/* Asynchronous calls still hold their gRPC calls: they end first (new
	 * ones are refused from now on), while the queues still serve. */
	for (int waited = 0; atomic_load(&s->async_in_flight) > 0 && waited < ASYNC_DRAIN_MS; waited += 10) {
		struct timespec ts = {0, 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
	if (atomic_load(&s->async_in_flight) > 0)
		tc_warn("stopping with %d asynchronous calls still in flight", atomic_load(&s->async_in_flight));
	grpc_server_shutdown_and_notify(s->server, s->pools[TC_RPC_FAST].cq, &s->shutdown_tag);
	/* Calls in flight are cancelled rather than waited for: a client
	 * retries, and a stop must not hang on a slow peer. */
	grpc_server_cancel_all_calls(s->server);
	/* A pool without workers (start failed) is drained here, the fast one
	 * first: the notification that shuts both down arrives there. */
	for (int p = 0; p < 2; p++)
		if (s->pools[p].n_workers == 0)
			serve(s, s->pools[p].cq, 1);
	for (int p = 0; p < 2; p++) {
		for (unsigned i = 0; i < s->pools[p].n_workers; i++)
			pthread_join(s->pools[p].workers[i], NULL);
	}
	grpc_server_destroy(s->server);
	for (int p = 0; p < 2; p++)
		grpc_completion_queue_destroy(s->pools[p].cq);
	free(s);
}
