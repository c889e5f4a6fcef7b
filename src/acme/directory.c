/* The directory (RFC 8555 7.1.1) and newNonce (7.2). */
#include <string.h>

#include "acme/acme_handlers.h"
#include "acme/problem.h"

int tc_acme_h_directory(struct tc_acme *a, struct tc_acme_resp *r)
{
	static const struct {
		const char *key, *path;
	} RESOURCES[] = {
		{"newNonce", "/acme/new-nonce"}, {"newAccount", "/acme/new-account"},
		{"newOrder", "/acme/new-order"}, {"revokeCert", "/acme/revoke-cert"},
		{"keyChange", "/acme/key-change"}, {"renewalInfo", "/acme/renewal-info"},
	};
	json_t *d = json_object();
	char url[TC_ACME_URL_MAX];
	for (size_t i = 0; i < sizeof(RESOURCES) / sizeof(RESOURCES[0]); i++) {
		tc_acme_url(a, url, sizeof(url), "%s", RESOURCES[i].path);
		json_object_set_new(d, RESOURCES[i].key, json_string(url));
	}
	/* newAuthz is absent: no pre-authorization (7.4.1 makes it optional). */
	json_t *meta = json_object();
	const struct tc_config *cfg = a->cfg;
	if (cfg->acme.terms_of_service_url[0])
		json_object_set_new(meta, "termsOfService", json_string(cfg->acme.terms_of_service_url));
	if (cfg->acme.website_url[0])
		json_object_set_new(meta, "website", json_string(cfg->acme.website_url));
	json_object_set_new(meta, "externalAccountRequired", json_boolean(cfg->acme.require_eab));
	json_object_set_new(meta, "caaIdentities", json_pack("[s]", cfg->bootstrap.domain));
	json_object_set_new(d, "meta", meta);
	return tc_acme_json(r, 200, d);
}

int tc_acme_h_new_nonce(struct tc_acme *a, const char *method, struct tc_acme_resp *r)
{
	(void)a;
	/* 7.2: HEAD answers 200, GET 204; never cached. The nonce itself is
	 * added to every answer by the HTTP front. */
	r->status = strcmp(method, "HEAD") == 0 ? 200 : 204;
	r->no_store = 1;
	return 0;
}
