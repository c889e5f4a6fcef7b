#include "support/sct_mint.h"

#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/signer_client.h"

typedef Trustchain__Internal__Request Request;
typedef Trustchain__Internal__Response Response;

#define CALL_TIMEOUT_MS 10000

static Response *public_info(struct tc_signer_client *c, Trustchain__Internal__KeyRole role)
{
	Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__GetPublicInfoRequest gi = TRUSTCHAIN__INTERNAL__GET_PUBLIC_INFO_REQUEST__INIT;
	gi.key = role;
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_GET_PUBLIC_INFO;
	req.get_public_info = &gi;
	char err[256];
	Response *r = tc_signer_call(c, &req, CALL_TIMEOUT_MS, err, sizeof(err));
	if (r && r->status == TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK &&
	    r->result_case == TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_GET_PUBLIC_INFO)
		return r;
	fprintf(stderr, "sct_mint: public info %d: %s\n", (int)role, r ? r->error : err);
	if (r)
		trustchain__internal__response__free_unpacked(r, NULL);
	return NULL;
}

/* SHA-256 of the SubjectPublicKeyInfo of a DER certificate. */
static int cert_key_hash(const unsigned char *der, size_t len, unsigned char out[32])
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	unsigned char *spki = NULL;
	int n = x ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki) : -1;
	if (n > 0)
		SHA256(spki, (size_t)n, out);
	OPENSSL_free(spki);
	X509_free(x);
	return n > 0 ? 0 : -1;
}

int tc_sct_minter_open(struct tc_sct_minter *m, struct tc_harness *h)
{
	memset(m, 0, sizeof(*m));
	m->log_link = tc_signer_client_new(tc_harness_connect(h, "transparency"));
	if (!m->log_link)
		return -1;
	Response *log = public_info(m->log_link, TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_CT_LOG);
	Response *inter = public_info(m->log_link, TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_INTERMEDIATE);
	int rc = log && inter ? 0 : -1;
	if (rc == 0) {
		SHA256(log->get_public_info->public_key.data, log->get_public_info->public_key.len, m->log_id);
		rc = cert_key_hash(inter->get_public_info->certificate.data, inter->get_public_info->certificate.len,
				   m->issuer_key_hash);
	}
	if (log)
		trustchain__internal__response__free_unpacked(log, NULL);
	if (inter)
		trustchain__internal__response__free_unpacked(inter, NULL);
	if (rc != 0)
		tc_sct_minter_close(m);
	return rc;
}

void tc_sct_minter_close(struct tc_sct_minter *m)
{
	tc_signer_client_free(m->log_link);
	memset(m, 0, sizeof(*m));
}

/* The TBSCertificate of precert without its poison extension (DER,
 * re-encoded by OpenSSL: the bytes the signer signed, poison taken out). */
static int precert_tbs(const unsigned char *precert, size_t len, unsigned char **tbs, size_t *tbs_len)
{
	const unsigned char *p = precert;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	int at = x ? X509_get_ext_by_NID(x, NID_ct_precert_poison, -1) : -1;
	int n = -1;
	*tbs = NULL;
	if (at >= 0) {
		X509_EXTENSION_free(X509_delete_ext(x, at));
		n = i2d_re_X509_tbs(x, tbs);
	}
	X509_free(x);
	*tbs_len = n > 0 ? (size_t)n : 0;
	return n > 0 ? 0 : -1;
}

int tc_sct_precert_input(const unsigned char issuer_key_hash[32], const unsigned char *precert, size_t len,
			 uint64_t timestamp_ms, unsigned char **in, size_t *in_len)
{
	unsigned char *tbs;
	size_t tbs_len;
	if (precert_tbs(precert, len, &tbs, &tbs_len) != 0)
		return -1;
	size_t n = 1 + 1 + 8 + 2 + 32 + 3 + tbs_len + 2;
	unsigned char *o = malloc(n);
	if (!o) {
		OPENSSL_free(tbs);
		return -1;
	}
	*in = o;
	*in_len = n;
	*o++ = 0; /* v1 */
	*o++ = 0; /* certificate_timestamp */
	for (int i = 7; i >= 0; i--)
		*o++ = (unsigned char)(timestamp_ms >> (8 * i));
	*o++ = 0;
	*o++ = 1; /* precert_entry */
	memcpy(o, issuer_key_hash, 32);
	o += 32;
	*o++ = (unsigned char)(tbs_len >> 16);
	*o++ = (unsigned char)(tbs_len >> 8);
	*o++ = (unsigned char)tbs_len;
	memcpy(o, tbs, tbs_len);
	o += tbs_len;
	*o++ = 0; /* no extensions */
	*o++ = 0;
	OPENSSL_free(tbs);
	return 0;
}

