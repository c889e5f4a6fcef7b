/* revokeCert (RFC 8555 7.6): signed by the account that ordered the
 * certificate (kid), or by the certificate's own key (jwk); a reason code
 * of RFC 5280 that a subscriber may give; then Revoke at the CA, which
 * publishes it in the CRL and Validate's answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/acme_handlers.h"
#include "acme/acme_store.h"
#include "acme/b64url.h"
#include "acme/cert_info.h"
#include "acme/problem.h"
#include "common/der_key.h"
#include "common/log.h"
#include "trustchain/client.h"

/* unspecified, keyCompromise, affiliationChanged, superseded,
 * cessationOfOperation, privilegeWithdrawn; never the CA's own reasons or
 * the hold states. */
static int subscriber_reason(json_int_t r)
{
	return r == 0 || r == 1 || r == 3 || r == 4 || r == 5 || r == 9;
}

/* 1 when the certificate's key is the JWS's key. */
static int signed_by_cert_key(const struct tc_acme_cert_info *info, const struct tc_acme_call *c)
{
	char err[128], thumb[TC_JWK_THUMB_LEN + 1];
	EVP_PKEY *k = tc_spki_key(info->spki, info->spki_len, err, sizeof(err));
	int same = k && tc_jwk_thumbprint_of_key(k, thumb) == 0 && strcmp(thumb, c->key.thumbprint) == 0;
	EVP_PKEY_free(k);
	return same;
}

int tc_acme_h_revoke(struct tc_acme *a, struct tc_acme_call *c, struct tc_acme_resp *r)
{
	const json_t *cj = c->payload ? json_object_get(c->payload, "certificate") : NULL;
	const json_t *reason = c->payload ? json_object_get(c->payload, "reason") : NULL;
	unsigned char *der = NULL;
	size_t dl = 0;
	struct tc_acme_cert_info info;
	if (!json_is_string(cj) || tc_b64url_decode(json_string_value(cj), json_string_length(cj), &der, &dl) != 0 ||
	    tc_acme_cert_info(der, dl, &info) != 0) {
		free(der);
		return tc_acme_problem(r, "malformed", 0, NULL, "certificate must be base64url DER");
	}
	json_int_t code = 0;
	if (reason && (!json_is_integer(reason) || !subscriber_reason(code = json_integer_value(reason)))) {
		free(der);
		return tc_acme_problem(r, "badRevocationReason", 0, NULL, "reason must be 0, 1, 3, 4, 5 or 9");
	}
	json_t *rec = tc_acme_store_get(a->store, 'C', info.serial_hex);
	int rc = 0;
	if (!rec) {
		rc = tc_acme_problem(r, "unauthorized", 0, NULL, "this server did not issue that certificate");
	} else if (c->account ? strcmp(json_string_value(json_object_get(rec, "account")), c->account_id) != 0
			      : !signed_by_cert_key(&info, c)) {
		rc = tc_acme_problem(r, "unauthorized", 0, NULL,
				     "sign with the account that ordered the certificate or with its key");
	} else if (json_object_get(rec, "revoked")) {
		rc = tc_acme_problem(r, "alreadyRevoked", 0, NULL, "certificate already revoked");
	}
	free(der);
	if (rc != 0) {
		json_decref(rec);
		return -1;
	}
	struct tc_status st = {0};
	int64_t when = 0;
	char ca_serial[TC_ACME_SERIAL_HEX_MAX + 1];
	snprintf(ca_serial, sizeof(ca_serial), "%s", json_string_value(json_object_get(rec, "ca_serial")));
	json_decref(rec);
	if (!a->ca || tc_revoke(a->ca, ca_serial, (enum tc_revocation_reason)code, &when, &st) != 0) {
		if (st.code == 14 || !a->ca) {
			r->retry_after = 5;
			return tc_acme_problem(r, "serverInternal", 503, NULL, "the CA is unavailable: retry");
		}
		return tc_acme_problem(r, "serverInternal", 0, NULL, "the CA refused: %s", st.message);
	}
	tc_acme_store_lock(a->store, info.serial_hex);
	rec = tc_acme_store_get(a->store, 'C', info.serial_hex);
	if (rec) {
		json_object_set_new(rec, "revoked", json_integer(when));
		json_object_set_new(rec, "reason", json_integer(code));
		if (tc_acme_store_put(a->store, 'C', info.serial_hex, rec) != 0)
			tc_err("certificate %s revoked at the CA but not recorded here", info.serial_hex);
	}
	tc_acme_store_unlock(a->store, info.serial_hex);
	json_decref(rec);
	tc_info("revoked certificate %s (reason %lld)", info.serial_hex, (long long)code);
	r->status = 200;
	return 0;
}
