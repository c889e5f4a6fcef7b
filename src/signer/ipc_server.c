#define _GNU_SOURCE /* RUSAGE_THREAD */
#include "signer/ipc_server.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/ipc_frame.h"
#include "common/log.h"
#include "signer/journal.h"

/* A peer may have this many requests queued or running; its reader stops
 * reading (and the socket applies back-pressure) beyond that, so one peer
 * cannot make the signer buffer without bound. */
#define MAX_IN_FLIGHT_PER_PEER 256

/* Links one peer name may hold at once (a child needs one; see
 * tc_ipc_server_add_peer). */
#define MAX_LINKS_PER_PEER 8

/* Answers are written by the journal's single writer thread: a peer that
 * stops reading would stall everyone's answers. Writing to a peer may
 * block this long; then that peer is cut off (it reconnects). Peers are
 * local processes that always read: a second of a full socket means one
 * is stuck or hostile. */
#define PEER_WRITE_TIMEOUT_MS 1000

/* Signing threads: while a signature is CPU work (SoftHSM), one helper
 * per core is enough and more would only add context switches. An HSM
 * that makes the signing thread wait (a network HSM, a slow token: its
 * latency is not our CPU) needs as many signatures in flight as it takes
 * to keep the cores busy: cores x (wall time / CPU time) of recent
 * signing jobs, up to MAX_HELPERS, the sessions the HSM pool keeps
 * (hsm.c). Helpers beyond one per core are started when first needed.
 * Waiting is told from being preempted on a busy machine (which also
 * stretches wall time) by the thread's voluntary context switches: a
 * signature that waits on the HSM gives up the CPU. */
#define MAX_HELPERS 64
/* A measurement of that ratio ends after this many signing jobs or this
 * much signing time, whichever comes first: one signature of a slow HSM
 * is enough to see it wait, and a queue built up behind one helper per
 * core would otherwise wait for 16 of them. */
#define RATIO_WINDOW 16
#define RATIO_WINDOW_NS 10000000u
/* The HSM makes signers wait from this wall/CPU ratio on, with at least
 * WAIT_SWITCHES voluntary context switches per signing job; then readers
 * leave their own peer's signing to the helpers too (a reader waiting on
 * the HSM does not read its socket). */
#define WAIT_RATIO 2.0
#define WAIT_SWITCHES 0.5
/* Once waiting, the state holds until both fall below these: a box busy
 * enough to stretch wall time and make threads queue on locks sits near
 * the thresholds above, and flipping every window changed nothing but the
 * log (the chaos soak logged 321 flips in 30 minutes). */
#define CPU_RATIO 1.5
#define CPU_SWITCHES 0.25
/* A change of state is logged at most this often (the state itself is
 * always current). */
#define WAIT_LOG_EVERY_S 60

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
	/* This peer's signing requests not yet started, and its place in
	 * the server's round of peers with such requests (guarded by
	 * srv->lock). */
	struct job *sign_head, *sign_tail;
	int in_round;
	struct conn *round_next;
	/* Answers released by the journal, gathered to leave in one write
	 * (guarded by write_lock): the frames, how many requests they end,
	 * and the conn's place in the gathering thread's list. */
	uint8_t *obuf;
	size_t olen, ocap;
	unsigned ojobs;
	int gathered;
	struct conn *gathered_next;
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
	/* Signing requests, queued per peer and run by whichever thread is
	 * free: the reader that queued them (its own peer's first: no
	 * hand-off while one core is enough; not while the HSM makes
	 * signers wait) and the signing helpers, one per core or more for
	 * a slow HSM (MAX_HELPERS), woken only when more is queued than the
	 * readers take themselves. Helpers serve the peers with queued requests in turn
	 * (round_head..round_tail), one request each, so one peer's
	 * signatures use every core and a burst from one peer never puts
	 * another's request behind it. Guarded by lock. */
	struct conn *round_head, *round_tail;
	size_t sign_queued;
	unsigned sign_idle;      /* helpers waiting on sign_work */
	pthread_cond_t sign_work;
	unsigned nhelpers;       /* started; at most MAX_HELPERS */
	pthread_t helpers[MAX_HELPERS];
	unsigned cores;          /* the fewest helpers allowed to sign */
	unsigned sign_limit;     /* helpers allowed to sign at once */
	unsigned sign_busy;      /* helpers signing now */
	int hsm_waits;           /* the last window saw the HSM make signers wait */
	time_t wait_logged;      /* when a change of hsm_waits was last logged */
	/* The current measurement window: signing jobs, their wall and
	 * thread CPU time (helpers only: readers stop signing when it
	 * counts). */
	unsigned win_jobs;
	uint64_t win_wall_ns, win_cpu_ns, win_waits;
};

