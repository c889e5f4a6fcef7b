/* Transport security of the gateway's listener. */
#ifndef TC_GATEWAY_CREDENTIALS_H
#define TC_GATEWAY_CREDENTIALS_H

#include <grpc/grpc_security.h>

#include "common/config.h"

/* The server credentials for cfg; what says what they are ("plaintext",
 * ...). Returns NULL with a reason in err. The next step issues the
 * gateway's own certificate from our CA at start (a key generated in
 * memory, a CSR through the same path as Issue) and serves TLS with it,
 * requesting client certificates when gateway.client_ca_file is set. */
grpc_server_credentials *tc_gateway_credentials(const struct tc_config *cfg, const char **what,
						char *err, size_t errlen);

#endif
