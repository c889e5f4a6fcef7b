/* Revocation for standard relying parties (issue 14 part 5): plain HTTP
 * on gateway.http_listen, the URLs every certificate names (ca.crl_url,
 * ca.issuer_url, ca.root_crl_url, ca.root_url):
 *   GET /crl/intermediate.crl  the signer's current CRL (DER), asked again
 *                              at most once a second and at once after a
 *                              revocation through this gateway (revoke.c
 *                              bumps gw->crl_generation)
 *   GET /crl/root.crl          the root's CRL from the ceremony (DER)
 *   GET /ca/intermediate.crt   the issuing intermediate (DER)
 *   GET /ca/root.crt           the root (DER)
 * CRLs carry Cache-Control max-age and Expires up to their nextUpdate (and
 * Last-Modified = thisUpdate), certificates an hour's max-age. GET and HEAD
 * only; anything else 404/405. The gateway runs unprivileged and holds no
 * key: everything served is signed by the CA already. libmicrohttpd under
 * http_strict, as the CT log's API. */
#ifndef TC_GATEWAY_CRL_HTTP_H
#define TC_GATEWAY_CRL_HTTP_H

#include <stddef.h>

struct tc_gateway;
struct tc_crl_http;

/* Starts the listener (after tc_gateway_load_ca) unless gateway.http_listen
 * is off (then *out is NULL, 0 returned). addr gets what it listens on.
 * 0, or -1 with err. */
int tc_crl_http_start(struct tc_gateway *gw, struct tc_crl_http **out, char *addr, size_t addrlen, char *err,
		      size_t errlen);
void tc_crl_http_stop(struct tc_crl_http *h);

#endif
