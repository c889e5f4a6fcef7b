/* Health.Check (also served as grpc.health.v1.Health/Check: the messages
 * are wire-compatible). SERVING means the signer answered a ping just now
 * (and, for issuance, the CT log too: no certificate without an SCT), so a
 * load balancer only sends issuance traffic to gateways that can issue. */
#include <string.h>

#include "common/log.h"
#include "gateway/ct_link.h"
#include "gateway/gateway.h"
#include "trustchain/v1/health.pb-c.h"

/* 1 when the CT log answers (any answer: reachable is what counts). */
static int ct_log_up(struct tc_gateway *gw)
{
	Trustchain__Internal__Ct__Request req = TRUSTCHAIN__INTERNAL__CT__REQUEST__INIT;
	Trustchain__Internal__Ct__GetRootsRequest roots = TRUSTCHAIN__INTERNAL__CT__GET_ROOTS_REQUEST__INIT;
	req.op_case = TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_GET_ROOTS;
	req.get_roots = &roots;
	char err[256];
	Trustchain__Internal__Ct__Response *resp = tc_gateway_ct_call(gw, &req, 2000, err, sizeof(err));
	if (!resp) {
		tc_debug("health: CT log not answering: %s", err);
		return 0;
	}
	trustchain__internal__ct__response__free_unpacked(resp, NULL);
	return 1;
}

static int known_service(const char *name)
{
	static const char *const services[] = {
		"", "trustchain.v1.CertificateAuthority", "trustchain.v1.Validation", "trustchain.v1.Health",
		"trustchain.v1.Transparency",
	};
	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		if (strcmp(name, services[i]) == 0)
			return 1;
	return 0;
}

void tc_gateway_health_check(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req,
			     size_t len, struct tc_rpc_result *res)
{
	(void)caller; /* health is public */
	struct tc_gateway *gw = ctx;
	Trustchain__V1__HealthCheckRequest *rq = trustchain__v1__health_check_request__unpack(NULL, len, req);
	if (!rq) {
		tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "malformed_request", "undecodable HealthCheckRequest");
		return;
	}
	Trustchain__V1__HealthCheckResponse out = TRUSTCHAIN__V1__HEALTH_CHECK_RESPONSE__INIT;
	if (!known_service(rq->service)) {
		out.status = TRUSTCHAIN__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN;
	} else {
		char err[256];
		int transparency_only = strcmp(rq->service, "trustchain.v1.Transparency") == 0;
		int needs_ct = transparency_only || strcmp(rq->service, "trustchain.v1.Validation") != 0;
		int up = transparency_only || tc_child_ping_signer(gw->child, err, sizeof(err)) == 0;
		if (!up)
			tc_debug("health: signer not answering: %s", err);
		if (up && needs_ct)
			up = ct_log_up(gw);
		out.status = up ? TRUSTCHAIN__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
				: TRUSTCHAIN__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
	}
	trustchain__v1__health_check_request__free_unpacked(rq, NULL);
	tc_rpc_reply(res, &out.base);
}