/* Bytes one read() of a peer's socket takes at most: every complete frame
 * in it is handled before the next read, so a burst of requests costs one
 * system call rather than two per request. */
#define READ_CHUNK 65536

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
	free(c->obuf);
	pthread_mutex_destroy(&c->write_lock);
	pthread_cond_destroy(&c->room);
	free(c);
	pthread_cond_broadcast(&srv->idle);
}

static int defers_journal(const Trustchain__Internal__Request *req);
static void run_job(struct tc_ipc_server *srv, struct job *j);

/* Puts c at the end of the round. Called with lock held. */
static void round_append_locked(struct tc_ipc_server *srv, struct conn *c)
{
	c->in_round = 1;
	c->round_next = NULL;
	if (srv->round_tail)
		srv->round_tail->round_next = c;
	else
		srv->round_head = c;
	srv->round_tail = c;
}

/* Takes c's next signing request, or NULL; c leaves the round when it has
 * none left. Called with lock held. */
static struct job *sign_pop_own_locked(struct tc_ipc_server *srv, struct conn *c)
{
	struct job *j = c->sign_head;
	if (!j)
		return NULL;
	c->sign_head = j->next;
	if (!c->sign_head) {
		c->sign_tail = NULL;
		struct conn **pp = &srv->round_head, *prev = NULL;
		while (*pp && *pp != c) {
			prev = *pp;
			pp = &(*pp)->round_next;
		}
		if (*pp) {
			*pp = c->round_next;
			if (srv->round_tail == c)
				srv->round_tail = prev;
		}
		c->in_round = 0;
	}
	srv->sign_queued--;
	return j;
}

/* Takes the next request of the peer whose turn it is (that peer goes to
 * the end of the round), or NULL. Called with lock held. */
static struct job *sign_pop_locked(struct tc_ipc_server *srv)
{
	struct conn *c = srv->round_head;
	if (!c)
		return NULL;
	struct job *j = c->sign_head;
	c->sign_head = j->next;
	srv->round_head = c->round_next;
	if (!srv->round_head)
		srv->round_tail = NULL;
	c->in_round = 0;
	if (c->sign_head)
		round_append_locked(srv, c);
	else
		c->sign_tail = NULL;
	srv->sign_queued--;
	return j;
}

static void *helper_main(void *arg);

/* Wakes helpers for what the queue holds beyond the jobs the caller runs
 * itself, as many as may sign at once, and starts more (up to the limit)
 * when too few are idle. Called with lock held (a new helper waits for
 * it before looking at the queue). */
static void sign_wake_locked(struct tc_ipc_server *srv, size_t caller_takes)
{
	size_t extra = srv->sign_queued > caller_takes ? srv->sign_queued - caller_takes : 0;
	size_t room = srv->sign_limit > srv->sign_busy ? srv->sign_limit - srv->sign_busy : 0;
	size_t want = extra < room ? extra : room, woken = 0;
	for (; woken < want && woken < srv->sign_idle; woken++)
		pthread_cond_signal(&srv->sign_work);
	for (; woken < want && srv->nhelpers < srv->sign_limit && !srv->stopping; woken++) {
		if (pthread_create(&srv->helpers[srv->nhelpers], NULL, helper_main, srv) != 0) {
			tc_warn("cannot start another signing thread (%u running)", srv->nhelpers);
			srv->sign_limit = srv->nhelpers;
			return;
		}
		srv->nhelpers++;
	}
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* This thread's CPU time and voluntary context switches so far. */
struct thread_usage {
	uint64_t cpu_ns, waits;
};

static struct thread_usage thread_usage(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_THREAD, &ru) != 0)
		return (struct thread_usage){0, 0};
	uint64_t us = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
		      (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	return (struct thread_usage){us * 1000u, (uint64_t)ru.ru_nvcsw};
}

