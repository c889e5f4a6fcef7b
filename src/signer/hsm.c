#include "signer/hsm.h"

#include <libp11.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CACHED_KEYS 16

struct tc_hsm {
	PKCS11_CTX *ctx;
	PKCS11_SLOT *slots;
	unsigned int nslots;
	PKCS11_SLOT *slot;
	struct tc_hsm_key keys[MAX_CACHED_KEYS];
	size_t nkeys;
};

struct tc_hsm *tc_hsm_open(const char *module, const char *token_label, const char *pin,
			   char *err, size_t errlen)
{
	struct tc_hsm *h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->ctx = PKCS11_CTX_new();
	if (!h->ctx || PKCS11_CTX_load(h->ctx, module) != 0) {
		snprintf(err, errlen, "cannot load PKCS#11 module %s", module);
		goto fail;
	}
	if (PKCS11_enumerate_slots(h->ctx, &h->slots, &h->nslots) != 0) {
		snprintf(err, errlen, "cannot list PKCS#11 slots");
		goto fail;
	}
	for (unsigned int i = 0; i < h->nslots; i++) {
		PKCS11_TOKEN *t = h->slots[i].token;
		if (t && t->initialized && strcmp(t->label, token_label) == 0) {
			h->slot = &h->slots[i];
			break;
		}
	}
	if (!h->slot) {
		snprintf(err, errlen, "no initialised token labelled '%s' (run the key ceremony)", token_label);
		goto fail;
	}
	/* libp11 fixes a slot's session mode at its first session: ask for
	 * read/write before login, or storing a certificate (ceremony) fails
	 * with CKR_SESSION_READ_ONLY. */
	if (PKCS11_open_session(h->slot, 1) != 0) {
		snprintf(err, errlen, "cannot open a session on token '%s'", token_label);
		goto fail;
	}
	if (PKCS11_login(h->slot, 0, pin) != 0) {
		/* Never echo the PIN; the library error code is enough. */
		snprintf(err, errlen, "login to token '%s' failed (wrong PIN or locked token)", token_label);
		goto fail;
	}
	return h;
fail:
	tc_hsm_close(h);
	return NULL;
}

void tc_hsm_close(struct tc_hsm *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->nkeys; i++) {
		EVP_PKEY_free(h->keys[i].priv);
		EVP_PKEY_free(h->keys[i].pub);
		EVP_PKEY_free(h->keys[i].verify);
		X509_free(h->keys[i].cert);
	}
	if (h->slots)
		PKCS11_release_all_slots(h->ctx, h->slots, h->nslots);
	if (h->ctx) {
		PKCS11_CTX_unload(h->ctx);
		PKCS11_CTX_free(h->ctx);
	}
	free(h);
}

/* Fills k->verify and k->spki_sha256 from k->pub. 0 or -1. */
static int decode_public_half(struct tc_hsm_key *k)
{
	unsigned char *spki = NULL;
	int n = i2d_PUBKEY(k->pub, &spki);
	const unsigned char *p = spki;
	if (n > 0)
		k->verify = d2i_PUBKEY(NULL, &p, n);
	int ok = k->verify && EVP_Digest(spki, (size_t)n, k->spki_sha256, NULL, EVP_sha256(), NULL) == 1;
	OPENSSL_free(spki);
	return ok ? 0 : -1;
}

static X509 *find_cert_for(PKCS11_TOKEN *tok, const PKCS11_KEY *k)
{
	PKCS11_CERT *certs;
	unsigned int n;
	if (PKCS11_enumerate_certs(tok, &certs, &n) != 0)
		return NULL;
	for (unsigned int i = 0; i < n; i++)
		if (certs[i].id_len == k->id_len && memcmp(certs[i].id, k->id, k->id_len) == 0 &&
		    certs[i].x509)
			return X509_dup(certs[i].x509);
	return NULL;
}

int tc_hsm_find_key(struct tc_hsm *h, const char *label, struct tc_hsm_key *key, char *err,
		    size_t errlen)
{
	for (size_t i = 0; i < h->nkeys; i++) {
		if (strcmp(h->keys[i].label, label) == 0) {
			*key = h->keys[i];
			return 0;
		}
	}
	if (h->nkeys == MAX_CACHED_KEYS) {
		snprintf(err, errlen, "too many keys");
		return -1;
	}
	PKCS11_KEY *keys;
	unsigned int n;
	if (PKCS11_enumerate_keys(h->slot->token, &keys, &n) != 0) {
		snprintf(err, errlen, "cannot list keys on the token");
		return -1;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (!keys[i].label || strcmp(keys[i].label, label) != 0 || !keys[i].isPrivate)
			continue;
		struct tc_hsm_key *k = &h->keys[h->nkeys];
		memset(k, 0, sizeof(*k));
		snprintf(k->label, sizeof(k->label), "%s", label);
		k->id_len = keys[i].id_len < sizeof(k->id) ? keys[i].id_len : sizeof(k->id);
		memcpy(k->id, keys[i].id, k->id_len);
		k->priv = PKCS11_get_private_key(&keys[i]);
		k->pub = PKCS11_get_public_key(&keys[i]);
		if (!k->priv || !k->pub || decode_public_half(k) != 0) {
			EVP_PKEY_free(k->priv);
			EVP_PKEY_free(k->pub);
			EVP_PKEY_free(k->verify);
			snprintf(err, errlen, "key '%s' has no usable private/public pair", label);
			return -1;
		}
		k->cert = find_cert_for(h->slot->token, &keys[i]);
		h->nkeys++;
		*key = *k;
		return 0;
	}
	snprintf(err, errlen, "no private key labelled '%s' on the token", label);
	return -1;
}

int tc_hsm_store_cert(struct tc_hsm *h, const struct tc_hsm_key *key, X509 *cert, char *err,
		      size_t errlen)
{
	if (PKCS11_store_certificate(h->slot->token, cert, (char *)key->label,
				     (unsigned char *)key->id, key->id_len, NULL) != 0) {
		snprintf(err, errlen, "cannot store certificate '%s' on the token", key->label);
		return -1;
	}
	for (size_t i = 0; i < h->nkeys; i++) {
		if (strcmp(h->keys[i].label, key->label) == 0) {
			X509_free(h->keys[i].cert);
			h->keys[i].cert = X509_dup(cert);
		}
	}
	return 0;
}

int tc_hsm_random(struct tc_hsm *h, unsigned char *buf, size_t len)
{
	return PKCS11_generate_random(h->slot, buf, (unsigned int)len) == 0 ? 0 : -1;
}

void tc_hsm_describe(struct tc_hsm *h, char *out, size_t outlen)
{
	PKCS11_TOKEN *t = h->slot->token;
	snprintf(out, outlen, "%s / %s / %s / %s", t->label, t->manufacturer, t->model, t->serialnr);
}
