/* CertificateAuthority.Revoke. */
#include "gateway/gateway.h"

/* Revocation needs an authenticated caller who owns the certificate; it is
 * refused until caller authentication lands rather than offered to anyone. */
void tc_gateway_revoke(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req, size_t len,
		       struct tc_rpc_result *res)
{
	(void)ctx, (void)caller, (void)req, (void)len;
	tc_rpc_fail(res, GRPC_STATUS_UNIMPLEMENTED, "not_implemented",
		    "Revoke needs caller authentication, which is not available yet");
}
