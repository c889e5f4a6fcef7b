/* CertificateAuthority.GetCrl: the signer's current CRL (it caches and
 * re-signs it on every revocation and before it grows stale), handed out as
 * DER and PEM (DER only above 1 MiB) with its number and update times. */
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "common/crl_view.h"
#include "common/der_pem.h"
#include "gateway/gateway.h"
#include "gateway/signer_status.h"
#include "trustchain/v1/ca.pb-c.h"

#define SIGNER_TIMEOUT_MS 10000

/* Above this the answer carries the DER only: the PEM copy is a third
 * larger again, and both together passed gRPC's default 4 MiB receive
 * limit at ~30,000 revocations (the chaos soak's GetCrl failed at 52,785:
 * 2.6 MB of DER and 3.5 MB of PEM). */
#define PEM_MAX_DER (1024 * 1024)

static void reply_crl(const Trustchain__Internal__GetCrlResponse *gc, struct tc_rpc_result *res)
{
	struct tc_crl_view v;
	char why[128];
	char *pem = NULL;
	if (tc_crl_view_parse(gc->crl.data, gc->crl.len, &v, why, sizeof(why)) != 0 ||
	    (gc->crl.len <= PEM_MAX_DER && !(pem = tc_der_to_pem(PEM_STRING_X509_CRL, gc->crl.data, gc->crl.len)))) {
		tc_rpc_fail(res, GRPC_STATUS_INTERNAL, "internal", "the signer returned an undecodable CRL");
	} else {
		Trustchain__V1__GetCrlResponse out = TRUSTCHAIN__V1__GET_CRL_RESPONSE__INIT;
		out.crl_der = gc->crl;
		out.crl_pem = pem ? pem : "";
		out.crl_number = gc->crl_number;
		out.this_update = v.this_update;
		out.next_update = v.next_update;
		tc_rpc_reply(res, &out.base);
	}
	free(pem);
}

void tc_gateway_get_crl(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req, size_t len,
			struct tc_rpc_result *res)
{
	struct tc_gateway *gw = ctx;
	(void)caller;
	Trustchain__V1__GetCrlRequest *rq = trustchain__v1__get_crl_request__unpack(NULL, len, req);
	if (!rq) {
		tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "malformed_request", "undecodable GetCrlRequest");
		return;
	}
	trustchain__v1__get_crl_request__free_unpacked(rq, NULL);
	Trustchain__Internal__Request sreq = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__GetCrlRequest gc = TRUSTCHAIN__INTERNAL__GET_CRL_REQUEST__INIT;
	sreq.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_GET_CRL;
	sreq.get_crl = &gc;
	char err[256];
	Trustchain__Internal__Response *resp = tc_child_signer_call(gw->child, &sreq, SIGNER_TIMEOUT_MS, err, sizeof(err));
	if (tc_signer_status_to_rpc(resp, err, res) == 0) {
		if (resp->result_case != TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_GET_CRL)
			tc_rpc_fail(res, GRPC_STATUS_INTERNAL, "internal", "the signer answered another operation");
		else
			reply_crl(resp->get_crl, res);
	}
	if (resp)
		trustchain__internal__response__free_unpacked(resp, NULL);
}
