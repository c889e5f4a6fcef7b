#include "gateway/signer_status.h"

#include <string.h>

#include "common/log.h"

static int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int policy_refusal(const char *msg, struct tc_rpc_result *res)
{
	if (starts_with(msg, "name "))
		return tc_rpc_fail(res, GRPC_STATUS_PERMISSION_DENIED, "name_not_permitted", "%s", msg);
	if (starts_with(msg, "validity:") && strstr(msg, "exceeds"))
		return tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "validity_exceeds_policy", "%s", msg);
	if (starts_with(msg, "public key:"))
		return tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "key_type_not_allowed", "%s", msg);
	return tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "policy_refused", "%s", msg);
}

int tc_signer_status_to_rpc(const Trustchain__Internal__Response *resp, const char *transport_err,
			    struct tc_rpc_result *res)
{
	if (!resp) {
		tc_warn("signer call failed: %s", transport_err);
		return tc_rpc_fail(res, GRPC_STATUS_UNAVAILABLE, "signer_unavailable",
				   "the signing service is unavailable, retry later");
	}
	const char *msg = resp->error && *resp->error ? resp->error : "refused";
	switch (resp->status) {
	case TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK:
		return 0;
	case TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY:
		return policy_refusal(msg, res);
	case TRUSTCHAIN__INTERNAL__STATUS__STATUS_BAD_REQUEST:
		return tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "policy_refused", "%s", msg);
	case TRUSTCHAIN__INTERNAL__STATUS__STATUS_UNAVAILABLE:
		return tc_rpc_fail(res, GRPC_STATUS_UNAVAILABLE, "ca_not_provisioned", "%s", msg);
	case TRUSTCHAIN__INTERNAL__STATUS__STATUS_DENIED:
		/* The gateway asked for something outside its capabilities: our
		 * bug or misconfiguration, not the caller's. */
		tc_err("signer denied an operation: %s", msg);
		return tc_rpc_fail(res, GRPC_STATUS_INTERNAL, "internal", "internal error");
	default:
		tc_err("signer error: %s", msg);
		return tc_rpc_fail(res, GRPC_STATUS_INTERNAL, "internal", "internal error");
	}
}
