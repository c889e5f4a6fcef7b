/* The verified-CA cache; see chain_cache.h. A small array is the right
 * structure: only certificates that really chain to our root get in, and a
 * CA has a handful of intermediates, so a lookup compares a few hashes. */
#include "common/chain_cache.h"

#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/asn1_time.h"

struct tc_chain_cache {
	pthread_rwlock_t lock;
	struct tc_ca_cert *entries[TC_CHAIN_CACHE_MAX];
	unsigned char pinned[TC_CHAIN_CACHE_MAX];
	size_t n;
};

struct tc_ca_cert *tc_ca_cert_new(X509 *x, struct tc_ca_cert *issuer)
{
	struct tc_ca_cert *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	atomic_init(&e->refs, 1);
	unsigned char *spki = NULL;
	int der_len = i2d_X509(x, &e->der);
	int spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
	int ok = der_len > 0 && spki_len > 0 && X509_up_ref(x) == 1;
	if (ok) {
		e->cert = x;
		e->der_len = (size_t)der_len;
		e->key = X509_get0_pubkey(x);
		ok = e->key && EVP_Digest(e->der, e->der_len, e->der_hash, NULL, EVP_sha256(), NULL) == 1 &&
		     EVP_Digest(spki, (size_t)spki_len, e->spki_hash, NULL, EVP_sha256(), NULL) == 1 &&
		     tc_asn1_time_unix(X509_get0_notBefore(x), &e->not_before) == 0 &&
		     tc_asn1_time_unix(X509_get0_notAfter(x), &e->not_after) == 0;
		/* Decodes and caches the extensions now, single-threaded, so
		 * concurrent readers later only read them. */
		if (ok)
			X509_check_purpose(x, -1, 0);
	}
	OPENSSL_free(spki);
	if (!ok) {
		tc_ca_cert_unref(e);
		return NULL;
	}
	e->issuer = issuer ? tc_ca_cert_ref(issuer) : NULL;
	return e;
}

struct tc_ca_cert *tc_ca_cert_ref(struct tc_ca_cert *e)
{
	atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
	return e;
}

void tc_ca_cert_unref(struct tc_ca_cert *e)
{
	while (e && atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1) {
		struct tc_ca_cert *up = e->issuer;
		X509_free(e->cert);
		OPENSSL_free(e->der);
		free(e);
		e = up; /* the reference this entry held on its issuer */
	}
}

struct tc_chain_cache *tc_chain_cache_new(void)
{
	struct tc_chain_cache *c = calloc(1, sizeof(*c));
	if (c && pthread_rwlock_init(&c->lock, NULL) != 0) {
		free(c);
		c = NULL;
	}
	return c;
}

void tc_chain_cache_free(struct tc_chain_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		tc_ca_cert_unref(c->entries[i]);
	pthread_rwlock_destroy(&c->lock);
	free(c);
}

static ptrdiff_t find(const struct tc_chain_cache *c, const unsigned char hash[32])
{
	for (size_t i = 0; i < c->n; i++)
		if (memcmp(c->entries[i]->der_hash, hash, 32) == 0)
			return (ptrdiff_t)i;
	return -1;
}

/* Drops the oldest unpinned entry (entries stay in insertion order). */
static int evict_one(struct tc_chain_cache *c)
{
	for (size_t i = 0; i < c->n; i++) {
		if (c->pinned[i])
			continue;
		tc_ca_cert_unref(c->entries[i]);
		memmove(&c->entries[i], &c->entries[i + 1], (c->n - i - 1) * sizeof(c->entries[0]));
		memmove(&c->pinned[i], &c->pinned[i + 1], c->n - i - 1);
		c->n--;
		return 0;
	}
	return -1;
}

int tc_chain_cache_add(struct tc_chain_cache *c, struct tc_ca_cert *e, int pinned)
{
	int rc = 0;
	pthread_rwlock_wrlock(&c->lock);
	ptrdiff_t at = find(c, e->der_hash);
	if (at >= 0) {
		c->pinned[at] |= pinned ? 1 : 0;
	} else if (c->n == TC_CHAIN_CACHE_MAX && evict_one(c) != 0) {
		rc = -1; /* all pinned: nothing to make room with */
	} else {
		c->entries[c->n] = tc_ca_cert_ref(e);
		c->pinned[c->n] = pinned ? 1 : 0;
		c->n++;
	}
	pthread_rwlock_unlock(&c->lock);
	return rc;
}

struct tc_ca_cert *tc_chain_cache_get(struct tc_chain_cache *c, const unsigned char der_hash[32])
{
	pthread_rwlock_rdlock(&c->lock);
	ptrdiff_t at = find(c, der_hash);
	struct tc_ca_cert *e = at >= 0 ? tc_ca_cert_ref(c->entries[at]) : NULL;
	pthread_rwlock_unlock(&c->lock);
	return e;
}

struct tc_ca_cert *tc_chain_cache_pinned_issuer(struct tc_chain_cache *c, X509 *leaf)
{
	struct tc_ca_cert *e = NULL;
	pthread_rwlock_rdlock(&c->lock);
	for (size_t i = 0; i < c->n && !e; i++)
		if (c->pinned[i] && X509_check_issued(c->entries[i]->cert, leaf) == X509_V_OK)
			e = tc_ca_cert_ref(c->entries[i]);
	pthread_rwlock_unlock(&c->lock);
	return e;
}

size_t tc_chain_cache_size(struct tc_chain_cache *c)
{
	pthread_rwlock_rdlock(&c->lock);
	size_t n = c->n;
	pthread_rwlock_unlock(&c->lock);
	return n;
}
