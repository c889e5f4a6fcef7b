/* Precertificate -> durable CT entry and SCT -> final certificate; see
 * ct_issue.h. */
#include "common/ct_issue.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ct_client.h"
#include "common/ct_shard.h"
#include "common/ct_issue_steps.h"

#define fail tc_ct_issue_fail

int tc_ct_issue_fail(struct tc_ct_issue_error *err, enum tc_ct_issue_fault fault, int status, const char *fmt, ...)
{
	err->fault = fault;
	err->status = status;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

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

int tc_ct_issue_transient(const struct tc_ct_issue_error *err)
{
	switch (err->fault) {
	case TC_CT_ISSUE_SIGNER_REFUSED:
		/* Lost precertificate: the signer restarted between the two
		 * signatures. Anything but a refusal of the request itself (not
		 * provisioned yet, journal or HSM trouble) may pass later. */
		return strcmp(err->reason, "precertificate_unknown") == 0 ||
		       (err->status != TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY &&
			err->status != TRUSTCHAIN__INTERNAL__STATUS__STATUS_BAD_REQUEST &&
			err->status != TRUSTCHAIN__INTERNAL__STATUS__STATUS_DENIED);
	case TC_CT_ISSUE_LOG_REFUSED:
		return err->status == TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_UNAVAILABLE ||
		       err->status == TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_ERROR;
	default:
		return 1;
	}
}

void tc_ct_issue_describe(const struct tc_ct_issue_error *err, char *out, size_t outlen)
{
	const char *what = err->fault == TC_CT_ISSUE_SIGNER_UNREACHABLE || err->fault == TC_CT_ISSUE_SIGNER_REFUSED
				   ? "not signed"
			   : err->fault == TC_CT_ISSUE_INTERNAL ? "failed"
								: "not logged";
	snprintf(out, outlen, "%s %s: %s", err->precert ? "precertificate" : "certificate", what, err->message);
}

void tc_ct_issue_sign_msg(struct tc_ct_sign_msg *m, const struct tc_ct_issuer *iss, const unsigned char *tbs,
			  size_t tbs_len, int precert, const unsigned char *sct_list, size_t sct_list_len,
			  const unsigned char *serial, size_t serial_len)
{
	(void)iss;
	m->req = (Trustchain__Internal__Request)TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	m->sc = (Trustchain__Internal__SignCertificateRequest)TRUSTCHAIN__INTERNAL__SIGN_CERTIFICATE_REQUEST__INIT;
	m->sc.tbs = (ProtobufCBinaryData){.data = (uint8_t *)tbs, .len = tbs_len};
	m->sc.precertificate = precert;
	m->sc.sct_list = (ProtobufCBinaryData){.data = (uint8_t *)sct_list, .len = sct_list_len};
	m->sc.serial = (ProtobufCBinaryData){.data = (uint8_t *)serial, .len = serial_len};
	m->sc.idempotency_key = (ProtobufCBinaryData){.data = (uint8_t *)iss->idempotency_key,
						      .len = iss->idempotency_key_len};
	m->req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_SIGN_CERTIFICATE;
	m->req.sign_certificate = &m->sc;
}

/* SignCertificate; on success the response (its certificate and serial). */
static Trustchain__Internal__Response *sign(const struct tc_ct_issuer *iss, const unsigned char *tbs, size_t tbs_len,
					    int precert, const unsigned char *sct_list, size_t sct_list_len,
					    const unsigned char *serial, size_t serial_len,
					    struct tc_ct_issue_error *err)
{
	struct tc_ct_sign_msg m;
	tc_ct_issue_sign_msg(&m, iss, tbs, tbs_len, precert, sct_list, sct_list_len, serial, serial_len);
	char why[256];
	Trustchain__Internal__Response *resp =
		tc_child_signer_call(iss->child, &m.req, TC_CT_ISSUE_SIGNER_TIMEOUT_MS, why, sizeof(why));
	return tc_ct_issue_sign_answer(resp, why, precert, err);
}

Trustchain__Internal__Response *tc_ct_issue_sign_answer(Trustchain__Internal__Response *resp, const char *why,
							int precert, struct tc_ct_issue_error *err)
{
	err->precert = precert;
	if (!resp) {
		fail(err, TC_CT_ISSUE_SIGNER_UNREACHABLE, 0, "%s", why);
		return NULL;
	}
	if (resp->status != TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK) {
		fail(err, TC_CT_ISSUE_SIGNER_REFUSED, (int)resp->status, "%s",
		     resp->error && *resp->error ? resp->error : "refused");
		snprintf(err->reason, sizeof(err->reason), "%s", resp->reason ? resp->reason : "");
	} else if (resp->result_case != TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_SIGN_CERTIFICATE ||
		   resp->sign_certificate->serial.len == 0 || resp->sign_certificate->serial.len > TC_SERIAL_MAX ||
		   resp->sign_certificate->certificate.len == 0) {
		fail(err, TC_CT_ISSUE_INTERNAL, 0, "the signer answered another operation");
	} else {
		return resp;
	}
	trustchain__internal__response__free_unpacked(resp, NULL);
	return NULL;
}

/* Copies the log's answer into out; -1 when it is malformed. */
static int take_logged(const Trustchain__Internal__Ct__AddChainResponse *a, int log_only, struct tc_logged *out)
{
	if (a->log_id.len != sizeof(out->log_id) || a->leaf_hash.len != sizeof(out->leaf_hash) ||
	    (a->sct.len == 0 && !log_only) || (a->sct.len && !(out->sct = malloc(a->sct.len))))
		return -1;
	if (a->sct.len)
		memcpy(out->sct, a->sct.data, a->sct.len);
	out->sct_len = a->sct.len;
	memcpy(out->log_id, a->log_id.data, sizeof(out->log_id));
	memcpy(out->leaf_hash, a->leaf_hash.data, sizeof(out->leaf_hash));
	out->timestamp = a->timestamp;
	out->leaf_index_known = a->leaf_index_known;
	out->leaf_index = a->leaf_index;
	return 0;
}

int tc_ct_issue_log_msg(struct tc_ct_log_msg *m, const struct tc_ct_issuer *iss, int precert, int log_only,
			const unsigned char *cert, size_t cert_len, struct tc_ct_issue_error *err)
{
	err->precert = precert;
	if (!iss->ct)
		return fail(err, TC_CT_ISSUE_LOG_UNREACHABLE, 0, "no link to the CT log");
	m->chain[0] = (ProtobufCBinaryData){.data = (uint8_t *)cert, .len = cert_len};
	m->chain[1] = (ProtobufCBinaryData){.data = (uint8_t *)iss->intermediate_der, .len = iss->intermediate_der_len};
	size_t by_len = 0;
	const unsigned char *by = iss->issuer_of ? iss->issuer_of(iss->issuer_arg, cert, cert_len, &by_len) : NULL;
	if (by)
		m->chain[1] = (ProtobufCBinaryData){.data = (uint8_t *)by, .len = by_len};
	size_t cross_len = 0; /* a CA key rollover to a new root: its cross certificate leads to our root */
	const unsigned char *cross = by && iss->cross_of ? iss->cross_of(iss->issuer_arg, cert, cert_len, &cross_len) : NULL;
	if (cross)
		m->chain[2] = (ProtobufCBinaryData){.data = (uint8_t *)cross, .len = cross_len};
	m->req = (Trustchain__Internal__Ct__Request)TRUSTCHAIN__INTERNAL__CT__REQUEST__INIT;
	m->add = (Trustchain__Internal__Ct__AddChainRequest)TRUSTCHAIN__INTERNAL__CT__ADD_CHAIN_REQUEST__INIT;
	m->add.n_chain = cross ? 3 : 2;
	m->add.chain = m->chain;
	m->add.log_only = log_only;
	m->req.log = (char *)tc_ct_shard_name_for_cert(iss->cfg, cert, cert_len); /* temporal shard */
	if (precert) {
		m->req.op_case = TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_ADD_PRE_CHAIN;
		m->req.add_pre_chain = &m->add;
	} else {
		m->req.op_case = TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_ADD_CHAIN;
		m->req.add_chain = &m->add;
	}
	return 0;
}

/* add-chain / add-pre-chain of cert with the issuing intermediate; with
 * log_only the log stores the entry without signing an SCT for it. */
static int log_chain(const struct tc_ct_issuer *iss, int precert, int log_only, const unsigned char *cert,
		     size_t cert_len, struct tc_logged *out, struct tc_ct_issue_error *err)
{
	struct tc_ct_log_msg m;
	if (tc_ct_issue_log_msg(&m, iss, precert, log_only, cert, cert_len, err) != 0)
		return -1;
	char why[256];
	Trustchain__Internal__Ct__Response *resp =
		tc_ct_call(iss->ct, &m.req, TC_CT_ISSUE_LOG_TIMEOUT_MS, why, sizeof(why));
	return tc_ct_issue_log_answer(resp, why, precert, log_only, out, err);
}

int tc_ct_issue_log_answer(Trustchain__Internal__Ct__Response *resp, const char *why, int precert, int log_only,
			   struct tc_logged *out, struct tc_ct_issue_error *err)
{
	err->precert = precert;
	if (!resp)
		return fail(err, TC_CT_ISSUE_LOG_UNREACHABLE, 0, "%s", why);
	int rc = -1;
	if (resp->status != TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_OK)
		fail(err, TC_CT_ISSUE_LOG_REFUSED, (int)resp->status, "%s",
		     resp->error && *resp->error ? resp->error : "refused");
	else if (resp->result_case != TRUSTCHAIN__INTERNAL__CT__RESPONSE__RESULT_ADD_CHAIN ||
		 take_logged(resp->add_chain, log_only, out) != 0)
		fail(err, TC_CT_ISSUE_INTERNAL, 0, "malformed answer from the CT log");
	else
		rc = 0;
	trustchain__internal__ct__response__free_unpacked(resp, NULL);
	return rc;
}

/* Steps 4 and 5, once the precertificate's SCT is in out. */
static int finish(const struct tc_ct_issuer *iss, const unsigned char *tbs, size_t tbs_len,
		  struct tc_issued_cert *out, struct tc_ct_issue_error *err)
{
	unsigned char list[TC_CT_SCT_LIST_MAX];
	size_t list_len = tc_sct_list_encode(out->precert.sct, out->precert.sct_len, list, sizeof(list));
	if (list_len == 0)
		return fail(err, TC_CT_ISSUE_INTERNAL, 0, "SCT too large");
	Trustchain__Internal__Response *fin =
		sign(iss, tbs, tbs_len, 0, list, list_len, out->serial, out->serial_len, err);
	if (!fin || tc_ct_issue_take_final(fin, out, err) != 0)
		return -1;
	if (!iss->log_final)
		return 0;
	/* Promised by the configuration: a certificate that cannot be logged
	 * is not handed out (its precertificate is, harmlessly). Its own SCT
	 * would be discarded (the certificate already embeds the
	 * precertificate's): log only, no signature. */
	if (log_chain(iss, 0, 1, out->der, out->der_len, &out->final, err) != 0)
		return -1;
	out->final_logged = 1;
	return 0;
}

int tc_ct_issue_take_final(Trustchain__Internal__Response *fin, struct tc_issued_cert *out,
			   struct tc_ct_issue_error *err)
{
	const Trustchain__Internal__SignCertificateResponse *f = fin->sign_certificate;
	int rc = -1;
	if (f->serial.len != out->serial_len || memcmp(f->serial.data, out->serial, out->serial_len) != 0)
		fail(err, TC_CT_ISSUE_INTERNAL, 0, "the signer returned another serial");
	else if (!(out->der = malloc(f->certificate.len)))
		fail(err, TC_CT_ISSUE_INTERNAL, 0, "out of memory");
	else
		rc = 0;
	if (rc == 0) {
		memcpy(out->der, f->certificate.data, f->certificate.len);
		out->der_len = f->certificate.len;
	}
	trustchain__internal__response__free_unpacked(fin, NULL);
	return rc;
}

int tc_ct_issue(const struct tc_ct_issuer *iss, const unsigned char *tbs, size_t tbs_len,
		struct tc_issued_cert *out, struct tc_ct_issue_error *err)
{
	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	Trustchain__Internal__Response *pre = sign(iss, tbs, tbs_len, 1, NULL, 0, NULL, 0, err);
	if (!pre)
		return -1;
	const Trustchain__Internal__SignCertificateResponse *p = pre->sign_certificate;
	out->serial_len = p->serial.len;
	memcpy(out->serial, p->serial.data, p->serial.len);
	/* The SCT comes back only once the precertificate's entry is durable. */
	int rc = log_chain(iss, 1, 0, p->certificate.data, p->certificate.len, &out->precert, err);
	trustchain__internal__response__free_unpacked(pre, NULL);
	if (rc == 0)
		rc = finish(iss, tbs, tbs_len, out, err);
	if (rc != 0)
		tc_issued_cert_free(out);
	return rc;
}
