#include "transparency/http_api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/http_strict_mhd.h"
#include "common/listen_socket.h"
#include "common/log.h"
#include "transparency/ct_json.h"
#include "transparency/tile_http.h"

struct tc_http_api {
	struct MHD_Daemon *daemon;
	struct tc_ct_api *api;
	struct tc_http_limits limits;
	int fd;
	size_t n_logs;                     /* api->n_all, or 1 for a log alone */
	pthread_mutex_t async_lock;        /* guards every pending reply and suspended */
	pthread_cond_t resumed;            /* suspended dropped to 0 */
	unsigned suspended;                /* connections suspended for a reply to come */
	int tiles_fd[TC_CFG_MAX_CT_LOGS]; /* each log's static-ct-api files (ct.tiles_dir), or -1 */
};

/* The log a URL is for and the URL within it: "/<name>/..." for a
 * temporal shard (common/ct_shard.h), the root for the single log. Returns
 * the log's index, or -1 when no log serves the URL. */
static int route(const struct tc_http_api *h, const char *url, const char **rest)
{
	*rest = url;
	if (!h->api->all)
		return 0;
	for (size_t i = 0; i < h->n_logs; i++) {
		const char *name = h->api->all[i].name;
		size_t n = strlen(name);
		if (n == 0) {
			continue;
		} else if (url[0] == '/' && strncmp(url + 1, name, n) == 0 && url[1 + n] == '/') {
			*rest = url + 1 + n;
			return (int)i;
		}
	}
	/* the unnamed log, if one is configured among the shards, has the root */
	for (size_t i = 0; i < h->n_logs; i++)
		if (!h->api->all[i].name[0])
			return (int)i;
	return -1;
}

static void close_tiles(struct tc_http_api *h)
{
	for (size_t i = 0; i < h->n_logs; i++)
		if (h->tiles_fd[i] >= 0)
			close(h->tiles_fd[i]);
}

