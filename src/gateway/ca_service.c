/* The CertificateAuthority and Validation methods other than Issue. */
#include "gateway/gateway.h"
#include "trustchain/v1/ca.pb-c.h"

void tc_gateway_get_ca_certificates(void *ctx, const uint8_t *req, size_t len,
				    struct tc_rpc_result *res)
{
	struct tc_gateway *gw = ctx;
	Trustchain__V1__GetCACertificatesRequest *rq =
		trustchain__v1__get_cacertificates_request__unpack(NULL, len, req);
	if (!rq) {
		tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "malformed_request",
			    "undecodable GetCACertificatesRequest");
		return;
	}
	trustchain__v1__get_cacertificates_request__free_unpacked(rq, NULL);
	Trustchain__V1__GetCACertificatesResponse out = TRUSTCHAIN__V1__GET_CACERTIFICATES_RESPONSE__INIT;
	out.root_pem = gw->root_pem;
	out.chain_pem = gw->chain_pem;
	tc_rpc_reply(res, &out.base);
}

/* Revocation needs an authenticated caller who owns the certificate; it is
 * refused until caller authentication lands rather than offered to anyone. */
void tc_gateway_revoke(void *ctx, const uint8_t *req, size_t len, struct tc_rpc_result *res)
{
	tc_rpc_fail(res, GRPC_STATUS_UNIMPLEMENTED, "not_implemented",
		    "Revoke needs caller authentication, which is not available yet");
}

void tc_gateway_validate(void *ctx, const uint8_t *req, size_t len, struct tc_rpc_result *res)
{
	tc_rpc_fail(res, GRPC_STATUS_UNIMPLEMENTED, "not_implemented", "Validate is not implemented yet");
}

const struct tc_rpc_method tc_gateway_methods[] = {
	{"/trustchain.v1.Health/Check", tc_gateway_health_check},
	{"/grpc.health.v1.Health/Check", tc_gateway_health_check},
	{"/trustchain.v1.CertificateAuthority/Issue", tc_gateway_issue},
	{"/trustchain.v1.CertificateAuthority/Revoke", tc_gateway_revoke},
	{"/trustchain.v1.CertificateAuthority/GetCACertificates", tc_gateway_get_ca_certificates},
	{"/trustchain.v1.Validation/Validate", tc_gateway_validate},
};
const size_t tc_gateway_method_count = sizeof(tc_gateway_methods) / sizeof(tc_gateway_methods[0]);
