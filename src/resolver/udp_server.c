/* UDP listener: see udp_server.h. */
#define _GNU_SOURCE
#include "resolver/udp_server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "resolver/ratelimit.h"

#define BATCH 32
/* A datagram larger than this is not a query we answer (MSG_TRUNC: dropped). */
#define RX_MAX 4096
#define TX_MAX 4096

struct udp_worker {
	struct tc_udp_server *srv;
	pthread_t thread;
	bool started;
	uint64_t queries, answers, dropped, limited, forwarded;
	struct mmsghdr rmsg[BATCH], smsg[BATCH];
	struct iovec riov[BATCH], siov[BATCH];
	struct sockaddr_storage addr[BATCH];
	uint8_t rx[BATCH][RX_MAX];
	uint8_t tx[BATCH][TX_MAX];
};

struct tc_udp_server {
	int fd;
	int stopfd;
	const struct tc_dns_service *svc;
	unsigned nthreads;
	struct udp_worker *workers;
	struct tc_ratelimit rl;     /* shared by the workers */
};

/* What a forwarded query needs to be answered from the forwarder thread. */
struct udp_fwd_ctx {
	int fd;
	socklen_t addrlen;
	size_t limit;                 /* the client's UDP payload size */
	struct sockaddr_storage addr;
};
_Static_assert(sizeof(struct udp_fwd_ctx) <= TC_FWD_CTX_MAX, "UDP forward context too large");

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void udp_forward_done(const void *ctxp, const uint8_t *resp, size_t len)
{
	struct udp_fwd_ctx ctx;
	memcpy(&ctx, ctxp, sizeof(ctx));
	uint8_t cut[TC_DNS_HEADER_LEN + TC_DNS_MAX_NAME + 4];
	if (len > ctx.limit) {
		/* Only the header and question survive truncation. */
		size_t n = len < sizeof(cut) ? len : sizeof(cut);
		memcpy(cut, resp, n);
		len = tc_dns_truncate_response(cut, n);
		if (len == 0)
			return;
		resp = cut;
	}
	if (sendto(ctx.fd, resp, len, MSG_DONTWAIT, (struct sockaddr *)&ctx.addr, ctx.addrlen) < 0)
		tc_debug("udp: send forwarded answer: %s", strerror(errno));
}

/* Answers rx[i] into tx[i]; true when there is something to send. */
static bool answer_one(struct udp_worker *w, unsigned i, uint64_t now)
{
	struct mmsghdr *m = &w->rmsg[i];
	size_t qlen = m->msg_len;
	if (m->msg_hdr.msg_flags & MSG_TRUNC) {
		w->dropped++;
		return false;
	}
	enum tc_ratelimit_verdict rl =
	    tc_ratelimit_check(&w->srv->rl, (struct sockaddr *)&w->addr[i], now);
	if (rl == TC_RL_DROP) {
		w->limited++;
		return false;
	}
	if (rl == TC_RL_SLIP) {
		/* The question back with TC=1, built from the query alone: a
		 * limited source gets no data and never reaches the forwarder. */
		w->limited++;
		if (qlen < TC_DNS_HEADER_LEN || (w->rx[i][2] & 0x80) || qlen > TX_MAX)
			return false;
		memcpy(w->tx[i], w->rx[i], qlen);
		size_t n = tc_dns_truncate_response(w->tx[i], qlen);
		if (n == 0)
			return false;
		w->tx[i][2] |= 0x80;   /* QR */
		w->tx[i][3] = 0;       /* RA, Z, AD, CD clear; RCODE NOERROR */
		w->siov[i].iov_len = n;
		return true;
	}
	struct udp_fwd_ctx ctx;
	if (w->srv->svc->fwd || w->srv->svc->update_pool) {   /* answered later */
		ctx.fd = w->srv->fd;
		ctx.addrlen = m->msg_hdr.msg_namelen;
		memcpy(&ctx.addr, &w->addr[i], sizeof(ctx.addr));
		ctx.limit = tc_dns_client_udp_limit(w->rx[i], qlen);
	}
	size_t outlen = 0;
	enum tc_dns_service_result r = tc_dns_service_handle(
	    w->srv->svc, TC_DNS_TRANSPORT_UDP, w->rx[i], qlen, w->tx[i], TX_MAX, &outlen, &ctx,
	    sizeof(ctx), udp_forward_done);
	if (r == TC_DNS_SVC_PENDING) {
		w->forwarded++;
		return false;
	}
	if (r != TC_DNS_SVC_REPLY) {
		w->dropped++;
		return false;
	}
	w->siov[i].iov_len = outlen;
	return true;
}

