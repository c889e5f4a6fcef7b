/* The DoQ listener loop: datagrams in (recvmmsg), routed by connection ID
 * to their connection or, for a client Initial, to a new one (after the
 * connection cap, the credentials and address validation allow it);
 * datagrams out in batches (sendmmsg); timers from a deadline heap;
 * forwarded answers from the forwarder thread through an eventfd. */
#define _GNU_SOURCE
#include "resolver/doq_server.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/metrics_proc.h"
#include "resolver/doq.h"
#include "resolver/doq_internal.h"

#define TAG_SOCKET 0
#define TAG_STOP 1
#define TAG_FWD 2
#define RETRY_TOKEN_TIMEOUT (10 * NGTCP2_SECONDS)
#define REGULAR_TOKEN_TIMEOUT (3600 * NGTCP2_SECONDS)
#define RESETS_PER_SECOND 1000
#define SOCKET_BUFFER (4 * 1024 * 1024)

struct doq_fwd_done {
	struct doq_fwd_done *next;
	uint32_t slot, gen;
	int64_t stream_id;
	size_t len;
	uint8_t msg[];
};

uint64_t doq_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NGTCP2_SECONDS + (uint64_t)ts.tv_nsec;
}

static uint64_t wallclock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NGTCP2_SECONDS + (uint64_t)ts.tv_nsec;
}

int doq_random(uint8_t *buf, size_t len)
{
	return gnutls_rnd(GNUTLS_RND_RANDOM, buf, len) == 0 ? 0 : -1;
}

/* ---- datagrams out ---- */

void doq_tx_flush(struct tc_doq_server *s)
{
	unsigned off = 0;
	while (off < s->ntx) {
		int n = sendmmsg(s->fd, s->txmsg + off, s->ntx - off, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* One bad destination (or a full buffer) costs that datagram
			 * only; QUIC's loss recovery resends what mattered. */
			tc_debug("doq: sendmmsg: %s", strerror(errno));
			off++;
			continue;
		}
		off += (unsigned)n;
	}
	s->ntx = 0;
}

uint8_t *doq_tx_buf(struct tc_doq_server *s)
{
	if (s->ntx == DOQ_TX_BATCH)
		doq_tx_flush(s);
	return s->txbuf[s->ntx];
}

void doq_tx_commit(struct tc_doq_server *s, size_t len, const struct sockaddr *to, socklen_t tolen)
{
	unsigned i = s->ntx++;
	memcpy(&s->txaddr[i], to, tolen);
	s->txiov[i].iov_base = s->txbuf[i];
	s->txiov[i].iov_len = len;
	memset(&s->txmsg[i], 0, sizeof(s->txmsg[i]));
	s->txmsg[i].msg_hdr.msg_name = &s->txaddr[i];
	s->txmsg[i].msg_hdr.msg_namelen = tolen;
	s->txmsg[i].msg_hdr.msg_iov = &s->txiov[i];
	s->txmsg[i].msg_hdr.msg_iovlen = 1;
}

void doq_mark_dirty(struct doq_conn *c)
{
	if (c->dirty)
		return;
	c->dirty = true;
	c->dirty_next = c->srv->dirty;
	c->srv->dirty = c;
}

static void write_dirty(struct tc_doq_server *s)
{
	while (s->dirty) {
		struct doq_conn *c = s->dirty;
		s->dirty = c->dirty_next;
		c->dirty = false;
		c->dirty_next = NULL;
		if (c->state == DOQ_LIVE)
			doq_conn_write(c);
	}
	doq_tx_flush(s);
}

/* ---- connection slots ---- */

/* Open DoQ connections of the process (every listener), as a gauge: the
 * figure an operator watches under a connection flood, beside the
 * dns.max_connections cap; accepted ones are counted in
 * trustchain_doq_connections_total. */
static struct tc_metric *open_gauge(void)
{
	return tc_pm_gauge("trustchain_doq_connections_open", "DoQ (QUIC) connections open now.", NULL);
}

struct doq_conn *doq_conn_slot(struct tc_doq_server *s)
{
	if (s->nfree == 0)
		return NULL;
	struct doq_conn *c = &s->conns[s->free_slots[--s->nfree]];
	s->nconns++;
	tc_metric_add(open_gauge(), NULL, 1);
	return c;
}

