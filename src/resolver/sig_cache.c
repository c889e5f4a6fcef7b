/* Open-addressing table of digest -> signature: see sig_cache.h. */
#include "resolver/sig_cache.h"

#include <stdlib.h>
#include <string.h>

struct entry {
	bool used;
	uint8_t digest[32];
	uint8_t sig[TC_DNSSEC_SIG_LEN];
};

struct tc_sig_cache {
	size_t n, cap;   /* cap a power of two, at most half full */
	struct entry *e;
};

struct tc_sig_cache *tc_sig_cache_new(void)
{
	struct tc_sig_cache *c = calloc(1, sizeof(*c));
	if (c && !(c->e = calloc(c->cap = 64, sizeof(*c->e)))) {
		free(c);
		c = NULL;
	}
	return c;
}

void tc_sig_cache_free(struct tc_sig_cache *c)
{
	if (c)
		free(c->e);
	free(c);
}

static size_t slot_of(const struct entry *e, size_t cap, const uint8_t digest[32])
{
	size_t i;
	memcpy(&i, digest, sizeof(i));   /* a SHA-256 is evenly spread already */
	for (i &= cap - 1; e[i].used && memcmp(e[i].digest, digest, 32) != 0; i = (i + 1) & (cap - 1)) {
	}
	return i;
}

bool tc_sig_cache_get(const struct tc_sig_cache *c, const uint8_t digest[32],
		      uint8_t sig[TC_DNSSEC_SIG_LEN])
{
	if (!c)
		return false;
	const struct entry *e = &c->e[slot_of(c->e, c->cap, digest)];
	if (!e->used)
		return false;
	memcpy(sig, e->sig, TC_DNSSEC_SIG_LEN);
	return true;
}

int tc_sig_cache_put(struct tc_sig_cache *c, const uint8_t digest[32],
		     const uint8_t sig[TC_DNSSEC_SIG_LEN])
{
	if ((c->n + 1) * 2 > c->cap) {
		size_t cap = c->cap * 2;
		struct entry *ne = calloc(cap, sizeof(*ne));
		if (!ne)
			return -1;
		for (size_t i = 0; i < c->cap; i++)
			if (c->e[i].used)
				ne[slot_of(ne, cap, c->e[i].digest)] = c->e[i];
		free(c->e);
		c->e = ne;
		c->cap = cap;
	}
	struct entry *e = &c->e[slot_of(c->e, c->cap, digest)];
	if (!e->used)
		c->n++;
	e->used = true;
	memcpy(e->digest, digest, 32);
	memcpy(e->sig, sig, TC_DNSSEC_SIG_LEN);
	return 0;
}

size_t tc_sig_cache_export(const struct tc_sig_cache *c, uint8_t *out, size_t cap)
{
	size_t need = c ? c->n * TC_SIG_CACHE_ENTRY_LEN : 0;
	if (!out || !c)
		return need;
	if (cap < need)
		return 0;
	size_t off = 0;
	for (size_t i = 0; i < c->cap; i++)
		if (c->e[i].used) {
			memcpy(out + off, c->e[i].digest, 32);
			memcpy(out + off + 32, c->e[i].sig, TC_DNSSEC_SIG_LEN);
			off += TC_SIG_CACHE_ENTRY_LEN;
		}
	return off;
}