/* Counts one helper's signing job into the window; at the window's end
 * sets how many helpers may sign at once from its wall/CPU ratio. Called
 * with lock held. */
static void sign_measure_locked(struct tc_ipc_server *srv, uint64_t wall_ns, struct thread_usage used)
{
	srv->win_wall_ns += wall_ns;
	srv->win_cpu_ns += used.cpu_ns;
	srv->win_waits += used.waits;
	if (++srv->win_jobs < RATIO_WINDOW && srv->win_wall_ns < RATIO_WINDOW_NS)
		return;
	double ratio = (double)srv->win_wall_ns / (double)(srv->win_cpu_ns ? srv->win_cpu_ns : 1);
	double switches = (double)srv->win_waits / srv->win_jobs;
	int waits = srv->hsm_waits ? ratio >= CPU_RATIO || switches >= CPU_SWITCHES
				   : ratio >= WAIT_RATIO && switches >= WAIT_SWITCHES;
	double want = waits ? (double)srv->cores * ratio : 0; /* rounded up below */
	unsigned limit = want >= MAX_HELPERS ? MAX_HELPERS : want <= srv->cores ? srv->cores : (unsigned)(want + 0.999);
	time_t now = time(NULL);
	if (waits != srv->hsm_waits && (!srv->wait_logged || now - srv->wait_logged >= WAIT_LOG_EVERY_S)) {
		tc_info("HSM signatures %s (wall/CPU time %.1f, %.2f voluntary switches per signature): up to %u "
			"signing threads",
			waits ? "wait" : "are CPU work", ratio, switches, limit);
		srv->wait_logged = now;
	}
	srv->hsm_waits = waits;
	srv->sign_limit = limit;
	srv->win_jobs = 0;
	srv->win_wall_ns = srv->win_cpu_ns = srv->win_waits = 0;
	sign_wake_locked(srv, 0);
}

/* Queues one request of peer c (after waiting for room in its in-flight
 * budget). Returns 1 when it went to the signing queue, 0 to the worker
 * pool, -1 when the server stops (the request is freed). */
static int enqueue(struct tc_ipc_server *srv, struct conn *c, struct job *j)
{
	pthread_mutex_lock(&srv->lock);
	while (c->in_flight >= MAX_IN_FLIGHT_PER_PEER && !srv->stopping) {
		/* This reader's own queued jobs must not wait for it: let the
		 * helpers run them while it waits for room. */
		if (srv->sign_queued)
			pthread_cond_broadcast(&srv->sign_work);
		pthread_cond_wait(&c->room, &srv->lock);
	}
	if (srv->stopping) {
		/* Workers may be gone: nothing queued now would ever run. */
		pthread_mutex_unlock(&srv->lock);
		trustchain__internal__request__free_unpacked(j->req, NULL);
		free(j);
		return -1;
	}
	c->in_flight++;
	c->refs++;
	int sign = defers_journal(j->req);
	struct job **head = sign ? &c->sign_head : &srv->head, **tail = sign ? &c->sign_tail : &srv->tail;
	if (*tail)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
	if (sign) {
		srv->sign_queued++;
		if (!c->in_round)
			round_append_locked(srv, c);
	} else {
		pthread_cond_signal(&srv->work);
	}
	pthread_mutex_unlock(&srv->lock);
	return sign;
}

/* Runs up to n of c's queued signing requests on this thread (those the
 * helpers have not taken meanwhile). */
