/* Signatures of a build asked of the signer together: see sig_prefetch.h. */
#include "resolver/sig_prefetch.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct input {
	uint8_t digest[32];
	uint8_t *data;
	size_t len;
};

struct prefetch {
	const struct tc_sig_cache *prev;
	struct input *in;
	size_t n, cap;
	int failed;   /* out of memory while collecting */
	/* Signing, shared by the threads under lock. */
	pthread_mutex_t lock;
	struct tc_dnssec_signer *signer;
	struct tc_sig_cache *out;
	size_t next;
	long made;
	char err[256];
};

static int collect(void *ctx, const uint8_t *data, size_t len, uint8_t sig[TC_DNSSEC_SIG_LEN], char *err,
		   size_t errlen)
{
	(void)err;
	(void)errlen;
	struct prefetch *p = ctx;
	memset(sig, 0, TC_DNSSEC_SIG_LEN);
	struct input one;
	unsigned int dlen = 0;
	if (EVP_Digest(data, len, one.digest, &dlen, EVP_sha256(), NULL) != 1 || dlen != 32)
		return 0; /* the real pass signs it */
	if (tc_sig_cache_get(p->prev, one.digest, sig))
		return 0;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct input *in = realloc(p->in, cap * sizeof(*in));
		if (!in) {
			p->failed = 1;
			return 0;
		}
		p->in = in;
		p->cap = cap;
	}
	if (!(one.data = malloc(len))) {
		p->failed = 1;
		return 0;
	}
	memcpy(one.data, data, len);
	one.len = len;
	p->in[p->n++] = one;
	return 0;
}

static void *sign_some(void *arg)
{
	struct prefetch *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		size_t i = p->err[0] ? p->n : p->next++;
		pthread_mutex_unlock(&p->lock);
		if (i >= p->n)
			return NULL;
		uint8_t sig[TC_DNSSEC_SIG_LEN];
		char err[256];
		int rc = tc_dnssec_signer_sign(p->signer, p->in[i].data, p->in[i].len, sig, err, sizeof(err));
		pthread_mutex_lock(&p->lock);
		if (rc != 0 && !p->err[0])
			snprintf(p->err, sizeof(p->err), "%s", err);
		else if (rc == 0 && tc_sig_cache_put(p->out, p->in[i].digest, sig) == 0)
			p->made++;
		pthread_mutex_unlock(&p->lock);
	}
}

/* The helper threads: started once, on the first prefetch, and kept (a
 * thread per prefetch cost more than the signing it overlapped). A
 * prefetch is posted as the current job; each helper that wakes while it
 * is posted joins in (sign_some), and the poster waits until every helper
 * that joined has left before the job's memory goes. */
static struct {
	pthread_once_t once;
	pthread_mutex_t lock, one_job;   /* one_job: one prefetch at a time */
	pthread_cond_t work, idle;
	struct prefetch *job;
	unsigned long gen;
	int active, started;
} pool = {.once = PTHREAD_ONCE_INIT, .lock = PTHREAD_MUTEX_INITIALIZER, .one_job = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER,
	  .idle = PTHREAD_COND_INITIALIZER};

static void *helper(void *arg)
{
	(void)arg;
	unsigned long seen = 0;
	pthread_mutex_lock(&pool.lock);
	for (;;) {
		while (!pool.job || pool.gen == seen)
			pthread_cond_wait(&pool.work, &pool.lock);
		seen = pool.gen;
		struct prefetch *p = pool.job;
		pool.active++;
		pthread_mutex_unlock(&pool.lock);
		sign_some(p);
		pthread_mutex_lock(&pool.lock);
		if (--pool.active == 0)
			pthread_cond_broadcast(&pool.idle);
	}
	return NULL;
}

static void start_pool(void)
{
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, 256 * 1024);
	for (int i = 0; i + 1 < TC_SIG_PREFETCH_THREADS; i++) {
		pthread_t t;
		if (pthread_create(&t, &a, helper, NULL) == 0)
			pool.started++;
	}
	pthread_attr_destroy(&a);
}

long tc_sig_prefetch(struct tc_zone *zone, const struct tc_dnssec_zone_key *key, struct tc_dnssec_signer *signer,
		     const struct tc_sig_cache *prev, struct tc_sig_cache *out, char *err, size_t errlen)
{
	struct prefetch p = {.prev = prev, .signer = signer, .out = out};
	struct tc_dnssec_zone_key dry = *key;
	dry.sign = collect;
	dry.ctx = &p;
	long rc = tc_zone_sign(zone, &dry, err, errlen);
	if (rc >= 0 && p.failed) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	if (rc >= 0 && p.n == 0)
		rc = 0;
	if (rc >= 0 && p.n > 0) {
		pthread_mutex_init(&p.lock, NULL);
		/* One input needs no helper: the caller signs it. */
		if (p.n > 1) {
			pthread_once(&pool.once, start_pool);
			pthread_mutex_lock(&pool.one_job);
			pthread_mutex_lock(&pool.lock);
			pool.job = &p;
			pool.gen++;
			pthread_cond_broadcast(&pool.work);
			pthread_mutex_unlock(&pool.lock);
		}
		sign_some(&p);
		if (p.n > 1) {
			pthread_mutex_lock(&pool.lock);
			pool.job = NULL;
			while (pool.active > 0)
				pthread_cond_wait(&pool.idle, &pool.lock);
			pthread_mutex_unlock(&pool.lock);
			pthread_mutex_unlock(&pool.one_job);
		}
		pthread_mutex_destroy(&p.lock);
		if (p.err[0]) {
			snprintf(err, errlen, "%s", p.err);
			rc = -1;
		} else {
			rc = p.made;
		}
	}
	for (size_t i = 0; i < p.n; i++)
		free(p.in[i].data);
	free(p.in);
	return rc < 0 ? -1 : rc;
}
