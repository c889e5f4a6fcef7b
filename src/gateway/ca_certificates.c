/* CertificateAuthority.GetCACertificates: the trust anchors for clients. */
#include <time.h>

#include "gateway/ca_rollover.h"
#include "gateway/gateway.h"
#include "trustchain/v1/ca.pb-c.h"

void tc_gateway_get_ca_certificates(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req,
				    size_t len, struct tc_rpc_result *res)
{
	(void)caller; /* public: the CA certificates are no secret */
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
	/* During a rollover both intermediates, the issuing one first. */
	const struct tc_ca_set *set = tc_ca_rollover_get(gw);
	out.chain_pem = set ? (char *)tc_ca_set_chain(set, time(NULL)) : gw->chain_pem;
	tc_rpc_reply(res, &out.base);
}
