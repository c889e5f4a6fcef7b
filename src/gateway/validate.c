/* Validation.Validate: the STOQ trust decision (validator.h says what is
 * checked and how the decision is made). A request that decodes always gets
 * OK with a decision, however bad its chain; only an undecodable message or
 * a name that is no name (a NUL, refused by the RPC layer, or another
 * control byte) is INVALID_ARGUMENT. Validate is public: the answer says
 * nothing a caller could not work out from the CA certificates, the log key
 * and the CRL. */
#include <stdatomic.h>
#include <stdlib.h>

#include "common/metrics_proc.h"
#include "gateway/ca_rollover.h"
#include "gateway/gateway.h"
#include "gateway/validator.h"
#include "trustchain/v1/validation.pb-c.h"

/* 1 when name holds a C0 control byte or DEL. Its length is strlen's:
 * the RPC layer has refused any NUL inside it (rpc.h). */
static int has_control_byte(const char *name)
{
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 1;
	return 0;
}

/* The decisions counter, looked up once: tc_pm_counter walks the process's
 * metric list under its mutex, which every worker took on every call. */
static struct tc_metric *decisions_metric(void)
{
	static _Atomic(struct tc_metric *) cached;
	struct tc_metric *m = atomic_load_explicit(&cached, memory_order_acquire);
	if (!m && (m = tc_pm_counter("trustchain_validate_decisions_total", "Validate answers, by decision.",
				     "decision")))
		atomic_store_explicit(&cached, m, memory_order_release);
	return m;
}

static void answer(struct tc_gateway *gw, const Trustchain__V1__ValidateRequest *rq, struct tc_rpc_result *res)
{
	/* Bounded before copying anything: the chain parser would refuse
	 * more anyway, and the pointer arrays below live on the stack. */
	size_t n = rq->n_chain <= TC_CHAIN_MAX_CERTS ? rq->n_chain : TC_CHAIN_MAX_CERTS + 1;
	const unsigned char *elems[TC_CHAIN_MAX_CERTS + 1];
	size_t lens[TC_CHAIN_MAX_CERTS + 1];
	for (size_t i = 0; i < n; i++) {
		elems[i] = i < rq->n_chain ? rq->chain[i].data : NULL;
		lens[i] = i < rq->n_chain ? rq->chain[i].len : 0;
	}
	if (rq->n_chain > TC_CHAIN_MAX_CERTS)
		lens[TC_CHAIN_MAX_CERTS] = 1; /* "too many" wins over "empty" */
	struct tc_validation vr;
	tc_validator_run(gw->validator, elems, lens, n, rq->name, rq->time, rq->purpose, &vr);

	Trustchain__V1__ValidateResponse out = TRUSTCHAIN__V1__VALIDATE_RESPONSE__INIT;
	ProtobufCBinaryData path[TC_CHAIN_MAX_CERTS + 2];
	out.decision = vr.trusted ? TRUSTCHAIN__V1__DECISION__TRUSTED : TRUSTCHAIN__V1__DECISION__UNTRUSTED;
	tc_metric_add(decisions_metric(), vr.trusted ? "trusted" : "untrusted", 1);
	out.reasons = vr.reasons;
	out.n_reasons = vr.n_reasons;
	out.detail = vr.detail;
	for (size_t i = 0; i < vr.n_path; i++) {
		path[i].data = (uint8_t *)vr.path_der[i];
		path[i].len = vr.path_len[i];
	}
	out.verified_chain = path;
	out.n_verified_chain = vr.n_path;
	tc_rpc_reply(res, &out.base);
	tc_validation_release(&vr);
}

void tc_gateway_validate(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req, size_t len,
			 struct tc_rpc_result *res)
{
	(void)caller;
	struct tc_gateway *gw = ctx;
	tc_ca_rollover_sync_validator(gw); /* a CA key rollover's next intermediate */
	if (!gw->cfg->stoq_integration.trust_decisions || !gw->validator) {
		tc_rpc_fail(res, GRPC_STATUS_UNIMPLEMENTED, "trust_decisions_disabled",
			    "this gateway does not answer Validate (stoq_integration.trust_decisions is off)");
		return;
	}
	Trustchain__V1__ValidateRequest *rq = trustchain__v1__validate_request__unpack(NULL, len, req);
	if (!rq) {
		tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "malformed_request", "undecodable ValidateRequest");
		return;
	}
	/* Refused rather than matched: whichever layer compares the name
	 * must never read a different name than the caller sent. */
	if (has_control_byte(rq->name))
		tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "name_invalid",
			    "the name holds a control byte: not a DNS name or IP address");
	else
		answer(gw, rq, res);
	trustchain__v1__validate_request__free_unpacked(rq, NULL);
}

void tc_gateway_revocation_invalidate(struct tc_gateway *gw)
{
	tc_validator_revocation_changed(gw->validator);
}
