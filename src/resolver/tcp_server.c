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

struct tcp_conn {
	int fd;                 /* -1: free slot */
	uint32_t gen;           /* bumped on every reuse: stale forward answers are dropped */
	uint64_t last_ms;
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
	uint32_t max_conns, nconns, idle_ms;
	struct tcp_conn *conns;
	pthread_t thread;
	bool started;
	uint64_t accepted, refused, queries, closed_bad;
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

static void conn_close(struct tc_tcp_server *s, uint32_t slot)
{
	struct tcp_conn *c = &s->conns[slot];
	if (c->fd < 0)
		return;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->rbuf);
	free(c->wbuf);
	uint32_t gen = c->gen + 1;
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->gen = gen;
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
		c->last_ms = now_ms();
		if (r == TC_DNS_SVC_PENDING) {
			c->pending_fwd++;
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
	c->last_ms = now_ms();
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

static void accept_all(struct tc_tcp_server *s)
{
	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				tc_warn("tcp: accept: %s", strerror(errno));
			return;
		}
		uint32_t slot = 0;
		while (slot < s->max_conns && s->conns[slot].fd >= 0)
			slot++;
		if (slot == s->max_conns) {
			if (s->refused++ % 1000 == 0)
				tc_warn("tcp: %u connections open (the cap): closing new ones", s->max_conns);
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
	for (uint32_t i = 0; i < s->max_conns; i++) {
		struct tcp_conn *c = &s->conns[i];
		if (c->fd >= 0 && now - c->last_ms >= s->idle_ms)
			conn_close(s, i);
	}
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

int tc_tcp_server_start(int fd, const struct tc_dns_service *svc, uint32_t max_conns,
			uint32_t idle_ms, struct tc_tcp_server **out, char *err, size_t errlen)
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
	s->max_conns = max_conns ? max_conns : 1;
	s->idle_ms = idle_ms ? idle_ms : 10000;
	s->epfd = s->stopfd = s->fwdfd = -1;
	pthread_mutex_init(&s->fwd_lock, NULL);
	s->conns = calloc(s->max_conns, sizeof(*s->conns));
	if (!s->conns)
		goto fail_errno;
	for (uint32_t i = 0; i < s->max_conns; i++)
		s->conns[i].fd = -1;
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
		tc_info("tcp: %llu connections, %llu queries, %llu closed for bad framing, %llu over the cap",
			(unsigned long long)s->accepted, (unsigned long long)s->queries,
			(unsigned long long)s->closed_bad, (unsigned long long)s->refused);
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
	free(s);
}
