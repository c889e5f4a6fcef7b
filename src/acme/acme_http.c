#include "acme/acme_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acme/nonce.h"
#include "acme/wake.h"
#include "acme/problem.h"
#include "common/config_schema.h"
#include "common/http_strict_mhd.h"
#include "common/log.h"

#define BODY_MIN (768 * 1024) /* /v1/validate: ten certificates of up to 64 KiB, base64 */
#define HEAD_MEMORY (32 * 1024)

struct tc_acme_http {
	struct tc_acme *a;
	struct tc_http_limits limits;
	int fd;
	unsigned max_connections;
	struct MHD_Daemon *daemon;
	struct MHD_Daemon *retired; /* quiesced at the last renewal */
	char *key_pem, *cert_pem;   /* must outlive the daemon using them */
	char *old_key_pem, *old_cert_pem;
};

static void add_header(struct MHD_Response *resp, const char *name, const char *value)
{
	MHD_add_response_header(resp, name, value);
}

static enum MHD_Result send_resp(struct tc_acme_http *h, struct MHD_Connection *conn, struct tc_acme_resp *r)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(r->body_len, r->body ? r->body : (void *)"", MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	if (r->content_type)
		add_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
	char nonce[TC_NONCE_TEXT], link[TC_ACME_URL_MAX + 32], num[16];
	/* Every answer carries a fresh nonce (a badNonce answer too, so the
	 * client retries at once: RFC 8555 6.5). */
	if (tc_nonce_issue(h->a->nonces, nonce) == 0)
		add_header(resp, "Replay-Nonce", nonce);
	snprintf(link, sizeof(link), "<%s/acme/directory>;rel=\"index\"", h->a->base);
	add_header(resp, "Link", link);
	for (size_t i = 0; i < r->n_links; i++)
		add_header(resp, "Link", r->links[i]);
	if (r->location[0])
		add_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
	if (r->retry_after) {
		snprintf(num, sizeof(num), "%u", r->retry_after);
		add_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, num);
	}
	add_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	enum MHD_Result ret = MHD_queue_response(conn, r->status ? r->status : 500, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* A long poll parked on a suspended connection (tc_http_request.app). It
 * is shared by the connection and the wake until the wake fires it: a
 * connection closed while parked (daemon stop) only marks it orphaned and
 * the fire frees it, so a late fire never resumes a freed connection. */
struct parked {
	struct MHD_Connection *conn;
	struct tc_acme_park park; /* what to poll when resumed */
	int waiting;              /* in the wake, connection suspended */
	int orphaned;             /* the request ended while waiting */
};

/* Guards waiting/orphaned of every parked request (short sections). */
static pthread_mutex_t park_lock = PTHREAD_MUTEX_INITIALIZER;

/* The wake's fire: resume the connection; libmicrohttpd calls on_request
 * again on a pool thread, which polls the record. */
static void resume_parked(void *arg)
{
	struct parked *p = arg;
	pthread_mutex_lock(&park_lock);
	if (p->orphaned) {
		pthread_mutex_unlock(&park_lock);
		free(p);
		return;
	}
	p->waiting = 0;
	MHD_resume_connection(p->conn);
	pthread_mutex_unlock(&park_lock);
}

/* Suspends conn until pk's wake-up or deadline. 0 parked; 1 the record
 * moved since the ticket (poll again now); -1 no memory. */
static int park(struct tc_acme_http *h, struct MHD_Connection *conn, struct tc_http_request *hr,
		const struct tc_acme_park *pk)
{
	struct parked *p = hr->app;
	if (!p) {
		if (!(p = calloc(1, sizeof(*p))))
			return -1;
		hr->app = p;
	}
	p->conn = conn;
	p->park = *pk;
	/* Under park_lock, a fire from another thread waits until the
	 * connection is suspended. */
	pthread_mutex_lock(&park_lock);
	int rc = tc_acme_wake_park(h->a->wake, pk->id, pk->ticket, pk->deadline_ms, resume_parked, p);
	if (rc == 0) {
		MHD_suspend_connection(conn);
		p->waiting = 1;
	} else {
		memset(&p->park, 0, sizeof(p->park));
	}
	pthread_mutex_unlock(&park_lock);
	return rc;
}

/* Sends r, or parks the request while r says to wait. */
static enum MHD_Result answer(struct tc_acme_http *h, struct MHD_Connection *conn, struct tc_http_request *hr,
			      struct tc_acme_resp *r)
{
	while (r->park.kind) {
		struct tc_acme_park pk = r->park;
		int rc = park(h, conn, hr, &pk);
		tc_acme_resp_free(r);
		if (rc == 0)
			return MHD_YES;
		if (rc < 0) /* no memory to park: wait on this thread */
			tc_acme_wake_wait(h->a->wake, pk.id, pk.ticket, pk.deadline_ms);
		*r = (struct tc_acme_resp){0};
		tc_acme_poll(h->a, &pk, r);
	}
	enum MHD_Result ret = send_resp(h, conn, r);
	tc_acme_resp_free(r);
	return ret;
}

/* Before a daemon stops: libmicrohttpd must not hold suspended
 * connections then; their polls answer at once (others park again). */
static void resume_all(struct tc_acme_http *h)
{
	if (h->a->wake)
		tc_acme_wake_fire_all(h->a->wake);
}

static void client_ip(struct MHD_Connection *conn, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(out, len, "?");
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)len);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct tc_acme_http *h = cls;
	if (!tc_http_strict_admitted(con_cls)) {
		struct tc_http_verdict v = tc_http_strict_admit(&h->limits, conn, version, con_cls);
		if (v.status) {
			struct tc_acme_resp r = {0};
			tc_acme_problem(&r, "malformed", v.status, NULL, "%s", v.reason);
			enum MHD_Result ret = send_resp(h, conn, &r);
			tc_acme_resp_free(&r);
			return ret;
		}
		return MHD_YES;
	}
	if (*upload_size) {
		if (tc_http_strict_body(&h->limits, con_cls, upload_data, *upload_size) != 0)
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	struct tc_http_request *hr = tc_http_strict_request(con_cls);
	struct tc_acme_resp r = {0};
	struct parked *p = hr->app;
	if (p && p->park.kind) {
		/* Resumed: the request was verified and answered "wait" before. */
		struct tc_acme_park pk = p->park;
		memset(&p->park, 0, sizeof(p->park));
		tc_acme_poll(h->a, &pk, &r);
		return answer(h, conn, hr, &r);
	}
	char ip[INET6_ADDRSTRLEN];
	client_ip(conn, ip, sizeof(ip));
	struct tc_acme_req rq = {
		.method = method,
		.path = url,
		.body = hr->body ? hr->body : "",
		.body_len = hr->body_len,
		.content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
		.client_ip = ip,
		.can_park = h->a->wake != NULL,
	};
	tc_acme_handle(h->a, &rq, &r);
	return answer(h, conn, hr, &r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	struct tc_http_request *hr = tc_http_strict_request(con_cls);
	struct parked *p = hr ? hr->app : NULL;
	if (p) {
		hr->app = NULL;
		pthread_mutex_lock(&park_lock);
		int waiting = p->waiting;
		p->orphaned = waiting;
		pthread_mutex_unlock(&park_lock);
		if (!waiting)
			free(p);
	}
	tc_http_strict_request_free(con_cls);
}

static int bind_listen(const char *addr, char *err, size_t errlen)
{
	char host[256];
	uint16_t port = 0;
	if (tc_split_hostport(addr, host, sizeof(host), &port) != 0) {
		snprintf(err, errlen, "acme.listen %s is not host:port", addr);
		return -1;
	}
	char ports[8];
	snprintf(ports, sizeof(ports), "%u", port);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE},
			*res = NULL;
	int gai = getaddrinfo(host, ports, &hints, &res);
	if (gai != 0) {
		snprintf(err, errlen, "acme.listen %s: %s", addr, gai_strerror(gai));
		return -1;
	}
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 256) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static void describe(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
			port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof(host));
			port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		}
	}
	snprintf(out, len, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, port);
}

