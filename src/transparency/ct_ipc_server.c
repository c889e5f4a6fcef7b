#define _GNU_SOURCE
#include "transparency/ct_ipc_server.h"

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

/* Requests a connection may have started and not answered yet; its reader
 * stops reading beyond that (the socket then pushes back), so a client
 * cannot make the log hold without bound. The gateway keeps up to 4,096
 * issuances in flight, each at most one submission at a time. */
#define MAX_IN_FLIGHT_PER_CONN 8192

/* Answers are written by whichever thread has them (the committer, the
 * signer link's reader): one whose client stops reading would hold it. A
 * write may block this long, then that connection is dropped. */
#define CONN_WRITE_TIMEOUT_MS 1000

/* One read takes whatever the socket holds, up to this: many pipelined
 * requests per system call under load. */
#define READ_CHUNK (64 * 1024)

struct tc_ct_ipc_conn {
	struct tc_ct_ipc_server *srv;
	int fd;
	pthread_mutex_t write_lock;
	int refs;      /* the reader + started requests; guarded by srv->lock */
	int in_flight; /* guarded by srv->lock */
	pthread_cond_t room;
	struct tc_ct_ipc_conn *next;
};

struct tc_ct_ipc_server {
	tc_ct_ipc_serve_fn fn;
	void *ctx;
	pthread_mutex_t lock;
	pthread_cond_t idle; /* a connection was freed */
	struct tc_ct_ipc_conn *conns;
	int stopping;
	int listen_fd;
	int wake[2]; /* wakes the accept thread at stop */
	pthread_t acceptor;
};

