/* The OpenSSL hook; see trustchain/verify_openssl.h. State rides on OpenSSL's
 * own ex_data: the verifier and default expectation on the SSL_CTX, a
 * per-connection expectation and the verdict on the SSL. */
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trustchain/verify_openssl.h"

#define MAX_NAME 253

struct expect {
	struct tc_verifier *v;   /* set on the ctx's only */
	char name[MAX_NAME + 1];
	size_t name_len;
	enum tc_purpose purpose;
};

struct conn_state {
	int has_expect;
	struct expect expect;
	int has_verdict;
	struct tc_verdict verdict;
};

static int ctx_idx = -1, ssl_idx = -1;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void free_ex(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	free(ptr);
}

static void init_idx(void)
{
	ctx_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, free_ex);
	ssl_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, free_ex);
}

static int set_expect(struct expect *e, const char *name, size_t len, enum tc_purpose purpose)
{
	if (len > MAX_NAME)
		return -1;
	memcpy(e->name, name ? name : "", name ? len : 0);
	e->name[name ? len : 0] = '\0';
	e->name_len = name ? len : 0;
	e->purpose = purpose;
	return 0;
}

int tc_openssl_attach(SSL_CTX *ctx, struct tc_verifier *v, const char *name, enum tc_purpose purpose)
{
	pthread_once(&once, init_idx);
	if (ctx_idx < 0 || ssl_idx < 0)
		return -1;
	struct expect *e = calloc(1, sizeof(*e));
	if (!e || set_expect(e, name, name ? strlen(name) : 0, purpose) != 0) {
		free(e);
		return -1;
	}
	e->v = v;
	free(SSL_CTX_get_ex_data(ctx, ctx_idx));
	if (SSL_CTX_set_ex_data(ctx, ctx_idx, e) != 1) {
		free(e);
		return -1;
	}
	SSL_CTX_set_cert_verify_callback(ctx, tc_openssl_verify_cb, NULL);
	/* A peer that sends no certificate must not slip past the hook. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	return 0;
}

static struct conn_state *conn_state(SSL *ssl)
{
	struct conn_state *s = SSL_get_ex_data(ssl, ssl_idx);
	if (!s && (s = calloc(1, sizeof(*s))) && SSL_set_ex_data(ssl, ssl_idx, s) != 1) {
		free(s);
		s = NULL;
	}
	return s;
}

int tc_openssl_expect(SSL *ssl, const char *name, size_t name_len, enum tc_purpose purpose)
{
	pthread_once(&once, init_idx);
	struct conn_state *s = ssl_idx >= 0 ? conn_state(ssl) : NULL;
	if (!s || set_expect(&s->expect, name, name_len, purpose) != 0)
		return -1;
	s->has_expect = 1;
	return 0;
}

const struct tc_verdict *tc_openssl_verdict(const SSL *ssl)
{
	if (ssl_idx < 0)
		return NULL;
	const struct conn_state *s = SSL_get_ex_data(ssl, ssl_idx);
	return s && s->has_verdict ? &s->verdict : NULL;
}

/* The X.509 error OpenSSL reports (and turns into a TLS alert). */
static int x509_error(const struct tc_verdict *vd)
{
	if (tc_verdict_has(vd, TC_REASON_REVOKED))
		return X509_V_ERR_CERT_REVOKED;
	if (tc_verdict_has(vd, TC_REASON_EXPIRED))
		return X509_V_ERR_CERT_HAS_EXPIRED;
	if (tc_verdict_has(vd, TC_REASON_NOT_YET_VALID))
		return X509_V_ERR_CERT_NOT_YET_VALID;
	if (tc_verdict_has(vd, TC_REASON_NAME_MISMATCH))
		return X509_V_ERR_HOSTNAME_MISMATCH;
	if (tc_verdict_has(vd, TC_REASON_PATH_UNTRUSTED))
		return X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
	if (tc_verdict_has(vd, TC_REASON_KEY_USAGE_MISMATCH))
		return X509_V_ERR_INVALID_PURPOSE;
	if (tc_verdict_has(vd, TC_REASON_REVOCATION_UNKNOWN))
		return X509_V_ERR_UNABLE_TO_GET_CRL;
	return X509_V_ERR_CERT_REJECTED;
}

int tc_openssl_verify_cb(X509_STORE_CTX *store, void *arg)
{
	(void)arg;
	SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
	const struct expect *dflt = ssl ? SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_idx) : NULL;
	struct conn_state *s = ssl ? conn_state(ssl) : NULL;
	if (!dflt || !s) {
		X509_STORE_CTX_set_error(store, X509_V_ERR_OUT_OF_MEM);
		return 0;
	}
	const struct expect *e = s->has_expect ? &s->expect : dflt;
	/* The peer's chain as sent, leaf first (the untrusted stack holds it
	 * whole); encoded back to DER for the decision. */
	STACK_OF(X509) *sk = X509_STORE_CTX_get0_untrusted(store);
	X509 *leaf = X509_STORE_CTX_get0_cert(store);
	unsigned char *der[11] = {0};
	size_t lens[11];
	size_t n = 0;
	int ok = leaf != NULL;
	if (ok) {
		int l = i2d_X509(leaf, &der[n]);
		ok = l > 0;
		lens[n++] = ok ? (size_t)l : 0;
	}
	for (int i = 1; ok && sk && i < sk_X509_num(sk) && n < 11; i++) {
		int l = i2d_X509(sk_X509_value(sk, i), &der[n]);
		ok = l > 0;
		lens[n++] = ok ? (size_t)l : 0;
	}
	memset(&s->verdict, 0, sizeof(s->verdict));
	if (ok) {
		tc_verifier_check(dflt->v, (const unsigned char *const *)der, lens, n, e->name, e->name_len, e->purpose,
				  &s->verdict);
	} else {
		s->verdict.decision = TC_UNTRUSTED;
		s->verdict.reasons[s->verdict.n_reasons++] = leaf ? TC_REASON_CHAIN_MALFORMED : TC_REASON_CHAIN_EMPTY;
		snprintf(s->verdict.detail, sizeof(s->verdict.detail), "the peer's chain cannot be encoded");
	}
	s->has_verdict = 1;
	for (size_t i = 0; i < n; i++)
		OPENSSL_free(der[i]);
	if (s->verdict.decision == TC_TRUSTED) {
		X509_STORE_CTX_set_error(store, X509_V_OK);
		return 1;
	}
	X509_STORE_CTX_set_error(store, x509_error(&s->verdict));
	return 0;
}
