/* Certificate download (RFC 8555 7.4.2): POST-as-GET by the account that
 * ordered it; the leaf (with its embedded SCTs) and the intermediate, as
 * application/pem-certificate-chain. The root is not included: clients
 * have it as their trust anchor. */
#include <string.h>

#include "acme/acme_handlers.h"
#include "acme/acme_store.h"
#include "acme/problem.h"

int tc_acme_h_certificate(struct tc_acme *a, struct tc_acme_call *c, struct tc_acme_resp *r)
{
	if (c->payload)
		return tc_acme_problem(r, "malformed", 0, NULL, "certificates are fetched with POST-as-GET");
	if (strlen(c->id) > 64 || strchr(c->id, '/'))
		return tc_acme_problem(r, "malformed", 404, NULL, "no such certificate");
	json_t *rec = tc_acme_store_get(a->store, 'C', c->id);
	int rc;
	if (!rec)
		rc = tc_acme_problem(r, "malformed", 404, NULL, "no such certificate");
	else if (strcmp(json_string_value(json_object_get(rec, "account")), c->account_id) != 0)
		rc = tc_acme_problem(r, "unauthorized", 0, NULL, "not your certificate");
	else {
		const json_t *pem = json_object_get(rec, "pem");
		rc = tc_acme_resp_text(r, 200, "application/pem-certificate-chain", json_string_value(pem),
				       json_string_length(pem));
	}
	json_decref(rec);
	return rc;
}
