/* TCP listener: see tcp_server.h. */
#define _GNU_SOURCE
#include "resolver/tcp_server.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

#define TAG_LISTEN 0
#define TAG_STOP 1
#define TAG_FWD 2
#define TAG_CONN_BASE 3
#define READ_CHUNK 4096
#define SWEEP_MS 1000
#define NO_SLOT UINT32_MAX

/* Where a connection comes from, for the per-source limit: the IPv4
 * address, or the /64 of an IPv6 address (one host usually holds a whole
 * /64, so counting /128s would give it 2^64 quotas). */
struct tcp_source {
	uint8_t family;
	uint8_t addr[8];
};

struct tcp_conn {
	int fd;                 /* -1: free slot */
	uint32_t gen;           /* bumped on every reuse: stale forward answers are dropped */
	uint64_t last_ms;
	struct tcp_source src;
	uint32_t lru_prev, lru_next;   /* activity order, least recent first */
	uint32_t src_next;      /* next connection in the same source bucket */
	bool eof;               /* the client half-closed: finish what is owed, then close */
	uint32_t events;        /* what epoll watches now */
	unsigned pending_fwd;
	uint8_t *rbuf;
	size_t rlen, rcap;
	uint8_t *wbuf;
	size_t woff, wlen, wcap;
};

/* A forwarded answer on its way from the forwarder thread to the loop. */
struct fwd_done {
	struct fwd_done *next;
	uint32_t slot, gen;
	size_t len;
	uint8_t msg[];
};

struct tcp_fwd_ctx {
	struct tc_tcp_server *srv;
	uint32_t slot, gen;
};

