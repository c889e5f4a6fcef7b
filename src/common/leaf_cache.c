/* The validated-leaf cache; see leaf_cache.h. */
#include "common/leaf_cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tc_leaf_cache {
	pthread_rwlock_t lock;
	struct tc_leaf_entry *slots[TC_LEAF_CACHE_SLOTS];
};

struct tc_leaf_entry *tc_leaf_entry_new(const unsigned char der_hash[32], X509 *cert, struct tc_ca_cert *issuer,
					enum tc_reason sct, const char *sct_why)
{
	struct tc_leaf_entry *e = calloc(1, sizeof(*e));
	if (!e || X509_up_ref(cert) != 1) {
		free(e);
		return NULL;
	}
	atomic_init(&e->refs, 1);
	memcpy(e->der_hash, der_hash, 32);
	e->cert = cert;
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

/* The key is a SHA-256: any of its bytes is a uniform slot index. */
static size_t slot_of(const unsigned char h[32])
{
	return (((size_t)h[0] << 8) | h[1]) & (TC_LEAF_CACHE_SLOTS - 1);
}

struct tc_leaf_entry *tc_leaf_cache_get(struct tc_leaf_cache *c, const unsigned char der_hash[32])
{
	struct tc_leaf_entry *e = NULL;
	pthread_rwlock_rdlock(&c->lock);
	struct tc_leaf_entry *s = c->slots[slot_of(der_hash)];
	if (s && memcmp(s->der_hash, der_hash, 32) == 0) {
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