void doq_conn_release_slot(struct doq_conn *c)
{
	struct tc_doq_server *s = c->srv;
	s->free_slots[s->nfree++] = c->slot;
	s->nconns--;
	tc_metric_add(open_gauge(), NULL, -1);
}

/* ---- stateless answers: version negotiation, retry, refusal, reset ---- */

static void send_version_negotiation(struct tc_doq_server *s, const ngtcp2_version_cid *vc,
				     const struct sockaddr *peer, socklen_t peerlen)
{
	uint32_t versions[] = {NGTCP2_PROTO_VER_V1};
	uint8_t unused;
	if (doq_random(&unused, 1) != 0)
		return;
	uint8_t *buf = doq_tx_buf(s);
	ngtcp2_ssize n = ngtcp2_pkt_write_version_negotiation(buf, DOQ_TX_PKT, unused, vc->scid,
							      vc->scidlen, vc->dcid, vc->dcidlen,
							      versions, 1);
	if (n > 0)
		doq_tx_commit(s, (size_t)n, peer, peerlen);
}

static void send_retry(struct tc_doq_server *s, const ngtcp2_pkt_hd *hd, const struct sockaddr *peer,
		       socklen_t peerlen, size_t pktlen)
{
	ngtcp2_cid scid = {.datalen = DOQ_SCID_LEN};
	uint8_t token[NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN];
	if (doq_random(scid.data, scid.datalen) != 0)
		return;
	ngtcp2_ssize tlen = ngtcp2_crypto_generate_retry_token(
		token, s->token_secret, sizeof(s->token_secret), hd->version, peer, peerlen, &scid,
		&hd->dcid, wallclock_ns());
	if (tlen < 0)
		return;
	/* Never more than three times what the client sent (amplification). */
	size_t cap = pktlen * 3 < DOQ_TX_PKT ? pktlen * 3 : DOQ_TX_PKT;
	uint8_t *buf = doq_tx_buf(s);
	ngtcp2_ssize n = ngtcp2_crypto_write_retry(buf, cap, hd->version, &hd->scid, &scid, &hd->dcid,
						   token, (size_t)tlen);
	if (n > 0) {
		doq_tx_commit(s, (size_t)n, peer, peerlen);
		s->stats.retries++;
	}
}

static void send_refusal(struct tc_doq_server *s, const ngtcp2_pkt_hd *hd, uint64_t code,
			 const struct sockaddr *peer, socklen_t peerlen)
{
	uint8_t *buf = doq_tx_buf(s);
	ngtcp2_ssize n = ngtcp2_crypto_write_connection_close(buf, DOQ_TX_PKT, hd->version, &hd->scid,
							      &hd->dcid, code, NULL, 0);
	if (n > 0)
		doq_tx_commit(s, (size_t)n, peer, peerlen);
}

/* A short-header packet for a connection we do not know (lost state, a
 * restart, an idle timeout): tell the client with a stateless reset so it
 * stops at once instead of retransmitting into the void. */
static void send_stateless_reset(struct tc_doq_server *s, const uint8_t *dcid, size_t dcidlen,
				 size_t pktlen, const struct sockaddr *peer, socklen_t peerlen)
{
	/* RFC 9000 §10.3: smaller than the packet that triggered it (no reset
	 * loops), and at least 21 octets so it looks like a short packet. */
	size_t want = pktlen - 1 < 43 ? pktlen - 1 : 43;
	if (pktlen < 22 || want < 1 + NGTCP2_MIN_STATELESS_RESET_RANDLEN + NGTCP2_STATELESS_RESET_TOKENLEN)
		return;
	uint64_t now_ms = doq_now() / NGTCP2_MILLISECONDS;
	if (now_ms - s->reset_window_ms >= 1000) {
		s->reset_window_ms = now_ms;
		s->resets_in_window = 0;
	}
	if (s->resets_in_window++ >= RESETS_PER_SECOND)
		return;
	ngtcp2_cid cid;
	uint8_t token[NGTCP2_STATELESS_RESET_TOKENLEN], rnd[64];
	ngtcp2_cid_init(&cid, dcid, dcidlen);
	size_t rndlen = want - 1 - NGTCP2_STATELESS_RESET_TOKENLEN;
	if (ngtcp2_crypto_generate_stateless_reset_token(token, s->reset_secret,
							 sizeof(s->reset_secret), &cid) != 0 ||
	    doq_random(rnd, rndlen) != 0)
		return;
	uint8_t *buf = doq_tx_buf(s);
	ngtcp2_ssize n = ngtcp2_pkt_write_stateless_reset(buf, DOQ_TX_PKT, token, rnd, rndlen);
	if (n > 0) {
		doq_tx_commit(s, (size_t)n, peer, peerlen);
		s->stats.resets_sent++;
	}
}

