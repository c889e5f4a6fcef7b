/* The gateway's figures per answered gRPC call (issue 14 part 1): calls by
 * method, refusals by reason, issuances, and the Issue and Validate latency
 * histograms. Kept out of the RPC layer so that it stays one call there. */
#ifndef TC_COMMON_METRICS_RPC_H
#define TC_COMMON_METRICS_RPC_H

#include <stddef.h>

/* path: the call's method path ("/trustchain.v1.CertificateAuthority/Issue",
 * len bytes, as the client sent it); ok: answered with status OK; reason:
 * the trustchain-reason of a refusal; seconds: time in the handler. */
void tc_metrics_rpc(const char *path, size_t len, int ok, const char *reason, double seconds);

#endif
