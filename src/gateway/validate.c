/* Validation.Validate: the STOQ trust decision. */
#include "gateway/gateway.h"

void tc_gateway_validate(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req, size_t len,
			 struct tc_rpc_result *res)
{
	(void)ctx, (void)caller, (void)req, (void)len;
	tc_rpc_fail(res, GRPC_STATUS_UNIMPLEMENTED, "not_implemented", "Validate is not implemented yet");
}
