#include "signer/sig_memo.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Enough for the SCTs of every certificate in flight (a final certificate
 * follows its SCT within one round trip through the gateway). */
#define SLOTS 4096
#define MAX_SIG 128 /* a P-256 or P-384 ECDSA signature in DER fits */

struct slot {
	const void *key; /* NULL: empty */
	unsigned char md[32];
	uint8_t sig[MAX_SIG];
	size_t sig_len;
};

struct tc_sig_memo {
	pthread_mutex_t lock;
	struct slot slots[SLOTS];
};

struct tc_sig_memo *tc_sig_memo_new(void)
{
	struct tc_sig_memo *m = calloc(1, sizeof(*m));
	if (m)
		pthread_mutex_init(&m->lock, NULL);
	return m;
}

void tc_sig_memo_free(struct tc_sig_memo *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* The digest is uniformly distributed: its first bytes pick the slot. */
static struct slot *slot_of(struct tc_sig_memo *m, const unsigned char md[32])
{
	return &m->slots[((size_t)md[0] << 8 | md[1]) % SLOTS];
}

void tc_sig_memo_put(struct tc_sig_memo *m, const void *key, const unsigned char md[32], const uint8_t *sig,
		     size_t sig_len)
{
	if (!m || !key || sig_len == 0 || sig_len > MAX_SIG)
		return;
	pthread_mutex_lock(&m->lock);
	struct slot *s = slot_of(m, md);
	s->key = key;
	memcpy(s->md, md, 32);
	memcpy(s->sig, sig, sig_len);
	s->sig_len = sig_len;
	pthread_mutex_unlock(&m->lock);
}

int tc_sig_memo_has(struct tc_sig_memo *m, const void *key, const unsigned char md[32], const uint8_t *sig,
		    size_t sig_len)
{
	if (!m || !key || sig_len == 0 || sig_len > MAX_SIG)
		return 0;
	pthread_mutex_lock(&m->lock);
	const struct slot *s = slot_of(m, md);
	int hit = s->key == key && memcmp(s->md, md, 32) == 0 && s->sig_len == sig_len &&
		  memcmp(s->sig, sig, sig_len) == 0;
	pthread_mutex_unlock(&m->lock);
	return hit;
}