static void sign_run(struct tc_ipc_server *srv, struct conn *c, size_t n)
{
	pthread_mutex_lock(&srv->lock);
	if (srv->hsm_waits) {
		/* Signing waits on the HSM: this thread goes back to its socket. */
		sign_wake_locked(srv, 0);
		pthread_mutex_unlock(&srv->lock);
		return;
	}
	sign_wake_locked(srv, 1);
	for (; n > 0; n--) {
		struct job *j = sign_pop_own_locked(srv, c);
		if (!j)
			break;
		pthread_mutex_unlock(&srv->lock);
		run_job(srv, j);
		free(j);
		pthread_mutex_lock(&srv->lock);
	}
	pthread_mutex_unlock(&srv->lock);
}

static void *reader_main(void *arg)
{
	struct conn *c = arg;
	struct tc_ipc_server *srv = c->srv;
	struct tc_frame_reader fr;
	tc_frame_reader_init(&fr);
	uint8_t *chunk = malloc(READ_CHUNK);
	int open = chunk != NULL;
	if (!chunk)
		tc_err("peer %s: out of memory; closing its connection", c->peer.name);
	while (open) {
		ssize_t got = read(c->fd, chunk, READ_CHUNK);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			if (got < 0 && errno != ECONNRESET && errno != EBADF && errno != ENOTCONN)
				tc_err("peer %s: read failed (%s); closing its connection", c->peer.name,
				       strerror(errno));
			break;
		}
		if (tc_frame_reader_append(&fr, chunk, (size_t)got) != 0) {
			tc_err("peer %s: frame too large or out of memory; closing its connection", c->peer.name);
			break;
		}
		/* Every complete frame of this read is queued before any runs:
		 * the helpers can start on them while this thread signs too. */
		size_t signs = 0;
		const uint8_t *payload;
		size_t len;
		const char *why = NULL;
		enum tc_frame_status st;
		while ((st = tc_frame_reader_next(&fr, &payload, &len, &why)) == TC_FRAME_READY) {
			Trustchain__Internal__Request *req = trustchain__internal__request__unpack(NULL, len, payload);
			struct job *j = req ? malloc(sizeof(*j)) : NULL;
			if (!j) {
				if (req)
					trustchain__internal__request__free_unpacked(req, NULL);
				tc_err("peer %s: %s; closing its connection", c->peer.name,
				       req ? "out of memory" : "undecodable request");
				open = 0;
				break;
			}
			*j = (struct job){.conn = c, .req = req};
			int q = enqueue(srv, c, j);
			if (q < 0) {
				open = 0;
				break;
			}
			signs += (size_t)q;
		}
		if (st == TC_FRAME_ERROR) {
			tc_err("peer %s: bad frame (%s); closing its connection", c->peer.name, why);
			open = 0;
		}
		/* Signing never sleeps (its answer waits for the journal
		 * elsewhere): this thread runs its own peer's requests (never
		 * another's, or a busy queue would keep it from its socket),
		 * the helpers take what it has not reached yet. */
		if (signs)
			sign_run(srv, c, signs);
	}
	free(chunk);
	tc_frame_reader_free(&fr);
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
		int wrc = tc_frame_write_answer(c->fd, out, out_len);
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

/* Connections with gathered answers, on the thread that gathered them
 * (the journal's writer, or a thread whose answer was durable at once):
 * sent by send_gathered, which the journal calls on that thread after the
 * callbacks of one commit. */
static __thread struct conn *gathered_list;

/* Adds one answer frame to c's outgoing buffer; 0, or -1 when memory ran
 * out. Called with c->write_lock held. */
static int gather_frame(struct conn *c, const uint8_t *out, size_t len)
{
	if (c->olen + 4 + len > c->ocap) {
		size_t cap = c->ocap ? c->ocap : 16384;
		while (cap < c->olen + 4 + len)
			cap *= 2;
		uint8_t *nb = realloc(c->obuf, cap);
		if (!nb)
			return -1;
		c->obuf = nb;
		c->ocap = cap;
	}
	uint8_t *p = c->obuf + c->olen;
	p[0] = (uint8_t)(len >> 24);
	p[1] = (uint8_t)(len >> 16);
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	memcpy(p + 4, out, len);
	c->olen += 4 + len;
	return 0;
}

/* Holds answer out (NULL: none, the connection is dropped) of one request
 * of c for send_gathered; takes out. */
