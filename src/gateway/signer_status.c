#include "gateway/signer_status.h"

#include <string.h>

#include "common/log.h"

/* Signer reasons a caller of the public API can act on, with the status
 * they get; any other refusal is policy_refused. */
static const struct {
	const char *reason;
	grpc_status_code code;
} public_reasons[] = {
	{"name_not_permitted", GRPC_STATUS_PERMISSION_DENIED},
	{"validity_exceeds_policy", GRPC_STATUS_INVALID_ARGUMENT},
	{"key_type_not_allowed", GRPC_STATUS_INVALID_ARGUMENT},
	{"name_invalid", GRPC_STATUS_INVALID_ARGUMENT},
	{"serial_invalid", GRPC_STATUS_INVALID_ARGUMENT},
	{"reason_invalid", GRPC_STATUS_INVALID_ARGUMENT},
	{"idempotency_key_reused", GRPC_STATUS_FAILED_PRECONDITION},
};

static int refusal(const char *reason, const char *msg, struct tc_rpc_result *res)
{
	for (size_t i = 0; i < sizeof(public_reasons) / sizeof(public_reasons[0]); i++)
		if (strcmp(reason, public_reasons[i].reason) == 0)
			return tc_rpc_fail(res, public_reasons[i].code, reason, "%s", msg);
	/* Lint before signing (signer/lint.h): the lint's own name. */
	if (strncmp(reason, "lint_", 5) == 0)
		return tc_rpc_fail(res, GRPC_STATUS_FAILED_PRECONDITION, reason, "%s", msg);
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
	const char *reason = resp->reason ? resp->reason : "";
	switch (resp->status) {
	case TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK:
		return 0;
	case TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY:
	case TRUSTCHAIN__INTERNAL__STATUS__STATUS_BAD_REQUEST:
		return refusal(reason, msg, res);
	case TRUSTCHAIN__INTERNAL__STATUS__STATUS_UNAVAILABLE:
		/* journal_unavailable: the signer's audit journal cannot be
		 * written (a full disk); hsm_unavailable: the HSM failed and its
		 * sessions are being recovered. Retrying later succeeds. */
		return tc_rpc_fail(res, GRPC_STATUS_UNAVAILABLE,
				   strcmp(reason, "journal_unavailable") == 0 || strcmp(reason, "hsm_unavailable") == 0 ||
						   strcmp(reason, "idempotency_key_busy") == 0
					   ? reason
					   : "ca_not_provisioned",
				   "%s", msg);
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
