/* The REST face beside ACME on the same listener (issue 11, item 6), for
 * callers that cannot speak gRPC:
 *   POST /v1/validate        ValidateRequest -> ValidateResponse in the
 *                            proto3 JSON mapping (api/trustchain/v1/validation.proto)
 *   GET  /v1/ca-certificates the CA certificates, PEM (intermediate, root)
 *   GET  /v1/crl             the current CRL, DER (application/pkix-crl)
 * Errors are google.rpc.Status JSON ({code, message}) with the HTTP status
 * of the gRPC code, as gRPC-JSON transcoding answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/acme_handlers.h"
#include "acme/problem.h"
#include "common/base64.h"
#include "common/file_read.h"
#include "trustchain/client.h"

#define MAX_CHAIN 10
#define CA_FILE_MAX (256 * 1024)

static unsigned http_of_grpc(int code)
{
	switch (code) {
	case 3: return 400;  /* INVALID_ARGUMENT */
	case 5: return 404;  /* NOT_FOUND */
	case 7: return 403;  /* PERMISSION_DENIED */
	case 8: return 429;  /* RESOURCE_EXHAUSTED */
	case 12: return 501; /* UNIMPLEMENTED */
	case 14: return 503; /* UNAVAILABLE */
	case 16: return 401; /* UNAUTHENTICATED */
	default: return 500;
	}
}

static int status_error(struct tc_acme_resp *r, int code, const char *message)
{
	return tc_acme_json(r, http_of_grpc(code), json_pack("{s:i, s:s}", "code", code, "message", message));
}

/* purpose: the enum's name or number (proto3 JSON accepts both). */
static int purpose_of(const json_t *v, enum tc_purpose *out)
{
	if (!v || json_is_null(v))
		return *out = TC_PURPOSE_SERVER_AUTH, 0;
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);
		if (n < 0 || n > 2)
			return -1;
		*out = n == 0 ? TC_PURPOSE_SERVER_AUTH : (enum tc_purpose)n;
		return 0;
	}
	const char *s = json_string_value(v);
	if (!s)
		return -1;
	if (strcmp(s, "PURPOSE_UNSPECIFIED") == 0 || strcmp(s, "PURPOSE_SERVER_AUTH") == 0)
		return *out = TC_PURPOSE_SERVER_AUTH, 0;
	if (strcmp(s, "PURPOSE_CLIENT_AUTH") == 0)
		return *out = TC_PURPOSE_CLIENT_AUTH, 0;
	return -1;
}

/* int64 fields are JSON strings in proto3 JSON; numbers are accepted too. */
static int int64_of(const json_t *v, int64_t *out)
{
	if (!v || json_is_null(v))
		return *out = 0, 0;
	if (json_is_integer(v))
		return *out = json_integer_value(v), 0;
	const char *s = json_string_value(v);
	char *end = NULL;
	if (!s || !*s)
		return -1;
	long long n = strtoll(s, &end, 10);
	if (*end)
		return -1;
	*out = n;
	return 0;
}

