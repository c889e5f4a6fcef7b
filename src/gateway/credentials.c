#include "gateway/credentials.h"

#include <stdio.h>

#include "common/log.h"

grpc_server_credentials *tc_gateway_credentials(const struct tc_config *cfg, const char **what,
						char *err, size_t errlen)
{
	if (cfg->gateway.client_ca_file[0]) {
		snprintf(err, errlen, "gateway.client_ca_file is set but mTLS is not implemented yet");
		return NULL;
	}
	if (!cfg->dev)
		tc_warn("TLS is not implemented yet: the gRPC API is served in plaintext");
	*what = "plaintext";
	return grpc_insecure_server_credentials_create();
}
