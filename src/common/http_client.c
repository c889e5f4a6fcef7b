#include "common/http_client.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_HEADER 16384

struct tc_http_client {
	char host[256];
	char port[8];
	char prefix[256];
	int timeout_ms;
	int fd;
	/* Bytes read past the previous response (pipelining never happens,
	 * but a server may send early). */
	char *buf;
	size_t len, cap;
};

int tc_http_client_new(const char *url, int timeout_ms, struct tc_http_client **out, char *err, size_t errlen)
{
	static const char scheme[] = "http://";
	*out = NULL;
	if (!url || strncmp(url, scheme, sizeof(scheme) - 1) != 0) {
		snprintf(err, errlen, "URL %s: only http://host:port is supported", url ? url : "(none)");
		return -1;
	}
	const char *hostport = url + sizeof(scheme) - 1;
	const char *slash = strchr(hostport, '/');
	size_t hp_len = slash ? (size_t)(slash - hostport) : strlen(hostport);
	const char *colon = NULL;
	for (size_t i = 0; i < hp_len; i++)
		if (hostport[i] == ':')
			colon = hostport + i;
	const char *host = hostport;
	size_t host_len = colon ? (size_t)(colon - hostport) : hp_len;
	if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']') {
		host++;
		host_len -= 2;
	}
	size_t port_len = colon ? hp_len - (size_t)(colon - hostport) - 1 : 2;
	if (host_len == 0 || host_len >= 256 || port_len == 0 || port_len >= 8 ||
	    (slash && strlen(slash) >= 256)) {
		snprintf(err, errlen, "URL %s: expected http://host:port[/prefix]", url);
		return -1;
	}
	struct tc_http_client *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(c->host, host, host_len);
	if (colon)
		memcpy(c->port, colon + 1, port_len);
	else
		strcpy(c->port, "80");
	if (slash) {
		snprintf(c->prefix, sizeof(c->prefix), "%s", slash);
		size_t pl = strlen(c->prefix);
		if (pl && c->prefix[pl - 1] == '/')
			c->prefix[pl - 1] = 0; /* request paths bring their own '/' */
	}
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
	c->fd = -1;
	*out = c;
	return 0;
}

static void disconnect(struct tc_http_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->len = 0;
}

void tc_http_client_free(struct tc_http_client *c)
{
	if (!c)
		return;
	disconnect(c);
	free(c->buf);
	free(c);
}

void tc_http_response_free(struct tc_http_response *r)
{
	if (!r)
		return;
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static int connect_now(struct tc_http_client *c, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
	int gai = getaddrinfo(c->host, c->port, &hints, &res);
	if (gai != 0) {
		snprintf(err, errlen, "%s:%s: %s", c->host, c->port, gai_strerror(gai));
		return -1;
	}
	int fd = -1, saved = 0;
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		struct timeval tv = {.tv_sec = c->timeout_ms / 1000, .tv_usec = (c->timeout_ms % 1000) * 1000};
		int one = 1;
		/* SO_SNDTIMEO also bounds connect() on Linux. */
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			saved = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "cannot connect to %s:%s: %s", c->host, c->port, strerror(saved));
		return -1;
	}
	c->fd = fd;
	c->len = 0;
	return 0;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads more bytes into the buffer: >0 read, 0 at EOF, -1 on error. */
static ssize_t fill(struct tc_http_client *c)
{
	if (c->cap - c->len < 4096) {
		size_t cap = c->cap ? c->cap * 2 : 16384;
		char *nb = realloc(c->buf, cap);
		if (!nb)
			return -1;
		c->buf = nb;
		c->cap = cap;
	}
	ssize_t n;
	do
		n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		c->len += (size_t)n;
	return n;
}

/* Makes at least want bytes available in the buffer. */
static int need(struct tc_http_client *c, size_t want)
{
	while (c->len < want) {
		if (fill(c) <= 0)
			return -1;
	}
	return 0;
}