/* Connections one address may hold (http_strict_mhd's per-source limit;
 * its head deadline cuts a slowloris's trickled heads): a flood from
 * one address would otherwise take every slot. An
 * eighth (at least 8) leaves the rest to other clients; ACME clients use
 * one or a few connections each. */
static unsigned per_ip(unsigned max_connections)
{
	unsigned floor = max_connections < 8 ? max_connections : 8; /* small servers (tests) */
	return max_connections / 8 > floor ? max_connections / 8 : floor;
}

/* Eight threads per core (at least 16): handlers still block their
 * thread on synced LevelDB writes (newOrder, challenge, finalize; a pool
 * of one per core serialized those syncs and lost ~20 % of the orders/s
 * in bench_acme), and revokeCert, /v1/validate and /v1/crl call the CA
 * synchronously. */
static unsigned pool_size(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	n = n > 0 ? n * 8 : 16;
	return n < 16 ? 16 : n > 128 ? 128 : (unsigned)n;
}

static struct MHD_Daemon *start_daemon(struct tc_acme_http *h)
{
	struct MHD_OptionItem strict[8];
	if (tc_http_strict_options(&h->limits, strict, sizeof(strict) / sizeof(strict[0])) == 0)
		return NULL;
	/* A small epoll pool, not a thread per connection (whose context
	 * switches were 30 % of the process): finalize issues in the
	 * background and long polls suspend their connection (park), so no
	 * handler waits for the CA's issuance. MHD_USE_ITC: quiescing
	 * (certificate switch) and resuming need it. */
	return MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
					MHD_USE_TLS | MHD_USE_ITC | MHD_USE_ERROR_LOG,
				0, NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET, h->fd,
				MHD_OPTION_THREAD_POOL_SIZE, pool_size(),
				MHD_OPTION_HTTPS_MEM_KEY, h->key_pem, MHD_OPTION_HTTPS_MEM_CERT, h->cert_pem,
				MHD_OPTION_ARRAY, strict, MHD_OPTION_CONNECTION_LIMIT, h->max_connections,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_END);
}