struct tc_tcp_server {
	int lfd, epfd, stopfd, fwdfd;
	const struct tc_dns_service *svc;
	uint32_t max_conns, per_source, nconns, idle_ms;
	struct tcp_conn *conns;
	uint32_t lru_head, lru_tail;   /* least and most recently active */
	uint32_t *src_buckets;         /* per-source hash: first slot of each chain */
	uint32_t src_mask;
	pthread_t thread;
	bool started;
	uint64_t accepted, refused, queries, closed_bad, evicted;
	pthread_mutex_t fwd_lock;
	struct fwd_done *fwd_head;
	uint8_t out[2 + TC_DNS_MAX_MSG];   /* the answer being built */
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- activity order (LRU) and sources ---- */

static void lru_unlink(struct tc_tcp_server *s, uint32_t slot)
{
	struct tcp_conn *c = &s->conns[slot];
	if (c->lru_prev != NO_SLOT)
		s->conns[c->lru_prev].lru_next = c->lru_next;
	else
		s->lru_head = c->lru_next;
	if (c->lru_next != NO_SLOT)
		s->conns[c->lru_next].lru_prev = c->lru_prev;
	else
		s->lru_tail = c->lru_prev;
	c->lru_prev = c->lru_next = NO_SLOT;
}

static void lru_append(struct tc_tcp_server *s, uint32_t slot)
{
	struct tcp_conn *c = &s->conns[slot];
	c->lru_prev = s->lru_tail;
	c->lru_next = NO_SLOT;
	if (s->lru_tail != NO_SLOT)
		s->conns[s->lru_tail].lru_next = slot;
	else
		s->lru_head = slot;
	s->lru_tail = slot;
}

/* The connection did something: it becomes the most recently active. */
static void conn_touch(struct tc_tcp_server *s, uint32_t slot)
{
	s->conns[slot].last_ms = now_ms();
	if (s->lru_tail != slot) {
		lru_unlink(s, slot);
		lru_append(s, slot);
	}
}

static void source_of(const struct sockaddr_storage *ss, struct tcp_source *src)
{
	memset(src, 0, sizeof(*src));
	src->family = (uint8_t)ss->ss_family;
	if (ss->ss_family == AF_INET)
		memcpy(src->addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	else if (ss->ss_family == AF_INET6)
		memcpy(src->addr, &((const struct sockaddr_in6 *)ss)->sin6_addr, 8);
}

static bool same_source(const struct tcp_source *a, const struct tcp_source *b)
{
	return a->family == b->family && memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

static uint32_t source_bucket(const struct tc_tcp_server *s, const struct tcp_source *src)
{
	uint64_t h = 1469598103934665603ull;   /* FNV-1a */
	h = (h ^ src->family) * 1099511628211ull;
	for (size_t i = 0; i < sizeof(src->addr); i++)
		h = (h ^ src->addr[i]) * 1099511628211ull;
	return (uint32_t)(h ^ (h >> 32)) & s->src_mask;
}

static uint32_t source_count(const struct tc_tcp_server *s, const struct tcp_source *src)
{
	uint32_t n = 0;
	for (uint32_t i = s->src_buckets[source_bucket(s, src)]; i != NO_SLOT; i = s->conns[i].src_next)
		n += same_source(&s->conns[i].src, src);
	return n;
}

static void source_unlink(struct tc_tcp_server *s, uint32_t slot)
{
	uint32_t *link = &s->src_buckets[source_bucket(s, &s->conns[slot].src)];
	while (*link != NO_SLOT && *link != slot)
		link = &s->conns[*link].src_next;
	if (*link == slot)
		*link = s->conns[slot].src_next;
}

static void conn_close(struct tc_tcp_server *s, uint32_t slot)
{
	struct tcp_conn *c = &s->conns[slot];
	if (c->fd < 0)
		return;
	lru_unlink(s, slot);
	source_unlink(s, slot);
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->rbuf);
	free(c->wbuf);
	uint32_t gen = c->gen + 1;
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->gen = gen;
	c->lru_prev = c->lru_next = c->src_next = NO_SLOT;
	s->nconns--;
}

static void conn_watch(struct tc_tcp_server *s, uint32_t slot)
{
	struct tcp_conn *c = &s->conns[slot];
	size_t unsent = c->wlen - c->woff;
	uint32_t ev = 0;
	if (!c->eof && unsent < TC_TCP_MAX_OUTPUT)
		ev |= EPOLLIN;
	if (unsent > 0)
		ev |= EPOLLOUT;
	if (ev == c->events)
		return;
	struct epoll_event e = {.events = ev, .data.u64 = TAG_CONN_BASE + slot};
	epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &e);
	c->events = ev;
}

/* Appends a length-prefixed message (msg points at msglen octets). */
static int conn_queue(struct tcp_conn *c, const uint8_t *msg, size_t msglen)
{
	if (c->woff > 0 && c->woff == c->wlen)
		c->woff = c->wlen = 0;
	if (c->wlen + 2 + msglen > c->wcap) {
		if (c->woff > 0) {
			memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
			c->wlen -= c->woff;
			c->woff = 0;
		}
		size_t need = c->wlen + 2 + msglen;
		if (need > c->wcap) {
			size_t cap = c->wcap ? c->wcap : 1024;
			while (cap < need)
				cap *= 2;
			uint8_t *nb = realloc(c->wbuf, cap);
			if (!nb)
				return -1;
			c->wbuf = nb;
			c->wcap = cap;
		}
	}
	tc_dns_put16(c->wbuf + c->wlen, (uint16_t)msglen);
	memcpy(c->wbuf + c->wlen + 2, msg, msglen);
	c->wlen += 2 + msglen;
	return 0;
}

/* Writes what it can; -1 when the connection is dead. */
static int conn_flush(struct tcp_conn *c)
{
	while (c->woff < c->wlen) {
		ssize_t n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return -1;
		}
		c->woff += (size_t)n;
	}
	c->woff = c->wlen = 0;
	return 0;
}

static void tcp_forward_done(const void *ctxp, const uint8_t *resp, size_t len)
{
	struct tcp_fwd_ctx ctx;
	memcpy(&ctx, ctxp, sizeof(ctx));
	struct fwd_done *d = malloc(sizeof(*d) + len);
	if (!d)
		return;   /* the client times out and retries */
	d->slot = ctx.slot;
	d->gen = ctx.gen;
	d->len = len;
	memcpy(d->msg, resp, len);
	struct tc_tcp_server *s = ctx.srv;
	pthread_mutex_lock(&s->fwd_lock);
	d->next = s->fwd_head;
	s->fwd_head = d;
	pthread_mutex_unlock(&s->fwd_lock);
	uint64_t one = 1;
	if (write(s->fwdfd, &one, sizeof(one)) < 0)
		tc_debug("tcp: wake for forwarded answer: %s", strerror(errno));
}

/* One message of a zone transfer onto the connection's output. */
static int transfer_emit(void *arg, const uint8_t *msg, size_t len)
{
	return conn_queue(arg, msg, len);
}

