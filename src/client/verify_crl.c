/* Local mode's CRL: where it comes from (the gateway's GetCrl or a plain
 * HTTP CRL URL) and the thread that keeps it fresh, so no handshake ever
 * waits on the network for revocation data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/verify_internal.h"
#include "common/crl_cache.h"
#include "common/crl_view.h"
#include "common/http_client.h"

int tc_crl_source_init(struct tc_crl_source *s, struct tc_client *client, const char *url, int timeout_ms,
		       char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->client = client;
	s->timeout_ms = timeout_ms;
	if (!url)
		return client ? 0 : (snprintf(err, errlen, "local mode needs a CRL source: crl_url or a client"), -1);
	const char *prefix = "http://";
	const char *host = strncmp(url, prefix, strlen(prefix)) == 0 ? url + strlen(prefix) : NULL;
	const char *path = host ? strchr(host, '/') : NULL;
	if (!host || !path || path == host) {
		snprintf(err, errlen, "crl_url must be http://host:port/path");
		return -1;
	}
	s->url_base = strndup(url, (size_t)(path - url));
	s->url_path = strdup(path);
	if (!s->url_base || !s->url_path) {
		tc_crl_source_clear(s);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

void tc_crl_source_clear(struct tc_crl_source *s)
{
	free(s->url_base);
	free(s->url_path);
	s->url_base = s->url_path = NULL;
}

/* The cRLNumber extension: the cache re-parses only when it changes. */
static int crl_number(const unsigned char *der, size_t len, uint64_t *number, char *err, size_t errlen)
{
	struct tc_crl_view v;
	char why[128];
	int decodes = tc_crl_view_parse(der, len, &v, why, sizeof(why)) == 0;
	if (!decodes || !v.has_number) {
		snprintf(err, errlen, "the CRL at the CRL URL %s", decodes ? "has no usable cRLNumber" : "does not decode");
		return -1;
	}
	*number = v.number;
	return 0;
}

static int fetch_http(struct tc_crl_source *s, unsigned char **der, size_t *len, uint64_t *number, char *err,
		      size_t errlen)
{
	struct tc_http_client *h = NULL;
	struct tc_http_response r = {0};
	int rc = -1;
	if (tc_http_client_new(s->url_base, s->timeout_ms, &h, err, errlen) != 0)
		return -1;
	if (tc_http_request(h, "GET", s->url_path, NULL, 0, &r, err, errlen) != 0)
		goto out;
	if (r.status != 200) {
		snprintf(err, errlen, "the CRL URL answered HTTP %d", r.status);
		goto out;
	}
	if (crl_number((const unsigned char *)r.body, r.body_len, number, err, errlen) != 0)
		goto out;
	if (!(*der = malloc(r.body_len ? r.body_len : 1))) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	memcpy(*der, r.body, r.body_len);
	*len = r.body_len;
	rc = 0;
out:
	tc_http_response_free(&r);
	tc_http_client_free(h);
	return rc;
}

int tc_crl_source_fetch(void *arg, unsigned char **der, size_t *len, uint64_t *number, char *err, size_t errlen)
{
	struct tc_crl_source *s = arg;
	if (s->url_base)
		return fetch_http(s, der, len, number, err, errlen);
	struct tc_crl *crl = NULL;
	struct tc_status st;
	if (tc_get_crl(s->client, &crl, &st) != 0) {
		snprintf(err, errlen, "GetCrl: %s: %.200s", tc_status_code_name(st.code), st.message);
		return -1;
	}
	int rc = -1;
	if ((*der = malloc(crl->der_len ? crl->der_len : 1))) {
		memcpy(*der, crl->der, crl->der_len);
		*len = crl->der_len;
		*number = crl->crl_number;
		rc = 0;
	} else {
		snprintf(err, errlen, "out of memory");
	}
	tc_crl_free(crl);
	return rc;
}

struct tc_crl_refresher {
	struct tc_crl_cache *cache;
	int64_t period_ms;
	void (*log)(void *, const char *);
	void *log_arg;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;
};

static void refresh_once(struct tc_crl_refresher *r)
{
	char why[300];
	if (tc_crl_cache_refresh(r->cache, why, sizeof(why)) != 0 && r->log) {
		char line[400];
		snprintf(line, sizeof(line), "trustchain: CRL refresh failed (CRL age %lld ms): %s",
			 (long long)tc_crl_cache_age_ms(r->cache), why);
		r->log(r->log_arg, line);
	}
}

static void *run(void *arg)
{
	struct tc_crl_refresher *r = arg;
	pthread_mutex_lock(&r->lock);
	while (!r->stop) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += r->period_ms / 1000;
		until.tv_nsec += (r->period_ms % 1000) * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		while (!r->stop && pthread_cond_timedwait(&r->cond, &r->lock, &until) == 0)
			;
		if (r->stop)
			break;
		pthread_mutex_unlock(&r->lock);
		refresh_once(r);
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

struct tc_crl_refresher *tc_crl_refresher_start(struct tc_crl_cache *cache, int64_t period_ms,
						void (*log)(void *, const char *), void *log_arg)
{
	struct tc_crl_refresher *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->cache = cache;
	r->period_ms = period_ms;
	r->log = log;
	r->log_arg = log_arg;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
	/* The first CRL before the first handshake; a failure here is not
	 * fatal: decisions fail closed until a fetch succeeds. */
	refresh_once(r);
	if (pthread_create(&r->thread, NULL, run, r) != 0) {
		pthread_mutex_destroy(&r->lock);
		pthread_cond_destroy(&r->cond);
		free(r);
		return NULL;
	}
	return r;
}

void tc_crl_refresher_stop(struct tc_crl_refresher *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = 1;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r);
}