int tc_acme_http_start(struct tc_acme *a, int listen_fd, const char *listen_addr, const char *key_pem,
		       const char *cert_pem, unsigned max_connections, struct tc_acme_http **out, char *addr_out,
		       size_t addr_len, char *err, size_t errlen)
{
	struct tc_acme_http *h = calloc(1, sizeof(*h));
	if (!h || !(h->key_pem = strdup(key_pem)) || !(h->cert_pem = strdup(cert_pem))) {
		snprintf(err, errlen, "out of memory");
		if (h) {
			free(h->key_pem);
			free(h);
		}
		return -1;
	}
	h->a = a;
	h->max_connections = max_connections ? max_connections : 1;
	uint64_t max_body = a->cfg->acme.max_jws_bytes > BODY_MIN ? a->cfg->acme.max_jws_bytes : BODY_MIN;
	h->limits = (struct tc_http_limits){.max_body = max_body,
					    .idle_timeout_s = TC_HTTP_IDLE_TIMEOUT_S,
					    .request_deadline_s = TC_HTTP_REQUEST_DEADLINE_S,
					    .head_memory = HEAD_MEMORY,
					    .head_deadline_s = a->cfg->acme.head_timeout_s,
					    .per_source = a->cfg->acme.max_per_source ? a->cfg->acme.max_per_source
										      : per_ip(h->max_connections)};
	h->fd = listen_fd >= 0 ? listen_fd : bind_listen(listen_addr, err, errlen);
	if (h->fd < 0) {
		free(h->key_pem);
		free(h->cert_pem);
		free(h);
		return -1;
	}
	if (addr_out)
		describe(h->fd, addr_out, addr_len);
	if (!(h->daemon = start_daemon(h))) {
		snprintf(err, errlen, "libmicrohttpd did not start (TLS key or certificate unusable?)");
		close(h->fd);
		free(h->key_pem);
		free(h->cert_pem);
		free(h);
		return -1;
	}
	*out = h;
	return 0;
}

int tc_acme_http_renew(struct tc_acme_http *h, const char *key_pem, const char *cert_pem, char *err,
		       size_t errlen)
{
	char *k = strdup(key_pem), *c = strdup(cert_pem);
	if (!k || !c) {
		free(k);
		free(c);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* The daemon retired last time has had a whole certificate period to
	 * finish its connections. */
	if (h->retired) {
		resume_all(h);
		MHD_stop_daemon(h->retired);
		h->retired = NULL;
	}
	free(h->old_key_pem);
	free(h->old_cert_pem);
	struct MHD_Daemon *old = h->daemon;
	if (MHD_quiesce_daemon(old) < 0) {
		free(k);
		free(c);
		h->old_key_pem = h->old_cert_pem = NULL;
		snprintf(err, errlen, "cannot quiesce the running daemon");
		return -1;
	}
	h->old_key_pem = h->key_pem;
	h->old_cert_pem = h->cert_pem;
	h->key_pem = k;
	h->cert_pem = c;
	if (!(h->daemon = start_daemon(h))) {
		/* Keep serving: give the socket back to a daemon with the old pair. */
		free(h->key_pem);
		free(h->cert_pem);
		h->key_pem = h->old_key_pem;
		h->cert_pem = h->old_cert_pem;
		h->old_key_pem = h->old_cert_pem = NULL;
		h->daemon = start_daemon(h);
		resume_all(h);
		MHD_stop_daemon(old);
		snprintf(err, errlen, "libmicrohttpd refused the new certificate");
		return -1;
	}
	h->retired = old;
	return 0;
}

void tc_acme_http_stop(struct tc_acme_http *h)
{
	if (!h)
		return;
	resume_all(h);
	if (h->retired)
		MHD_stop_daemon(h->retired);
	if (h->daemon) {
		MHD_quiesce_daemon(h->daemon); /* the socket stays ours to close */
		MHD_stop_daemon(h->daemon);
	}
	close(h->fd);
	free(h->key_pem);
	free(h->cert_pem);
	free(h->old_key_pem);
	free(h->old_cert_pem);
	free(h);
}