static void gather_answer(struct conn *c, uint8_t *out, size_t out_len)
{
	pthread_mutex_lock(&c->write_lock);
	if (!out || gather_frame(c, out, out_len) != 0)
		shutdown(c->fd, SHUT_RDWR); /* the peer reconnects and retries */
	c->ojobs++;
	if (!c->gathered) {
		c->gathered = 1;
		c->gathered_next = gathered_list;
		gathered_list = c;
	}
	pthread_mutex_unlock(&c->write_lock);
	free(out);
}

/* Writes all of buf to a socket whose writes are bounded
 * (tc_frame_bound_writes). 0, or -1 with errno set. */
static int write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* The journal's settled hook: every gathered answer leaves, one write per
 * peer, and the requests they end give back their slots and references. */
static void send_gathered(void *arg)
{
	struct tc_ipc_server *srv = arg;
	struct conn *c = gathered_list;
	gathered_list = NULL;
	while (c) {
		pthread_mutex_lock(&c->write_lock);
		struct conn *next = c->gathered_next;
		c->gathered = 0;
		int wrc = c->olen ? write_all(c->fd, c->obuf, c->olen) : 0;
		int werr = errno;
		c->olen = 0;
		unsigned n = c->ojobs;
		c->ojobs = 0;
		pthread_mutex_unlock(&c->write_lock);
		if (wrc != 0) {
			if (werr == EAGAIN || werr == EWOULDBLOCK)
				tc_warn("peer %s has not read its answers for %d ms; dropping its connection",
					c->peer.name, PEER_WRITE_TIMEOUT_MS);
			shutdown(c->fd, SHUT_RDWR);
		}
		pthread_mutex_lock(&srv->lock);
		c->in_flight -= (int)n;
		pthread_cond_signal(&c->room);
		for (unsigned i = 0; i < n; i++)
			conn_unref_locked(c); /* each request held one; c may be gone after the last */
		pthread_mutex_unlock(&srv->lock);
		c = next;
	}
}

/* An answer of the server's own to request id: a status, why, and a
 * reason (may be NULL). NULL when memory runs out. */
static uint8_t *status_answer(uint64_t id, Trustchain__Internal__Status status, const char *why, const char *reason,
			      size_t *len)
{
	Trustchain__Internal__Response r = TRUSTCHAIN__INTERNAL__RESPONSE__INIT;
	r.id = id;
	r.status = status;
	r.error = (char *)why;
	r.reason = (char *)(reason ? reason : "");
	size_t n = trustchain__internal__response__get_packed_size(&r);
	uint8_t *out = malloc(n ? n : 1);
	if (out)
		*len = trustchain__internal__response__pack(&r, out);
	return out;
}

