#define _GNU_SOURCE
#include "acme/challenge_http01.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "acme/target_policy.h"

#define MAX_URL 511

struct fetch {
	const struct tc_vcheck_cfg *cfg;
	char *body;
	size_t len;
	size_t limit;
	int too_large;
	int refused;          /* the socket callback refused an address */
	char refused_why[200];
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct fetch *f = arg;
	size_t k = size * n;
	if (k > f->limit - f->len) {
		f->too_large = 1;
		return 0; /* curl aborts the transfer: the rest is never read */
	}
	memcpy(f->body + f->len, p, k);
	f->len += k;
	return k;
}

/* The last line of defence: whatever address curl is about to connect to
 * is judged again (CURLOPT_RESOLVE pins it to ours already). */
static curl_socket_t on_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct fetch *f = arg;
	if (purpose != CURLSOCKTYPE_IPCXN ||
	    tc_target_check_sa(&f->cfg->rules, &a->addr, f->refused_why, sizeof(f->refused_why)) != 0) {
		f->refused = 1;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

struct url_parts {
	char scheme[8];
	char host[256];   /* brackets of an IPv6 literal removed */
	int is_ip;
	uint16_t port;
};

/* Splits url and checks that the validator may go there: http or https,
 * the ports of the challenge (first hop) or 80/443 and the configured
 * ports (redirects), no user info. 0, or -1 with why. */
static int parse_url(const struct tc_vcheck_cfg *cfg, const char *url, struct url_parts *p, char *why, size_t whylen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL;
	int rc = -1;
	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		snprintf(why, whylen, "redirect to an unusable URL");
		goto done;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		snprintf(why, whylen, "redirect to a URL with user information");
		goto done;
	}
	long pn = strtol(port, NULL, 10);
	int http = strcmp(scheme, "http") == 0, https = strcmp(scheme, "https") == 0;
	if (!http && !https) {
		snprintf(why, whylen, "redirect to scheme %.16s (only http and https)", scheme);
		goto done;
	}
	if (!(http && (pn == 80 || pn == cfg->http_port)) && !(https && (pn == 443 || pn == cfg->tls_port))) {
		snprintf(why, whylen, "redirect to port %ld (only 80 or %u for http, 443 or %u for https)", pn,
			 cfg->http_port, cfg->tls_port);
		goto done;
	}
	size_t hl = strlen(host);
	const char *h = host;
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(p->host)) {
		snprintf(why, whylen, "redirect to an unusable host");
		goto done;
	}
	memcpy(p->host, h, hl);
	p->host[hl] = 0;
	uint8_t a[16];
	p->is_ip = inet_pton(AF_INET, p->host, a) == 1 || inet_pton(AF_INET6, p->host, a) == 1;
	snprintf(p->scheme, sizeof(p->scheme), "%s", scheme);
	p->port = (uint16_t)pn;
	rc = 0;
done:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(user);
	curl_url_cleanup(u);
	return rc;
}

static int trailing_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* One GET of url at address a (already allowed). Returns the curl result;
 * *status gets the HTTP status, redirect the Location made absolute. */
static CURLcode get_once(struct fetch *f, const char *url, const struct url_parts *p, const struct sockaddr *a,
			 int64_t deadline_ms, long *status, char *redirect, size_t redirect_cap)
{
	CURL *c = curl_easy_init();
	if (!c)
		return CURLE_OUT_OF_MEMORY;
	char addr[80], pin[400];
	struct curl_slist *resolve = NULL;
	tc_vcheck_addr_text(a, addr, sizeof(addr));
	if (!p->is_ip) {
		snprintf(pin, sizeof(pin), "%s:%u:%s", p->host, p->port, addr);
		resolve = curl_slist_append(NULL, pin);
	}
	int64_t left = deadline_ms - tc_vnow_ms();
	if (left < 1)
		left = 1;
	f->len = 0;
	f->too_large = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, f);
	curl_easy_setopt(c, CURLOPT_PROXY, "");  /* never the environment's proxy */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)left);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)left);
	curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "trustchain-validator (ACME http-01)");
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->limit);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	/* As Let's Encrypt: an https hop is not authenticated, the key
	 * authorization in the body is what proves control. */
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	CURLcode rc = curl_easy_perform(c);
	*status = 0;
	redirect[0] = 0;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
		char *loc = NULL;
		if (curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc) {
			if (strlen(loc) < redirect_cap)
				strcpy(redirect, loc);
			else
				snprintf(redirect, redirect_cap, "!");
		}
	}
	curl_easy_cleanup(c);
	curl_slist_free_all(resolve);
	return rc;
}

