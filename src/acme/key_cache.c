#include "acme/key_cache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 4096

struct slot {
	char *text;
	struct tc_jwk key;
};

struct tc_key_cache {
	pthread_mutex_t lock;
	struct slot slots[SLOTS];
};

struct tc_key_cache *tc_key_cache_new(void)
{
	struct tc_key_cache *c = calloc(1, sizeof(*c));
	if (c)
		pthread_mutex_init(&c->lock, NULL);
	return c;
}

void tc_key_cache_free(struct tc_key_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < SLOTS; i++) {
		free(c->slots[i].text);
		tc_jwk_free(&c->slots[i].key);
	}
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* A reference of its own to src's key. */
static int copy(const struct tc_jwk *src, struct tc_jwk *out)
{
	memset(out, 0, sizeof(*out));
	out->canonical = strdup(src->canonical);
	if (!out->canonical || !EVP_PKEY_up_ref(src->key)) {
		free(out->canonical);
		out->canonical = NULL;
		return -1;
	}
	out->type = src->type;
	out->key = src->key;
	memcpy(out->thumbprint, src->thumbprint, sizeof(out->thumbprint));
	return 0;
}

int tc_key_cache_get(struct tc_key_cache *c, const char *text, struct tc_jwk *out, char *why, size_t whylen)
{
	if (!c)
		return tc_jwk_parse_text(text, out, why, whylen);
	struct slot *s = &c->slots[hash(text) % SLOTS];
	pthread_mutex_lock(&c->lock);
	int hit = s->text && strcmp(s->text, text) == 0 && copy(&s->key, out) == 0;
	pthread_mutex_unlock(&c->lock);
	if (hit)
		return 0;
	if (tc_jwk_parse_text(text, out, why, whylen) != 0)
		return -1;
	struct tc_jwk mine;
	char *t = strdup(text);
	if (t && copy(out, &mine) == 0) {
		pthread_mutex_lock(&c->lock);
		free(s->text);
		tc_jwk_free(&s->key);
		s->text = t;
		s->key = mine;
		pthread_mutex_unlock(&c->lock);
	} else {
		free(t);
	}
	return 0;
}
