/* Transport security of the gateway's listener: TLS with the gateway's own
 * certificate (issued by our CA at start and renewed while serving, through
 * gRPC's certificate-config fetcher, so no restart is needed) or with an
 * operator's certificate files; client certificates requested and verified
 * when gateway.client_ca_file is set; plaintext only when gateway.tls is
 * false. */
#ifndef TC_GATEWAY_CREDENTIALS_H
#define TC_GATEWAY_CREDENTIALS_H

#include <grpc/grpc_security.h>
#include <stddef.h>

#include "common/config.h"
#include "common/ct_issue.h"

struct tc_gateway_tls;

/* The server credentials for cfg; our own certificate is issued through iss
 * (copied; the links it names must outlive *tls); what gets a description for the ready
 * line and logs. intermediate_pem (the issuing chain) is served after our
 * own certificate; root_pem stands in for the client CA bundle when there
 * is none (gRPC 1.51's reloadable configs must carry one; it is unused when
 * no client certificate is requested). *tls gets the state that must outlive the server (NULL
 * for plaintext). Returns NULL with a reason in err. */
grpc_server_credentials *tc_gateway_credentials(const struct tc_ct_issuer *iss, const struct tc_config *cfg,
						const char *root_pem, const char *intermediate_pem,
						struct tc_gateway_tls **tls, char *what, size_t whatlen, char *err,
						size_t errlen);

/* Renews our own certificate when it is due, or at once when force is set;
 * new handshakes use it, connections open keep theirs. A failed renewal
 * keeps the current certificate and is retried on the next call. Does
 * nothing for plaintext or operator-provided certificates. */
void tc_gateway_tls_tick(struct tc_gateway_tls *tls, int force);

/* After the server has stopped. */
void tc_gateway_tls_free(struct tc_gateway_tls *tls);

#endif
