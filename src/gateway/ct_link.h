/* The gateway's calls to the CT log (transparency process) and how their
 * failures look to a caller of the public API. */
#ifndef TC_GATEWAY_CT_LINK_H
#define TC_GATEWAY_CT_LINK_H

#include "gateway/gateway.h"
#include "internal/transparency.pb-c.h"

/* How long a call to the log may take: an add-(pre-)chain waits for a
 * synced write and a signature from the signer. */
#define TC_GATEWAY_CT_TIMEOUT_MS 10000

/* Calls the log; NULL when it is unreachable or silent for timeout_ms
 * (err says why). */
Trustchain__Internal__Ct__Response *tc_gateway_ct_call(struct tc_gateway *gw, Trustchain__Internal__Ct__Request *req,
						       int timeout_ms, char *err, size_t errlen);

/* resp may be NULL (transport failure, transport_err says why). Returns 0
 * when resp is OK with a result of kind expected, else -1 with res set:
 * unreachable / unavailable -> UNAVAILABLE ct_unavailable, bad request ->
 * INVALID_ARGUMENT ct_invalid_argument, out of range -> OUT_OF_RANGE
 * ct_out_of_range, not found -> NOT_FOUND ct_not_found. */
int tc_ct_status_to_rpc(const Trustchain__Internal__Ct__Response *resp, const char *transport_err,
			Trustchain__Internal__Ct__Response__ResultCase expected, struct tc_rpc_result *res);

#endif