static const char *query_value(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, const struct tc_ct_reply *r)
{
	static const char oom[] = "{\"error_message\":\"out of memory\",\"success\":false}";
	struct MHD_Response *resp;
	unsigned status = r->status;
	if (r->body) {
		resp = MHD_create_response_from_buffer(strlen(r->body), r->body, MHD_RESPMEM_MUST_FREE);
	} else {
		status = 500;
		resp = MHD_create_response_from_buffer(sizeof(oom) - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
	}
	if (!resp) {
		free(r->body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (r->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
	enum MHD_Result ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned status, const char *msg)
{
	struct tc_ct_reply r = {.status = status, .body = tc_json_error(msg)};
	return send_reply(conn, &r);
}

/* A request whose reply may come later (a submission: after its durable
 * write and its SCT signature). Its connection is suspended meanwhile, so
 * no MHD thread waits for it; the reply resumes it. */
struct pending {
	struct tc_http_api *h;
	struct MHD_Connection *conn;
	int done, suspended;
	struct tc_ct_reply reply;
};

static void replied(void *arg, struct tc_ct_reply *r)
{
	struct pending *p = arg;
	struct tc_http_api *h = p->h;
	pthread_mutex_lock(&h->async_lock);
	p->reply = *r;
	p->done = 1;
	if (p->suspended) {
		/* p is the connection's from here on: freed when its reply is sent */
		MHD_resume_connection(p->conn);
		if (--h->suspended == 0)
			pthread_cond_broadcast(&h->resumed);
	}
	pthread_mutex_unlock(&h->async_lock);
}

/* Sends p's reply and frees p. */
static enum MHD_Result send_pending(struct tc_http_request *rq, struct pending *p)
{
	struct tc_ct_reply r = p->reply;
	struct MHD_Connection *conn = p->conn;
	rq->app = NULL;
	free(p);
	return send_reply(conn, &r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_size,
				  void **con_cls)
{
	struct tc_http_api *h = cls;
	if (!tc_http_strict_admitted(con_cls)) {
		/* First call: the head only. A refusal is answered now, before any
		 * body byte is read (MHD then closes the connection). */
		struct tc_http_verdict v = tc_http_strict_admit(&h->limits, conn, version, con_cls);
		return v.status ? send_error(conn, v.status, v.reason) : MHD_YES;
	}
	if (*upload_size) {
		/* Only a chunked body can outgrow the limit here; MHD 0.9 cannot
		 * answer mid-body, so such a connection is closed. */
		if (tc_http_strict_body(&h->limits, con_cls, upload_data, *upload_size) != 0)
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	struct tc_http_request *rq = tc_http_strict_request(con_cls);
	if (rq->app) { /* resumed: its reply came */
		pthread_mutex_lock(&h->async_lock);
		pthread_mutex_unlock(&h->async_lock); /* the reply's writes are seen */
		return send_pending(rq, rq->app);
	}
	const char *path;
	int log = route(h, url, &path);
	if (log < 0)
		return send_error(conn, 404, "no such log: a temporal shard's URLs start with /<its ct.logs name>/");
	if (tc_tile_http_owns(path))
		return tc_tile_http_serve(conn, h->tiles_fd[log], method, path);
	struct pending *p = calloc(1, sizeof(*p));
	if (!p)
		return send_error(conn, 500, "out of memory");
	*p = (struct pending){.h = h, .conn = conn};
	rq->app = p;
	tc_ct_api_handle_async(h->api->all ? &h->api->all[log] : h->api, method, path, query_value, conn, rq->body,
			       rq->body_len, replied, p);
	pthread_mutex_lock(&h->async_lock);
	if (p->done) { /* answered at once (a read, a refusal, a duplicate) */
		pthread_mutex_unlock(&h->async_lock);
		return send_pending(rq, p);
	}
	p->suspended = 1;
	h->suspended++;
	MHD_suspend_connection(conn);
	pthread_mutex_unlock(&h->async_lock);
	return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	struct tc_http_request *rq = tc_http_strict_request(con_cls);
	if (rq && rq->app) { /* its reply came (it was resumed) but was never sent */
		struct pending *p = rq->app;
		free(p->reply.body);
		free(p);
		rq->app = NULL;
	}
	tc_http_strict_request_free(con_cls);
}

int tc_http_api_start(struct tc_ct_api *api, int listen_fd, const char *listen_addr, const struct tc_config *cfg,
		      struct tc_http_api **out, char *addr_out, size_t addr_len, char *err, size_t errlen)
{
	struct tc_http_api *h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	h->api = api;
	h->n_logs = api->all ? api->n_all : 1;
	if (h->n_logs > TC_CFG_MAX_CT_LOGS) {
		snprintf(err, errlen, "too many logs");
		free(h);
		return -1;
	}
	for (size_t i = 0; i < TC_CFG_MAX_CT_LOGS; i++)
		h->tiles_fd[i] = -1;
	for (size_t i = 0; i < h->n_logs; i++) {
		const char *dir = api->all ? api->all[i].tiles_dir : api->tiles_dir;
		if (dir && (h->tiles_fd[i] = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
			snprintf(err, errlen, "tiles directory %s: %s", dir, strerror(errno));
			close_tiles(h);
			free(h);
			return -1;
		}
	}
	h->fd = listen_fd >= 0 ? listen_fd : tc_listen_open_hostport("ct.http_listen", listen_addr, 128, err, errlen);
	if (h->fd < 0) {
		close_tiles(h);
		free(h);
		return -1;
	}
	if (addr_out)
		tc_listen_describe(h->fd, addr_out, addr_len);
	h->limits = (struct tc_http_limits){.max_body = TC_HTTP_MAX_BODY,
					    .idle_timeout_s = TC_HTTP_IDLE_TIMEOUT_S,
					    .request_deadline_s = TC_HTTP_REQUEST_DEADLINE_S,
					    .head_memory = TC_HTTP_HEAD_MEMORY,
					    .head_deadline_s = cfg->ct.http_head_timeout_s,
					    .per_source = cfg->ct.http_max_per_source,
					    .max_connections = cfg->ct.http_max_connections};
	unsigned threads = cfg->ct.http_threads;
	struct MHD_OptionItem strict[8];
	if (tc_http_strict_options(&h->limits, strict, sizeof(strict) / sizeof(strict[0])) == 0) {
		snprintf(err, errlen, "http_strict: option table too small");
		close(h->fd);
		close_tiles(h);
		free(h);
		return -1;
	}
	pthread_mutex_init(&h->async_lock, NULL);
	pthread_cond_init(&h->resumed, NULL);
	h->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG |
					     MHD_ALLOW_SUSPEND_RESUME,
				     0, NULL,
				     NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET, h->fd,
				     MHD_OPTION_THREAD_POOL_SIZE, threads ? threads : 1u, MHD_OPTION_ARRAY, strict,
				     MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_END);
	if (!h->daemon) {
		pthread_mutex_destroy(&h->async_lock);
		pthread_cond_destroy(&h->resumed);
		snprintf(err, errlen, "libmicrohttpd did not start");
		close(h->fd);
		close_tiles(h);
		free(h);
		return -1;
	}
	*out = h;
	return 0;
}

void tc_http_api_stop(struct tc_http_api *h)
{
	if (!h)
		return;
	/* The listening socket is the supervisor's, shared with the next run of
	 * this child: MHD_stop_daemon alone shuts it down (SHUT_RDWR), which
	 * kills it for the next run too (after a clean stop the port refused
	 * every connection). Quiesced first, MHD leaves it alone; our copy is
	 * only closed. */
	MHD_socket fd = MHD_quiesce_daemon(h->daemon);
	/* MHD stops only with no connection suspended: the submissions in
	 * flight are answered first (the sequencer still runs). */
	pthread_mutex_lock(&h->async_lock);
	while (h->suspended > 0)
		pthread_cond_wait(&h->resumed, &h->async_lock);
	pthread_mutex_unlock(&h->async_lock);
	MHD_stop_daemon(h->daemon);
	pthread_mutex_destroy(&h->async_lock);
	pthread_cond_destroy(&h->resumed);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	close_tiles(h);
	free(h);
}
