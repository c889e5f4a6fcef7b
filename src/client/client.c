#include <grpc/grpc_security.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"
#include "trustchain/v1/health.pb-c.h"

struct tc_client *tc_client_open(const char *target, char *err, size_t errlen)
{
	if (!target || !*target) {
		snprintf(err, errlen, "no target given");
		return NULL;
	}
	struct tc_client *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* grpc_init/grpc_shutdown are reference counted, so several clients
	 * (and a server in the same process) can coexist. */
	grpc_init();
	grpc_channel_credentials *creds = grpc_insecure_credentials_create();
	c->channel = grpc_channel_create(target, creds, NULL);
	grpc_channel_credentials_release(creds);
	if (!c->channel) {
		snprintf(err, errlen, "cannot create a channel to %s", target);
		free(c);
		grpc_shutdown();
		return NULL;
	}
	c->timeout_ms = 30000;
	return c;
}

void tc_client_close(struct tc_client *c)
{
	if (!c)
		return;
	grpc_channel_destroy(c->channel);
	free(c);
	grpc_shutdown();
}

void tc_client_set_timeout(struct tc_client *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
}

int tc_health_check(struct tc_client *c, const char *service, enum tc_health *out,
		    struct tc_status *st)
{
	Trustchain__V1__HealthCheckRequest rq = TRUSTCHAIN__V1__HEALTH_CHECK_REQUEST__INIT;
	rq.service = (char *)(service ? service : "");
	unsigned char *buf;
	size_t len;
	if (tc_unary_call(c, "/trustchain.v1.Health/Check", &rq.base, &buf, &len, st) != 0)
		return -1;
	Trustchain__V1__HealthCheckResponse *resp =
		trustchain__v1__health_check_response__unpack(NULL, len, buf);
	free(buf);
	if (!resp) {
		tc_status_set(st, GRPC_STATUS_INTERNAL, "malformed_response", "undecodable HealthCheckResponse");
		return -1;
	}
	*out = (enum tc_health)resp->status;
	trustchain__v1__health_check_response__free_unpacked(resp, NULL);
	return 0;
}