/* Answers every complete message in the read buffer; -1 closes. */
static int conn_process(struct tc_tcp_server *s, uint32_t slot)
{
	struct tcp_conn *c = &s->conns[slot];
	size_t off = 0;
	int rc = 0;
	while (c->rlen - off >= 2 && c->wlen - c->woff < TC_TCP_MAX_OUTPUT) {
		size_t mlen = tc_dns_get16(c->rbuf + off);
		if (mlen < TC_DNS_HEADER_LEN) {
			s->closed_bad++;
			rc = -1;
			break;
		}
		if (c->rlen - off < 2 + mlen)
			break;
		const uint8_t *q = c->rbuf + off + 2;
		s->queries++;
		struct tcp_fwd_ctx ctx = {.srv = s, .slot = slot, .gen = c->gen};
		size_t outlen = 0;
		enum tc_dns_service_result r =
		    tc_dns_service_handle(s->svc, TC_DNS_TRANSPORT_TCP, q, mlen, s->out, TC_DNS_MAX_MSG,
					  &outlen, &ctx, sizeof(ctx), tcp_forward_done);
		off += 2 + mlen;
		conn_touch(s, slot);
		if (r == TC_DNS_SVC_PENDING) {
			c->pending_fwd++;
			continue;
		}
		if (r == TC_DNS_SVC_TRANSFER) {
			if (tc_dns_service_transfer(s->svc, q, mlen, transfer_emit, c) != 0) {
				rc = -1;
				break;
			}
			continue;
		}
		if (r != TC_DNS_SVC_REPLY) {
			/* Not a query (a response, a short header): the stream cannot
			 * be trusted any further. */
			s->closed_bad++;
			rc = -1;
			break;
		}
		if (conn_queue(c, s->out, outlen) != 0) {
			rc = -1;
			break;
		}
	}
	if (off > 0) {
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
		c->rlen -= off;
	}
	/* Room for the next message whole: its length is known once 2 octets are in. */
	if (rc == 0 && c->rlen >= 2) {
		size_t need = 2 + (size_t)tc_dns_get16(c->rbuf);
		if (need > c->rcap) {
			uint8_t *nb = realloc(c->rbuf, need);
			if (!nb)
				return -1;
			c->rbuf = nb;
			c->rcap = need;
		}
	}
	return rc;
}

static void conn_readable(struct tc_tcp_server *s, uint32_t slot)
{
	struct tcp_conn *c = &s->conns[slot];
	for (;;) {
		if (c->rlen == c->rcap) {
			/* Full: the whole next message fits (conn_process grew the
			 * buffer), so it must be answered before reading more. */
			break;
		}
		ssize_t n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			conn_close(s, slot);
			return;
		}
		if (n == 0) {
			c->eof = true;
			break;
		}
		c->rlen += (size_t)n;
		if (conn_process(s, slot) != 0) {
			conn_close(s, slot);
			return;
		}
	}
	if (conn_process(s, slot) != 0 || conn_flush(c) != 0) {
		conn_close(s, slot);
		return;
	}
	/* Half-closed with nothing owed: done. A partial message at EOF is dropped. */
	if (c->eof && c->wlen == c->woff && c->pending_fwd == 0) {
		conn_close(s, slot);
		return;
	}
	conn_watch(s, slot);
}

static void conn_writable(struct tc_tcp_server *s, uint32_t slot)
{
	struct tcp_conn *c = &s->conns[slot];
	if (conn_flush(c) != 0) {
		conn_close(s, slot);
		return;
	}
	conn_touch(s, slot);
	/* Output drained below the cap: answer what waited in the read buffer. */
	if (conn_process(s, slot) != 0 || conn_flush(c) != 0) {
		conn_close(s, slot);
		return;
	}
	if (c->eof && c->wlen == c->woff && c->pending_fwd == 0) {
		conn_close(s, slot);
		return;
	}
	conn_watch(s, slot);
}

/* Nothing is owed to the connection (no unsent answer, no forwarded
 * answer on its way): closing it loses the client no answer. */
static bool conn_evictable(const struct tcp_conn *c)
{
	return c->wlen == c->woff && c->pending_fwd == 0;
}

/* Closes the least recently active evictable connection, of src only when
 * src is given. false when there is none. RFC 7766 §6.2.3: under pressure
 * a server closes idle connections rather than turning new clients away. */
