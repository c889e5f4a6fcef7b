/* trustchain-metrics: the HTTP endpoint of server.metrics_listen.
 *
 * Why a process of its own (DESIGN.md section 1): /metrics is network input
 * (HTTP from whoever reaches the port) and the children's expositions are
 * input from processes that may have been taken over. Neither may be parsed
 * by the root supervisor or the signer. This process holds nothing but the
 * figures: no key, no data directory, no link to the signer; it runs as its
 * own user without the shared group, under Landlock and the common syscall
 * filter. The supervisor hands it, on its supervisor channel, each child's
 * exposition as a sealed memfd tagged with the child's name
 * (common/metrics_proc.h); it checks and merges them (common/metrics_expo.h)
 * and answers GET /metrics with the result. */
#define _GNU_SOURCE
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/fs_sandbox.h"
#include "common/http_strict_mhd.h"
#include "common/log.h"
#include "common/metrics_expo.h"
#include "common/metrics_proc.h"
#include "common/proc_env.h"
#include "common/sandbox.h"
#include "common/sup_channel.h"

/* The figures and this process's own, under one lock (the supervisor
 * channel's reader writes, the HTTP threads read). */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct tc_expo *expo;
static struct tc_metrics *own;
static struct tc_metric *m_scrapes, *m_refused, *m_bytes, *m_updated, *m_render;
static char refused_now[TC_EXPO_MAX_SOURCES + 1][32]; /* sources whose last text was refused */
static struct tc_http_limits limits;

static int was_refused(const char *source)
{
	for (size_t i = 0; i < sizeof(refused_now) / sizeof(refused_now[0]); i++)
		if (strcmp(refused_now[i], source) == 0)
			return 1;
	return 0;
}

static void mark_refused(const char *source, int on)
{
	/* Sources are child names the supervisor tags (a few bytes); a longer
	 * one could not be told apart once cut, so it is not remembered. */
	size_t len = strnlen(source, sizeof(refused_now[0]));
	if (len == sizeof(refused_now[0]))
		return;
	for (size_t i = 0; i < sizeof(refused_now) / sizeof(refused_now[0]); i++) {
		if (on && refused_now[i][0] == '\0') {
			memcpy(refused_now[i], source, len + 1);
			return;
		}
		if (!on && strcmp(refused_now[i], source) == 0)
			refused_now[i][0] = '\0';
	}
}

/* Reads at most TC_METRICS_MAX_BYTES of fd from offset 0: the size the
 * supervisor checked is trusted no further than this bound. */
