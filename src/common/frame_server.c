#define _GNU_SOURCE
#include "common/frame_server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ipc_frame.h"
#include "common/log.h"

/* A client may have this many requests queued or running; its reader stops
 * reading (and the socket applies back-pressure) beyond that, so one client
 * cannot make the server buffer without bound. */
#define MAX_IN_FLIGHT_PER_CONN 256

/* Workers are shared by every connection: one whose client stops reading
 * would hold them in blocked writes and stall the others. A write may
 * block this long, then that connection is dropped. */
#define CONN_WRITE_TIMEOUT_MS 1000

struct conn {
	struct tc_frame_server *srv;
	int fd;
	pthread_t reader;
	pthread_mutex_t write_lock;
	int refs;      /* reader + queued/running jobs; guarded by srv->lock */
	int in_flight; /* guarded by srv->lock */
	pthread_cond_t room;
	struct conn *next;
};

struct job {
	struct conn *conn;
	uint8_t *req;
	size_t len;
	struct job *next;
};

struct tc_frame_server {
	char name[48];
	tc_frame_handler fn;
	void *ctx;
	pthread_mutex_t lock;
	pthread_cond_t work;
	pthread_cond_t idle; /* a connection was freed */
	struct job *head, *tail;
	struct conn *conns;
	int stopping;
	unsigned nworkers;
	pthread_t *workers;
	int listen_fd;
	int wake[2]; /* wakes the accept thread at stop */
	pthread_t acceptor;
	int have_acceptor;
};

