/* trustchain-acme's link to the CA: a libtrustchain client of the gateway's
 * gRPC API with the bearer token the supervisor hands over (TC_FD_GATEWAY_TOKEN,
 * a sealed memfd; standalone: the file named by TC_ACME_GATEWAY_TOKEN_FILE).
 * Address, roots and TLS name follow the lead's contract: gateway.listen
 * with a wildcard host replaced by loopback, <data_dir>/ca/root.pem, the
 * connect host when it is one of the gateway's certificate names, else the
 * first of them; plaintext when gateway.tls is false. */
#ifndef TC_ACME_CA_LINK_H
#define TC_ACME_CA_LINK_H

#include <stddef.h>

#include "common/config.h"

struct tc_client;

/* Reads the token (once; the fd is closed) into out. 0, or -1 with err.
 * The token is never logged. */
int tc_acme_read_token(char *out, size_t outlen, char *err, size_t errlen);

/* Opens the client. NULL with err. */
struct tc_client *tc_acme_ca_open(const struct tc_config *cfg, const char *token, char *err, size_t errlen);

#endif
