/* CertificateAuthority.GetCrl: the signer's current CRL (it caches and
 * re-signs it on every revocation and before it grows stale), handed out as
 * DER and PEM with its number and update times. */
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/gateway.h"
#include "gateway/signer_status.h"
#include "trustchain/v1/ca.pb-c.h"

#define SIGNER_TIMEOUT_MS 10000

static int64_t asn1_unix(const ASN1_TIME *t)
{
	struct tm tm;
	return t && ASN1_TIME_to_tm(t, &tm) ? (int64_t)timegm(&tm) : 0;
}

static char *crl_pem(X509_CRL *crl)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *pem = NULL;
	long n;
	if (b && PEM_write_bio_X509_CRL(b, crl) && (n = BIO_get_mem_data(b, &data)) > 0 &&
	    (pem = malloc((size_t)n + 1))) {
		memcpy(pem, data, (size_t)n);
		pem[n] = '\0';
	}
	BIO_free(b);
	return pem;
}

static void reply_crl(const Trustchain__Internal__GetCrlResponse *gc, struct tc_rpc_result *res)
{
	const unsigned char *p = gc->crl.data;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)gc->crl.len);
	char *pem = crl ? crl_pem(crl) : NULL;
	if (!pem) {
		tc_rpc_fail(res, GRPC_STATUS_INTERNAL, "internal", "the signer returned an undecodable CRL");
	} else {
		Trustchain__V1__GetCrlResponse out = TRUSTCHAIN__V1__GET_CRL_RESPONSE__INIT;
		out.crl_der = gc->crl;
		out.crl_pem = pem;
		out.crl_number = gc->crl_number;
		out.this_update = asn1_unix(X509_CRL_get0_lastUpdate(crl));
		out.next_update = asn1_unix(X509_CRL_get0_nextUpdate(crl));
		tc_rpc_reply(res, &out.base);
	}
	free(pem);
	X509_CRL_free(crl);
}

void tc_gateway_get_crl(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req, size_t len,
			struct tc_rpc_result *res)
{
	struct tc_gateway *gw = ctx;
	(void)caller;
	Trustchain__V1__GetCrlRequest *rq = trustchain__v1__get_crl_request__unpack(NULL, len, req);
	if (!rq) {
		tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "malformed_request", "undecodable GetCrlRequest");
		return;
	}
	trustchain__v1__get_crl_request__free_unpacked(rq, NULL);
	Trustchain__Internal__Request sreq = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__GetCrlRequest gc = TRUSTCHAIN__INTERNAL__GET_CRL_REQUEST__INIT;
	sreq.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_GET_CRL;
	sreq.get_crl = &gc;
	char err[256];
	Trustchain__Internal__Response *resp = tc_child_signer_call(gw->child, &sreq, SIGNER_TIMEOUT_MS, err, sizeof(err));
	if (tc_signer_status_to_rpc(resp, err, res) == 0) {
		if (resp->result_case != TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_GET_CRL)
			tc_rpc_fail(res, GRPC_STATUS_INTERNAL, "internal", "the signer answered another operation");
		else
			reply_crl(resp->get_crl, res);
	}
	if (resp)
		trustchain__internal__response__free_unpacked(resp, NULL);
}
