/* What an RPC handler sees and returns. Handlers are plain functions from a
 * serialized request to a serialized response or a status; the gRPC
 * plumbing (rpc_server.c) never looks inside messages, and handlers never
 * touch gRPC calls. */
#ifndef TC_GATEWAY_RPC_H
#define TC_GATEWAY_RPC_H

#include <grpc/status.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

/* Trailing metadata key of the machine-readable refusal reason (ca.proto). */
#define TC_RPC_REASON_KEY "trustchain-reason"

struct tc_rpc_result {
	grpc_status_code code;
	char message[512];     /* status details */
	char reason[64];       /* trustchain-reason, "" for none */
	uint8_t *body;         /* malloc'ed serialized response when code is OK */
	size_t body_len;
};

/* Who is calling. The RPC layer fills it from the transport (client
 * certificate or bearer token, see auth.h) before the handler runs; handlers
 * authorise against it and never trust names a request claims for itself. */
struct tc_auth_principal; /* gateway/auth.h: allowed name patterns, rights */
struct tc_rpc_caller {
	char peer[128];                          /* transport address, for logs */
	char identity[256];                      /* "anonymous" until authenticated */
	int authenticated;                       /* 1 when principal is set */
	const struct tc_auth_principal *principal;
};

typedef void (*tc_rpc_handler)(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req,
			       size_t len, struct tc_rpc_result *res);

/* A call whose answer comes later (an asynchronous handler's). */
struct tc_rpc_pending;

/* A handler that does not wait: it reads req (valid during the call only)
 * and starts the work; whoever ends it, on any thread, calls
 * tc_rpc_finish(p, ...) exactly once (possibly before the handler
 * returns). caller stays valid until then. */
typedef void (*tc_rpc_async_handler)(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req,
				     size_t len, struct tc_rpc_pending *p);

/* Sends res (its body is freed here) as the answer of p. */
void tc_rpc_finish(struct tc_rpc_pending *p, struct tc_rpc_result *res);

/* Which workers run a method: the fast pool for handlers that only
 * compute, the backend pool for those that wait on the signer or the CT
 * log. Apart, a slow backend never holds up the fast calls, and the
 * backend pool can be large (many issuances in flight let the signer and
 * the log batch) without crowding CPU-bound calls with threads. */
enum tc_rpc_pool {
	TC_RPC_FAST = 0,
	TC_RPC_BACKEND = 1,
};

struct tc_rpc_method {
	const char *path;      /* "/trustchain.v1.Health/Check" */
	tc_rpc_handler handler;
	enum tc_rpc_pool pool;
	/* The request's message type. Required: the RPC layer walks every
	 * request on the wire against it and refuses a string field holding a
	 * NUL (common/pb_strings.h) before the handler unpacks it, since after
	 * unpacking the string would just look shorter. */
	const ProtobufCMessageDescriptor *request;
	/* When set, runs instead of handler on the fast pool: the call waits
	 * for its answer without holding a thread. */
	tc_rpc_async_handler async;
};

/* trustchain-reason of a request refused because a string field holds a
 * NUL byte: every string of the API is a name of some kind (DNS name, IP
 * address, serial, service), and a name is never cut short. */
#define TC_RPC_REASON_NUL_IN_STRING "name_invalid"

/* Sets a refusal; returns -1 so handlers can `return tc_rpc_fail(...)`. */
int tc_rpc_fail(struct tc_rpc_result *res, grpc_status_code code, const char *reason,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Serializes msg as the OK response; returns 0 (or -1 with INTERNAL set). */
int tc_rpc_reply(struct tc_rpc_result *res, const ProtobufCMessage *msg);

#endif