static void *udp_worker_main(void *arg)
{
	struct udp_worker *w = arg;
	struct tc_udp_server *s = w->srv;
	struct pollfd pfd[2] = {{.fd = s->fd, .events = POLLIN}, {.fd = s->stopfd, .events = POLLIN}};
	for (unsigned i = 0; i < BATCH; i++) {
		w->riov[i] = (struct iovec){.iov_base = w->rx[i], .iov_len = RX_MAX};
		w->siov[i] = (struct iovec){.iov_base = w->tx[i], .iov_len = 0};
	}
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			tc_err("udp: poll: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents)
			break;
		/* Drain the socket in batches until it is empty. */
		for (;;) {
			for (unsigned i = 0; i < BATCH; i++) {
				w->rmsg[i].msg_hdr = (struct msghdr){
				    .msg_name = &w->addr[i],
				    .msg_namelen = sizeof(w->addr[i]),
				    .msg_iov = &w->riov[i],
				    .msg_iovlen = 1,
				};
			}
			int n = recvmmsg(s->fd, w->rmsg, BATCH, MSG_DONTWAIT, NULL);
			if (n <= 0)
				break;   /* EAGAIN: back to poll */
			uint64_t now = now_ms();
			unsigned k = 0;
			for (unsigned i = 0; i < (unsigned)n; i++) {
				w->queries++;
				if (!answer_one(w, i, now))
					continue;
				w->smsg[k].msg_hdr = (struct msghdr){
				    .msg_name = &w->addr[i],
				    .msg_namelen = w->rmsg[i].msg_hdr.msg_namelen,
				    .msg_iov = &w->siov[i],
				    .msg_iovlen = 1,
				};
				k++;
			}
			for (unsigned sent = 0; sent < k;) {
				int r = sendmmsg(s->fd, w->smsg + sent, k - sent, MSG_DONTWAIT);
				if (r <= 0) {
					/* Send buffer full or the peer unreachable: UDP may lose it.
					 * Skip the one that failed and carry on. */
					sent++;
					w->dropped++;
					continue;
				}
				sent += (unsigned)r;
				w->answers += (uint64_t)r;
			}
			if (n < BATCH)
				break;
		}
	}
	return NULL;
}

int tc_udp_server_start(int fd, unsigned nthreads, const struct tc_dns_service *svc,
			uint32_t rate_limit_qps, struct tc_udp_server **out, char *err,
			size_t errlen)
{
	if (nthreads == 0)
		nthreads = 1;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "udp socket: %s", strerror(errno));
		return -1;
	}
	struct tc_udp_server *s = calloc(1, sizeof(*s));
	struct udp_worker *w = calloc(nthreads, sizeof(*w));
	if (!s || !w) {
		free(s);
		free(w);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->fd = fd;
	s->svc = svc;
	s->workers = w;
	s->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->stopfd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		free(w);
		free(s);
		return -1;
	}
	tc_ratelimit_init(&s->rl, rate_limit_qps);
	for (unsigned i = 0; i < nthreads; i++) {
		w[i].srv = s;
		if (pthread_create(&w[i].thread, NULL, udp_worker_main, &w[i]) != 0) {
			snprintf(err, errlen, "udp worker thread: %s", strerror(errno));
			tc_udp_server_stop(s);
			return -1;
		}
		w[i].started = true;
		s->nthreads = i + 1;
	}
	*out = s;
	return 0;
}

void tc_udp_server_stop(struct tc_udp_server *s)
{
	if (!s)
		return;
	uint64_t one = 1;
	if (write(s->stopfd, &one, sizeof(one)) < 0)
		tc_warn("udp: wake workers: %s", strerror(errno));
	uint64_t q = 0, a = 0, d = 0, l = 0, f = 0;
	for (unsigned i = 0; i < s->nthreads; i++) {
		if (s->workers[i].started)
			pthread_join(s->workers[i].thread, NULL);
		q += s->workers[i].queries;
		a += s->workers[i].answers;
		d += s->workers[i].dropped;
		l += s->workers[i].limited;
		f += s->workers[i].forwarded;
	}
	tc_info("udp: %llu queries, %llu answers, %llu forwarded, %llu dropped, %llu rate-limited",
		(unsigned long long)q, (unsigned long long)a, (unsigned long long)f,
		(unsigned long long)d, (unsigned long long)l);
	close(s->stopfd);
	tc_ratelimit_destroy(&s->rl);
	free(s->workers);
	free(s);
}
