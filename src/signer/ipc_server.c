#include "signer/ipc_server.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ipc_frame.h"
#include "common/log.h"
#include "signer/journal.h"

/* A peer may have this many requests queued or running; its reader stops
 * reading (and the socket applies back-pressure) beyond that, so one peer
 * cannot make the signer buffer without bound. */
#define MAX_IN_FLIGHT_PER_PEER 256

/* Answers are written by the journal's single writer thread: a peer that
 * stops reading would stall everyone's answers. Writing to a peer may
 * block this long; then that peer is cut off (it reconnects). Peers are
 * local processes that always read: a second of a full socket means one
 * is stuck or hostile. */
#define PEER_WRITE_TIMEOUT_MS 1000

struct conn {
	struct tc_ipc_server *srv;
	int fd;
	struct tc_peer_identity peer;
	pthread_t reader;
	pthread_mutex_t write_lock;
	int refs;          /* reader + queued/running jobs; guarded by srv->lock */
	int in_flight;     /* guarded by srv->lock */
	pthread_cond_t room;
	struct conn *next; /* list of live connections */
};

struct job {
	struct conn *conn;
	Trustchain__Internal__Request *req;
	struct job *next;
};

struct tc_ipc_server {
	struct tc_signer *signer;
	pthread_mutex_t lock;
	pthread_cond_t work;
	pthread_cond_t idle;     /* signalled when a connection is freed */
	struct job *head, *tail;
	struct conn *conns;
	int stopping;
	unsigned nworkers;
	pthread_t *workers;
};

