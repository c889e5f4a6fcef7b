/* The gRPC server of the gateway on the C core: two completion queues, each
 * served by its pool of threads (rpc.h: enum tc_rpc_pool), the table's
 * methods registered so each call arrives
 * with its request message, calls requested ahead so new calls are accepted
 * while handlers run, and a small state machine per call (requested ->
 * status sent; an unknown method's call reads its message first). */
#ifndef TC_GATEWAY_RPC_SERVER_H
#define TC_GATEWAY_RPC_SERVER_H

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>

#include "gateway/rpc.h"

/* Largest request message accepted; larger ones get RESOURCE_EXHAUSTED from
 * the transport before any handler sees them. */
#define TC_RPC_MAX_REQUEST (1024 * 1024)

struct tc_rpc_server;

struct tc_auth;

/* What one client connection may hold (gRPC channel arguments). */
struct tc_rpc_conn_limits {
	unsigned max_concurrent_streams; /* calls in flight per connection */
	unsigned max_connection_idle_s;  /* without a call this long: GOAWAY (0: never) */
	unsigned keepalive_s;            /* ping a silent client; no answer in 20 s: dropped */
	unsigned memory_limit_mb;        /* resource quota of every connection's buffers */
	unsigned max_connections;        /* open connections; past it new ones are reset (0: no cap) */
	unsigned max_per_source;         /* open connections from one source (0: an eighth of max_connections) */
	unsigned max_async_in_flight;    /* calls of asynchronous handlers at once; past it RESOURCE_EXHAUSTED (0: 4,096) */
};

/* Binds listen ("host:port") with creds (released here) and limits, starts threads
 * workers for the fast methods and backend_threads for those that wait on
 * the signer or the CT log, serving methods (a table that must outlive the server) with ctx
 * passed to every handler. Each call's caller is authenticated against auth
 * (may be NULL: everyone is anonymous); a call with an invalid bearer token
 * is refused before any handler runs, and so is a request whose string
 * fields hold a NUL (each method names its request type for that; one
 * without fails the start). grpc_init() must have been called.
 * Returns NULL with a reason in err. */
struct tc_rpc_server *tc_rpc_server_start(const char *listen, grpc_server_credentials *creds,
					  const struct tc_auth *auth, const struct tc_rpc_conn_limits *limits,
					  unsigned threads, unsigned backend_threads,
					  const struct tc_rpc_method *methods, size_t n_methods, void *ctx,
					  char *err, size_t errlen);

/* Stops accepting, cancels calls in flight, joins the workers and frees
 * everything. */
void tc_rpc_server_stop(struct tc_rpc_server *s);

#endif
