/* An accept-side cap on the gateway's gRPC connections.
 *
 * gRPC core 1.51 has no limit on incoming connections (the channel argument
 * grpc.max_allowed_incoming_connections came in later releases), and its
 * resource quota does not account for the TLS state of an idle connection
 * (~71 KiB each, Release): 10,000 idle TLS connections cost ~728 MB. This
 * cap sees every accepted socket before gRPC starts its handshake, counts
 * the connections still open, and past the cap resets the new one at once:
 * the client gets a reset connection (gRPC: UNAVAILABLE), retries with
 * backoff, and is served once others have closed. A second cap applies
 * per source (an IPv4 address, an IPv6 /64), so a flood from one address
 * cannot fill the first one and shut every other client out. */
#ifndef TC_GATEWAY_CONN_CAP_H
#define TC_GATEWAY_CONN_CAP_H

#include <grpc/grpc.h>

#include <stdint.h>

struct tc_conn_cap;

/* A cap of max connections (0: no cap, NULL returned with err empty), and
 * of per_source from one source (0: max / 8, at least 8). On success
 * fills *arg with the channel argument to pass to
 * grpc_server_create; the caller then drops its reference with
 * tc_conn_cap_unref (gRPC keeps its own). NULL with err set: refused (the
 * gRPC library is not the release whose internal socket hook this uses). */
struct tc_conn_cap *tc_conn_cap_new(unsigned max, unsigned per_source, grpc_arg *arg, char *err, size_t errlen);
void tc_conn_cap_unref(struct tc_conn_cap *cap);

/* Connections refused so far, for either cap (for logs and tests). */
uint64_t tc_conn_cap_refused(const struct tc_conn_cap *cap);

#endif