static int validate(struct tc_acme *a, const struct tc_acme_req *rq, struct tc_acme_resp *r)
{
	json_t *body = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, NULL);
	const json_t *chain = json_object_get(body, "chain");
	const json_t *name = json_object_get(body, "name");
	struct tc_validate_request vr = {0};
	unsigned char *certs[MAX_CHAIN] = {0};
	size_t lens[MAX_CHAIN];
	int rc = -1;
	if (!json_is_object(body) || (chain && !json_is_array(chain)) || (name && !json_is_string(name)) ||
	    json_array_size(chain) > MAX_CHAIN || int64_of(json_object_get(body, "time"), &vr.time) != 0 ||
	    purpose_of(json_object_get(body, "purpose"), &vr.purpose) != 0) {
		rc = status_error(r, 3, "body is not a ValidateRequest in proto3 JSON");
		goto out;
	}
	if (name && strlen(json_string_value(name)) != json_string_length(name)) {
		rc = status_error(r, 3, "name holds a NUL");
		goto out;
	}
	size_t i;
	const json_t *c;
	json_array_foreach(chain, i, c) {
		/* bytes: standard base64 with padding (proto3 JSON). */
		if (!json_is_string(c) || tc_base64_decode(json_string_value(c), &certs[i], &lens[i]) != 0) {
			rc = status_error(r, 3, "chain entries must be base64");
			goto out;
		}
	}
	vr.chain = (const unsigned char *const *)certs;
	vr.chain_lens = lens;
	vr.n_chain = json_array_size(chain);
	vr.name = name ? json_string_value(name) : NULL;
	struct tc_validate_result *res = NULL;
	struct tc_status st = {0};
	if (!a->ca) {
		rc = status_error(r, 14, "no link to the gateway");
		goto out;
	}
	if (tc_validate(a->ca, &vr, &res, &st) != 0) {
		rc = status_error(r, st.code, st.message);
		goto out;
	}
	json_t *out = json_pack("{s:s}", "decision", tc_decision_name(res->decision));
	json_t *reasons = json_array(), *verified = json_array();
	for (size_t k = 0; k < res->n_reasons; k++)
		json_array_append_new(reasons, json_string(tc_reason_name(res->reasons[k])));
	for (size_t k = 0; k < res->n_verified_chain; k++) {
		char *b64 = tc_base64_encode(res->verified_chain[k], res->verified_chain_lens[k]);
		json_array_append_new(verified, json_string(b64 ? b64 : ""));
		free(b64);
	}
	json_object_set_new(out, "reasons", reasons);
	/* proto3 JSON leaves default values out. */
	if (res->detail && res->detail[0])
		json_object_set_new(out, "detail", json_string(res->detail));
	if (res->n_verified_chain)
		json_object_set_new(out, "verifiedChain", verified);
	else
		json_decref(verified);
	tc_validate_result_free(res);
	rc = tc_acme_json(r, 200, out);
out:
	for (size_t k = 0; k < MAX_CHAIN; k++)
		free(certs[k]);
	json_decref(body);
	return rc;
}

static int ca_certificates(struct tc_acme *a, struct tc_acme_resp *r)
{
	char *inter = NULL, *root = NULL, err[256];
	size_t il = 0, rl = 0;
	if (tc_read_file(a->inter_pem_path, CA_FILE_MAX, &inter, &il, err, sizeof(err)) != 0 ||
	    tc_read_file(a->root_pem_path, CA_FILE_MAX, &root, &rl, err, sizeof(err)) != 0) {
		free(inter);
		return status_error(r, 14, "CA certificates not readable");
	}
	char *both = malloc(il + rl + 2);
	int rc;
	if (!both) {
		rc = status_error(r, 13, "out of memory");
	} else {
		memcpy(both, inter, il);
		size_t n = il;
		if (n && both[n - 1] != '\n')
			both[n++] = '\n';
		memcpy(both + n, root, rl);
		rc = tc_acme_resp_text(r, 200, "application/pem-certificate-chain", both, n + rl);
		free(both);
	}
	free(inter);
	free(root);
	return rc;
}

static int crl(struct tc_acme *a, struct tc_acme_resp *r)
{
	struct tc_crl *c = NULL;
	struct tc_status st = {0};
	if (!a->ca)
		return status_error(r, 14, "no link to the gateway");
	if (tc_get_crl(a->ca, &c, &st) != 0)
		return status_error(r, st.code, st.message);
	int rc = tc_acme_resp_text(r, 200, "application/pkix-crl", (const char *)c->der, c->der_len);
	tc_crl_free(c);
	return rc;
}

int tc_acme_h_rest(struct tc_acme *a, const struct tc_acme_req *rq, struct tc_acme_resp *r)
{
	int get = strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0;
	if (strcmp(rq->path, "/v1/validate") == 0 && strcmp(rq->method, "POST") == 0)
		return validate(a, rq, r);
	if (strcmp(rq->path, "/v1/ca-certificates") == 0 && get)
		return ca_certificates(a, r);
	if (strcmp(rq->path, "/v1/crl") == 0 && get)
		return crl(a, r);
	return status_error(r, 5, "no such resource");
}
