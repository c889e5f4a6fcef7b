/* Signer IPC for the zone key: see dnssec_signer.h. */
#include "resolver/dnssec_signer.h"

#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/child_runtime.h"
#include "common/dns_roll_state.h"

typedef Trustchain__Internal__Request Request;
typedef Trustchain__Internal__Response Response;

#define SIGNER_TIMEOUT_MS 10000

struct signer_key {
	char label[TC_KEY_LABEL_MAX + 1];
	uint16_t tag;
	EVP_PKEY *pub;
};

struct tc_dnssec_signer {
	struct tc_child *child;
	size_t n;
	struct signer_key key[TC_DNSSEC_MAX_KEYS];
	struct tc_dnssec_keyset set;
};

/* The public key of one DNS key (selector: its label) -> pub and the
 * point. */
static enum tc_dnssec_key_state fetch_key(struct tc_child *child, const char *label, EVP_PKEY **pub,
					  uint8_t point[64], char *err, size_t errlen)
{
	Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__GetPublicInfoRequest gp =
	    TRUSTCHAIN__INTERNAL__GET_PUBLIC_INFO_REQUEST__INIT;
	gp.key = TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_DNS_ZONE;
	gp.dns_key = (char *)label;
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_GET_PUBLIC_INFO;
	req.get_public_info = &gp;
	Response *r = tc_child_signer_call(child, &req, SIGNER_TIMEOUT_MS, err, errlen);
	if (!r)
		return TC_DNSSEC_KEY_FAILED;
	enum tc_dnssec_key_state st = TC_DNSSEC_KEY_FAILED;
	if (r->status == TRUSTCHAIN__INTERNAL__STATUS__STATUS_UNAVAILABLE) {
		snprintf(err, errlen, "signer: zone key '%s': %s", label,
			 r->error ? r->error : "not provisioned");
		st = TC_DNSSEC_KEY_NOT_PROVISIONED;
	} else if (r->status != TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK ||
		   r->result_case != TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_GET_PUBLIC_INFO) {
		snprintf(err, errlen, "signer refused the zone key '%s' (status %d): %s", label,
			 (int)r->status, r->error ? r->error : "no reason");
	} else if (tc_dnssec_point_from_spki(r->get_public_info->public_key.data,
					     r->get_public_info->public_key.len, point) != 0) {
		snprintf(err, errlen, "zone key '%s' is not an EC P-256 key (algorithm 13 needs one)",
			 label);
	} else {
		const unsigned char *p = r->get_public_info->public_key.data;
		*pub = d2i_PUBKEY(NULL, &p, (long)r->get_public_info->public_key.len);
		if (*pub)
			st = TC_DNSSEC_KEY_OK;
		else
			snprintf(err, errlen, "out of memory");
	}
	trustchain__internal__response__free_unpacked(r, NULL);
	return st;
}

enum tc_dnssec_key_state tc_dnssec_signer_open(struct tc_child *child,
					       struct tc_dnssec_signer **out,
					       uint8_t dnskey[TC_DNSSEC_DNSKEY_LEN], char *err,
					       size_t errlen)
{
	*out = NULL;
	struct tc_dns_roll_state rs;
	if (tc_dns_roll_state_load(tc_child_config(child), &rs, NULL, err, errlen) != 0)
		return TC_DNSSEC_KEY_FAILED;
	struct tc_dnssec_signer *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return TC_DNSSEC_KEY_FAILED;
	}
	s->child = child;
	for (size_t i = 0; i < rs.nkeys && i < TC_DNSSEC_MAX_KEYS; i++) {
		const struct tc_dns_roll_key *rk = &rs.key[i];
		struct signer_key *k = &s->key[i];
		uint8_t point[64];
		enum tc_dnssec_key_state st = fetch_key(child, rk->label, &k->pub, point, err, errlen);
		if (st != TC_DNSSEC_KEY_OK) {
			tc_dnssec_signer_free(s);
			return st;
		}
		s->n = s->set.n = i + 1;
		snprintf(k->label, sizeof(k->label), "%s", rk->label);
		bool active = rk->phase == TC_DNS_KEY_ACTIVE;
		tc_dnssec_dnskey_rdata(s->set.key[i].dnskey,
				       rk->role == TC_DNS_ROLE_ZSK ? TC_DNSSEC_FLAGS_ZSK : TC_DNSSEC_FLAGS_CSK,
				       point);
		s->set.key[i].signs_dnskey = active && rk->role != TC_DNS_ROLE_ZSK;
		s->set.key[i].signs_zone = active && rk->role != TC_DNS_ROLE_KSK;
		k->tag = tc_dnssec_key_tag(s->set.key[i].dnskey, TC_DNSSEC_DNSKEY_LEN);
	}
	/* dnskey: the first key signing zone data, for callers that show one. */
	size_t shown = 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->set.key[i].signs_zone) {
			shown = i;
			break;
		}
	memcpy(dnskey, s->set.key[shown].dnskey, TC_DNSSEC_DNSKEY_LEN);
	*out = s;
	return TC_DNSSEC_KEY_OK;
}

const struct tc_dnssec_keyset *tc_dnssec_signer_keyset(const struct tc_dnssec_signer *s)
{
	return s ? &s->set : NULL;
}

void tc_dnssec_signer_free(struct tc_dnssec_signer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		EVP_PKEY_free(s->key[i].pub);
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
	/* The key is the one the RRSIG head names (key tag, octets 16-17). */
	const struct signer_key *k = NULL;
	uint16_t tag = len >= 18 ? (uint16_t)((data[16] << 8) | data[17]) : 0;
	for (size_t i = 0; i < s->n && len >= 18; i++)
		if (s->key[i].tag == tag)
			k = &s->key[i];
	if (!k) {
		snprintf(err, errlen, "no zone key with tag %u", (unsigned)tag);
		return -1;
	}
	Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__SignDataRequest sd = TRUSTCHAIN__INTERNAL__SIGN_DATA_REQUEST__INIT;
	sd.key = TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_DNS_ZONE;
	sd.data.data = (uint8_t *)data;
	sd.data.len = len;
	sd.dns_key = (char *)k->label;
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
	} else if (verify(k->pub, data, len, r->sign_data->signature.data,
			  r->sign_data->signature.len) != 0) {
		snprintf(err, errlen, "signature does not verify with the zone's public key");
	} else {
		rc = 0;
	}
	trustchain__internal__response__free_unpacked(r, NULL);
	return rc;
}
