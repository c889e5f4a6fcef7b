/* Turns a signer answer into the gRPC status a caller of the public API
 * gets. The signer's policy refusals are classified by the stable prefixes
 * of its messages (policy.c); a structured reason code in the IPC Response
 * would be sturdier and is the planned follow-up. */
#ifndef TC_GATEWAY_SIGNER_STATUS_H
#define TC_GATEWAY_SIGNER_STATUS_H

#include "gateway/rpc.h"
#include "internal/signer.pb-c.h"

/* resp may be NULL (transport failure, transport_err says why). Returns 0
 * when resp is OK, else -1 with res set to the refusal. */
int tc_signer_status_to_rpc(const Trustchain__Internal__Response *resp, const char *transport_err,
			    struct tc_rpc_result *res);

#endif