static struct tc_quic_creds *current_creds(struct tc_doq_server *s)
{
	pthread_mutex_lock(&s->creds_lock);
	struct tc_quic_creds *c = s->creds;
	if (c)
		tc_quic_creds_ref(c);
	pthread_mutex_unlock(&s->creds_lock);
	return c;
}

/* Checks the token of a client Initial. Returns 1 when the address is
 * validated (ocid set for a Retry token), 0 when there is none or it is
 * unusable, -1 when the packet must be refused (a bad Retry token). */
static int check_token(struct tc_doq_server *s, ngtcp2_pkt_hd *hd, const struct sockaddr *peer,
		       socklen_t peerlen, ngtcp2_cid *ocid, bool *from_retry)
{
	*from_retry = false;
	if (hd->token.len == 0)
		return 0;
	uint64_t now = wallclock_ns();
	if (hd->token.base[0] == NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY) {
		if (ngtcp2_crypto_verify_retry_token(ocid, hd->token.base, hd->token.len,
						     s->token_secret, sizeof(s->token_secret),
						     hd->version, peer, peerlen, &hd->dcid,
						     RETRY_TOKEN_TIMEOUT, now) != 0)
			return -1;
		*from_retry = true;
		return 1;
	}
	if (hd->token.base[0] == NGTCP2_CRYPTO_TOKEN_MAGIC_REGULAR &&
	    ngtcp2_crypto_verify_regular_token(hd->token.base, hd->token.len, s->token_secret,
					       sizeof(s->token_secret), peer, peerlen,
					       REGULAR_TOKEN_TIMEOUT, now) == 0)
		return 1;
	/* Stale or foreign NEW_TOKEN tokens are ignored (RFC 9000 §8.1.3). */
	hd->token.base = NULL;
	hd->token.len = 0;
	return 0;
}

/* Every slot taken: the least recently active connection with no query in
 * progress is closed with DOQ_EXCESSIVE_LOAD to make room (RFC 9250 §4.3,
 * §5.5; as TCP does, RFC 7766 §6.2.3), so idle clients cannot lock new
 * ones out. false when every connection has a query in progress. A scan:
 * it runs only at the cap, once per newcomer. */
static bool evict_idle(struct tc_doq_server *s)
{
	struct doq_conn *victim = NULL;
	for (uint32_t i = 0; i < s->lim.max_conns; i++) {
		struct doq_conn *c = &s->conns[i];
		if (doq_conn_idle(c) && (!victim || c->last_rx < victim->last_rx))
			victim = c;
	}
	if (!victim)
		return false;
	if (s->stats.evicted++ % 1000 == 0)
		tc_info("doq: %u connections open (dns.max_connections): closing the least recently active "
			"idle ones with DOQ_EXCESSIVE_LOAD (%llu so far)",
			s->lim.max_conns, (unsigned long long)s->stats.evicted);
	doq_conn_evict(victim);
	return true;
}

