#include "gateway/ct_embed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "gateway/ct_link.h"
#include "gateway/signer_status.h"

#define SIGNER_TIMEOUT_MS 10000

size_t tc_sct_list_encode(const unsigned char *sct, size_t sct_len, unsigned char *out, size_t cap)
{
	/* opaque SerializedSCT<1..2^16-1>; SerializedSCT sct_list<1..2^16-1> */
	size_t total = 2 + sct_len;
	if (sct_len == 0 || total > 0xffff || cap < 2 + total)
		return 0;
	out[0] = (unsigned char)(total >> 8);
	out[1] = (unsigned char)total;
	out[2] = (unsigned char)(sct_len >> 8);
	out[3] = (unsigned char)sct_len;
	memcpy(out + 4, sct, sct_len);
	return 2 + total;
}

void tc_issued_cert_free(struct tc_issued_cert *c)
{
	free(c->der);
	free(c->precert.sct);
	free(c->final.sct);
	memset(c, 0, sizeof(*c));
}

/* SignCertificate; on success the response (its certificate and serial). */
static Trustchain__Internal__Response *sign(struct tc_gateway *gw, const unsigned char *tbs, size_t tbs_len,
					    int precert, const unsigned char *sct_list, size_t sct_list_len,
					    const unsigned char *serial, size_t serial_len, struct tc_rpc_result *res)
{
	Trustchain__Internal__Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__SignCertificateRequest sc = TRUSTCHAIN__INTERNAL__SIGN_CERTIFICATE_REQUEST__INIT;
	sc.tbs = (ProtobufCBinaryData){.data = (uint8_t *)tbs, .len = tbs_len};
	sc.precertificate = precert;
	sc.sct_list = (ProtobufCBinaryData){.data = (uint8_t *)sct_list, .len = sct_list_len};
	sc.serial = (ProtobufCBinaryData){.data = (uint8_t *)serial, .len = serial_len};
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_SIGN_CERTIFICATE;
	req.sign_certificate = &sc;
	char err[256];
	Trustchain__Internal__Response *resp = tc_child_signer_call(gw->child, &req, SIGNER_TIMEOUT_MS, err, sizeof(err));
	int ok = -1;
	if (!precert && resp && resp->reason && strcmp(resp->reason, "precertificate_unknown") == 0) {
		/* The template passed policy a moment ago as a precertificate: the
		 * signer no longer knows that precertificate (it restarted in
		 * between, or evicted it under extreme load). Transient; nothing
		 * was issued. */
		tc_warn("final certificate refused: %s", resp->error ? resp->error : "");
		tc_rpc_fail(res, GRPC_STATUS_UNAVAILABLE, "signer_unavailable",
			    "the signing service lost the precertificate during issuance, retry");
	} else if (tc_signer_status_to_rpc(resp, err, res) == 0) {
		if (resp->result_case != TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_SIGN_CERTIFICATE ||
		    resp->sign_certificate->serial.len == 0 || resp->sign_certificate->serial.len > TC_SERIAL_MAX)
			tc_rpc_fail(res, GRPC_STATUS_INTERNAL, "internal", "the signer answered another operation");
		else
			ok = 0;
	}
	if (ok != 0 && resp) {
		trustchain__internal__response__free_unpacked(resp, NULL);
		resp = NULL;
	}
	return resp;
}

/* add-chain / add-pre-chain of cert with the issuing intermediate; with
 * log_only the log skips the SCT (out->sct stays NULL). */