/* Drops one reference; the last one closes the socket. Called with lock held. */
static void conn_unref_locked(struct conn *c)
{
	if (--c->refs > 0)
		return;
	struct tc_frame_server *srv = c->srv;
	for (struct conn **pp = &srv->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	close(c->fd);
	pthread_mutex_destroy(&c->write_lock);
	pthread_cond_destroy(&c->room);
	free(c);
	pthread_cond_broadcast(&srv->idle);
}

static void *reader_main(void *arg)
{
	struct conn *c = arg;
	struct tc_frame_server *srv = c->srv;
	for (;;) {
		uint8_t *buf = NULL;
		size_t len = 0;
		int rc = tc_frame_read(c->fd, &buf, &len, -1);
		if (rc == 0)
			break;
		if (rc < 0) {
			if (errno != ECONNRESET && errno != EBADF && errno != ENOTCONN && errno != EINVAL)
				tc_warn("%s: bad frame (%s); closing the connection", srv->name, strerror(errno));
			break;
		}
		struct job *j = malloc(sizeof(*j));
		if (!j) {
			free(buf);
			tc_err("%s: out of memory; closing a connection", srv->name);
			break;
		}
		*j = (struct job){.conn = c, .req = buf, .len = len};
		pthread_mutex_lock(&srv->lock);
		while (c->in_flight >= MAX_IN_FLIGHT_PER_CONN && !srv->stopping)
			pthread_cond_wait(&c->room, &srv->lock);
		if (srv->stopping) {
			/* Workers may be gone: nothing queued now would ever run. */
			pthread_mutex_unlock(&srv->lock);
			free(buf);
			free(j);
			break;
		}
		c->in_flight++;
		c->refs++;
		if (srv->tail)
			srv->tail->next = j;
		else
			srv->head = j;
		srv->tail = j;
		pthread_cond_signal(&srv->work);
		pthread_mutex_unlock(&srv->lock);
	}
	/* Wake any worker still writing to this client; the fd itself is
	 * closed with the last reference. */
	shutdown(c->fd, SHUT_RDWR);
	pthread_mutex_lock(&srv->lock);
	conn_unref_locked(c);
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

static void run_job(struct tc_frame_server *srv, struct job *j)
{
	struct conn *c = j->conn;
	uint8_t *out = NULL;
	size_t out_len = 0;
	if (srv->fn(srv->ctx, j->req, j->len, &out, &out_len) != 0) {
		tc_warn("%s: undecodable request; closing the connection", srv->name);
		shutdown(c->fd, SHUT_RDWR);
	} else if (out_len > 0) {
		pthread_mutex_lock(&c->write_lock);
		int wrc = tc_frame_write(c->fd, out, out_len);
		int werr = errno;
		pthread_mutex_unlock(&c->write_lock);
		if (wrc != 0) {
			if (werr == EAGAIN || werr == EWOULDBLOCK)
				tc_warn("%s: a client has not read its answers for %d ms; dropping its connection",
					srv->name, CONN_WRITE_TIMEOUT_MS);
			shutdown(c->fd, SHUT_RDWR);
		}
	}
	free(out);
	free(j->req);
}

static void *worker_main(void *arg)
{
	struct tc_frame_server *srv = arg;
	pthread_mutex_lock(&srv->lock);
	for (;;) {
		while (!srv->head && !srv->stopping)
			pthread_cond_wait(&srv->work, &srv->lock);
		struct job *j = srv->head;
		if (!j)
			break; /* stopping and drained */
		srv->head = j->next;
		if (!srv->head)
			srv->tail = NULL;
		pthread_mutex_unlock(&srv->lock);
		run_job(srv, j);
		pthread_mutex_lock(&srv->lock);
		j->conn->in_flight--;
		pthread_cond_signal(&j->conn->room);
		conn_unref_locked(j->conn);
		free(j);
	}
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

static void *acceptor_main(void *arg)
{
	struct tc_frame_server *srv = arg;
	for (;;) {
		struct pollfd pfd[2] = {{.fd = srv->listen_fd, .events = POLLIN}, {.fd = srv->wake[0], .events = POLLIN}};
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			tc_err("%s: poll: %s", srv->name, strerror(errno));
			break;
		}
		if (pfd[1].revents)
			break;
		int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				tc_warn("%s: accept: %s", srv->name, strerror(errno));
			if (errno == EMFILE || errno == ENFILE)
				usleep(100 * 1000); /* do not spin while out of descriptors */
			continue;
		}
		tc_frame_server_add(srv, fd);
	}
	return NULL;
}

struct tc_frame_server *tc_frame_server_start(const char *name, tc_frame_handler fn, void *ctx, unsigned workers,
					      char *err, size_t errlen)
{
	struct tc_frame_server *srv = calloc(1, sizeof(*srv));
	if (!srv || !(srv->workers = calloc(workers ? workers : 1, sizeof(pthread_t)))) {
		free(srv);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(srv->name, sizeof(srv->name), "%s", name);
	srv->fn = fn;
	srv->ctx = ctx;
	srv->listen_fd = -1;
	srv->wake[0] = srv->wake[1] = -1;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_cond_init(&srv->work, NULL);
	pthread_cond_init(&srv->idle, NULL);
	for (; srv->nworkers < (workers ? workers : 1); srv->nworkers++) {
		if (pthread_create(&srv->workers[srv->nworkers], NULL, worker_main, srv) != 0) {
			snprintf(err, errlen, "cannot start worker threads");
			tc_frame_server_stop(srv);
			return NULL;
		}
	}
	return srv;
}

int tc_frame_server_listen(struct tc_frame_server *srv, int listen_fd, char *err, size_t errlen)
{
	if (srv->have_acceptor) {
		close(listen_fd);
		snprintf(err, errlen, "already listening");
		return -1;
	}
	if (pipe2(srv->wake, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		close(listen_fd);
		return -1;
	}
	/* Non-blocking, so a connection that vanished between poll and accept
	 * does not block the accept thread (and the stop behind it). */
	fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
	srv->listen_fd = listen_fd;
	if (pthread_create(&srv->acceptor, NULL, acceptor_main, srv) != 0) {
		snprintf(err, errlen, "cannot start the accept thread");
		return -1;
	}
	srv->have_acceptor = 1;
	return 0;
}

int tc_frame_server_add(struct tc_frame_server *srv, int fd)
{
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -1;
	}
	if (tc_frame_bound_writes(fd, CONN_WRITE_TIMEOUT_MS) != 0) {
		tc_warn("%s: cannot bound writes (%s); refusing a connection", srv->name, strerror(errno));
		free(c);
		close(fd);
		return -1;
	}
	c->srv = srv;
	c->fd = fd;
	c->refs = 1;
	pthread_mutex_init(&c->write_lock, NULL);
	pthread_cond_init(&c->room, NULL);
	pthread_mutex_lock(&srv->lock);
	if (srv->stopping || pthread_create(&c->reader, NULL, reader_main, c) != 0) {
		pthread_mutex_unlock(&srv->lock);
		pthread_mutex_destroy(&c->write_lock);
		pthread_cond_destroy(&c->room);
		free(c);
		close(fd);
		return -1;
	}
	pthread_detach(c->reader);
	c->next = srv->conns;
	srv->conns = c;
	pthread_mutex_unlock(&srv->lock);
	return 0;
}

void tc_frame_server_stop(struct tc_frame_server *srv)
{
	if (!srv)
		return;
	if (srv->have_acceptor) {
		char b = 1;
		if (write(srv->wake[1], &b, 1) != 1)
			tc_warn("%s: cannot wake the accept thread", srv->name);
		pthread_join(srv->acceptor, NULL);
	}
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	for (int i = 0; i < 2; i++)
		if (srv->wake[i] >= 0)
			close(srv->wake[i]);
	pthread_mutex_lock(&srv->lock);
	srv->stopping = 1;
	for (struct conn *c = srv->conns; c; c = c->next) {
		shutdown(c->fd, SHUT_RDWR);
		pthread_cond_broadcast(&c->room);
	}
	pthread_cond_broadcast(&srv->work);
	pthread_mutex_unlock(&srv->lock);
	for (unsigned i = 0; i < srv->nworkers; i++)
		pthread_join(srv->workers[i], NULL);
	/* Readers are detached: wait until each has dropped its connection. */
	pthread_mutex_lock(&srv->lock);
	while (srv->conns)
		pthread_cond_wait(&srv->idle, &srv->lock);
	pthread_mutex_unlock(&srv->lock);
	pthread_mutex_destroy(&srv->lock);
	pthread_cond_destroy(&srv->work);
	pthread_cond_destroy(&srv->idle);
	free(srv->workers);
	free(srv);
}