int tc_sct_list_of(const unsigned char log_id[32], uint64_t timestamp_ms, const unsigned char *sig, size_t sig_len,
		   unsigned char **list, size_t *list_len)
{
	size_t sct_len = 1 + 32 + 8 + 2 + 4 + sig_len;
	if (sig_len > 0xffff || sct_len + 2 > 0xffff)
		return -1;
	unsigned char *o = malloc(2 + 2 + sct_len);
	if (!o)
		return -1;
	*list = o;
	*list_len = 2 + 2 + sct_len;
	*o++ = (unsigned char)((sct_len + 2) >> 8);
	*o++ = (unsigned char)(sct_len + 2);
	*o++ = (unsigned char)(sct_len >> 8);
	*o++ = (unsigned char)sct_len;
	*o++ = 0; /* v1 */
	memcpy(o, log_id, 32);
	o += 32;
	for (int i = 7; i >= 0; i--)
		*o++ = (unsigned char)(timestamp_ms >> (8 * i));
	*o++ = 0; /* no extensions */
	*o++ = 0;
	*o++ = 4; /* sha256 */
	*o++ = 3; /* ecdsa */
	*o++ = (unsigned char)(sig_len >> 8);
	*o++ = (unsigned char)sig_len;
	memcpy(o, sig, sig_len);
	return 0;
}

int tc_sct_mint_list(const struct tc_sct_minter *m, const unsigned char *precert, size_t len, unsigned char **list,
		     size_t *list_len)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	uint64_t ts = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
	unsigned char *in;
	size_t in_len;
	if (tc_sct_precert_input(m->issuer_key_hash, precert, len, ts, &in, &in_len) != 0)
		return -1;
	Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__SignDataRequest sd = TRUSTCHAIN__INTERNAL__SIGN_DATA_REQUEST__INIT;
	sd.key = TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_CT_LOG;
	sd.data.data = in;
	sd.data.len = in_len;
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_SIGN_DATA;
	req.sign_data = &sd;
	char err[256];
	Response *r = tc_signer_call(m->log_link, &req, CALL_TIMEOUT_MS, err, sizeof(err));
	free(in);
	int rc = -1;
	if (r && r->status == TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK &&
	    r->result_case == TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_SIGN_DATA)
		rc = tc_sct_list_of(m->log_id, ts, r->sign_data->signature.data, r->sign_data->signature.len, list,
				    list_len);
	else
		fprintf(stderr, "sct_mint: SCT signature: %s\n", r ? r->error : err);
	if (r)
		trustchain__internal__response__free_unpacked(r, NULL);
	return rc;
}

static Response *sign_cert(struct tc_signer_client *signer, const unsigned char *tbs, size_t tbs_len, int precert,
			   const unsigned char *list, size_t list_len, const ProtobufCBinaryData *serial, char *err,
			   size_t errlen)
{
	Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__SignCertificateRequest sc = TRUSTCHAIN__INTERNAL__SIGN_CERTIFICATE_REQUEST__INIT;
	sc.tbs.data = (unsigned char *)tbs;
	sc.tbs.len = tbs_len;
	sc.precertificate = precert;
	sc.sct_list.data = (unsigned char *)list;
	sc.sct_list.len = list_len;
	if (serial)
		sc.serial = *serial;
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_SIGN_CERTIFICATE;
	req.sign_certificate = &sc;
	Response *r = tc_signer_call(signer, &req, CALL_TIMEOUT_MS, err, errlen);
	if (r && r->status == TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK &&
	    r->result_case == TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_SIGN_CERTIFICATE)
		return r;
	if (r) {
		snprintf(err, errlen, "%s: %s (%s)", precert ? "precertificate" : "final certificate", r->error,
			 r->reason);
		trustchain__internal__response__free_unpacked(r, NULL);
	}
	return NULL;
}

static unsigned char *copy_of(const ProtobufCBinaryData *b, size_t *len)
{
	unsigned char *out = malloc(b->len);
	if (out) {
		memcpy(out, b->data, b->len);
		*len = b->len;
	}
	return out;
}

unsigned char *tc_sct_minter_issue(const struct tc_sct_minter *m, struct tc_signer_client *signer,
				   const unsigned char *tbs, size_t tbs_len, size_t *len, unsigned char **precert,
				   size_t *precert_len, char *err, size_t errlen)
{
	unsigned char *list = NULL, *out = NULL;
	size_t list_len = 0;
	Response *fin = NULL, *pre = sign_cert(signer, tbs, tbs_len, 1, NULL, 0, NULL, err, errlen);
	if (!pre)
		return NULL;
	const ProtobufCBinaryData *p = &pre->sign_certificate->certificate;
	if (tc_sct_mint_list(m, p->data, p->len, &list, &list_len) != 0)
		snprintf(err, errlen, "no SCT for the precertificate");
	else if ((fin = sign_cert(signer, tbs, tbs_len, 0, list, list_len, &pre->sign_certificate->serial, err,
				  errlen)))
		out = copy_of(&fin->sign_certificate->certificate, len);
	if (out && precert && !(*precert = copy_of(p, precert_len))) {
		free(out);
		out = NULL;
	}
	free(list);
	trustchain__internal__response__free_unpacked(pre, NULL);
	if (fin)
		trustchain__internal__response__free_unpacked(fin, NULL);
	return out;
}
