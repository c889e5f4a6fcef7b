#include "common/http_strict_mhd.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* Connections whose request head is on its way, for the head deadline.
 * libmicrohttpd has no deadline of its own for a head (its timeout is
 * idle time, reset by every byte), so one watcher thread per process looks
 * at every tracked connection once a second and shuts down the socket of
 * one past its deadline. A connection leaves the list in MHD's "closed"
 * notification, which MHD sends before it closes the descriptor: a
 * descriptor shut down under the lock is still that connection's. */
struct tc_http_conn {
	struct tc_http_conn *prev, *next;
	MHD_socket fd;
	struct timespec head_started;
	unsigned deadline_s;
	int head_done; /* the current request was admitted */
	int cut;       /* shut down already */
};

static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tc_http_conn conns = {.prev = &conns, .next = &conns};
static pthread_once_t watcher_once = PTHREAD_ONCE_INIT;
static int watcher_running;

static int64_t elapsed_ms(const struct timespec *since)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

static void *watch_heads(void *arg)
{
	(void)arg;
	for (;;) {
		struct timespec tick = {.tv_sec = 1};
		nanosleep(&tick, NULL);
		pthread_mutex_lock(&conns_lock);
		for (struct tc_http_conn *c = conns.next; c != &conns; c = c->next)
			if (!c->head_done && !c->cut && elapsed_ms(&c->head_started) >= (int64_t)c->deadline_s * 1000) {
				shutdown(c->fd, SHUT_RDWR);
				c->cut = 1;
			}
		pthread_mutex_unlock(&conns_lock);
	}
	return NULL;
}

static void start_watcher(void)
{
	pthread_t t;
	pthread_attr_t attr;
	if (pthread_attr_init(&attr) != 0)
		return;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	watcher_running = pthread_create(&t, &attr, watch_heads, NULL) == 0;
	pthread_attr_destroy(&attr);
}

/* MHD_OPTION_NOTIFY_CONNECTION: tracks each connection from accept to
 * close. Without the watcher (thread creation failed) or memory, a
 * connection is simply not tracked: the other limits still hold. */
static void track_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
			     enum MHD_ConnectionNotificationCode toe)
{
	const struct tc_http_limits *lim = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_context = NULL;
		pthread_once(&watcher_once, start_watcher);
		const union MHD_ConnectionInfo *info =
			MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
		struct tc_http_conn *c = watcher_running && info ? calloc(1, sizeof(*c)) : NULL;
		if (!c)
			return;
		c->fd = info->connect_fd;
		c->deadline_s = lim->head_deadline_s ? lim->head_deadline_s : TC_HTTP_HEAD_DEADLINE_S;
		clock_gettime(CLOCK_MONOTONIC, &c->head_started);
		pthread_mutex_lock(&conns_lock);
		c->next = &conns;
		c->prev = conns.prev;
		conns.prev->next = c;
		conns.prev = c;
		pthread_mutex_unlock(&conns_lock);
		*socket_context = c;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
		struct tc_http_conn *c = *socket_context;
		pthread_mutex_lock(&conns_lock);
		c->prev->next = c->next;
		c->next->prev = c->prev;
		pthread_mutex_unlock(&conns_lock);
		free(c);
		*socket_context = NULL;
	}
}

/* The head of the connection's current request is complete (1), or a
 * request ended and the next head starts now (0). */
static void head_state(struct tc_http_conn *c, int done)
{
	if (!c)
		return;
	pthread_mutex_lock(&conns_lock);
	c->head_done = done;
	if (!done)
		clock_gettime(CLOCK_MONOTONIC, &c->head_started);
	pthread_mutex_unlock(&conns_lock);
}

/* libmicrohttpd calls this once the request line is in, before it splits
 * the query off or decodes anything, and keeps what it returns as the
 * request's *con_cls: the one place the raw target can be seen. */
static void *start_request(void *cls, const char *uri, struct MHD_Connection *conn)
{
	(void)cls;
	struct tc_http_request *rq = calloc(1, sizeof(*rq));
	if (!rq)
		return NULL; /* admit() answers 500 */
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	rq->conn = info ? info->socket_context : NULL;
	size_t len = uri ? strlen(uri) : 0;
	rq->target_ok = uri && tc_http_target_check(uri, len) == 0;
	rq->target_end = uri ? uri + len : NULL;
	clock_gettime(CLOCK_MONOTONIC, &rq->started);
	return rq;
}

