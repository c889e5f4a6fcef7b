/* The gateway's side of issuance with embedded SCTs (common/ct_issue.h):
 * the flow runs over the gateway's signer link and its link to the CT log,
 * and its failures become the statuses a caller of the public API gets. Any
 * failure of the log means no certificate: never one without an SCT. */
#ifndef TC_GATEWAY_CT_EMBED_H
#define TC_GATEWAY_CT_EMBED_H

#include <stddef.h>
#include <stdint.h>

#include "common/ct_issue.h"
#include "gateway/gateway.h"

/* The flow's links for gw (after tc_gateway_ct_open); valid while gw is. */
void tc_gateway_ct_issuer(const struct tc_gateway *gw, struct tc_ct_issuer *out);

/* Signs the template tbs (DER TBSCertificate) with embedded SCTs. key
 * (IssueRequest.idempotency_key, key_len 0: none) names the request for
 * the signer, per caller identity. 0, or -1 with res set to the refusal. */
int tc_gateway_issue_with_scts(struct tc_gateway *gw, const unsigned char *tbs, size_t tbs_len,
			       const unsigned char *key, size_t key_len, const char *identity,
			       struct tc_issued_cert *out, struct tc_rpc_result *res);

/* tc_gateway_issue_with_scts without a waiting thread (common/ct_issue.h,
 * tc_ct_issue_async): 0 when done will run (perhaps already has), -1
 * with res set when the request is refused before any step (done does not
 * run then). */
int tc_gateway_issue_start(struct tc_gateway *gw, const unsigned char *tbs, size_t tbs_len,
			   const unsigned char *key, size_t key_len, const char *identity, tc_ct_issue_done_fn done,
			   void *arg, struct tc_rpc_result *res);

/* A failed issuance as the public API reports it; returns -1. */
int tc_gateway_issue_refusal(const struct tc_ct_issue_error *e, struct tc_rpc_result *res);

#endif
