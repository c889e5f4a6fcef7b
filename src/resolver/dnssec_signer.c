/* Signer IPC for the zone key: see dnssec_signer.h. */
#include "resolver/dnssec_signer.h"

#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/child_runtime.h"

typedef Trustchain__Internal__Request Request;
typedef Trustchain__Internal__Response Response;

#define SIGNER_TIMEOUT_MS 10000

struct tc_dnssec_signer {
	struct tc_child *child;
	EVP_PKEY *pub;
};

enum tc_dnssec_key_state tc_dnssec_signer_open(struct tc_child *child,
					       struct tc_dnssec_signer **out,
					       uint8_t dnskey[TC_DNSSEC_DNSKEY_LEN], char *err,
					       size_t errlen)
{
	*out = NULL;
	Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__GetPublicInfoRequest gp =
	    TRUSTCHAIN__INTERNAL__GET_PUBLIC_INFO_REQUEST__INIT;
	gp.key = TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_DNS_ZONE;
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_GET_PUBLIC_INFO;
	req.get_public_info = &gp;
	Response *r = tc_child_signer_call(child, &req, SIGNER_TIMEOUT_MS, err, errlen);
	if (!r)
		return TC_DNSSEC_KEY_FAILED;
	enum tc_dnssec_key_state st = TC_DNSSEC_KEY_FAILED;
	uint8_t point[64];
	if (r->status == TRUSTCHAIN__INTERNAL__STATUS__STATUS_UNAVAILABLE) {
		snprintf(err, errlen, "signer: %s", r->error ? r->error : "zone key not provisioned");
		st = TC_DNSSEC_KEY_NOT_PROVISIONED;
	} else if (r->status != TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK ||
		   r->result_case != TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_GET_PUBLIC_INFO) {
		snprintf(err, errlen, "signer refused the zone key (status %d): %s", (int)r->status,
			 r->error ? r->error : "no reason");
	} else if (tc_dnssec_point_from_spki(r->get_public_info->public_key.data,
					     r->get_public_info->public_key.len, point) != 0) {
		snprintf(err, errlen, "the zone key is not an EC P-256 key (algorithm 13 needs one)");
	} else {
		struct tc_dnssec_signer *s = calloc(1, sizeof(*s));
		const unsigned char *p = r->get_public_info->public_key.data;
		if (s)
			s->pub = d2i_PUBKEY(NULL, &p, (long)r->get_public_info->public_key.len);
		if (!s || !s->pub) {
			free(s);
			snprintf(err, errlen, "out of memory");
		} else {
			s->child = child;
			tc_dnssec_dnskey_rdata(dnskey, TC_DNSSEC_FLAGS_CSK, point);
			*out = s;
			st = TC_DNSSEC_KEY_OK;
		}
	}
	trustchain__internal__response__free_unpacked(r, NULL);
	return st;
}

void tc_dnssec_signer_free(struct tc_dnssec_signer *s)
{
	if (!s)
		return;
	EVP_PKEY_free(s->pub);
	free(s);
}

static int verify(EVP_PKEY *pub, const uint8_t *data, size_t len, const uint8_t *der,
		  size_t derlen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) == 1 &&
		 EVP_DigestVerify(md, der, derlen, data, len) == 1;
	EVP_MD_CTX_free(md);
	return ok ? 0 : -1;
}

int tc_dnssec_signer_sign(void *ctx, const uint8_t *data, size_t len,
			  uint8_t sig[TC_DNSSEC_SIG_LEN], char *err, size_t errlen)
{
	struct tc_dnssec_signer *s = ctx;
	Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__SignDataRequest sd = TRUSTCHAIN__INTERNAL__SIGN_DATA_REQUEST__INIT;
	sd.key = TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_DNS_ZONE;
	sd.data.data = (uint8_t *)data;
	sd.data.len = len;
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_SIGN_DATA;
	req.sign_data = &sd;
	Response *r = tc_child_signer_call(s->child, &req, SIGNER_TIMEOUT_MS, err, errlen);
	if (!r)
		return -1;
	int rc = -1;
	if (r->status != TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK ||
	    r->result_case != TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_SIGN_DATA) {
		snprintf(err, errlen, "signer refused (status %d): %s", (int)r->status,
			 r->error ? r->error : "no reason");
	} else if (tc_dnssec_sig_from_der(r->sign_data->signature.data, r->sign_data->signature.len,
					  sig) != 0) {
		snprintf(err, errlen, "signer returned a signature that is not P-256 ECDSA");
	} else if (verify(s->pub, data, len, r->sign_data->signature.data,
			  r->sign_data->signature.len) != 0) {
		snprintf(err, errlen, "signature does not verify with the zone's public key");
	} else {
		rc = 0;
	}
	trustchain__internal__response__free_unpacked(r, NULL);
	return rc;
}