static void release_answer(void *arg, int durable)
{
	struct held_answer *h = arg;
	if (!durable) {
		/* The signature (or refusal) was never recorded: it must not
		 * leave the signer. The peer gets what a failed append gives. */
		free(h->out);
		h->out = status_answer(h->id, TRUSTCHAIN__INTERNAL__STATUS__STATUS_UNAVAILABLE, "audit journal unavailable",
				       "journal_unavailable", &h->out_len);
	}
	gather_answer(h->conn, h->out, h->out_len);
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
	} else if (out_len > TC_IPC_MAX_ANSWER_FRAME) {
		/* The peer would take a larger frame for a broken connection:
		 * it gets an error answer and keeps its link. */
		tc_err("peer %s: answer to request %llu is %zu bytes, over the %u-byte limit; answering an error",
		       c->peer.name, (unsigned long long)j->req->id, out_len, TC_IPC_MAX_ANSWER_FRAME);
		free(out);
		out = status_answer(j->req->id, TRUSTCHAIN__INTERNAL__STATUS__STATUS_ERROR,
				    "answer too large for the signer link", NULL, &out_len);
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

/* A signing helper: runs queued signing requests while there are any and
 * fewer than sign_limit helpers sign. */
static void *helper_main(void *arg)
{
	struct tc_ipc_server *srv = arg;
	pthread_mutex_lock(&srv->lock);
	for (;;) {
		struct job *j = srv->sign_busy < srv->sign_limit ? sign_pop_locked(srv) : NULL;
		if (!j) {
			if (srv->stopping && !srv->sign_queued)
				break; /* stopping and drained */
			srv->sign_idle++;
			pthread_cond_wait(&srv->sign_work, &srv->lock);
			srv->sign_idle--;
			continue;
		}
		srv->sign_busy++;
		pthread_mutex_unlock(&srv->lock);
		uint64_t wall0 = monotonic_ns();
		struct thread_usage u0 = thread_usage();
		run_job(srv, j);
		struct thread_usage u1 = thread_usage();
		uint64_t wall = monotonic_ns() - wall0;
		free(j);
		pthread_mutex_lock(&srv->lock);
		srv->sign_busy--;
		sign_measure_locked(srv, wall, (struct thread_usage){u1.cpu_ns - u0.cpu_ns, u1.waits - u0.waits});
		/* A helper held back by the limit may take the next one. */
		if (srv->stopping && srv->sign_queued)
			pthread_cond_signal(&srv->sign_work);
	}
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

/* The fewest signing helpers: one per online core (with the readers
 * signing too, every core can sign). */
static unsigned helper_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > MAX_HELPERS ? MAX_HELPERS : (unsigned)n;
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
	pthread_cond_init(&srv->sign_work, NULL);
	/* Answers released by the journal leave once per commit and peer. */
	if (s->journal)
		tc_journal_set_settled_hook(s->journal, send_gathered, srv);
	unsigned helpers = helper_count();
	srv->cores = srv->sign_limit = helpers;
	for (; srv->nhelpers < helpers; srv->nhelpers++) {
		if (pthread_create(&srv->helpers[srv->nhelpers], NULL, helper_main, srv) != 0) {
			snprintf(err, errlen, "cannot start signing threads");
			tc_ipc_server_stop(srv);
			return NULL;
		}
	}
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
	/* A child holds one link (a new one comes with its restart, or with
	 * TC_SUP_RELINK after its link ended, at most one a second), tests
	 * a few: past MAX_LINKS_PER_PEER the oldest of that peer's links is
	 * closed, so a child taken over cannot pile up connections and
	 * reader threads here. */
	unsigned same = 0;
	struct conn *oldest = NULL;
	for (struct conn *o = srv->conns; o; o = o->next)
		if (strcmp(o->peer.name, name) == 0) {
			same++;
			oldest = o; /* the list is newest first */
		}
	if (same >= MAX_LINKS_PER_PEER)
		shutdown(oldest->fd, SHUT_RDWR);
	c->next = srv->conns;
	srv->conns = c;
	pthread_mutex_unlock(&srv->lock);
	if (same >= MAX_LINKS_PER_PEER)
		tc_warn("peer %s: more than %d links; its oldest closed", name, MAX_LINKS_PER_PEER);
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
	pthread_cond_broadcast(&srv->sign_work);
	pthread_mutex_unlock(&srv->lock);
	for (unsigned i = 0; i < srv->nworkers; i++)
		pthread_join(srv->workers[i], NULL);
	/* Helpers leave once the signing queue is empty: what readers
	 * queued before the stop is still answered. */
	for (unsigned i = 0; i < srv->nhelpers; i++)
		pthread_join(srv->helpers[i], NULL);
	/* Readers are detached: wait until each has dropped its connection. */
	pthread_mutex_lock(&srv->lock);
	while (srv->conns)
		pthread_cond_wait(&srv->idle, &srv->lock);
	pthread_mutex_unlock(&srv->lock);
	/* Every held answer has left with its connection: the journal has
	 * nothing more to hand us. */
	if (srv->signer && srv->signer->journal)
		tc_journal_set_settled_hook(srv->signer->journal, NULL, NULL);
	pthread_mutex_destroy(&srv->lock);
	pthread_cond_destroy(&srv->work);
	pthread_cond_destroy(&srv->idle);
	pthread_cond_destroy(&srv->sign_work);
	free(srv->workers);
	free(srv);
}
