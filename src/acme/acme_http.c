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

#include "acme/acme_store.h"
#include "acme/nonce.h"
#include "acme/problem.h"
#include "acme/wake.h"
#include "acme/workq.h"
#include "common/config_schema.h"
#include "common/http_strict_mhd.h"
#include "common/listen_socket.h"
#include "common/log.h"

#define BODY_MIN (768 * 1024) /* /v1/validate: ten certificates of up to 64 KiB, base64 */
#define HEAD_MEMORY (32 * 1024)
#define CA_THREADS 8 /* concurrent revokeCert, /v1/validate and /v1/crl calls */

struct tc_acme_http {
	struct tc_acme *a;
	struct tc_http_limits limits;
	int fd;
	unsigned max_connections;
	struct MHD_Daemon *daemon;
	struct MHD_Daemon *retired; /* quiesced at the last renewal */
	char *key_pem, *cert_pem;   /* must outlive the daemon using them */
	char *old_key_pem, *old_cert_pem;
	struct tc_acme_workq *ca_wq; /* requests that call the CA (r->offload) */
};

static void add_header(struct MHD_Response *resp, const char *name, const char *value)
{
	MHD_add_response_header(resp, name, value);
}

static enum MHD_Result send_resp(struct tc_acme_http *h, struct MHD_Connection *conn, struct tc_acme_resp *r)
{
	/* The body (malloc'ed) goes to libmicrohttpd, which frees it: no copy. */
	struct MHD_Response *resp =
		r->body ? MHD_create_response_from_buffer(r->body_len, r->body, MHD_RESPMEM_MUST_FREE)
			: MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	r->body = NULL;
	r->body_len = 0;
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

/* A request on a suspended connection (tc_http_request.app): a long poll
 * parked in the wake, an answer waiting for its store writes to be
 * durable, or a request running on a CA worker. It is shared by the
 * connection and whoever resumes it: a connection closed while suspended
 * (daemon stop) only marks it orphaned and the resumer frees it, so a late
 * resume never touches a freed connection. */
struct parked {
	struct MHD_Connection *conn;
	struct tc_acme_park park; /* what to poll when resumed */
	struct tc_acme_resp ready; /* the answer to send when resumed */
	int has_ready;
	int ready_ok;             /* 0: its writes are not durable: refuse */
	int waiting;              /* connection suspended */
	int orphaned;             /* the request ended while waiting */
};

static void parked_free(struct parked *p)
{
	tc_acme_resp_free(&p->ready);
	free(p);
}

static struct parked *parked_of(struct tc_http_request *hr)
{
	if (!hr->app)
		hr->app = calloc(1, sizeof(struct parked));
	return hr->app;
}

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
		parked_free(p);
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
	struct parked *p = parked_of(hr);
	if (!p)
		return -1;
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

/* The store's fire: the answer's writes are durable (or failed). */
static void durable_ready(void *arg, int ok)
{
	struct parked *p = arg;
	p->ready_ok = ok;
	resume_parked(p);
}

static void suspend(struct parked *p, struct MHD_Connection *conn)
{
	pthread_mutex_lock(&park_lock);
	p->conn = conn;
	MHD_suspend_connection(conn);
	p->waiting = 1;
	pthread_mutex_unlock(&park_lock);
}

/* Sends r once its store writes are durable (group commit,
 * acme_store.h): suspends conn and keeps r for the resumption (returns
 * 0), or returns 1 when r may go now. */
static int hold_until_durable(struct tc_acme_http *h, struct MHD_Connection *conn, struct tc_http_request *hr,
			      struct tc_acme_resp *r)
{
	struct parked *p = parked_of(hr);
	if (!p) { /* no memory: wait on this thread */
		if (tc_acme_store_wait_durable(h->a->store, r->durable_seq) != 0)
			tc_acme_resp_not_durable(r);
		return 1;
	}
	uint64_t seq = r->durable_seq;
	tc_acme_resp_free(&p->ready);
	p->ready = *r;
	p->ready.durable_seq = 0;
	p->has_ready = 1;
	p->ready_ok = 1;
	*r = (struct tc_acme_resp){0};
	/* Suspended before the waiter exists: its fire resumes it. */
	suspend(p, conn);
	if (tc_acme_store_when_durable(h->a->store, seq, durable_ready, p) >= 0)
		return 0;
	/* No memory for the waiter: take the answer back and wait here. */
	pthread_mutex_lock(&park_lock);
	p->waiting = 0;
	MHD_resume_connection(conn);
	pthread_mutex_unlock(&park_lock);
	*r = p->ready;
	p->ready = (struct tc_acme_resp){0};
	p->has_ready = 0;
	if (tc_acme_store_wait_durable(h->a->store, seq) != 0)
		tc_acme_resp_not_durable(r);
	return 1;
}

/* A request that calls the CA, on a CA worker (its own copy of the
 * request: the connection may be closed meanwhile at a daemon stop). */
struct offload {
	struct tc_acme *a;
	struct parked *p;
	char *method, *path, *body, *content_type;
	size_t body_len;
	char ip[INET6_ADDRSTRLEN];
};

static void offload_free(struct offload *o)
{
	free(o->method);
	free(o->path);
	free(o->body);
	free(o->content_type);
	free(o);
}

static void offload_run(void *arg)
{
	struct offload *o = arg;
	struct tc_acme_req rq = {.method = o->method,
				 .path = o->path,
				 .body = o->body,
				 .body_len = o->body_len,
				 .content_type = o->content_type,
				 .client_ip = o->ip,
				 .can_park = 0};
	struct parked *p = o->p;
	tc_acme_resp_free(&p->ready);
	p->ready = (struct tc_acme_resp){0};
	tc_acme_handle(o->a, &rq, &p->ready); /* blocks this worker, not the pool */
	p->has_ready = 1;
	p->ready_ok = 1;
	offload_free(o);
	resume_parked(p);
}

static char *dup_opt(const char *s) { return s ? strdup(s) : NULL; }

/* Moves rq to a CA worker with conn suspended. 0, or -1 (run it here). */
static int offload(struct tc_acme_http *h, struct MHD_Connection *conn, struct tc_http_request *hr,
		   const struct tc_acme_req *rq)
{
	struct parked *p = parked_of(hr);
	struct offload *o = p ? calloc(1, sizeof(*o)) : NULL;
	if (!o)
		return -1;
	o->a = h->a;
	o->p = p;
	o->method = strdup(rq->method);
	o->path = strdup(rq->path);
	o->body = malloc(rq->body_len + 1);
	o->content_type = dup_opt(rq->content_type);
	o->body_len = rq->body_len;
	snprintf(o->ip, sizeof(o->ip), "%s", rq->client_ip);
	if (!o->method || !o->path || !o->body || (rq->content_type && !o->content_type)) {
		offload_free(o);
		return -1;
	}
	memcpy(o->body, rq->body, rq->body_len);
	o->body[rq->body_len] = 0;
	suspend(p, conn);
	if (tc_acme_workq_push(h->ca_wq, offload_run, o) == 0)
		return 0;
	pthread_mutex_lock(&park_lock);
	p->waiting = 0;
	MHD_resume_connection(conn);
	pthread_mutex_unlock(&park_lock);
	offload_free(o);
	return -1;
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
	/* A poll's answer shows state too: it waits like any other. */
	r->durable_seq = tc_acme_store_answer_floor(h->a->store, r->durable_seq);
	if (r->durable_seq && hold_until_durable(h, conn, hr, r) == 0)
		return MHD_YES;
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
	/* Answers waiting for a sync: one more sync covers them all. */
	if (h->a->store)
		tc_acme_store_flush(h->a->store);
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
	if (p && p->has_ready) {
		/* Resumed: the answer's writes are durable, or the CA answered. */
		struct tc_acme_resp rr = p->ready;
		p->ready = (struct tc_acme_resp){0};
		p->has_ready = 0;
		if (!p->ready_ok)
			tc_acme_resp_not_durable(&rr);
		return answer(h, conn, hr, &rr);
	}
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
	if (r.offload) {
		if (h->ca_wq && offload(h, conn, hr, &rq) == 0)
			return MHD_YES;
		r = (struct tc_acme_resp){0};
		rq.can_park = 0; /* no worker: call the CA on this thread */
		tc_acme_handle(h->a, &rq, &r);
	}
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
			parked_free(p);
	}
	tc_http_strict_request_free(con_cls);
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

/* Two threads per core (at least 4): no handler waits on the pool any
 * more (answers wait for their synced writes, long polls and the CA calls
 * of revokeCert, /v1/validate and /v1/crl with their connection
 * suspended), so more threads than cores only add context switches; the
 * second per core covers page faults and LevelDB reads. */
static unsigned pool_size(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	n = n > 0 ? n * 2 : 4;
	return n < 4 ? 4 : n > 64 ? 64 : (unsigned)n;
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
	h->fd = listen_fd >= 0 ? listen_fd : tc_listen_open_hostport("acme.listen", listen_addr, 256, err, errlen);
	if (h->fd < 0) {
		free(h->key_pem);
		free(h->cert_pem);
		free(h);
		return -1;
	}
	if (addr_out)
		tc_listen_describe(h->fd, addr_out, addr_len);
	h->ca_wq = tc_acme_workq_new(CA_THREADS); /* NULL: such requests run on the pool */
	if (!(h->daemon = start_daemon(h))) {
		tc_acme_workq_free(h->ca_wq);
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
	tc_acme_workq_free(h->ca_wq); /* finishes (and resumes) the CA requests */
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
