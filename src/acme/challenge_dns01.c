#include "acme/challenge_dns01.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "resolver/dns_wire.h"

int tc_dns01_digest(const char *key_authorization, char out[44])
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)key_authorization, strlen(key_authorization), d);
	char *b = tc_base64_encode(d, sizeof(d));
	if (!b)
		return -1;
	/* base64 -> base64url (RFC 4648 section 5), padding dropped (RFC 8555
	 * section 6.1): 32 bytes give 43 characters and one '='. */
	size_t n = 0;
	for (const char *p = b; *p && *p != '=' && n < 43; p++)
		out[n++] = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	out[n] = 0;
	free(b);
	return n == 43 ? 0 : -1;
}

void tc_challenge_dns01(const struct tc_vcheck_cfg *cfg, const struct tc_vrequest *req, int64_t deadline_ms,
			struct tc_vresult *res)
{
	if (req->is_ip) {
		tc_vresult_fail(res, "rejectedIdentifier", "dns-01 cannot validate an ip identifier (RFC 8738 section 7)");
		return;
	}
	char expected[44];
	if (tc_dns01_digest(req->key_authorization, expected) != 0) {
		tc_vresult_fail(res, "serverInternal", "cannot compute the key authorization digest");
		return;
	}
	char name[TC_V_MAX_IDENTIFIER + 32];
	snprintf(name, sizeof(name), "_acme-challenge.%s", req->identifier);
	struct tc_vdns_answer *ans = malloc(sizeof(*ans));
	if (!ans) {
		tc_vresult_fail(res, "serverInternal", "out of memory");
		return;
	}
	char why[300];
	enum tc_vdns_status st = tc_vdns_lookup(&cfg->dns, name, TC_DNS_TYPE_TXT, deadline_ms, ans, why, sizeof(why));
	switch (st) {
	case TC_VDNS_OK:
		for (int i = 0; i < ans->n; i++)
			if (ans->rr[i].len == 43 && memcmp(ans->rr[i].data, expected, 43) == 0) {
				res->valid = 1;
				break;
			}
		if (!res->valid)
			tc_vresult_fail(res, "incorrectResponse", "no TXT record at %s matches the key authorization (%d found)",
					name, ans->n);
		break;
	case TC_VDNS_NODATA:
		tc_vresult_fail(res, "incorrectResponse", "%s", why);
		break;
	default:
		tc_vresult_fail(res, "dns", "%s", why);
	}
	free(ans);
}
