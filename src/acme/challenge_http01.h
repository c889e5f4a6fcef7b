/* http-01 (RFC 8555 section 8.3) with libcurl: GET
 * http://<identifier>:<http_port>/.well-known/acme-challenge/<token>, the
 * body (trailing whitespace ignored) must equal the key authorization.
 * Every connection goes to an address we resolved and the target policy
 * allowed (curl never resolves or picks an address itself); redirects are
 * followed by hand, at most max_redirects, only to http on port 80 or
 * http_port and https on 443 or tls_port (certificates not verified, as
 * Let's Encrypt); at most max_response_bytes of a body are read (a larger
 * Content-Length is refused before the body). */
#ifndef TC_ACME_CHALLENGE_HTTP01_H
#define TC_ACME_CHALLENGE_HTTP01_H

#include "acme/validator_check.h"

void tc_challenge_http01(const struct tc_vcheck_cfg *cfg, const struct tc_vrequest *req, int64_t deadline_ms,
			 struct tc_vresult *res);

#endif
