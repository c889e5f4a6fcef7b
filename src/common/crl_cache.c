/* The revocation cache; see crl_cache.h. */
#include "common/crl_cache.h"

#include <openssl/err.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/crl_view.h"

#define MAX_SERIAL 32

struct serial {
	unsigned char len;
	unsigned char neg;
	unsigned char b[MAX_SERIAL];
};

/* One parsed CRL, immutable once published. */
struct tc_crl_set {
	atomic_uint refs;
	uint64_t number;
	X509_NAME *issuer;
	int64_t next_update;   /* unix seconds, 0 for none */
	size_t n;
	struct serial *serials; /* sorted by serial_cmp */
};

struct tc_crl_cache {
	X509 *issuer;
	tc_crl_fetch_fn fetch;
	void *arg;
	struct tc_crl_timing t;
	atomic_uint_fast64_t generation; /* bumped by invalidate */

	pthread_rwlock_t lock;           /* guards the four below */
	char bg_error[256];              /* the background refresher's last failure */
	struct tc_crl_set *set;
	uint64_t set_generation;         /* generation when set was (re)confirmed */
	int64_t fetched_ms;              /* monotonic time of that */

	pthread_mutex_t refresh;         /* one fetch at a time; guards the rest */
	int64_t failed_ms;
	uint64_t failed_generation;
	char error[256];
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int serial_cmp(const void *a, const void *b)
{
	const struct serial *x = a, *y = b;
	if (x->neg != y->neg)
		return x->neg - y->neg;
	if (x->len != y->len)
		return x->len - y->len;
	return memcmp(x->b, y->b, x->len);
}

static int serial_from(const ASN1_INTEGER *i, struct serial *s)
{
	int len = ASN1_STRING_length(i);
	if (len < 0 || len > MAX_SERIAL)
		return -1;
	memset(s, 0, sizeof(*s));
	s->len = (unsigned char)len;
	s->neg = ASN1_STRING_type(i) == V_ASN1_NEG_INTEGER;
	memcpy(s->b, ASN1_STRING_get0_data(i), (size_t)len);
	return 0;
}

static void set_free(struct tc_crl_set *s)
{
	if (!s)
		return;
	X509_NAME_free(s->issuer);
	free(s->serials);
	free(s);
}

void tc_crl_set_release(struct tc_crl_set *s)
{
	if (s && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
		set_free(s);
}

static struct tc_crl_set *set_ref(struct tc_crl_set *s)
{
	atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
	return s;
}

int tc_crl_set_check(const struct tc_crl_set *s, X509 *cert)
{
	if (X509_NAME_cmp(X509_get_issuer_name(cert), s->issuer) != 0)
		return -1;
	struct serial key;
	if (serial_from(X509_get0_serialNumber(cert), &key) != 0)
		return 0; /* longer than any serial a CRL of ours lists */
	return s->n && bsearch(&key, s->serials, s->n, sizeof(key), serial_cmp) ? 1 : 0;
}

uint64_t tc_crl_set_number(const struct tc_crl_set *s)
{
	return s->number;
}

/* The serial of a CRL entry as serial_from keeps a certificate's. */
static int serial_from_der(const struct tc_der_elem *e, struct serial *s)
{
	memset(s, 0, sizeof(*s));
	size_t len;
	int neg;
	if (tc_der_integer_magnitude(e, s->b, sizeof(s->b), &len, &neg) != 0)
		return -1;
	s->len = (unsigned char)len;
	s->neg = (unsigned char)neg;
	return 0;
}

/* Decodes and checks a CRL from the signer: its issuer must be ours and
 * its signature must verify with our issuer's key. Read with our DER
 * reader (common/crl_view.h): OpenSSL's decoder took ~100 ms for 50,000
 * entries, on every fetch. */
static struct tc_crl_set *set_parse(X509 *issuer, const unsigned char *der, size_t len, uint64_t number,
				    char *err, size_t errlen)
{
	struct tc_crl_view v;
	struct tc_crl_set *s = NULL;
	X509_NAME *name = NULL;
	if (tc_crl_view_parse(der, len, &v, err, errlen) != 0)
		goto out;
	const unsigned char *np = v.issuer.tlv;
	name = d2i_X509_NAME(NULL, &np, (long)v.issuer.tlv_len);
	if (!name || X509_NAME_cmp(name, X509_get_subject_name(issuer)) != 0 ||
	    tc_crl_view_verify(&v, X509_get0_pubkey(issuer)) != 1) {
		snprintf(err, errlen, "the CRL is not signed by the issuing intermediate");
		goto out;
	}
	s = calloc(1, sizeof(*s));
	if (!s || (v.revoked_count > 0 && !(s->serials = calloc(v.revoked_count, sizeof(*s->serials))))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	s->issuer = name;
	name = NULL;
	atomic_init(&s->refs, 1);
	s->number = number;
	s->next_update = v.next_update;
	struct tc_der_cursor c = tc_der_inside(&v.revoked);
	struct tc_der_elem serial;
	while (s->n < v.revoked_count && tc_crl_view_next_serial(&c, &serial) == TC_DER_OK) {
		if (serial_from_der(&serial, &s->serials[s->n]) != 0) {
			snprintf(err, errlen, "the CRL lists a serial longer than %d bytes", MAX_SERIAL);
			goto fail;
		}
		s->n++;
	}
	if (s->n)
		qsort(s->serials, s->n, sizeof(*s->serials), serial_cmp);
	goto out;
fail:
	set_free(s);
	s = NULL;
out:
	X509_NAME_free(name);
	ERR_clear_error();
	return s;
}

struct tc_crl_cache *tc_crl_cache_new(X509 *issuer, tc_crl_fetch_fn fetch, void *arg,
				      const struct tc_crl_timing *timing)
{
	struct tc_crl_cache *c = calloc(1, sizeof(*c));
	if (!c || X509_up_ref(issuer) != 1) {
		free(c);
		return NULL;
	}
	c->issuer = issuer;
	c->fetch = fetch;
	c->arg = arg;
	if (timing)
		c->t = *timing;
	if (c->t.refresh_ms <= 0)
		c->t.refresh_ms = TC_CRL_REFRESH_MS;
	if (c->t.retry_ms <= 0)
		c->t.retry_ms = TC_CRL_RETRY_MS;
	if (c->t.max_age_ms <= 0)
		c->t.max_age_ms = TC_CRL_MAX_AGE_MS;
	/* Generation 1 before any fetch: a set confirmed at 0 never exists. */
	atomic_init(&c->generation, 1);
	pthread_rwlock_init(&c->lock, NULL);
	pthread_mutex_init(&c->refresh, NULL);
	return c;
}

void tc_crl_cache_free(struct tc_crl_cache *c)
{
	if (!c)
		return;
	tc_crl_set_release(c->set);
	X509_free(c->issuer);
	pthread_rwlock_destroy(&c->lock);
	pthread_mutex_destroy(&c->refresh);
	free(c);
}

void tc_crl_cache_invalidate(struct tc_crl_cache *c)
{
	atomic_fetch_add(&c->generation, 1);
}

/* Fetches under the refresh mutex; publishes the new set (or re-confirms
 * the current one when the CRL number did not change). */
static int refresh(struct tc_crl_cache *c, uint64_t generation)
{
	unsigned char *der = NULL;
	size_t len = 0;
	uint64_t number = 0;
	if (c->fetch(c->arg, &der, &len, &number, c->error, sizeof(c->error)) != 0) {
		free(der);
		return -1;
	}
	pthread_rwlock_rdlock(&c->lock);
	int same = c->set && c->set->number == number;
	pthread_rwlock_unlock(&c->lock);
	struct tc_crl_set *fresh = NULL;
	if (!same && !(fresh = set_parse(c->issuer, der, len, number, c->error, sizeof(c->error)))) {
		free(der);
		return -1;
	}
	free(der);
	pthread_rwlock_wrlock(&c->lock);
	struct tc_crl_set *old = fresh ? c->set : NULL;
	if (fresh)
		c->set = fresh;
	c->set_generation = generation;
	c->fetched_ms = mono_ms();
	pthread_rwlock_unlock(&c->lock);
	tc_crl_set_release(old);
	return 0;
}

/* The published set if it may be used for a lookup that started at
 * generation: confirmed since then and younger than max_age_ms. */
static struct tc_crl_set *usable(struct tc_crl_cache *c, uint64_t generation, int64_t max_age_ms)
{
	struct tc_crl_set *s = NULL;
	pthread_rwlock_rdlock(&c->lock);
	if (c->set && c->set_generation >= generation && mono_ms() - c->fetched_ms < max_age_ms)
		s = set_ref(c->set);
	pthread_rwlock_unlock(&c->lock);
	return s;
}

int tc_crl_cache_refresh(struct tc_crl_cache *c, char *why, size_t whylen)
{
	pthread_mutex_lock(&c->refresh);
	int rc = refresh(c, atomic_load(&c->generation));
	if (rc != 0)
		snprintf(why, whylen, "%s", c->error);
	pthread_rwlock_wrlock(&c->lock);
	snprintf(c->bg_error, sizeof(c->bg_error), "%s", rc != 0 ? c->error : "");
	pthread_rwlock_unlock(&c->lock);
	pthread_mutex_unlock(&c->refresh);
	return rc;
}

int64_t tc_crl_cache_age_ms(struct tc_crl_cache *c)
{
	pthread_rwlock_rdlock(&c->lock);
	int64_t age = c->set ? mono_ms() - c->fetched_ms : -1;
	pthread_rwlock_unlock(&c->lock);
	return age;
}

/* Background mode: the set if it is young enough, never a fetch. */
static struct tc_crl_set *acquire_passive(struct tc_crl_cache *c, char *why, size_t whylen)
{
	struct tc_crl_set *s = usable(c, 0, c->t.max_age_ms);
	if (s)
		return s;
	/* Not the refresh mutex: the refresher holds it across the fetch. */
	pthread_rwlock_rdlock(&c->lock);
	int64_t age = c->set ? mono_ms() - c->fetched_ms : -1;
	const char *e = c->bg_error[0] ? c->bg_error : "no fetch has succeeded";
	if (age < 0)
		snprintf(why, whylen, "revocation status unavailable: no CRL yet (%s)", e);
	else
		snprintf(why, whylen,
			 "revocation status unavailable: the CRL is %lld ms old, more than the %lld ms allowed (%s)",
			 (long long)age, (long long)c->t.max_age_ms, e);
	pthread_rwlock_unlock(&c->lock);
	return NULL;
}

struct tc_crl_set *tc_crl_cache_acquire(struct tc_crl_cache *c, char *why, size_t whylen)
{
	uint64_t generation = atomic_load(&c->generation);
	struct tc_crl_set *s;
	if (c->t.background) {
		if (!(s = acquire_passive(c, why, whylen)))
			return NULL;
		goto check_next_update;
	}
	s = usable(c, generation, c->t.refresh_ms);
	if (s)
		goto check_next_update;
	/* Stale: one caller refreshes; the others keep using a set that is
	 * not too old rather than queueing behind the signer round trip. */
	s = usable(c, generation, c->t.max_age_ms);
	if (s && pthread_mutex_trylock(&c->refresh) != 0)
		goto check_next_update;
	if (!s)
		pthread_mutex_lock(&c->refresh);
	tc_crl_set_release(s);
	s = usable(c, generation, c->t.refresh_ms); /* refreshed while we waited? */
	if (!s) {
		int64_t now = mono_ms();
		int backing_off = c->failed_generation >= generation && now - c->failed_ms < c->t.retry_ms;
		if (!backing_off && refresh(c, atomic_load(&c->generation)) != 0) {
			c->failed_ms = now;
			c->failed_generation = atomic_load(&c->generation);
		}
		s = usable(c, generation, c->t.max_age_ms);
		if (!s)
			snprintf(why, whylen, "revocation status unavailable: %s",
				 c->error[0] ? c->error : "no CRL yet");
	}
	pthread_mutex_unlock(&c->refresh);
	if (!s)
		return NULL;
check_next_update:
	if (s->next_update && s->next_update < (int64_t)time(NULL)) {
		snprintf(why, whylen, "revocation status unavailable: CRL %llu is past its nextUpdate",
			 (unsigned long long)s->number);
		tc_crl_set_release(s);
		return NULL;
	}
	return s;
}
