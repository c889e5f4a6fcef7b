/* Health.Check (also served as grpc.health.v1.Health/Check: the messages
 * are wire-compatible). SERVING means the signer answered a ping just now,
 * so a load balancer only sends issuance traffic to gateways that can sign. */
#include <string.h>

#include "common/log.h"
#include "gateway/gateway.h"
#include "trustchain/v1/health.pb-c.h"

static int known_service(const char *name)
{
	static const char *const services[] = {
		"", "trustchain.v1.CertificateAuthority", "trustchain.v1.Validation", "trustchain.v1.Health",
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
		int up = tc_child_ping_signer(gw->child, err, sizeof(err)) == 0;
		if (!up)
			tc_debug("health: signer not answering: %s", err);
		out.status = up ? TRUSTCHAIN__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
				: TRUSTCHAIN__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
	}
	trustchain__v1__health_check_request__free_unpacked(rq, NULL);
	tc_rpc_reply(res, &out.base);
}
