/* The GnuTLS hook; see trustchain/verify_gnutls.h. GnuTLS gives the verify
 * function only the session, and ngtcp2 owns the session's user pointer, so
 * the hook's state is found in a small hashed table keyed by the session. */
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trustchain/verify_gnutls.h"

#define BUCKETS 256
#define MAX_NAME 253
#define MAX_PEER_CERTS 10

struct entry {
	struct entry *next;
	gnutls_session_t session;
	struct tc_verifier *v;
	char name[MAX_NAME + 1];
	size_t name_len;
	enum tc_purpose purpose;
	int has_verdict;
	struct tc_verdict verdict;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *table[BUCKETS];

static size_t bucket(gnutls_session_t s)
{
	uintptr_t p = (uintptr_t)s;
	return (size_t)((p >> 4) ^ (p >> 12)) % BUCKETS;
}

/* Under lock. */
static struct entry **find(gnutls_session_t s)
{
	struct entry **e = &table[bucket(s)];
	while (*e && (*e)->session != s)
		e = &(*e)->next;
	return e;
}

static int verify(gnutls_session_t session)
{
	pthread_mutex_lock(&lock);
	struct entry *e = *find(session);
	struct tc_verifier *v = e ? e->v : NULL;
	char name[MAX_NAME + 1];
	size_t name_len = e ? e->name_len : 0;
	enum tc_purpose purpose = e ? e->purpose : TC_PURPOSE_SERVER_AUTH;
	if (e)
		memcpy(name, e->name, name_len + 1);
	pthread_mutex_unlock(&lock);
	if (!v)
		return GNUTLS_E_CERTIFICATE_ERROR; /* no state: never accept */

	unsigned int n = 0;
	const gnutls_datum_t *peers = gnutls_certificate_get_peers(session, &n);
	const unsigned char *der[MAX_PEER_CERTS + 1];
	size_t lens[MAX_PEER_CERTS + 1];
	/* One more than the decision accepts, so an over-long chain is
	 * refused as such rather than cut. */
	size_t k = 0;
	for (unsigned int i = 0; peers && i < n && k < MAX_PEER_CERTS + 1; i++, k++) {
		der[k] = peers[i].data;
		lens[k] = peers[i].size;
	}
	struct tc_verdict vd;
	int ok = tc_verifier_check(v, der, lens, k, name, name_len, purpose, &vd);

	pthread_mutex_lock(&lock);
	if ((e = *find(session))) {
		e->verdict = vd;
		e->has_verdict = 1;
	}
	pthread_mutex_unlock(&lock);
	return ok ? 0 : GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
}

int tc_gnutls_attach(gnutls_session_t session, struct tc_verifier *v, const char *name, size_t name_len,
		     enum tc_purpose purpose)
{
	if (name_len > MAX_NAME || !v)
		return -1;
	struct entry *n = calloc(1, sizeof(*n));
	if (!n)
		return -1;
	n->session = session;
	n->v = v;
	memcpy(n->name, name ? name : "", name ? name_len : 0);
	n->name_len = name ? name_len : 0;
	n->purpose = purpose;
	pthread_mutex_lock(&lock);
	struct entry **at = find(session);
	if (*at) { /* attached again: replace */
		struct entry *old = *at;
		n->next = old->next;
		*at = n;
		free(old);
	} else {
		n->next = table[bucket(session)];
		table[bucket(session)] = n;
	}
	pthread_mutex_unlock(&lock);
	gnutls_session_set_verify_function(session, verify);
	return 0;
}

void tc_gnutls_detach(gnutls_session_t session)
{
	pthread_mutex_lock(&lock);
	struct entry **at = find(session);
	struct entry *e = *at;
	if (e)
		*at = e->next;
	pthread_mutex_unlock(&lock);
	free(e);
}

int tc_gnutls_verdict(gnutls_session_t session, struct tc_verdict *out)
{
	int rc = -1;
	pthread_mutex_lock(&lock);
	struct entry *e = *find(session);
	if (e && e->has_verdict) {
		*out = e->verdict;
		rc = 0;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}
