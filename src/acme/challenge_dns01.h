/* dns-01 (RFC 8555 section 8.4): some TXT record at
 * _acme-challenge.<identifier> (CNAMEs followed) must equal
 * base64url(SHA-256(key authorization)). Not for ip identifiers (RFC 8738
 * section 7). */
#ifndef TC_ACME_CHALLENGE_DNS01_H
#define TC_ACME_CHALLENGE_DNS01_H

#include <stddef.h>

#include "acme/validator_check.h"

void tc_challenge_dns01(const struct tc_vcheck_cfg *cfg, const struct tc_vrequest *req, int64_t deadline_ms,
			struct tc_vresult *res);

/* base64url without padding of SHA-256(key_authorization): 43 characters. */
int tc_dns01_digest(const char *key_authorization, char out[44]);

#endif