static bool evict_one(struct tc_tcp_server *s, const struct tcp_source *src)
{
	for (uint32_t i = s->lru_head; i != NO_SLOT; i = s->conns[i].lru_next) {
		struct tcp_conn *c = &s->conns[i];
		if ((!src || same_source(&c->src, src)) && conn_evictable(c)) {
			conn_close(s, i);
			if (s->evicted++ % 1000 == 0)
				tc_info("tcp: closing the least recently active connections to make room "
					"(%u open, at most %u per source)", s->nconns, s->per_source);
			return true;
		}
	}
	return false;
}

/* Admits a connection from src: over its source's quota the source's own
 * oldest idle connection makes room (a client flooding us only displaces
 * itself); with every slot taken the oldest idle connection of anyone
 * does. Returns the free slot, or NO_SLOT when nothing could be closed. */
static uint32_t admit(struct tc_tcp_server *s, const struct tcp_source *src)
{
	if (source_count(s, src) >= s->per_source && !evict_one(s, src))
		return NO_SLOT;
	if (s->nconns >= s->max_conns && !evict_one(s, NULL))
		return NO_SLOT;
	for (uint32_t slot = 0; slot < s->max_conns; slot++)
		if (s->conns[slot].fd < 0)
			return slot;
	return NO_SLOT;
}

static void accept_all(struct tc_tcp_server *s)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(s->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				tc_warn("tcp: accept: %s", strerror(errno));
			return;
		}
		struct tcp_source src;
		source_of(&ss, &src);
		uint32_t slot = admit(s, &src);
		if (slot == NO_SLOT) {
			if (s->refused++ % 1000 == 0)
				tc_warn("tcp: %u connections open, all busy: closing new ones", s->nconns);
			close(fd);
			continue;
		}
		struct tcp_conn *c = &s->conns[slot];
		c->rbuf = malloc(512);
		struct epoll_event e = {.events = EPOLLIN, .data.u64 = TAG_CONN_BASE + slot};
		if (!c->rbuf || epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &e) != 0) {
			free(c->rbuf);
			c->rbuf = NULL;
			close(fd);
			continue;
		}
		c->fd = fd;
		c->rcap = 512;
		c->events = EPOLLIN;
		c->src = src;
		uint32_t b = source_bucket(s, &src);
		c->src_next = s->src_buckets[b];
		s->src_buckets[b] = slot;
		lru_append(s, slot);
		c->last_ms = now_ms();
		s->nconns++;
		s->accepted++;
	}
}