static int log_chain(struct tc_gateway *gw, int precert, int log_only, const unsigned char *cert, size_t cert_len,
		     struct tc_logged *out, struct tc_rpc_result *res)
{
	ProtobufCBinaryData chain[2] = {
		{.data = (uint8_t *)cert, .len = cert_len},
		{.data = gw->intermediate_der, .len = gw->intermediate_der_len},
	};
	Trustchain__Internal__Ct__Request req = TRUSTCHAIN__INTERNAL__CT__REQUEST__INIT;
	Trustchain__Internal__Ct__AddChainRequest add = TRUSTCHAIN__INTERNAL__CT__ADD_CHAIN_REQUEST__INIT;
	add.n_chain = 2;
	add.chain = chain;
	add.log_only = log_only;
	if (precert) {
		req.op_case = TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_ADD_PRE_CHAIN;
		req.add_pre_chain = &add;
	} else {
		req.op_case = TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_ADD_CHAIN;
		req.add_chain = &add;
	}
	char err[256];
	Trustchain__Internal__Ct__Response *resp = tc_gateway_ct_call(gw, &req, TC_GATEWAY_CT_TIMEOUT_MS, err, sizeof(err));
	int rc = -1;
	if (resp && resp->status == TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_BAD_REQUEST) {
		/* The log refuses what our own signer made: the two disagree on
		 * the CA (a new intermediate not yet known to the log?). */
		tc_err("the CT log refused our %s: %s", precert ? "precertificate" : "certificate",
		       resp->error ? resp->error : "");
		tc_rpc_fail(res, GRPC_STATUS_INTERNAL, "internal", "the CT log refused the certificate");
	} else if (tc_ct_status_to_rpc(resp, err, TRUSTCHAIN__INTERNAL__CT__RESPONSE__RESULT_ADD_CHAIN, res) == 0) {
		const Trustchain__Internal__Ct__AddChainResponse *a = resp->add_chain;
		if (a->log_id.len != sizeof(out->log_id) || a->leaf_hash.len != sizeof(out->leaf_hash) ||
		    (a->sct.len == 0 && !log_only) || (a->sct.len && !(out->sct = malloc(a->sct.len)))) {
			tc_rpc_fail(res, GRPC_STATUS_INTERNAL, "internal", "malformed answer from the CT log");
		} else {
			if (a->sct.len)
				memcpy(out->sct, a->sct.data, a->sct.len);
			out->sct_len = a->sct.len;
			memcpy(out->log_id, a->log_id.data, sizeof(out->log_id));
			memcpy(out->leaf_hash, a->leaf_hash.data, sizeof(out->leaf_hash));
			out->timestamp = a->timestamp;
			out->leaf_index_known = a->leaf_index_known;
			out->leaf_index = a->leaf_index;
			rc = 0;
		}
	}
	if (resp)
		trustchain__internal__ct__response__free_unpacked(resp, NULL);
	return rc;
}

int tc_gateway_issue_with_scts(struct tc_gateway *gw, const unsigned char *tbs, size_t tbs_len,
			       struct tc_issued_cert *out, struct tc_rpc_result *res)
{
	memset(out, 0, sizeof(*out));
	Trustchain__Internal__Response *pre = sign(gw, tbs, tbs_len, 1, NULL, 0, NULL, 0, res);
	if (!pre)
		return -1;
	const Trustchain__Internal__SignCertificateResponse *p = pre->sign_certificate;
	out->serial_len = p->serial.len;
	memcpy(out->serial, p->serial.data, p->serial.len);
	/* The SCT comes back only once the precertificate's entry is durable. */
	int rc = log_chain(gw, 1, 0, p->certificate.data, p->certificate.len, &out->precert, res);
	trustchain__internal__response__free_unpacked(pre, NULL);
	if (rc != 0) {
		tc_issued_cert_free(out);
		return -1;
	}
	unsigned char list[2 + 2 + 1024];
	size_t list_len = tc_sct_list_encode(out->precert.sct, out->precert.sct_len, list, sizeof(list));
	if (list_len == 0) {
		tc_issued_cert_free(out);
		return tc_rpc_fail(res, GRPC_STATUS_INTERNAL, "internal", "SCT too large");
	}
	Trustchain__Internal__Response *fin = sign(gw, tbs, tbs_len, 0, list, list_len, out->serial, out->serial_len, res);
	if (!fin) {
		tc_issued_cert_free(out);
		return -1;
	}
	const Trustchain__Internal__SignCertificateResponse *f = fin->sign_certificate;
	if (f->serial.len != out->serial_len || memcmp(f->serial.data, out->serial, out->serial_len) != 0 ||
	    !(out->der = malloc(f->certificate.len ? f->certificate.len : 1))) {
		trustchain__internal__response__free_unpacked(fin, NULL);
		tc_issued_cert_free(out);
		return tc_rpc_fail(res, GRPC_STATUS_INTERNAL, "internal", "the signer returned another serial");
	}
	memcpy(out->der, f->certificate.data, f->certificate.len);
	out->der_len = f->certificate.len;
	trustchain__internal__response__free_unpacked(fin, NULL);
	if (gw->cfg->ct.log_stoq_certificates) {
		/* Promised by the configuration: a certificate that cannot be
		 * logged is not handed out (its precertificate is, harmlessly).
		 * Its own SCT would be discarded (the certificate already embeds
		 * the precertificate's): log only, no signature. */
		if (log_chain(gw, 0, 1, out->der, out->der_len, &out->final, res) != 0) {
			tc_issued_cert_free(out);
			return -1;
		}
		out->final_logged = 1;
	}
	return 0;
}
