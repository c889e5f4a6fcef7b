/* Signer IPC for the zone key: see dnssec_signer.h. */
#include "resolver/dnssec_signer.h"

#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
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

/* The key whose tag the RRSIG head in data names (octets 16-17). */
static const struct signer_key *key_for(const struct tc_dnssec_signer *s, const uint8_t *data, size_t len,
					char *err, size_t errlen)
{
	uint16_t tag = len >= 18 ? (uint16_t)((data[16] << 8) | data[17]) : 0;
	for (size_t i = 0; i < s->n && len >= 18; i++)
		if (s->key[i].tag == tag)
			return &s->key[i];
	snprintf(err, errlen, "no zone key with tag %u", (unsigned)tag);
	return NULL;
}

static void sign_request(const struct signer_key *k, const uint8_t *data, size_t len, Request *req,
			 Trustchain__Internal__SignDataRequest *sd)
{
	trustchain__internal__request__init(req);
	trustchain__internal__sign_data_request__init(sd);
	sd->key = TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_DNS_ZONE;
	sd->data.data = (uint8_t *)data;
	sd->data.len = len;
	sd->dns_key = (char *)k->label;
	req->op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_SIGN_DATA;
	req->sign_data = sd;
}

/* The signature of an answer, checked against the key's public key. */
static int take_signature(const struct signer_key *k, const Response *r, const uint8_t *data, size_t len,
			  uint8_t sig[TC_DNSSEC_SIG_LEN], char *err, size_t errlen)
{
	if (r->status != TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK ||
	    r->result_case != TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_SIGN_DATA) {
		snprintf(err, errlen, "signer refused (status %d): %s", (int)r->status,
			 r->error ? r->error : "no reason");
		return -1;
	}
	if (tc_dnssec_sig_from_der(r->sign_data->signature.data, r->sign_data->signature.len, sig) != 0) {
		snprintf(err, errlen, "signer returned a signature that is not P-256 ECDSA");
		return -1;
	}
	if (verify(k->pub, data, len, r->sign_data->signature.data, r->sign_data->signature.len) != 0) {
		snprintf(err, errlen, "signature does not verify with the zone's public key");
		return -1;
	}
	return 0;
}

int tc_dnssec_signer_sign(void *ctx, const uint8_t *data, size_t len,
			  uint8_t sig[TC_DNSSEC_SIG_LEN], char *err, size_t errlen)
{
	struct tc_dnssec_signer *s = ctx;
	const struct signer_key *k = key_for(s, data, len, err, errlen);
	if (!k)
		return -1;
	Request req;
	Trustchain__Internal__SignDataRequest sd;
	sign_request(k, data, len, &req, &sd);
	Response *r = tc_child_signer_call(s->child, &req, SIGNER_TIMEOUT_MS, err, errlen);
	if (!r)
		return -1;
	int rc = take_signature(k, r, data, len, sig, err, errlen);
	trustchain__internal__response__free_unpacked(r, NULL);
	return rc;
}

/* tc_dnssec_signer_sign_many: each answer is checked as it comes, on the
 * IPC client's reader thread (a P-256 verification, ~0.1 ms: not long
 * enough to hold up other answers), so checking overlaps the signatures
 * still in flight instead of following the last one. */
struct many {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t pending;
	struct many_slot {
		struct many *m;
		const struct signer_key *key;
		const uint8_t *data;
		size_t len;
		uint8_t *sig;
		int rc;
		char err[160];
	} *slot;
};

static void many_done(void *arg, ProtobufCMessage *resp, const char *err)
{
	struct many_slot *sl = arg;
	struct many *m = sl->m;
	if (!resp) {
		snprintf(sl->err, sizeof(sl->err), "signer: %s", err && err[0] ? err : "no answer");
		sl->rc = -1;
	} else {
		sl->rc = take_signature(sl->key, (Response *)resp, sl->data, sl->len, sl->sig, sl->err, sizeof(sl->err));
		trustchain__internal__response__free_unpacked((Response *)resp, NULL);
	}
	pthread_mutex_lock(&m->lock);
	if (--m->pending == 0)
		pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

int tc_dnssec_signer_sign_many(struct tc_dnssec_signer *s, const uint8_t *const *data, const size_t *len,
			       size_t n, uint8_t (*sigs)[TC_DNSSEC_SIG_LEN], char *err, size_t errlen)
{
	if (n == 0)
		return 0;
	struct many m = {.slot = calloc(n, sizeof(*m.slot))};
	if (!m.slot) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_init(&m.lock, NULL);
	pthread_cond_init(&m.cond, NULL);
	int rc = 0;
	size_t sent = 0;
	for (; sent < n; sent++) {
		const struct signer_key *k = key_for(s, data[sent], len[sent], err, errlen);
		if (!k) {
			rc = -1;
			break;
		}
		Request req;
		Trustchain__Internal__SignDataRequest sd;
		sign_request(k, data[sent], len[sent], &req, &sd);
		m.slot[sent] = (struct many_slot){.m = &m, .key = k, .data = data[sent], .len = len[sent],
						  .sig = sigs[sent]};
		pthread_mutex_lock(&m.lock);
		m.pending++;
		pthread_mutex_unlock(&m.lock);
		if (tc_child_signer_call_async(s->child, &req, SIGNER_TIMEOUT_MS, many_done, &m.slot[sent], err,
					       errlen) != 0) {
			pthread_mutex_lock(&m.lock);
			m.pending--;
			pthread_mutex_unlock(&m.lock);
			rc = -1;
			break;
		}
	}
	/* Every request sent has its callback still to come: wait for all
	 * of them, even after a failure (the slots are ours). */
	pthread_mutex_lock(&m.lock);
	while (m.pending > 0)
		pthread_cond_wait(&m.cond, &m.lock);
	pthread_mutex_unlock(&m.lock);
	for (size_t i = 0; i < sent && rc == 0; i++)
		if (m.slot[i].rc != 0) {
			snprintf(err, errlen, "%s", m.slot[i].err);
			rc = -1;
		}
	pthread_cond_destroy(&m.cond);
	pthread_mutex_destroy(&m.lock);
	free(m.slot);
	return rc;
}