static void accept_initial(struct tc_doq_server *s, const uint8_t *pkt, size_t len,
			   const struct sockaddr *peer, socklen_t peerlen)
{
	ngtcp2_pkt_hd hd;
	if (ngtcp2_accept(&hd, pkt, len) != 0)
		return;   /* not a client Initial we could start from */
	struct tc_quic_creds *creds = current_creds(s);
	if (!creds) {
		if (!s->warned_no_creds) {
			s->warned_no_creds = true;
			tc_info("doq: no certificate yet: new QUIC connections wait for it");
		}
		return;
	}
	ngtcp2_cid ocid;
	bool from_retry;
	int validated = check_token(s, &hd, peer, peerlen, &ocid, &from_retry);
	if (validated < 0) {
		send_refusal(s, &hd, NGTCP2_INVALID_TOKEN, peer, peerlen);
		goto out;
	}
	/* At the cap busy holds too: only a client that proved its address
	 * can make an idle connection close. */
	bool busy = s->nconns >= s->lim.max_conns - s->lim.max_conns / 4;
	if (!validated && (s->lim.retry_always || busy)) {
		send_retry(s, &hd, peer, peerlen, len);
		goto out;
	}
	if (s->nfree == 0 && !evict_idle(s)) {
		s->stats.refused++;
		if (!s->warned_full) {
			s->warned_full = true;
			tc_warn("doq: %u connections open (dns.max_connections), each with a query in "
				"progress: refusing new ones", s->lim.max_conns);
		}
		send_refusal(s, &hd, NGTCP2_CONNECTION_REFUSED, peer, peerlen);
		goto out;
	}
	s->warned_full = false;
	struct doq_conn *c = doq_conn_slot(s);
	if (doq_conn_accept(c, &hd, from_retry ? &ocid : NULL, peer, peerlen, creds) != 0)
		goto out;
	tc_metric_add(tc_pm_counter("trustchain_doq_connections_total", "DoQ (QUIC) connections accepted.", NULL), NULL,
		      1);
	int rv = doq_conn_read(c, pkt, len, peer, peerlen);
	if (rv == NGTCP2_ERR_RETRY) {
		doq_conn_free(c);
		send_retry(s, &hd, peer, peerlen, len);
	}
out:
	tc_quic_creds_unref(creds);
}

static void on_datagram(struct tc_doq_server *s, const uint8_t *pkt, size_t len,
			const struct sockaddr *peer, socklen_t peerlen)
{
	ngtcp2_version_cid vc;
	int rv = ngtcp2_pkt_decode_version_cid(&vc, pkt, len, DOQ_SCID_LEN);
	if (rv == NGTCP2_ERR_VERSION_NEGOTIATION) {
		/* Only for datagrams big enough to be an Initial (RFC 9000 §6). */
		if (len >= 1200)
			send_version_negotiation(s, &vc, peer, peerlen);
		return;
	}
	if (rv != 0)
		return;   /* not QUIC: dropped */
	struct doq_conn *c = tc_cid_map_get(&s->cids, vc.dcid, vc.dcidlen);
	if (c) {
		doq_conn_read(c, pkt, len, peer, peerlen);
		return;
	}
	if (pkt[0] & 0x80)
		accept_initial(s, pkt, len, peer, peerlen);
	else
		send_stateless_reset(s, vc.dcid, vc.dcidlen, len, peer, peerlen);
}

static void read_socket(struct tc_doq_server *s)
{
	/* A bounded number of batches, so timers and writes get their turn. */
	for (int round = 0; round < 8; round++) {
		for (unsigned i = 0; i < DOQ_RX_BATCH; i++) {
			s->rxiov[i].iov_base = s->rxbuf[i];
			s->rxiov[i].iov_len = DOQ_RX_PKT;
			memset(&s->rxmsg[i].msg_hdr, 0, sizeof(s->rxmsg[i].msg_hdr));
			s->rxmsg[i].msg_hdr.msg_name = &s->rxaddr[i];
			s->rxmsg[i].msg_hdr.msg_namelen = sizeof(s->rxaddr[i]);
			s->rxmsg[i].msg_hdr.msg_iov = &s->rxiov[i];
			s->rxmsg[i].msg_hdr.msg_iovlen = 1;
		}
		int n = recvmmsg(s->fd, s->rxmsg, DOQ_RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				tc_debug("doq: recvmmsg: %s", strerror(errno));
			return;
		}
		for (int i = 0; i < n; i++) {
			struct msghdr *h = &s->rxmsg[i].msg_hdr;
			if (h->msg_flags & MSG_TRUNC || s->rxmsg[i].msg_len == 0)
				continue;
			on_datagram(s, s->rxbuf[i], s->rxmsg[i].msg_len, (struct sockaddr *)&s->rxaddr[i],
				    h->msg_namelen);
		}
		if (n < DOQ_RX_BATCH)
			return;
	}
}

/* ---- forwarded answers ---- */