/* Drops one reference; the last one closes the socket. Called with lock held. */
static void conn_unref_locked(struct tc_ct_ipc_conn *c)
{
	if (--c->refs > 0)
		return;
	struct tc_ct_ipc_server *srv = c->srv;
	for (struct tc_ct_ipc_conn **pp = &srv->conns; *pp; pp = &(*pp)->next)
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

/* Takes a request's hold on c; 0, or -1 when the server stops. */
static int hold(struct tc_ct_ipc_conn *c)
{
	struct tc_ct_ipc_server *srv = c->srv;
	pthread_mutex_lock(&srv->lock);
	while (c->in_flight >= MAX_IN_FLIGHT_PER_CONN && !srv->stopping)
		pthread_cond_wait(&c->room, &srv->lock);
	int ok = !srv->stopping;
	if (ok) {
		c->in_flight++;
		c->refs++;
	}
	pthread_mutex_unlock(&srv->lock);
	return ok ? 0 : -1;
}

void tc_ct_ipc_server_answer(struct tc_ct_ipc_conn *c, uint8_t *frame, size_t len)
{
	struct tc_ct_ipc_server *srv = c->srv;
	if (!frame) {
		tc_warn("transparency IPC: undecodable request; closing the connection");
		shutdown(c->fd, SHUT_RDWR);
	} else {
		pthread_mutex_lock(&c->write_lock);
		int wrc = tc_frame_write(c->fd, frame, len);
		int werr = errno;
		pthread_mutex_unlock(&c->write_lock);
		if (wrc != 0) {
			if (werr == EAGAIN || werr == EWOULDBLOCK)
				tc_warn("transparency IPC: a client has not read its answers for %d ms; dropping its "
					"connection",
					CONN_WRITE_TIMEOUT_MS);
			shutdown(c->fd, SHUT_RDWR);
		}
		free(frame);
	}
	pthread_mutex_lock(&srv->lock);
	c->in_flight--;
	pthread_cond_signal(&c->room);
	conn_unref_locked(c);
	pthread_mutex_unlock(&srv->lock);
}

static void *reader_main(void *arg)
{
	struct tc_ct_ipc_conn *c = arg;
	struct tc_ct_ipc_server *srv = c->srv;
	struct tc_frame_reader fr;
	tc_frame_reader_init(&fr);
	uint8_t *chunk = malloc(READ_CHUNK);
	int open = chunk != NULL;
	while (open) {
		ssize_t n = read(c->fd, chunk, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || tc_frame_reader_append(&fr, chunk, (size_t)n) != 0)
			break;
		for (;;) {
			const uint8_t *payload;
			size_t len;
			const char *why = NULL;
			enum tc_frame_status st = tc_frame_reader_next(&fr, &payload, &len, &why);
			if (st == TC_FRAME_NEED_MORE)
				break;
			if (st == TC_FRAME_ERROR) {
				tc_warn("transparency IPC: bad frame (%s); closing the connection", why ? why : "?");
				open = 0;
				break;
			}
			if (hold(c) != 0) {
				open = 0;
				break;
			}
			srv->fn(srv->ctx, c, payload, len);
		}
	}
	free(chunk);
	tc_frame_reader_free(&fr);
	/* Answers still to come are written (or fail) on their own; the fd
	 * is closed with the last reference. */
	shutdown(c->fd, SHUT_RD);
	pthread_mutex_lock(&srv->lock);
	conn_unref_locked(c);
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

/* Serves one connected socket (taken over). */
static void add_conn(struct tc_ct_ipc_server *srv, int fd)
{
	struct tc_ct_ipc_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	if (tc_frame_bound_writes(fd, CONN_WRITE_TIMEOUT_MS) != 0) {
		tc_warn("transparency IPC: cannot bound writes (%s); refusing a connection", strerror(errno));
		free(c);
		close(fd);
		return;
	}
	c->srv = srv;
	c->fd = fd;
	c->refs = 1;
	pthread_mutex_init(&c->write_lock, NULL);
	pthread_cond_init(&c->room, NULL);
	pthread_t reader;
	pthread_mutex_lock(&srv->lock);
	if (srv->stopping || pthread_create(&reader, NULL, reader_main, c) != 0) {
		pthread_mutex_unlock(&srv->lock);
		pthread_mutex_destroy(&c->write_lock);
		pthread_cond_destroy(&c->room);
		free(c);
		close(fd);
		return;
	}
	pthread_detach(reader);
	c->next = srv->conns;
	srv->conns = c;
	pthread_mutex_unlock(&srv->lock);
}

static void *acceptor_main(void *arg)
{
	struct tc_ct_ipc_server *srv = arg;
	for (;;) {
		struct pollfd pfd[2] = {{.fd = srv->listen_fd, .events = POLLIN}, {.fd = srv->wake[0], .events = POLLIN}};
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			tc_err("transparency IPC: poll: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents)
			break;
		int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				tc_warn("transparency IPC: accept: %s", strerror(errno));
			if (errno == EMFILE || errno == ENFILE)
				usleep(100 * 1000); /* do not spin while out of descriptors */
			continue;
		}
		add_conn(srv, fd);
	}
	return NULL;
}

struct tc_ct_ipc_server *tc_ct_ipc_server_start(int listen_fd, tc_ct_ipc_serve_fn fn, void *ctx, char *err,
						size_t errlen)
{
	struct tc_ct_ipc_server *srv = calloc(1, sizeof(*srv));
	if (!srv) {
		snprintf(err, errlen, "out of memory");
		close(listen_fd);
		return NULL;
	}
	srv->fn = fn;
	srv->ctx = ctx;
	srv->listen_fd = listen_fd;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_cond_init(&srv->idle, NULL);
	if (pipe2(srv->wake, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		srv->wake[0] = srv->wake[1] = -1;
	} else if (pthread_create(&srv->acceptor, NULL, acceptor_main, srv) != 0) {
		snprintf(err, errlen, "cannot start the accept thread");
		close(srv->wake[0]);
		close(srv->wake[1]);
		srv->wake[0] = -1;
	} else {
		return srv;
	}
	close(listen_fd);
	pthread_mutex_destroy(&srv->lock);
	pthread_cond_destroy(&srv->idle);
	free(srv);
	return NULL;
}

void tc_ct_ipc_server_stop(struct tc_ct_ipc_server *srv)
{
	if (!srv)
		return;
	char b = 1;
	if (write(srv->wake[1], &b, 1) != 1)
		tc_warn("transparency IPC: cannot wake the accept thread");
	pthread_join(srv->acceptor, NULL);
	close(srv->listen_fd);
	close(srv->wake[0]);
	close(srv->wake[1]);
	pthread_mutex_lock(&srv->lock);
	srv->stopping = 1;
	/* Readers stop; requests already started keep their hold until their
	 * answer (the sequencer still runs), which may still be written. */
	for (struct tc_ct_ipc_conn *c = srv->conns; c; c = c->next) {
		shutdown(c->fd, SHUT_RD);
		pthread_cond_broadcast(&c->room);
	}
	/* Readers are detached: wait until each connection is released. */
	while (srv->conns)
		pthread_cond_wait(&srv->idle, &srv->lock);
	pthread_mutex_unlock(&srv->lock);
	pthread_mutex_destroy(&srv->lock);
	pthread_cond_destroy(&srv->idle);
	free(srv);
}