size_t tc_http_strict_options(const struct tc_http_limits *lim, struct MHD_OptionItem *items, size_t cap)
{
	const struct MHD_OptionItem opts[] = {
		{MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)start_request, NULL},
		/* MHD's own strict mode: 400 for an HTTP/1.1 request without
		 * Host and for spaces in the target, before our handler runs. */
		{MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL},
		{MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)lim->idle_timeout_s, NULL},
		/* Bounds the request head: a longer one gets 414 / 431 from MHD. */
		{MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)lim->head_memory, NULL},
		{MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)track_connection, (void *)lim},
		{MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t)(lim->per_source ? lim->per_source : TC_HTTP_PER_SOURCE),
		 NULL},
		/* Last: without a total of ours, the listener's own stands. */
		{lim->max_connections ? MHD_OPTION_CONNECTION_LIMIT : MHD_OPTION_END, (intptr_t)lim->max_connections,
		 NULL},
		{MHD_OPTION_END, 0, NULL},
	};
	size_t n = sizeof(opts) / sizeof(opts[0]);
	if (cap < n)
		return 0;
	memcpy(items, opts, sizeof(opts));
	return lim->max_connections ? n : n - 1;
}

int tc_http_strict_admitted(void *const *con_cls)
{
	const struct tc_http_request *rq = *con_cls;
	return rq && rq->admitted;
}

struct tc_http_request *tc_http_strict_request(void *const *con_cls)
{
	struct tc_http_request *rq = *con_cls;
	return rq && rq->admitted ? rq : NULL;
}

/* Gathers the framing headers, counting repeats (a lookup would only see
 * the first one). */
static enum MHD_Result note_header(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
				   const char *value, size_t value_size)
{
	(void)kind;
	(void)key_size;
	struct tc_http_head *head = cls;
	if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0) {
		if (head->host_count++ == 0) {
			head->host = value;
			head->host_len = value_size;
		}
	} else if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		if (head->length_count++ == 0) {
			head->length = value;
			head->length_len = value_size;
		}
	} else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		head->transfer_encodings++;
	}
	return MHD_YES;
}

/* libmicrohttpd before 0.9.77 handles the request line as C strings: a raw
 * NUL in the target ends it there and the rest is dropped, so
 * "GET /ct/v1/get-sth\0x HTTP/1.1" is served as get-sth. It splits the
 * line in place, so the version starts right after the one space that
 * ends a whole target (spaces inside the target are refused in strict
 * mode); a version anywhere else means bytes hidden behind a NUL (or no
 * version at all: HTTP/0.9). Only two pointers are compared, nothing is
 * read. Later versions refuse the NUL themselves. */
static int target_whole(const struct tc_http_request *rq, const char *version)
{
#if MHD_VERSION < 0x00097700
	return rq->target_end && rq->target_end + 1 == version;
#else
	(void)rq;
	(void)version;
	return 1;
#endif
}

struct tc_http_verdict tc_http_strict_admit(const struct tc_http_limits *lim, struct MHD_Connection *conn,
					    const char *version, void **con_cls)
{
	struct tc_http_request *rq = *con_cls;
	if (!rq)
		return (struct tc_http_verdict){500, "out of memory"};
	if (!rq->target_ok || !target_whole(rq, version))
		return (struct tc_http_verdict){400, "invalid request target"};
	struct tc_http_head head = {
		.http_1_1 = strcmp(version, MHD_HTTP_VERSION_1_0) != 0, /* MHD admits only 1.0 and 1.x */
	};
	MHD_get_connection_values_n(conn, MHD_HEADER_KIND, note_header, &head);
	struct tc_http_verdict v = tc_http_head_check(&head, lim->max_body);
	if (v.status == 0) {
		rq->admitted = 1;
		head_state(rq->conn, 1);
	}
	return v;
}

static int past_deadline(const struct tc_http_request *rq, unsigned deadline_s)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t elapsed_ms = (int64_t)(now.tv_sec - rq->started.tv_sec) * 1000 +
			     (now.tv_nsec - rq->started.tv_nsec) / 1000000;
	return elapsed_ms >= (int64_t)deadline_s * 1000;
}

int tc_http_strict_body(const struct tc_http_limits *lim, void **con_cls, const char *data, size_t len)
{
	struct tc_http_request *rq = tc_http_strict_request(con_cls);
	if (!rq || past_deadline(rq, lim->request_deadline_s) || len > lim->max_body - rq->body_len)
		return -1;
	char *grown = realloc(rq->body, rq->body_len + len + 1);
	if (!grown)
		return -1;
	rq->body = grown;
	memcpy(rq->body + rq->body_len, data, len);
	rq->body_len += len;
	rq->body[rq->body_len] = '\0';
	return 0;
}

void tc_http_strict_request_free(void **con_cls)
{
	struct tc_http_request *rq = *con_cls;
	if (rq) {
		head_state(rq->conn, 0); /* a kept-alive connection's next head */
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}
