/* The gateway's validator: common/trust_validator.c decides, this maps its
 * configuration and answer to the gateway's terms; see validator.h. */
#include "gateway/validator.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tc_validator {
	struct tc_trust *trust;
};

struct tc_validator *tc_validator_new(const struct tc_validator_config *cfg, char *err, size_t errlen)
{
	struct tc_validator *v = calloc(1, sizeof(*v));
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	EVP_PKEY *const keys[1] = {cfg->log_key};
	struct tc_trust_config tc = {
		.root_pem = cfg->root_pem,
		.intermediate_pem = cfg->intermediate_pem,
		.log_keys = cfg->n_log_keys ? cfg->log_keys : keys,
		.n_log_keys = cfg->n_log_keys ? cfg->n_log_keys : cfg->log_key ? 1 : 0,
		.require_sct = cfg->require_sct,
		.fetch_crl = cfg->fetch_crl,
		.fetch_arg = cfg->fetch_arg,
		.no_leaf_cache = cfg->no_leaf_cache,
	};
	if (!(v->trust = tc_trust_new(&tc, err, errlen))) {
		free(v);
		return NULL;
	}
	return v;
}

void tc_validator_free(struct tc_validator *v)
{
	if (!v)
		return;
	tc_trust_free(v->trust);
	free(v);
}

void tc_validator_revocation_changed(struct tc_validator *v)
{
	if (v)
		tc_trust_revocation_changed(v->trust);
}

int tc_validator_add_issuer(struct tc_validator *v, const char *pem, tc_crl_fetch_fn fetch, void *arg, char *err,
			    size_t errlen)
{
	struct tc_crl_timing timing = {0};
	return tc_trust_add_issuer(v->trust, pem, fetch, arg, &timing, err, errlen);
}

size_t tc_validator_cached_cas(struct tc_validator *v)
{
	return tc_trust_cached_cas(v->trust);
}

unsigned long tc_validator_leaf_hits(struct tc_validator *v)
{
	return tc_trust_leaf_hits(v->trust);
}

void tc_validator_run(struct tc_validator *v, const unsigned char *const *elems, const size_t *lens, size_t n,
		      const char *name, int64_t at, Trustchain__V1__Purpose purpose, struct tc_validation *out)
{
	memset(out, 0, sizeof(*out));
	/* The RPC layer refused a NUL inside the name, so strlen is its length. */
	tc_trust_run(v->trust, elems, lens, n, name, name ? strlen(name) : 0, at, (enum tc_purpose)purpose,
		     &out->core);
	/* The reasons of trustchain/client.h carry validation.proto's numbers. */
	out->trusted = out->core.trusted;
	for (size_t i = 0; i < out->core.n_reasons && i < TC_VALIDATION_MAX_REASONS; i++)
		out->reasons[out->n_reasons++] = (Trustchain__V1__Reason)out->core.reasons[i];
	memcpy(out->detail, out->core.detail, sizeof(out->detail));
	for (size_t i = 0; i < out->core.n_path; i++) {
		out->path_der[i] = out->core.path_der[i];
		out->path_len[i] = out->core.path_len[i];
	}
	out->n_path = out->core.n_path;
}

void tc_validation_release(struct tc_validation *out)
{
	tc_trust_result_release(&out->core);
	out->n_path = 0;
}
