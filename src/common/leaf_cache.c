/* The validated-leaf cache; see leaf_cache.h. */
#include "common/leaf_cache.h"

#include "common/asn1_time.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tc_leaf_cache {
	pthread_rwlock_t lock;
	struct tc_leaf_entry *slots[TC_LEAF_CACHE_SLOTS];
};

/* FNV-1a over 8-byte words, then a final mix: a fraction of a
 * microsecond for a leaf, where SHA-256 through EVP cost microseconds (and
 * byte-wise FNV one). Only the slot depends on it. */
uint64_t tc_leaf_der_hash(const unsigned char *der, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull ^ len, w;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		memcpy(&w, der + i, 8);
		h = (h ^ w) * 0x100000001b3ull;
	}
	for (; i < len; i++)
		h = (h ^ der[i]) * 0x100000001b3ull;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 32);
}

struct tc_leaf_entry *tc_leaf_entry_new(const unsigned char *der, size_t len, X509 *cert, struct tc_ca_cert *issuer,
					enum tc_reason sct, const char *sct_why)
{
	struct tc_leaf_entry *e = calloc(1, sizeof(*e));
	if (!e || !len || !(e->der = malloc(len)) || X509_up_ref(cert) != 1) {
		if (e)
			free(e->der);
		free(e);
		return NULL;
	}
	atomic_init(&e->refs, 1);
	memcpy(e->der, der, len);
	e->der_len = len;
	e->der_hash = tc_leaf_der_hash(der, len);
	e->cert = cert;
	/* Decoded once here instead of on every validation (timegm per
	 * field showed in the profile). */
	e->times_ok = tc_asn1_time_unix(X509_get0_notBefore(cert), &e->not_before) == 0 &&
		      tc_asn1_time_unix(X509_get0_notAfter(cert), &e->not_after) == 0;
	e->issuer = tc_ca_cert_ref(issuer);
	e->sct = sct;
	snprintf(e->sct_why, sizeof(e->sct_why), "%s", sct_why ? sct_why : "");
	return e;
}

void tc_leaf_entry_unref(struct tc_leaf_entry *e)
{
	if (e && atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1) {
		X509_free(e->cert);
		tc_ca_cert_unref(e->issuer);
		free(e->der);
		free(e);
	}
}

struct tc_leaf_cache *tc_leaf_cache_new(void)
{
	struct tc_leaf_cache *c = calloc(1, sizeof(*c));
	if (c && pthread_rwlock_init(&c->lock, NULL) != 0) {
		free(c);
		c = NULL;
	}
	return c;
}

void tc_leaf_cache_free(struct tc_leaf_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < TC_LEAF_CACHE_SLOTS; i++)
		tc_leaf_entry_unref(c->slots[i]);
	pthread_rwlock_destroy(&c->lock);
	free(c);
}

/* The hash is mixed at the end: any of its bits will do. */
static size_t slot_of(uint64_t h)
{
	return (size_t)(h >> 40) & (TC_LEAF_CACHE_SLOTS - 1);
}

struct tc_leaf_entry *tc_leaf_cache_get(struct tc_leaf_cache *c, const unsigned char *der, size_t len)
{
	struct tc_leaf_entry *e = NULL;
	uint64_t h = tc_leaf_der_hash(der, len);
	pthread_rwlock_rdlock(&c->lock);
	struct tc_leaf_entry *s = c->slots[slot_of(h)];
	if (s && s->der_hash == h && s->der_len == len && memcmp(s->der, der, len) == 0) {
		atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
		e = s;
	}
	pthread_rwlock_unlock(&c->lock);
	return e;
}

void tc_leaf_cache_put(struct tc_leaf_cache *c, struct tc_leaf_entry *e)
{
	atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
	pthread_rwlock_wrlock(&c->lock);
	size_t i = slot_of(e->der_hash);
	struct tc_leaf_entry *old = c->slots[i];
	c->slots[i] = e;
	pthread_rwlock_unlock(&c->lock);
	tc_leaf_entry_unref(old);
}