/* Drops one reference; the last one closes the socket. Called with lock held. */
static void conn_unref_locked(struct conn *c)
{
	if (--c->refs > 0)
		return;
	struct tc_ipc_server *srv = c->srv;
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

static int defers_journal(const Trustchain__Internal__Request *req);
static void run_job(struct tc_ipc_server *srv, struct job *j);

static void *reader_main(void *arg)
{
	struct conn *c = arg;
	struct tc_ipc_server *srv = c->srv;
	for (;;) {
		uint8_t *buf = NULL;
		size_t len = 0;
		int rc = tc_frame_read(c->fd, &buf, &len, -1);
		if (rc == 0)
			break;
		if (rc < 0) {
			if (errno != ECONNRESET && errno != EBADF && errno != ENOTCONN)
				tc_err("peer %s: bad frame (%s); closing its connection", c->peer.name,
				       strerror(errno));
			break;
		}
		Trustchain__Internal__Request *req = trustchain__internal__request__unpack(NULL, len, buf);
		free(buf);
		if (!req) {
			tc_err("peer %s: undecodable request; closing its connection", c->peer.name);
			break;
		}
		struct job *j = malloc(sizeof(*j));
		if (!j) {
			trustchain__internal__request__free_unpacked(req, NULL);
			tc_err("peer %s: out of memory; closing its connection", c->peer.name);
			break;
		}
		j->conn = c;
		j->req = req;
		j->next = NULL;
		pthread_mutex_lock(&srv->lock);
		while (c->in_flight >= MAX_IN_FLIGHT_PER_PEER && !srv->stopping)
			pthread_cond_wait(&c->room, &srv->lock);
		if (srv->stopping) {
			/* Workers may be gone: nothing queued now would ever run. */
			pthread_mutex_unlock(&srv->lock);
			trustchain__internal__request__free_unpacked(req, NULL);
			free(j);
			break;
		}
		c->in_flight++;
		c->refs++;
		if (defers_journal(req)) {
			/* Signing never sleeps (its answer waits for the journal
			 * elsewhere): run it here rather than pay a hand-off and
			 * two context switches per request. Each peer's signing
			 * requests run in order on its reader; peers run in
			 * parallel, and the worker pool keeps the rest (revocation
			 * and CRL wait for their own journal records). */
			pthread_mutex_unlock(&srv->lock);
			run_job(srv, j);
			free(j);
			continue;
		}
		if (srv->tail)
			srv->tail->next = j;
		else
			srv->head = j;
		srv->tail = j;
		pthread_cond_signal(&srv->work);
		pthread_mutex_unlock(&srv->lock);
	}
	/* Wake any worker still writing to this peer; the fd itself is closed
	 * with the last reference. */
	shutdown(c->fd, SHUT_RDWR);
	tc_info("peer %s disconnected", c->peer.name);
	pthread_mutex_lock(&srv->lock);
	conn_unref_locked(c);
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

/* Finishes a request: its answer is written, its slot and connection
 * reference given back. Called without the lock. */
static void finish_job(struct tc_ipc_server *srv, struct conn *c, uint8_t *out, size_t out_len)
{
	if (out) {
		pthread_mutex_lock(&c->write_lock);
		int wrc = tc_frame_write(c->fd, out, out_len);
		int werr = errno;
		pthread_mutex_unlock(&c->write_lock);
		if (wrc != 0) {
			if (werr == EAGAIN || werr == EWOULDBLOCK)
				tc_warn("peer %s has not read its answers for %d ms; dropping its connection",
					c->peer.name, PEER_WRITE_TIMEOUT_MS);
			shutdown(c->fd, SHUT_RDWR);
		}
		free(out);
	} else {
		shutdown(c->fd, SHUT_RDWR);
	}
	pthread_mutex_lock(&srv->lock);
	c->in_flight--;
	pthread_cond_signal(&c->room);
	conn_unref_locked(c);
	pthread_mutex_unlock(&srv->lock);
}

/* An answer held until the journal records it covers are on disk. */
struct held_answer {
	struct tc_ipc_server *srv;
	struct conn *conn;
	uint64_t id;
	uint8_t *out;
	size_t out_len;
};

static void release_answer(void *arg, int durable)
{
	struct held_answer *h = arg;
	if (!durable) {
		/* The signature (or refusal) was never recorded: it must not
		 * leave the signer. The peer gets what a failed append gives. */
		free(h->out);
		h->out = NULL;
		Trustchain__Internal__Response r = TRUSTCHAIN__INTERNAL__RESPONSE__INIT;
		r.id = h->id;
		r.status = TRUSTCHAIN__INTERNAL__STATUS__STATUS_UNAVAILABLE;
		r.error = "audit journal unavailable";
		r.reason = "journal_unavailable";
		size_t n = trustchain__internal__response__get_packed_size(&r);
		if ((h->out = malloc(n ? n : 1)) != NULL)
			h->out_len = trustchain__internal__response__pack(&r, h->out);
	}
	finish_job(h->srv, h->conn, h->out, h->out_len);
	free(h);
}

/* Signatures are answered once their journal records are durable, without
 * a thread sleeping for it: the thread that ran the request moves on, the
 * journal's writer releases the answer (see journal.h). Other operations
 * (revocation writes its own store after journaling) keep the plain
 * synchronous append and run on the worker pool. */
static int defers_journal(const Trustchain__Internal__Request *req)
{
	return req->op_case == TRUSTCHAIN__INTERNAL__REQUEST__OP_SIGN_CERTIFICATE ||
	       req->op_case == TRUSTCHAIN__INTERNAL__REQUEST__OP_SIGN_DATA;
}

static void run_job(struct tc_ipc_server *srv, struct job *j)
{
	struct conn *c = j->conn;
	uint8_t *out = NULL;
	size_t out_len = 0;
	uint64_t seq = 0;
	int defer = defers_journal(j->req);
	if (defer)
		tc_journal_defer_begin(&seq);
	int rc = tc_signer_handle(srv->signer, &c->peer, j->req, &out, &out_len);
	if (defer)
		tc_journal_defer_end();
	if (rc != 0) {
		tc_err("peer %s: out of memory answering request %llu", c->peer.name,
		       (unsigned long long)j->req->id);
		free(out);
		out = NULL;
	}
	struct held_answer *h = out && seq ? malloc(sizeof(*h)) : NULL;
	if (h) {
		*h = (struct held_answer){.srv = srv, .conn = c, .id = j->req->id, .out = out, .out_len = out_len};
		tc_journal_when_durable(srv->signer->journal, seq, release_answer, h);
	} else {
		if (out && seq) {
			/* No memory to hold the answer until its record is on
			 * disk: drop it with the connection (the peer's client
			 * reconnects and retries) rather than release it early. */
			free(out);
			out = NULL;
		}
		finish_job(srv, c, out, out_len);
	}
	trustchain__internal__request__free_unpacked(j->req, NULL);
}

static void *worker_main(void *arg)
{
	struct tc_ipc_server *srv = arg;
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
		run_job(srv, j); /* gives back the job's slot and reference */
		free(j);
		pthread_mutex_lock(&srv->lock);
	}
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

struct tc_ipc_server *tc_ipc_server_start(struct tc_signer *s, unsigned workers, char *err,
					  size_t errlen)
{
	struct tc_ipc_server *srv = calloc(1, sizeof(*srv));
	if (!srv || !(srv->workers = calloc(workers, sizeof(pthread_t)))) {
		free(srv);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	srv->signer = s;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_cond_init(&srv->work, NULL);
	pthread_cond_init(&srv->idle, NULL);
	for (; srv->nworkers < workers; srv->nworkers++) {
		if (pthread_create(&srv->workers[srv->nworkers], NULL, worker_main, srv) != 0) {
			snprintf(err, errlen, "cannot start worker threads");
			tc_ipc_server_stop(srv);
			return NULL;
		}
	}
	return srv;
}

int tc_ipc_server_add_peer(struct tc_ipc_server *srv, const char *name, int fd)
{
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -1;
	}
	if (tc_peer_identity_for(&srv->signer->cfg, name, &c->peer) != 0) {
		tc_log_event(TC_LOG_ERROR, "ipc_peer_refused", TC_KV("peer", name),
			     "refusing a connection for unknown peer '%s'", name);
		free(c);
		close(fd);
		return -1;
	}
	if (tc_frame_bound_writes(fd, PEER_WRITE_TIMEOUT_MS) != 0) {
		tc_err("peer %s: cannot bound writes (%s); refusing its connection", name, strerror(errno));
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
	tc_info("serving peer %s", name);
	return 0;
}

void tc_ipc_server_stop(struct tc_ipc_server *srv)
{
	if (!srv)
		return;
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