static void deliver_forwarded(struct tc_tcp_server *s)
{
	uint64_t v;
	if (read(s->fwdfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		tc_debug("tcp: eventfd: %s", strerror(errno));
	pthread_mutex_lock(&s->fwd_lock);
	struct fwd_done *d = s->fwd_head;
	s->fwd_head = NULL;
	pthread_mutex_unlock(&s->fwd_lock);
	while (d) {
		struct fwd_done *next = d->next;
		struct tcp_conn *c = d->slot < s->max_conns ? &s->conns[d->slot] : NULL;
		if (c && c->fd >= 0 && c->gen == d->gen) {
			c->pending_fwd--;
			if (conn_queue(c, d->msg, d->len) != 0 || conn_flush(c) != 0) {
				conn_close(s, d->slot);
			} else if (c->eof && c->wlen == c->woff && c->pending_fwd == 0) {
				conn_close(s, d->slot);
			} else {
				conn_watch(s, d->slot);
			}
		}
		free(d);
		d = next;
	}
}

static void sweep_idle(struct tc_tcp_server *s, uint64_t now)
{
	/* Least recently active first: stop at the first one still in time. */
	while (s->lru_head != NO_SLOT && now - s->conns[s->lru_head].last_ms >= s->idle_ms)
		conn_close(s, s->lru_head);
}

static void *tcp_main(void *arg)
{
	struct tc_tcp_server *s = arg;
	struct epoll_event ev[64];
	uint64_t next_sweep = now_ms() + SWEEP_MS;
	for (;;) {
		int n = epoll_wait(s->epfd, ev, 64, SWEEP_MS);
		if (n < 0 && errno != EINTR) {
			tc_err("tcp: epoll_wait: %s", strerror(errno));
			break;
		}
		bool stop = false;
		for (int i = 0; i < n; i++) {
			uint64_t tag = ev[i].data.u64;
			if (tag == TAG_STOP) {
				stop = true;
			} else if (tag == TAG_LISTEN) {
				accept_all(s);
			} else if (tag == TAG_FWD) {
				deliver_forwarded(s);
			} else {
				uint32_t slot = (uint32_t)(tag - TAG_CONN_BASE);
				if (s->conns[slot].fd < 0)
					continue;   /* closed earlier in this batch */
				if (ev[i].events & (EPOLLERR | EPOLLHUP) && !(ev[i].events & EPOLLIN)) {
					conn_close(s, slot);
					continue;
				}
				if (ev[i].events & EPOLLOUT)
					conn_writable(s, slot);
				if (s->conns[slot].fd >= 0 && ev[i].events & EPOLLIN)
					conn_readable(s, slot);
			}
		}
		if (stop)
			break;
		uint64_t now = now_ms();
		if (now >= next_sweep) {
			sweep_idle(s, now);
			next_sweep = now + SWEEP_MS;
		}
	}
	return NULL;
}

static int add_fd(int epfd, int fd, uint64_t tag)
{
	struct epoll_event e = {.events = EPOLLIN, .data.u64 = tag};
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e);
}

int tc_tcp_server_start(int fd, const struct tc_dns_service *svc,
			const struct tc_tcp_limits *lim, struct tc_tcp_server **out, char *err,
			size_t errlen)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "tcp socket: %s", strerror(errno));
		return -1;
	}
	struct tc_tcp_server *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->lfd = fd;
	s->svc = svc;
	s->max_conns = lim->max_conns ? lim->max_conns : 1;
	s->per_source = lim->per_source ? lim->per_source : s->max_conns;
	s->idle_ms = lim->idle_ms ? lim->idle_ms : 10000;
	s->lru_head = s->lru_tail = NO_SLOT;
	s->epfd = s->stopfd = s->fwdfd = -1;
	pthread_mutex_init(&s->fwd_lock, NULL);
	uint32_t nbuckets = 16;
	while (nbuckets < s->max_conns && nbuckets < (1u << 30))
		nbuckets *= 2;
	s->src_mask = nbuckets - 1;
	s->conns = calloc(s->max_conns, sizeof(*s->conns));
	s->src_buckets = malloc(nbuckets * sizeof(*s->src_buckets));
	if (!s->conns || !s->src_buckets)
		goto fail_errno;
	for (uint32_t i = 0; i < nbuckets; i++)
		s->src_buckets[i] = NO_SLOT;
	for (uint32_t i = 0; i < s->max_conns; i++) {
		s->conns[i].fd = -1;
		s->conns[i].lru_prev = s->conns[i].lru_next = s->conns[i].src_next = NO_SLOT;
	}
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->fwdfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->epfd < 0 || s->stopfd < 0 || s->fwdfd < 0 || add_fd(s->epfd, fd, TAG_LISTEN) != 0 ||
	    add_fd(s->epfd, s->stopfd, TAG_STOP) != 0 || add_fd(s->epfd, s->fwdfd, TAG_FWD) != 0)
		goto fail_errno;
	if (pthread_create(&s->thread, NULL, tcp_main, s) != 0)
		goto fail_errno;
	s->started = true;
	*out = s;
	return 0;
fail_errno:
	snprintf(err, errlen, "tcp server: %s", strerror(errno));
	tc_tcp_server_stop(s);
	return -1;
}

void tc_tcp_server_stop(struct tc_tcp_server *s)
{
	if (!s)
		return;
	if (s->started) {
		uint64_t one = 1;
		if (write(s->stopfd, &one, sizeof(one)) < 0)
			tc_warn("tcp: wake: %s", strerror(errno));
		pthread_join(s->thread, NULL);
		tc_info("tcp: %llu connections, %llu queries, %llu closed for bad framing, "
			"%llu idle closed to make room, %llu refused (all busy)",
			(unsigned long long)s->accepted, (unsigned long long)s->queries,
			(unsigned long long)s->closed_bad, (unsigned long long)s->evicted,
			(unsigned long long)s->refused);
	}
	for (uint32_t i = 0; s->conns && i < s->max_conns; i++)
		conn_close(s, i);
	for (struct fwd_done *d = s->fwd_head, *next; d; d = next) {
		next = d->next;
		free(d);
	}
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->stopfd >= 0)
		close(s->stopfd);
	if (s->fwdfd >= 0)
		close(s->fwdfd);
	pthread_mutex_destroy(&s->fwd_lock);
	free(s->conns);
	free(s->src_buckets);
	free(s);
}

uint32_t tc_tcp_per_source_default(uint32_t max_conns)
{
	uint32_t n = max_conns / 16;
	if (n < 8)
		n = 8;
	return n < max_conns ? n : max_conns;
}
