/* Turns a signer answer into the gRPC status a caller of the public API
 * gets, classified by the machine-readable reason of the IPC Response
 * (api/internal/signer.proto), never by its message text. */
#ifndef TC_GATEWAY_SIGNER_STATUS_H
#define TC_GATEWAY_SIGNER_STATUS_H

#include "gateway/rpc.h"
#include "internal/signer.pb-c.h"

/* resp may be NULL (transport failure, transport_err says why). Returns 0
 * when resp is OK, else -1 with res set to the refusal. */
int tc_signer_status_to_rpc(const Trustchain__Internal__Response *resp, const char *transport_err,
			    struct tc_rpc_result *res);

#endif
