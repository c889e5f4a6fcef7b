#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"
#include "trustchain/v1/validation.pb-c.h"

const char *tc_reason_name(int reason)
{
	switch (reason) {
	case TC_REASON_UNSPECIFIED: return "UNSPECIFIED";
	case TC_REASON_OK_PATH: return "OK_PATH";
	case TC_REASON_OK_VALIDITY: return "OK_VALIDITY";
	case TC_REASON_OK_NAME: return "OK_NAME";
	case TC_REASON_OK_KEY_USAGE: return "OK_KEY_USAGE";
	case TC_REASON_OK_SCT: return "OK_SCT";
	case TC_REASON_OK_NOT_REVOKED: return "OK_NOT_REVOKED";
	case TC_REASON_NAME_NOT_CHECKED: return "NAME_NOT_CHECKED";
	case TC_REASON_CHAIN_EMPTY: return "CHAIN_EMPTY";
	case TC_REASON_CHAIN_MALFORMED: return "CHAIN_MALFORMED";
	case TC_REASON_PATH_UNTRUSTED: return "PATH_UNTRUSTED";
	case TC_REASON_NOT_YET_VALID: return "NOT_YET_VALID";
	case TC_REASON_EXPIRED: return "EXPIRED";
	case TC_REASON_NAME_MISMATCH: return "NAME_MISMATCH";
	case TC_REASON_KEY_USAGE_MISMATCH: return "KEY_USAGE_MISMATCH";
	case TC_REASON_SCT_MISSING: return "SCT_MISSING";
	case TC_REASON_SCT_INVALID: return "SCT_INVALID";
	case TC_REASON_REVOKED: return "REVOKED";
	case TC_REASON_REVOCATION_UNKNOWN: return "REVOCATION_UNKNOWN";
	default: return "UNKNOWN_REASON";
	}
}

const char *tc_decision_name(int decision)
{
	switch (decision) {
	case TC_TRUSTED: return "TRUSTED";
	case TC_UNTRUSTED: return "UNTRUSTED";
	default: return "UNSPECIFIED";
	}
}

void tc_validate_result_free(struct tc_validate_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_verified_chain; i++)
		free(r->verified_chain[i]);
	free(r->verified_chain);
	free(r->verified_chain_lens);
	free(r->reasons);
	free(r->detail);
	free(r);
}

int tc_validate_result_has(const struct tc_validate_result *r, enum tc_reason reason)
{
	for (size_t i = 0; r && i < r->n_reasons; i++)
		if (r->reasons[i] == reason)
			return 1;
	return 0;
}

static struct tc_validate_result *result_from(const Trustchain__V1__ValidateResponse *resp)
{
	struct tc_validate_result *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->decision = (enum tc_decision)resp->decision;
	r->detail = strdup(resp->detail ? resp->detail : "");
	r->reasons = calloc(resp->n_reasons ? resp->n_reasons : 1, sizeof(*r->reasons));
	size_t n = resp->n_verified_chain;
	r->verified_chain = calloc(n ? n : 1, sizeof(*r->verified_chain));
	r->verified_chain_lens = calloc(n ? n : 1, sizeof(*r->verified_chain_lens));
	if (!r->detail || !r->reasons || !r->verified_chain || !r->verified_chain_lens) {
		tc_validate_result_free(r);
		return NULL;
	}
	for (size_t i = 0; i < resp->n_reasons; i++)
		r->reasons[i] = (enum tc_reason)resp->reasons[i];
	r->n_reasons = resp->n_reasons;
	for (size_t i = 0; i < n; i++) {
		size_t len = resp->verified_chain[i].len;
		if (!(r->verified_chain[i] = malloc(len ? len : 1))) {
			tc_validate_result_free(r);
			return NULL;
		}
		memcpy(r->verified_chain[i], resp->verified_chain[i].data, len);
		r->verified_chain_lens[i] = len;
		r->n_verified_chain = i + 1;
	}
	return r;
}

int tc_validate(struct tc_client *c, const struct tc_validate_request *rq,
		struct tc_validate_result **out, struct tc_status *st)
{
	*out = NULL;
	Trustchain__V1__ValidateRequest msg = TRUSTCHAIN__V1__VALIDATE_REQUEST__INIT;
	ProtobufCBinaryData *chain = calloc(rq->n_chain ? rq->n_chain : 1, sizeof(*chain));
	if (!chain) {
		tc_status_set(st, GRPC_STATUS_INTERNAL, "client_error", "out of memory");
		return -1;
	}
	for (size_t i = 0; i < rq->n_chain; i++) {
		chain[i].data = (uint8_t *)rq->chain[i]; /* only read while packing */
		chain[i].len = rq->chain_lens[i];
	}
	msg.chain = chain;
	msg.n_chain = rq->n_chain;
	msg.name = (char *)(rq->name ? rq->name : "");
	msg.time = rq->time;
	msg.purpose = rq->purpose ? (Trustchain__V1__Purpose)rq->purpose
				  : TRUSTCHAIN__V1__PURPOSE__PURPOSE_SERVER_AUTH;
	unsigned char *buf;
	size_t len;
	int rc = tc_unary_call(c, "/trustchain.v1.Validation/Validate", &msg.base, &buf, &len, st);
	free(chain);
	if (rc != 0)
		return -1;
	Trustchain__V1__ValidateResponse *resp = trustchain__v1__validate_response__unpack(NULL, len, buf);
	free(buf);
	if (!resp) {
		tc_status_set(st, GRPC_STATUS_INTERNAL, "malformed_response", "undecodable ValidateResponse");
		return -1;
	}
	*out = result_from(resp);
	trustchain__v1__validate_response__free_unpacked(resp, NULL);
	if (!*out) {
		tc_status_set(st, GRPC_STATUS_INTERNAL, "client_error", "out of memory");
		return -1;
	}
	return 0;
}