static int is_connect_failure(CURLcode rc)
{
	return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST;
}

void tc_challenge_http01(const struct tc_vcheck_cfg *cfg, const struct tc_vrequest *req, int64_t deadline_ms,
			 struct tc_vresult *res)
{
	struct fetch f = {.cfg = cfg, .limit = cfg->max_response_bytes};
	f.body = malloc(f.limit + 1);
	char *url = malloc(MAX_URL + 1), *next = malloc(MAX_URL + 1);
	if (!f.body || !url || !next) {
		tc_vresult_fail(res, "serverInternal", "out of memory");
		goto out;
	}
	int v6 = req->is_ip && strchr(req->identifier, ':');
	snprintf(url, MAX_URL + 1, "http://%s%s%s:%u/.well-known/acme-challenge/%s", v6 ? "[" : "", req->identifier,
		 v6 ? "]" : "", cfg->http_port, req->token);
	for (uint32_t hop = 0;; hop++) {
		snprintf(res->url, sizeof(res->url), "%s", url);
		struct url_parts p;
		char why[256];
		if (parse_url(cfg, url, &p, why, sizeof(why)) != 0) {
			tc_vresult_fail(res, "connection", "%s", why);
			goto out;
		}
		struct tc_vaddrs addrs;
		if (tc_vcheck_addresses(cfg, p.host, p.is_ip, p.port, hop == 0 && req->is_ip, deadline_ms, &addrs, res) != 0)
			goto out;
		CURLcode rc = CURLE_COULDNT_CONNECT;
		long status = 0;
		/* The next address only when this one cannot be reached at all, as
		 * Let's Encrypt falls back from IPv6 to IPv4. */
		for (int i = 0; i < addrs.n && (i == 0 || is_connect_failure(rc)); i++) {
			f.refused = 0;
			tc_vcheck_addr_text((struct sockaddr *)&addrs.addr[i], res->address_used, sizeof(res->address_used));
			rc = get_once(&f, url, &p, (struct sockaddr *)&addrs.addr[i], deadline_ms, &status, next, MAX_URL + 1);
		}
		if (f.refused) {
			tc_vresult_fail(res, "connection", "refused target: %s", f.refused_why);
			goto out;
		}
		if (rc == CURLE_FILESIZE_EXCEEDED || f.too_large) {
			tc_vresult_fail(res, "incorrectResponse", "%s: response larger than %u bytes", url, cfg->max_response_bytes);
			goto out;
		}
		if (rc == CURLE_OPERATION_TIMEDOUT) {
			tc_vresult_fail(res, "connection", "%s: timeout (no complete answer in time from %s)", url,
					res->address_used);
			goto out;
		}
		if (rc != CURLE_OK) {
			tc_vresult_fail(res, rc == CURLE_SSL_CONNECT_ERROR ? "tls" : "connection", "%s: %s (from %s)", url,
					curl_easy_strerror(rc), res->address_used);
			goto out;
		}
		if (status >= 300 && status < 400 && next[0]) {
			if (hop >= cfg->max_redirects) {
				tc_vresult_fail(res, "connection", "%s: more than %u redirects", url, cfg->max_redirects);
				goto out;
			}
			if (strcmp(next, "!") == 0) {
				tc_vresult_fail(res, "connection", "%s: redirect URL longer than %d characters", url, MAX_URL);
				goto out;
			}
			strcpy(url, next);
			continue;
		}
		if (status != 200) {
			tc_vresult_fail(res, "unauthorized", "%s answered HTTP status %ld", url, status);
			goto out;
		}
		size_t n = f.len;
		while (n > 0 && trailing_ws(f.body[n - 1]))
			n--; /* RFC 8555 section 8.3: trailing whitespace is ignored */
		size_t kl = strlen(req->key_authorization);
		if (n == kl && memcmp(f.body, req->key_authorization, kl) == 0) {
			res->valid = 1;
			goto out;
		}
		/* Quote a little of what came back; the protocol layer makes it
		 * printable ASCII. */
		f.body[n < 64 ? n : 64] = 0;
		for (char *q = f.body; *q; q++)
			if (*q < 0x20 || *q >= 0x7f)
				*q = '?';
		tc_vresult_fail(res, "incorrectResponse", "%s: the body is not the key authorization (got \"%s%s\")", url,
				f.body, n > 64 ? "..." : "");
		goto out;
	}
out:
	free(f.body);
	free(url);
	free(next);
}
