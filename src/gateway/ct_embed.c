#include "gateway/ct_embed.h"

#include <openssl/sha.h>
#include <string.h>

#include "common/log.h"
#include "gateway/ca_rollover.h"
#include "gateway/ct_link.h"
#include "gateway/signer_status.h"

void tc_gateway_ct_issuer(const struct tc_gateway *gw, struct tc_ct_issuer *out)
{
	*out = (struct tc_ct_issuer){.child = gw->child,
				     .ct = gw->ct,
				     .intermediate_der = gw->intermediate_der,
				     .intermediate_der_len = gw->intermediate_der_len,
				     .issuer_of = tc_ca_rollover_issuer_der,
				     .cross_of = tc_ca_rollover_cross_der,
				     .issuer_arg = (void *)gw,
				     .log_final = gw->cfg->ct.log_stoq_certificates,
				     .cfg = gw->cfg};
}

/* The signer's refusal as the public API reports it. */
static int signer_refusal(const struct tc_ct_issue_error *e, struct tc_rpc_result *res)
{
	if (!e->precert && strcmp(e->reason, "precertificate_unknown") == 0) {
		/* The template passed policy a moment ago as a precertificate: the
		 * signer no longer knows that precertificate (it restarted in
		 * between, or evicted it under extreme load). Transient; nothing
		 * was issued. */
		tc_warn("final certificate refused: %s", e->message);
		return tc_rpc_fail(res, GRPC_STATUS_UNAVAILABLE, "signer_unavailable",
				   "the signing service lost the precertificate during issuance, retry");
	}
	Trustchain__Internal__Response r = TRUSTCHAIN__INTERNAL__RESPONSE__INIT;
	r.status = (Trustchain__Internal__Status)e->status;
	r.reason = (char *)e->reason;
	r.error = (char *)e->message;
	return tc_signer_status_to_rpc(&r, "", res);
}

/* The log's refusal as the public API reports it. */
static int log_refusal(const struct tc_ct_issue_error *e, struct tc_rpc_result *res)
{
	if (e->status == TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_BAD_REQUEST) {
		/* The log refuses what our own signer made: the two disagree on
		 * the CA (a new intermediate not yet known to the log?). */
		tc_err("the CT log refused our %s: %s", e->precert ? "precertificate" : "certificate", e->message);
		return tc_rpc_fail(res, GRPC_STATUS_INTERNAL, "internal", "the CT log refused the certificate");
	}
	Trustchain__Internal__Ct__Response r = TRUSTCHAIN__INTERNAL__CT__RESPONSE__INIT;
	r.status = (Trustchain__Internal__Ct__Status)e->status;
	r.error = (char *)e->message;
	return tc_ct_status_to_rpc(&r, "", TRUSTCHAIN__INTERNAL__CT__RESPONSE__RESULT_ADD_CHAIN, res);
}

/* The flow's links with the caller's idempotency key; scoped holds it
 * (SCOPED_KEY_MAX bytes) while iss is used. -1 with res set when the key
 * is too long. */
#define SCOPED_KEY_MAX (SHA256_DIGEST_LENGTH + 64)
static int issuer_for(struct tc_gateway *gw, const unsigned char *key, size_t key_len, const char *identity,
		      unsigned char *scoped, struct tc_ct_issuer *iss, struct tc_rpc_result *res)
{
	tc_gateway_ct_issuer(gw, iss);
	/* The signer keeps keys per peer (we are one peer for every caller):
	 * a caller's key is scoped by its identity, so one caller cannot take
	 * or block another's. */
	if (key_len > 64)
		return tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "malformed_request",
				   "an idempotency key has at most 64 bytes");
	if (key_len) {
		SHA256((const unsigned char *)identity, strlen(identity), scoped);
		memcpy(scoped + SHA256_DIGEST_LENGTH, key, key_len);
		iss->idempotency_key = scoped;
		iss->idempotency_key_len = SHA256_DIGEST_LENGTH + key_len;
	}
	return 0;
}

int tc_gateway_issue_with_scts(struct tc_gateway *gw, const unsigned char *tbs, size_t tbs_len,
			       const unsigned char *key, size_t key_len, const char *identity,
			       struct tc_issued_cert *out, struct tc_rpc_result *res)
{
	struct tc_ct_issuer iss;
	unsigned char scoped[SCOPED_KEY_MAX];
	if (issuer_for(gw, key, key_len, identity, scoped, &iss, res) != 0)
		return -1;
	struct tc_ct_issue_error e;
	if (tc_ct_issue(&iss, tbs, tbs_len, out, &e) == 0)
		return 0;
	return tc_gateway_issue_refusal(&e, res);
}

int tc_gateway_issue_start(struct tc_gateway *gw, const unsigned char *tbs, size_t tbs_len,
			   const unsigned char *key, size_t key_len, const char *identity, tc_ct_issue_done_fn done,
			   void *arg, struct tc_rpc_result *res)
{
	struct tc_ct_issuer iss;
	unsigned char scoped[SCOPED_KEY_MAX];
	if (issuer_for(gw, key, key_len, identity, scoped, &iss, res) != 0)
		return -1;
	tc_ct_issue_async(&iss, tbs, tbs_len, done, arg); /* copies the key */
	return 0;
}

int tc_gateway_issue_refusal(const struct tc_ct_issue_error *e, struct tc_rpc_result *res)
{
	switch (e->fault) {
	case TC_CT_ISSUE_SIGNER_UNREACHABLE:
		return tc_signer_status_to_rpc(NULL, e->message, res);
	case TC_CT_ISSUE_SIGNER_REFUSED:
		return signer_refusal(e, res);
	case TC_CT_ISSUE_LOG_UNREACHABLE:
		return tc_ct_status_to_rpc(NULL, e->message, TRUSTCHAIN__INTERNAL__CT__RESPONSE__RESULT_ADD_CHAIN, res);
	case TC_CT_ISSUE_LOG_REFUSED:
		return log_refusal(e, res);
	default:
		tc_err("issuance: %s", e->message);
		return tc_rpc_fail(res, GRPC_STATUS_INTERNAL, "internal", "%s", e->message);
	}
}