void doq_forward_done(const void *ctxp, const uint8_t *resp, size_t len)
{
	struct doq_fwd_ctx ctx;
	memcpy(&ctx, ctxp, sizeof(ctx));
	struct doq_fwd_done *d = malloc(sizeof(*d) + len);
	if (!d)
		return;   /* the client times out and asks again */
	d->slot = ctx.slot;
	d->gen = ctx.gen;
	d->stream_id = ctx.stream_id;
	d->len = len;
	memcpy(d->msg, resp, len);
	struct tc_doq_server *s = ctx.srv;
	pthread_mutex_lock(&s->fwd_lock);
	d->next = s->fwd_head;
	s->fwd_head = d;
	pthread_mutex_unlock(&s->fwd_lock);
	uint64_t one = 1;
	if (write(s->fwdfd, &one, sizeof(one)) < 0)
		tc_debug("doq: wake for forwarded answer: %s", strerror(errno));
}

static void deliver_forwarded(struct tc_doq_server *s)
{
	uint64_t v;
	if (read(s->fwdfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		tc_debug("doq: eventfd: %s", strerror(errno));
	pthread_mutex_lock(&s->fwd_lock);
	struct doq_fwd_done *d = s->fwd_head;
	s->fwd_head = NULL;
	pthread_mutex_unlock(&s->fwd_lock);
	while (d) {
		struct doq_fwd_done *next = d->next;
		struct doq_conn *c = d->slot < s->lim.max_conns ? &s->conns[d->slot] : NULL;
		if (c && c->gen == d->gen && c->state == DOQ_LIVE)
			doq_conn_deliver(c, d->stream_id, d->msg, d->len);
		free(d);
		d = next;
	}
}

/* ---- the loop ---- */

static int wait_ms(const struct tc_doq_server *s)
{
	struct tc_timer *t = tc_timer_top(&s->timers);
	if (!t)
		return -1;
	uint64_t now = doq_now();
	if (t->at <= now)
		return 0;
	uint64_t ms = (t->at - now + NGTCP2_MILLISECONDS - 1) / NGTCP2_MILLISECONDS;
	return ms > 60000 ? 60000 : (int)ms;
}

static void run_timers(struct tc_doq_server *s)
{
	uint64_t now = doq_now();
	struct tc_timer *t;
	while ((t = tc_timer_top(&s->timers)) && t->at <= now) {
		struct doq_conn *c = (struct doq_conn *)((char *)t - offsetof(struct doq_conn, timer));
		tc_timer_cancel(&s->timers, t);
		doq_conn_on_timer(c);
	}
}

static void *doq_main(void *arg)
{
	struct tc_doq_server *s = arg;
	struct epoll_event ev[8];
	for (;;) {
		int n = epoll_wait(s->epfd, ev, 8, wait_ms(s));
		if (n < 0 && errno != EINTR) {
			tc_err("doq: epoll_wait: %s", strerror(errno));
			break;
		}
		bool stop = false;
		for (int i = 0; i < n; i++) {
			if (ev[i].data.u64 == TAG_STOP)
				stop = true;
			else if (ev[i].data.u64 == TAG_FWD)
				deliver_forwarded(s);
			else
				read_socket(s);
		}
		if (stop)
			break;
		run_timers(s);
		write_dirty(s);
	}
	return NULL;
}

static int add_fd(int epfd, int fd, uint64_t tag)
{
	struct epoll_event e = {.events = EPOLLIN, .data.u64 = tag};
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e);
}

int tc_doq_server_start(int fd, const struct tc_dns_service *svc,
			const struct tc_doq_limits *lim, struct tc_doq_server **out, char *err,
			size_t errlen)
{
	struct tc_doq_server *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "doq: out of memory");
		return -1;
	}
	s->fd = fd;
	s->svc = svc;
	s->lim = *lim;
	if (s->lim.max_conns == 0)
		s->lim.max_conns = 1;
	if (s->lim.max_streams == 0)
		s->lim.max_streams = 1;
	if (s->lim.idle_ms == 0)
		s->lim.idle_ms = 30000;
	s->epfd = s->stopfd = s->fwdfd = -1;
	s->trace = getenv("TC_DOQ_TRACE") != NULL;
	pthread_mutex_init(&s->creds_lock, NULL);
	pthread_mutex_init(&s->fwd_lock, NULL);
	s->locallen = sizeof(s->local);
	if (getsockname(fd, (struct sockaddr *)&s->local, &s->locallen) != 0)
		goto fail_errno;
	/* Bursts of handshakes and answers must not overflow the kernel's
	 * queues; the kernel caps these at its own maximum. */
	int size = SOCKET_BUFFER;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (getrandom(s->reset_secret, sizeof(s->reset_secret), 0) != (ssize_t)sizeof(s->reset_secret) ||
	    getrandom(s->token_secret, sizeof(s->token_secret), 0) != (ssize_t)sizeof(s->token_secret))
		goto fail_errno;
	/* Without it connections still work, only never resume. */
	if (gnutls_session_ticket_key_generate(&s->ticket_key) != 0) {
		s->ticket_key.data = NULL;
		tc_warn("doq: no TLS session ticket key: clients will not resume sessions");
	}
	s->conns = calloc(s->lim.max_conns, sizeof(*s->conns));
	s->free_slots = calloc(s->lim.max_conns, sizeof(*s->free_slots));
	if (!s->conns || !s->free_slots || tc_cid_map_init(&s->cids) != 0)
		goto fail_errno;
	for (uint32_t i = 0; i < s->lim.max_conns; i++) {
		uint32_t slot = s->lim.max_conns - 1 - i;
		s->conns[slot].srv = s;
		s->conns[slot].slot = slot;
		tc_timer_init(&s->conns[slot].timer);
		s->free_slots[s->nfree++] = slot;
	}
	s->nconns = 0;
	tc_metric_add(open_gauge(), NULL, 0); /* exported at 0 before the first connection */
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->fwdfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->epfd < 0 || s->stopfd < 0 || s->fwdfd < 0 || add_fd(s->epfd, fd, TAG_SOCKET) != 0 ||
	    add_fd(s->epfd, s->stopfd, TAG_STOP) != 0 || add_fd(s->epfd, s->fwdfd, TAG_FWD) != 0)
		goto fail_errno;
	if (pthread_create(&s->thread, NULL, doq_main, s) != 0)
		goto fail_errno;
	s->started = true;
	*out = s;
	return 0;