static void consume(struct tc_http_client *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/* Finds "\r\n" in the buffer from off, reading as needed (up to limit). */
static long find_crlf(struct tc_http_client *c, size_t off, size_t limit)
{
	for (;;) {
		for (size_t i = off; i + 1 < c->len; i++)
			if (c->buf[i] == '\r' && c->buf[i + 1] == '\n')
				return (long)i;
		if (c->len >= limit || fill(c) <= 0)
			return -1;
	}
}

static int append_body(struct tc_http_response *r, const char *p, size_t n)
{
	if (r->body_len + n > TC_HTTP_CLIENT_MAX_BODY)
		return -1;
	char *nb = realloc(r->body, r->body_len + n + 1);
	if (!nb)
		return -1;
	memcpy(nb + r->body_len, p, n);
	r->body = nb;
	r->body_len += n;
	r->body[r->body_len] = 0;
	return 0;
}

/* The body is allocated once at its announced size and what is not
 * buffered yet is received straight into it: growing it by 16 KB buffers
 * (realloc, memmove of the rest) was most of a tile monitor's CPU time. */
static int read_fixed(struct tc_http_client *c, size_t n, struct tc_http_response *r)
{
	if (n > TC_HTTP_CLIENT_MAX_BODY || r->body_len + n > TC_HTTP_CLIENT_MAX_BODY)
		return -1;
	char *nb = realloc(r->body, r->body_len + n + 1);
	if (!nb)
		return -1;
	r->body = nb;
	size_t take = c->len < n ? c->len : n;
	memcpy(r->body + r->body_len, c->buf, take);
	r->body_len += take;
	consume(c, take);
	for (n -= take; n;) {
		ssize_t got = recv(c->fd, r->body + r->body_len, n, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		r->body_len += (size_t)got;
		n -= (size_t)got;
	}
	r->body[r->body_len] = 0;
	return 0;
}

static int read_chunked(struct tc_http_client *c, struct tc_http_response *r)
{
	for (;;) {
		long eol = find_crlf(c, 0, 64);
		if (eol < 0)
			return -1;
		char *end;
		c->buf[eol] = 0;
		unsigned long long n = strtoull(c->buf, &end, 16);
		if (end == c->buf || (*end && *end != ';'))
			return -1;
		consume(c, (size_t)eol + 2);
		if (n == 0) {
			/* Trailers until an empty line. */
			long t;
			while ((t = find_crlf(c, 0, MAX_HEADER)) > 0)
				consume(c, (size_t)t + 2);
			if (t < 0)
				return -1;
			consume(c, 2);
			return 0;
		}
		if (n > TC_HTTP_CLIENT_MAX_BODY || read_fixed(c, (size_t)n, r) != 0 || need(c, 2) != 0 ||
		    memcmp(c->buf, "\r\n", 2) != 0)
			return -1;
		consume(c, 2);
	}
}

/* Reads one response; *keep tells whether the connection may be reused. */
static int read_response(struct tc_http_client *c, struct tc_http_response *r, int *keep, char *err,
			 size_t errlen)
{
	long head_end = -1;
	for (;;) {
		for (size_t i = 0; i + 3 < c->len; i++)
			if (memcmp(c->buf + i, "\r\n\r\n", 4) == 0) {
				head_end = (long)i;
				break;
			}
		if (head_end >= 0)
			break;
		if (c->len > MAX_HEADER) {
			snprintf(err, errlen, "response header too large");
			return -1;
		}
		ssize_t n = fill(c);
		if (n <= 0) {
			snprintf(err, errlen, n == 0 ? "connection closed by the server" : "receive failed: %s",
				 strerror(errno));
			return -1;
		}
	}
	c->buf[head_end + 2] = 0; /* keep the last header's CRLF for parsing */
	int minor = 0;
	if (sscanf(c->buf, "HTTP/1.%d %d", &minor, &r->status) != 2 || r->status < 100 || r->status > 999) {
		snprintf(err, errlen, "not an HTTP/1.x response");
		return -1;
	}
	long long content_length = -1;
	int chunked = 0;
	*keep = minor >= 1;
	for (char *line = strstr(c->buf, "\r\n"); line && line[2]; line = strstr(line + 2, "\r\n")) {
		char *h = line + 2, *colon = strchr(h, ':'), *eol = strstr(h, "\r\n");
		if (!colon || !eol || colon > eol)
			continue;
		char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		size_t name_len = (size_t)(colon - h), vlen = (size_t)(eol - v);
		if (name_len == 14 && strncasecmp(h, "Content-Length", 14) == 0)
			content_length = strtoll(v, NULL, 10);
		else if (name_len == 17 && strncasecmp(h, "Transfer-Encoding", 17) == 0 && vlen >= 7 &&
			 strncasecmp(v, "chunked", 7) == 0)
			chunked = 1;
		else if (name_len == 10 && strncasecmp(h, "Connection", 10) == 0)
			*keep = !(vlen >= 5 && strncasecmp(v, "close", 5) == 0);
	}
	consume(c, (size_t)head_end + 4);
	int rc;
	if (chunked)
		rc = read_chunked(c, r);
	else if (content_length >= 0)
		rc = read_fixed(c, (size_t)content_length, r);
	else {
		/* Body ends at EOF. */
		*keep = 0;
		rc = 0;
		for (;;) {
			if (c->len && append_body(r, c->buf, c->len) != 0) {
				rc = -1;
				break;
			}
			c->len = 0;
			ssize_t n = fill(c);
			if (n == 0)
				break;
			if (n < 0) {
				rc = -1;
				break;
			}
		}
	}
	if (rc != 0) {
		snprintf(err, errlen, "malformed, oversized or truncated response body");
		return -1;
	}
	if (!r->body && append_body(r, "", 0) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int tc_http_request(struct tc_http_client *c, const char *method, const char *path, const char *body,
		    size_t body_len, struct tc_http_response *r, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	if (errlen)
		err[0] = 0;
	char head[1024];
	int hl = snprintf(head, sizeof(head),
			  "%s %s%s HTTP/1.1\r\nHost: %s:%s\r\nAccept: application/json\r\n"
			  "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
			  method, c->prefix, path, c->host, c->port, body ? body_len : 0);
	if (hl < 0 || (size_t)hl >= sizeof(head)) {
		snprintf(err, errlen, "request path too long");
		return -1;
	}
	/* A reused connection may have been closed by the server since the
	 * last answer (idle timeout): then one fresh attempt. */
	for (int attempt = 0; attempt < 2; attempt++) {
		int reused = c->fd >= 0;
		if (!reused && connect_now(c, err, errlen) != 0)
			return -1;
		int keep = 0;
		if (send_all(c->fd, head, (size_t)hl) == 0 && (!body || send_all(c->fd, body, body_len) == 0) &&
		    read_response(c, r, &keep, err, errlen) == 0) {
			if (!keep)
				disconnect(c);
			return 0;
		}
		int nothing_received = r->status == 0;
		tc_http_response_free(r);
		disconnect(c);
		if (!reused || !nothing_received) {
			if (!*err)
				snprintf(err, errlen, "send failed: %s", strerror(errno));
			return -1;
		}
		err[0] = 0;
	}
	return -1;
}
