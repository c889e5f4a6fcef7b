/* ACME Renewal Information (RFC 9773): GET <renewalInfo>/<certID>, where
 * certID is base64url(keyIdentifier of the AKI) "." base64url(serial
 * contents). The suggested window opens at two thirds of the validity and
 * closes at five sixths; for a revoked certificate it is now. Retry-After
 * tells clients when to ask again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/acme_handlers.h"
#include "acme/acme_store.h"
#include "acme/b64url.h"
#include "acme/cert_info.h"
#include "acme/problem.h"
#include "common/hex.h"

#define RETRY_AFTER_S 21600 /* six hours, RFC 9773's example */

static int decode_hex(const char *text, size_t len, char *hex, size_t hexcap)
{
	unsigned char *raw = NULL;
	size_t rl = 0;
	if (tc_b64url_decode(text, len, &raw, &rl) != 0 || rl == 0 || 2 * rl + 1 > hexcap) {
		free(raw);
		return -1;
	}
	tc_hex_encode(raw, rl, hex);
	free(raw);
	return 0;
}

int tc_acme_h_renewal_info(struct tc_acme *a, const char *id, struct tc_acme_resp *r)
{
	const char *dot = strchr(id, '.');
	char aki[129], serial[TC_ACME_SERIAL_HEX_MAX + 1];
	if (!dot || decode_hex(id, (size_t)(dot - id), aki, sizeof(aki)) != 0 ||
	    decode_hex(dot + 1, strlen(dot + 1), serial, sizeof(serial)) != 0)
		return tc_acme_problem(r, "malformed", 0, NULL, "certID must be base64url(AKI).base64url(serial)");
	json_t *rec = tc_acme_store_get(a->store, 'C', serial);
	const char *have = rec ? json_string_value(json_object_get(rec, "aki")) : NULL;
	if (!rec || !have || (have[0] && strcmp(have, aki) != 0)) {
		json_decref(rec);
		return tc_acme_problem(r, "malformed", 404, NULL, "no certificate with that certID here");
	}
	time_t nb = (time_t)json_integer_value(json_object_get(rec, "not_before"));
	time_t na = (time_t)json_integer_value(json_object_get(rec, "not_after"));
	time_t start = nb + (na - nb) * 2 / 3, end = nb + (na - nb) * 5 / 6;
	if (json_object_get(rec, "revoked")) {
		/* Replace it at once (RFC 9773 4.2: a window in the past). */
		time_t now = a->now();
		start = now - 3600;
		end = now - 60;
	}
	json_decref(rec);
	char s[32], e[32];
	tc_acme_time(start, s);
	tc_acme_time(end, e);
	r->retry_after = RETRY_AFTER_S;
	return tc_acme_json(r, 200, json_pack("{s:{s:s, s:s}}", "suggestedWindow", "start", s, "end", e));
}