static int read_memfd(int fd, char **out, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	if (!buf)
		return -1;
	for (;;) {
		if (n == cap) {
			if (cap > TC_METRICS_MAX_BYTES)
				break;
			char *g = realloc(buf, cap * 2);
			if (!g) {
				free(buf);
				return -1;
			}
			buf = g;
			cap *= 2;
		}
		ssize_t r = pread(fd, buf + n, cap - n, (off_t)n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return 0;
}

static void take(const char *source, int fd)
{
	char *text = NULL;
	size_t len = 0;
	char err[256] = "";
	int rc = -1;
	if (fd < 0) {
		/* The child is gone: its figures with it. */
		pthread_mutex_lock(&lock);
		tc_expo_remove(expo, source);
		pthread_mutex_unlock(&lock);
		return;
	}
	if (read_memfd(fd, &text, &len) != 0)
		snprintf(err, sizeof(err), "cannot read: %s", strerror(errno));
	else if (len > TC_METRICS_MAX_BYTES)
		snprintf(err, sizeof(err), "larger than %u bytes", TC_METRICS_MAX_BYTES);
	pthread_mutex_lock(&lock);
	if (!err[0])
		rc = tc_expo_update(expo, source, text, len, err, sizeof(err));
	if (rc == 0) {
		tc_metric_set(m_bytes, source, (double)len);
		tc_metric_set(m_updated, source, (double)time(NULL));
		if (was_refused(source)) {
			mark_refused(source, 0);
			tc_info("exposition of %s accepted again", source);
		}
	} else {
		tc_expo_remove(expo, source);
		tc_metric_add(m_refused, source, 1);
		/* Logged when it starts, not at every push. */
		if (!was_refused(source)) {
			mark_refused(source, 1);
			tc_log_event(TC_LOG_WARN, "metrics_refused", TC_KV("process", source, "reason", err),
				     "exposition of %s refused: %s", source, err);
		}
	}
	pthread_mutex_unlock(&lock);
	free(text);
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, char *body, size_t len,
			      const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result text_answer(struct MHD_Connection *conn, unsigned status, const char *msg)
{
	char *body = strdup(msg);
	return body ? answer(conn, status, body, strlen(body), "text/plain; charset=utf-8") : MHD_NO;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	(void)cls;
	if (!tc_http_strict_admitted(con_cls)) {
		struct tc_http_verdict v = tc_http_strict_admit(&limits, conn, version, con_cls);
		return v.status ? text_answer(conn, v.status, v.reason) : MHD_YES;
	}
	if (*upload_size) {
		/* No request here has a body: max_body is 0, so only a chunked
		 * one gets this far, and it is cut. */
		(void)upload_data;
		return MHD_NO;
	}
	if (strcmp(url, "/metrics") != 0)
		return text_answer(conn, MHD_HTTP_NOT_FOUND, "not found: the figures are at /metrics\n");
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return text_answer(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only\n");
	double t0 = tc_pm_now();
	char *own_text = NULL, *out = NULL;
	size_t own_len = 0, len = 0;
	char err[128];
	pthread_mutex_lock(&lock);
	tc_metric_add(m_scrapes, NULL, 1);
	/* Our own figures go through the same checks as everyone's (their
	 * label is "source": "process" is the one the merge adds). */
	if (tc_metrics_write(own, &own_text, &own_len) == 0 &&
	    tc_expo_update(expo, "metrics", own_text, own_len, err, sizeof(err)) != 0)
		tc_warn("own figures refused: %s", err);
	int rc = tc_expo_render(expo, &out, &len);
	pthread_mutex_unlock(&lock);
	free(own_text);
	tc_metric_observe(m_render, NULL, tc_pm_now() - t0);
	if (rc != 0)
		return text_answer(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	return answer(conn, MHD_HTTP_OK, out, len, "text/plain; version=0.0.4; charset=utf-8");
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	tc_http_strict_request_free(con_cls);
}

static int own_metrics(void)
{
	static const double render_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1};
	own = tc_metrics_new();
	if (!own)
		return -1;
	m_scrapes = tc_metrics_counter(own, "trustchain_metrics_scrapes_total", "GET /metrics answered.", NULL);
	m_refused = tc_metrics_counter(own, "trustchain_metrics_refused_total",
				       "Expositions refused (malformed, too large), by the process that sent them.",
				       "source");
	m_bytes = tc_metrics_gauge(own, "trustchain_metrics_exposition_bytes",
				   "Size of the last accepted exposition, by the process that sent it.", "source");
	m_updated = tc_metrics_gauge(own, "trustchain_metrics_last_update_timestamp_seconds",
				     "When the last accepted exposition of each process arrived (Unix time).", "source");
	m_render = tc_metrics_histogram(own, "trustchain_metrics_render_duration_seconds",
					"Time to check and merge the figures for one scrape.", NULL, render_bounds,
					sizeof(render_bounds) / sizeof(render_bounds[0]));
	return m_scrapes && m_refused && m_bytes && m_updated && m_render ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *config_path = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config_path = argv[++i];
		} else {
			fprintf(stderr, "usage: trustchain-metrics [--config FILE]\n");
			return 2;
		}
	}
	tc_log_init("metrics", TC_LOG_INFO, 0);
	static struct tc_config cfg;
	char err[512];
	if (tc_config_load(&cfg, config_path, err, sizeof(err)) != 0) {
		tc_err("%s", err);
		return 2;
	}
	enum tc_log_level lvl = TC_LOG_INFO;
	tc_log_level_parse(cfg.server.log_level, &lvl);
	tc_log_init("metrics", lvl, cfg.server.log_syslog);
	if (tc_fs_sandbox_apply("metrics", &cfg, config_path, err, sizeof(err)) < 0 ||
	    tc_sandbox_apply(TC_SANDBOX_PEER, err, sizeof(err)) != 0) {
		tc_err("%s", err);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	int sup = tc_inherited_fd("SUPERVISOR");
	int http = tc_inherited_fd("METRICS_HTTP");
	if (sup < 0 || http < 0) {
		tc_err("needs TC_FD_SUPERVISOR and TC_FD_METRICS_HTTP (run by trustchain-server)");
		return 2;
	}
	if (!(expo = tc_expo_new()) || own_metrics() != 0) {
		tc_err("out of memory");
		return 1;
	}
	limits = (struct tc_http_limits){.max_body = 0,
					 .idle_timeout_s = TC_HTTP_IDLE_TIMEOUT_S,
					 .request_deadline_s = TC_HTTP_REQUEST_DEADLINE_S,
					 .head_memory = 16 * 1024};
	struct MHD_OptionItem strict[8];
	if (tc_http_strict_options(&limits, strict, sizeof(strict) / sizeof(strict[0])) == 0) {
		tc_err("http_strict: option table too small");
		return 1;
	}
	struct MHD_Daemon *d = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request,
	    NULL, MHD_OPTION_LISTEN_SOCKET, http, MHD_OPTION_ARRAY, strict, MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
	if (!d) {
		tc_err("libmicrohttpd did not start");
		return 1;
	}
	tc_sup_send(sup, TC_SUP_READY, "serving /metrics", -1);
	tc_info("serving /metrics");
	for (;;) {
		struct tc_sup_msg msg;
		int fd;
		int rc = tc_sup_recv(sup, &msg, &fd);
		if (rc == 0 || (rc < 0 && errno != EPROTO))
			break;
		if (rc < 0)
			continue;
		if (msg.type == TC_SUP_METRICS && msg.name[0])
			take(msg.name, fd);
		if (fd >= 0)
			close(fd);
	}
	tc_info("supervisor channel closed; stopping");
	/* The listening socket is the supervisor's, kept for the next run:
	 * quiesced, MHD leaves it open (see transparency/http_api.c). */
	MHD_socket q = MHD_quiesce_daemon(d);
	MHD_stop_daemon(d);
	if (q != MHD_INVALID_SOCKET)
		close(q);
	tc_expo_free(expo);
	tc_metrics_free(own);
	return 0;
}
