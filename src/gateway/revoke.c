/* CertificateAuthority.Revoke: an authenticated caller with the revoke right
 * names a serial and a reason; the signer records it durably, journals it
 * and re-signs the CRL before we answer. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "common/hex.h"
#include "common/log.h"
#include "gateway/auth.h"
#include "gateway/gateway.h"
#include "gateway/signer_status.h"
#include "trustchain/v1/ca.pb-c.h"

/* Every serial the signer issues is 16 bytes with the top bits 01
 * (positive, no leading zero): anything else was never issued here. */
#define ISSUED_SERIAL_LEN 16
#define SIGNER_TIMEOUT_MS 10000

static int parse_serial(const char *hex, unsigned char out[ISSUED_SERIAL_LEN])
{
	char lower[2 * ISSUED_SERIAL_LEN + 1];
	size_t n = strlen(hex);
	if (n != 2 * ISSUED_SERIAL_LEN)
		return -1;
	for (size_t i = 0; i < n; i++)
		lower[i] = (char)tolower((unsigned char)hex[i]);
	lower[n] = '\0';
	if (tc_hex_decode(lower, out, ISSUED_SERIAL_LEN) != 0)
		return -1;
	return (out[0] & 0xc0) == 0x40 ? 0 : -1;
}

/* RFC 5280 reasons a base CRL may carry: not 7 (unused), not 8
 * (removeFromCRL belongs to delta CRLs, which we do not publish). */
static int valid_reason(int r)
{
	return r >= 0 && r <= 10 && r != 7 && r != 8;
}

static void revoke(struct tc_gateway *gw, const struct tc_rpc_caller *caller, const Trustchain__V1__RevokeRequest *rq,
		   struct tc_rpc_result *res)
{
	unsigned char serial[ISSUED_SERIAL_LEN];
	if (!rq->serial || parse_serial(rq->serial, serial) != 0) {
		tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "serial_invalid",
			    "not the serial of a certificate this CA issues (%d hex digits, as in IssueResponse.serial)",
			    2 * ISSUED_SERIAL_LEN);
		return;
	}
	if (!valid_reason((int)rq->reason)) {
		tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "reason_invalid",
			    "reason %d is not an RFC 5280 CRLReason this CA publishes", (int)rq->reason);
		return;
	}
	Trustchain__Internal__Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__RevokeRequest rv = TRUSTCHAIN__INTERNAL__REVOKE_REQUEST__INIT;
	rv.serial.data = serial;
	rv.serial.len = sizeof(serial);
	rv.reason = (int32_t)rq->reason;
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_REVOKE;
	req.revoke = &rv;
	char err[256];
	Trustchain__Internal__Response *resp = tc_child_signer_call(gw->child, &req, SIGNER_TIMEOUT_MS, err, sizeof(err));
	if (tc_signer_status_to_rpc(resp, err, res) == 0) {
		if (resp->result_case != TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_REVOKE) {
			tc_rpc_fail(res, GRPC_STATUS_INTERNAL, "internal", "the signer answered another operation");
		} else {
			char hex[2 * ISSUED_SERIAL_LEN + 1];
			tc_hex_encode(serial, sizeof(serial), hex);
			tc_log_event(TC_LOG_INFO, "certificate_revoked",
				     TC_KV("serial", hex, "identity", caller->identity, "peer", caller->peer),
				     "revoked serial %s (reason %d) for %s from %s", hex, (int)rq->reason,
				     caller->identity, caller->peer);
			/* This gateway's next Validate fetches the new CRL. */
			tc_gateway_revocation_invalidate(gw);
			atomic_fetch_add(&gw->crl_generation, 1); /* and the HTTP CRL (crl_http.c) */
			Trustchain__V1__RevokeResponse out = TRUSTCHAIN__V1__REVOKE_RESPONSE__INIT;
			out.revocation_time = resp->revoke->revocation_time;
			tc_rpc_reply(res, &out.base);
		}
	}
	if (resp)
		trustchain__internal__response__free_unpacked(resp, NULL);
}

void tc_gateway_revoke(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req, size_t len,
		       struct tc_rpc_result *res)
{
	struct tc_gateway *gw = ctx;
	/* Whatever gateway.require_auth says: revoking is never anonymous. */
	if (!caller->authenticated) {
		tc_rpc_fail(res, GRPC_STATUS_UNAUTHENTICATED, "authentication_required",
			    "Revoke needs a bearer token or a client certificate with the revoke right");
		return;
	}
	if (!caller->principal || !caller->principal->can_revoke) {
		tc_log_event(TC_LOG_INFO, "policy_violation", TC_KV("identity", caller->identity, "peer", caller->peer),
			     "refused Revoke for %s from %s: no revoke right", caller->identity, caller->peer);
		tc_rpc_fail(res, GRPC_STATUS_PERMISSION_DENIED, "revoke_not_authorized",
			    "%s has no revoke right", caller->identity);
		return;
	}
	Trustchain__V1__RevokeRequest *rq = trustchain__v1__revoke_request__unpack(NULL, len, req);
	if (!rq) {
		tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "malformed_request", "undecodable RevokeRequest");
		return;
	}
	revoke(gw, caller, rq, res);
	trustchain__v1__revoke_request__free_unpacked(rq, NULL);
}