fail_errno:
	snprintf(err, errlen, "doq server: %s", strerror(errno));
	tc_doq_server_stop(s);
	return -1;
}

void tc_doq_server_set_creds(struct tc_doq_server *s, struct tc_quic_creds *creds)
{
	tc_quic_creds_ref(creds);
	pthread_mutex_lock(&s->creds_lock);
	struct tc_quic_creds *old = s->creds;
	s->creds = creds;
	pthread_mutex_unlock(&s->creds_lock);
	tc_quic_creds_unref(old);
}

void tc_doq_server_stats(const struct tc_doq_server *s, struct tc_doq_stats *out)
{
	*out = s->stats;
}

void tc_doq_server_stop(struct tc_doq_server *s)
{
	if (!s)
		return;
	if (s->started) {
		uint64_t one = 1;
		if (write(s->stopfd, &one, sizeof(one)) < 0)
			tc_warn("doq: wake: %s", strerror(errno));
		pthread_join(s->thread, NULL);
		tc_info("doq: %llu connections, %llu queries, %llu closed for protocol errors, "
			"%llu retries, %llu stateless resets, %llu idle closed to make room, "
			"%llu refused over the cap",
			(unsigned long long)s->stats.accepted, (unsigned long long)s->stats.queries,
			(unsigned long long)s->stats.protocol_errors, (unsigned long long)s->stats.retries,
			(unsigned long long)s->stats.resets_sent, (unsigned long long)s->stats.evicted,
			(unsigned long long)s->stats.refused);
	}
	for (uint32_t i = 0; s->conns && i < s->lim.max_conns; i++)
		if (s->conns[i].state != DOQ_FREE)
			doq_conn_free(&s->conns[i]);
	for (struct doq_fwd_done *d = s->fwd_head, *next; d; d = next) {
		next = d->next;
		free(d);
	}
	doq_stream_pool_free(s);
	tc_cid_map_free(&s->cids);
	tc_timer_heap_free(&s->timers);
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->stopfd >= 0)
		close(s->stopfd);
	if (s->fwdfd >= 0)
		close(s->fwdfd);
	tc_quic_creds_unref(s->creds);
	if (s->ticket_key.data) {
		gnutls_memset(s->ticket_key.data, 0, s->ticket_key.size);
		gnutls_free(s->ticket_key.data);
	}
	pthread_mutex_destroy(&s->creds_lock);
	pthread_mutex_destroy(&s->fwd_lock);
	free(s->conns);
	free(s->free_slots);
	free(s);
}
