#include "gateway/ct_link.h"

#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/ct_client.h"
#include "common/ct_issue.h"
#include "common/log.h"

int tc_gateway_ct_open(struct tc_gateway *gw, char *err, size_t errlen)
{
	char path[TC_CFG_STR + 32];
	if (tc_config_data_path(gw->cfg, TC_CT_IPC_SOCKET, path, sizeof(path)) != 0 || !(gw->ct = tc_ct_client_new(path))) {
		snprintf(err, errlen, "CT log socket path under %s is too long", gw->cfg->server.data_dir);
		return -1;
	}
	/* add-pre-chain gets the precertificate and its issuer, so the log
	 * sees the chain it checks against its accepted root. */
	BIO *b = BIO_new_mem_buf(gw->chain_pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL;
	int n = x ? i2d_X509(x, &der) : -1;
	X509_free(x);
	BIO_free(b);
	if (n <= 0) {
		snprintf(err, errlen, "cannot encode the issuing certificate");
		tc_gateway_ct_close(gw);
		return -1;
	}
	gw->intermediate_der = der;
	gw->intermediate_der_len = (size_t)n;
	/* Connected here, on a thread that may wait: an asynchronous log step
	 * never connects (it runs on the signer link's reader thread); without
	 * a link it waits on a thread of its own (ct_issue_async.c). A log not
	 * up yet is no error: those threads connect once it is. */
	tc_ct_client_connect_now(gw->ct);
	return 0;
}

void tc_gateway_ct_close(struct tc_gateway *gw)
{
	tc_ct_issue_async_quiesce(); /* no issuance waits on the link any more */
	tc_ct_client_free(gw->ct);
	gw->ct = NULL;
	OPENSSL_free(gw->intermediate_der);
	gw->intermediate_der = NULL;
	gw->intermediate_der_len = 0;
}

Trustchain__Internal__Ct__Response *tc_gateway_ct_call(struct tc_gateway *gw, Trustchain__Internal__Ct__Request *req,
						       int timeout_ms, char *err, size_t errlen)
{
	if (!gw->ct) {
		snprintf(err, errlen, "no link to the CT log");
		return NULL;
	}
	return tc_ct_call(gw->ct, req, timeout_ms, err, errlen);
}

int tc_ct_status_to_rpc(const Trustchain__Internal__Ct__Response *resp, const char *transport_err,
			Trustchain__Internal__Ct__Response__ResultCase expected, struct tc_rpc_result *res)
{
	if (!resp) {
		tc_warn("CT log call failed: %s", transport_err);
		return tc_rpc_fail(res, GRPC_STATUS_UNAVAILABLE, "ct_unavailable",
				   "the certificate transparency log is unavailable, retry later");
	}
	const char *msg = resp->error && *resp->error ? resp->error : "refused";
	switch (resp->status) {
	case TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_OK:
		if (resp->result_case == expected)
			return 0;
		tc_err("CT log answered another operation (%d, wanted %d)", (int)resp->result_case, (int)expected);
		return tc_rpc_fail(res, GRPC_STATUS_INTERNAL, "internal", "internal error");
	case TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_BAD_REQUEST:
		return tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "ct_invalid_argument", "%s", msg);
	case TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_OUT_OF_RANGE:
		return tc_rpc_fail(res, GRPC_STATUS_OUT_OF_RANGE, "ct_out_of_range", "%s", msg);
	case TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_NOT_FOUND:
		return tc_rpc_fail(res, GRPC_STATUS_NOT_FOUND, "ct_not_found", "%s", msg);
	case TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_UNAVAILABLE:
		return tc_rpc_fail(res, GRPC_STATUS_UNAVAILABLE, "ct_unavailable", "%s", msg);
	default:
		tc_err("CT log error: %s", msg);
		return tc_rpc_fail(res, GRPC_STATUS_INTERNAL, "internal", "internal error");
	}
}
