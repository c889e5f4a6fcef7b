/* The steps of issuance with embedded SCTs (ct_issue.h), shared by its
 * blocking form (ct_issue.c) and its asynchronous one (ct_issue_async.c):
 * each request is built and each answer checked in one place, whichever
 * thread waits for it (or none does). */
#ifndef TC_COMMON_CT_ISSUE_STEPS_H
#define TC_COMMON_CT_ISSUE_STEPS_H

#include "common/ct_issue.h"
#include "internal/signer.pb-c.h"
#include "internal/transparency.pb-c.h"

/* Room for the SignedCertificateTimestampList of one SCT. */
#define TC_CT_SCT_LIST_MAX (2 + 2 + 1024)

/* A SignCertificate request; it points into tbs, sct_list and serial. */
struct tc_ct_sign_msg {
	Trustchain__Internal__Request req;
	Trustchain__Internal__SignCertificateRequest sc;
};

void tc_ct_issue_sign_msg(struct tc_ct_sign_msg *m, const struct tc_ct_issuer *iss, const unsigned char *tbs,
			  size_t tbs_len, int precert, const unsigned char *sct_list, size_t sct_list_len,
			  const unsigned char *serial, size_t serial_len);

/* The signer's answer (NULL: not answered, why says so): returned when it
 * is a signed certificate, else freed, NULL returned and err set. */
Trustchain__Internal__Response *tc_ct_issue_sign_answer(Trustchain__Internal__Response *resp, const char *why,
							int precert, struct tc_ct_issue_error *err);

/* The final certificate from the signer's answer (freed here) into out,
 * which must hold the precertificate's serial. 0, or -1 with err set. */
int tc_ct_issue_take_final(Trustchain__Internal__Response *fin, struct tc_issued_cert *out,
			   struct tc_ct_issue_error *err);

/* An add-chain / add-pre-chain request of cert and the issuing
 * intermediate; it points into cert and iss. -1 with err set when there is
 * no log to send it to. */
struct tc_ct_log_msg {
	Trustchain__Internal__Ct__Request req;
	Trustchain__Internal__Ct__AddChainRequest add;
	ProtobufCBinaryData chain[3]; /* leaf, issuer, a new root's cross certificate */
};

int tc_ct_issue_log_msg(struct tc_ct_log_msg *m, const struct tc_ct_issuer *iss, int precert, int log_only,
			const unsigned char *cert, size_t cert_len, struct tc_ct_issue_error *err);

/* The log's answer (NULL: not answered, why says so; freed here) into out.
 * 0, or -1 with err set. */
int tc_ct_issue_log_answer(Trustchain__Internal__Ct__Response *resp, const char *why, int precert, int log_only,
			   struct tc_logged *out, struct tc_ct_issue_error *err);

int tc_ct_issue_fail(struct tc_ct_issue_error *err, enum tc_ct_issue_fault fault, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
