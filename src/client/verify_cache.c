/* The online decision cache; see verify_internal.h and trustchain/verify.h.
 * Direct-mapped on the key's first bytes (a SHA-256, so uniform): a put
 * replaces whatever held its slot, which bounds memory without any list
 * upkeep on the handshake path. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/verify_internal.h"

struct slot {
	int used;
	unsigned char key[32];
	int64_t expires_ms;  /* monotonic */
	int64_t not_after;   /* unix seconds, 0: unknown */
	struct tc_verdict vd;
};

struct tc_decision_cache {
	pthread_mutex_t lock;
	size_t mask;
	int64_t ttl_ms;
	struct slot *slots;
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct tc_decision_cache *tc_decision_cache_new(size_t entries, int64_t ttl_ms)
{
	size_t n = 1;
	while (n < entries && n < (1u << 20))
		n <<= 1;
	struct tc_decision_cache *c = calloc(1, sizeof(*c));
	if (!c || !(c->slots = calloc(n, sizeof(*c->slots))) || pthread_mutex_init(&c->lock, NULL) != 0) {
		if (c)
			free(c->slots);
		free(c);
		return NULL;
	}
	c->mask = n - 1;
	c->ttl_ms = ttl_ms;
	return c;
}

void tc_decision_cache_free(struct tc_decision_cache *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c->slots);
	free(c);
}

int tc_decision_key(const unsigned char *leaf, size_t leaf_len, const char *name, size_t name_len,
		    enum tc_purpose purpose, unsigned char key[32])
{
	unsigned char h[32];
	unsigned char meta[12];
	/* Lengths and purpose are hashed in fixed width so that no two
	 * (name, purpose) pairs share an encoding. */
	uint64_t nl = name_len;
	for (int i = 0; i < 8; i++)
		meta[i] = (unsigned char)(nl >> (8 * i));
	uint32_t p = (uint32_t)purpose;
	for (int i = 0; i < 4; i++)
		meta[8 + i] = (unsigned char)(p >> (8 * i));
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md && EVP_Digest(leaf, leaf_len, h, NULL, EVP_sha256(), NULL) == 1 &&
		 EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(md, h, sizeof(h)) == 1 &&
		 EVP_DigestUpdate(md, meta, sizeof(meta)) == 1 &&
		 (name_len == 0 || EVP_DigestUpdate(md, name, name_len) == 1) &&
		 EVP_DigestFinal_ex(md, key, NULL) == 1;
	EVP_MD_CTX_free(md);
	return ok ? 0 : -1;
}

static size_t slot_of(const struct tc_decision_cache *c, const unsigned char key[32])
{
	size_t i = ((size_t)key[0] << 16) | ((size_t)key[1] << 8) | key[2];
	return i & c->mask;
}

int tc_decision_cache_get(struct tc_decision_cache *c, const unsigned char key[32], struct tc_verdict *out)
{
	int hit = 0;
	int64_t now = mono_ms();
	time_t wall = time(NULL);
	pthread_mutex_lock(&c->lock);
	struct slot *s = &c->slots[slot_of(c, key)];
	if (s->used && memcmp(s->key, key, 32) == 0) {
		if (now < s->expires_ms && (s->not_after == 0 || (int64_t)wall <= s->not_after)) {
			*out = s->vd;
			hit = 1;
		} else {
			s->used = 0;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

void tc_decision_cache_put(struct tc_decision_cache *c, const unsigned char key[32], const struct tc_verdict *vd,
			   int64_t not_after)
{
	int64_t expires = mono_ms() + c->ttl_ms;
	pthread_mutex_lock(&c->lock);
	struct slot *s = &c->slots[slot_of(c, key)];
	s->used = 1;
	memcpy(s->key, key, 32);
	s->expires_ms = expires;
	s->not_after = not_after;
	s->vd = *vd;
	pthread_mutex_unlock(&c->lock);
}
