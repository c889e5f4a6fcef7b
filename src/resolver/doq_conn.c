/* One DoQ connection: ngtcp2 callbacks, the query on each stream, the
 * answers written back, closing. Runs only on the listener thread. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>

#include "common/log.h"
#include "resolver/doq.h"
#include "resolver/doq_internal.h"
#include "resolver/edns_padding.h"

#define STREAM_POOL_MAX 4096
#define CLOSE_RESENDS_MAX 8
/* Query octets a client may have buffered here at once, per connection:
 * the window reopens only as queries are answered or their streams end,
 * so it bounds our memory (a maximal query still fits). */
#define CONN_WINDOW (128 * 1024)
#define HANDSHAKE_TIMEOUT (10 * NGTCP2_SECONDS)
/* ngtcp2 0.12 paces from the first flight on, with cwnd / initial RTT as
 * the rate: RFC 9002's 333 ms would hold our certificate flight and the
 * first answer back by tens of milliseconds on every new connection. DoQ
 * clients are near (a resolver serves its region), and a too-short guess
 * only costs one early retransmission of an Initial on a long path. */
#define INITIAL_RTT (50 * NGTCP2_MILLISECONDS)

/* ---- streams ---- */

static struct doq_stream *stream_new(struct tc_doq_server *s, int64_t id)
{
	struct doq_stream *st = s->stream_pool;
	if (st) {
		s->stream_pool = st->next;
		s->pool_len--;
	} else if (!(st = malloc(sizeof(*st)))) {
		return NULL;
	}
	memset(st, 0, offsetof(struct doq_stream, inline_buf));
	st->id = id;
	st->buf = st->inline_buf;
	st->cap = DOQ_STREAM_INLINE;
	return st;
}

static void stream_release(struct tc_doq_server *s, struct doq_stream *st)
{
	if (st->buf != st->inline_buf)
		free(st->buf);
	if (s->pool_len < STREAM_POOL_MAX) {
		st->next = s->stream_pool;
		s->stream_pool = st;
		s->pool_len++;
	} else {
		free(st);
	}
}

void doq_stream_pool_free(struct tc_doq_server *s)
{
	while (s->stream_pool) {
		struct doq_stream *st = s->stream_pool;
		s->stream_pool = st->next;
		free(st);
	}
	s->pool_len = 0;
}

/* Makes buf hold at least need octets, keeping the first keep. */
static int stream_reserve(struct doq_stream *st, size_t need, size_t keep)
{
	if (need <= st->cap)
		return 0;
	uint8_t *nb = malloc(need);
	if (!nb)
		return -1;
	memcpy(nb, st->buf, keep);
	if (st->buf != st->inline_buf)
		free(st->buf);
	st->buf = nb;
	st->cap = (uint32_t)need;
	return 0;
}

static void sendq_push(struct doq_conn *c, struct doq_stream *st)
{
	if (st->queued)
		return;
	st->queued = true;
	st->send_next = NULL;
	if (c->sendq_tail)
		c->sendq_tail->send_next = st;
	else
		c->sendq = st;
	c->sendq_tail = st;
}

static void sendq_remove(struct doq_conn *c, struct doq_stream *st)
{
	if (!st->queued)
		return;
	struct doq_stream **pp = &c->sendq, *prev = NULL;
	while (*pp && *pp != st) {
		prev = *pp;
		pp = &(*pp)->send_next;
	}
	if (*pp)
		*pp = st->send_next;
	if (c->sendq_tail == st)
		c->sendq_tail = prev;
	st->queued = false;
	st->send_next = NULL;
}

static struct doq_stream *stream_find(struct doq_conn *c, int64_t id)
{
	for (struct doq_stream *st = c->streams; st; st = st->next)
		if (st->id == id)
			return st;
	return NULL;
}

/* Gives the stream's query octets back to the connection window. */
static void stream_credit(struct doq_conn *c, struct doq_stream *st)
{
	if (!st->credited && st->rxlen > 0 && c->q)
		ngtcp2_conn_extend_max_offset(c->q, st->rxlen);
	st->credited = true;
}

static void stream_remove(struct doq_conn *c, struct doq_stream *st)
{
	stream_credit(c, st);
	sendq_remove(c, st);
	for (struct doq_stream **pp = &c->streams; *pp; pp = &(*pp)->next) {
		if (*pp == st) {
			*pp = st->next;
			break;
		}
	}
	stream_release(c->srv, st);
}

/* ---- closing ---- */

/* From a callback: remember why, the caller closes after ngtcp2 returns. */
static int request_close(struct doq_conn *c, uint64_t code, const char *reason)
{
	if (!c->close_requested) {
		c->close_requested = true;
		ngtcp2_connection_close_error_set_application_error(&c->ccerr, code,
								    (const uint8_t *)reason,
								    strlen(reason));
		if (code == TC_DOQ_PROTOCOL_ERROR)
			c->srv->stats.protocol_errors++;
	}
	return NGTCP2_ERR_CALLBACK_FAILURE;
}

static void set_timer(struct doq_conn *c, uint64_t at)
{
	if (tc_timer_set(&c->srv->timers, &c->timer, at) != 0)
		tc_warn("doq: out of memory for a timer");
}

static void enter_draining(struct doq_conn *c)
{
	c->state = DOQ_DRAINING;
	set_timer(c, doq_now() + 3 * ngtcp2_conn_get_pto(c->q));
}

/* Sends CONNECTION_CLOSE with c->ccerr and keeps the packet to repeat to
 * anything the client still sends during the closing period. */
static void close_now(struct doq_conn *c)
{
	if (c->state != DOQ_LIVE)
		return;
	struct tc_doq_server *s = c->srv;
	ngtcp2_path_storage ps;
	ngtcp2_path_storage_zero(&ps);
	ngtcp2_pkt_info pi;
	uint8_t *buf = doq_tx_buf(s);
	ngtcp2_ssize n = ngtcp2_conn_write_connection_close(c->q, &ps.path, &pi, buf, DOQ_TX_PKT,
							    &c->ccerr, doq_now());
	if (n > 0 && (c->close_pkt = malloc((size_t)n)) != NULL) {
		memcpy(c->close_pkt, buf, (size_t)n);
		c->close_len = (size_t)n;
		doq_tx_commit(s, (size_t)n, ps.path.remote.addr, ps.path.remote.addrlen);
	}
	c->state = DOQ_CLOSING;
	set_timer(c, doq_now() + 3 * ngtcp2_conn_get_pto(c->q));
}

/* ---- answers ---- */

static int stream_set_answer(struct doq_conn *c, struct doq_stream *st, const uint8_t *msg,
			     size_t len)
{
	size_t framed;
	/* RFC 9250 §5.4, RFC 8467 §4.1: a padded query gets an answer padded
	 * to a multiple of 468 octets, forwarded answers included. */
	if (st->pad && len <= TC_DNS_MAX_MSG) {
		uint8_t *a = c->srv->answer;
		if (msg != a)
			memmove(a, msg, len);
		len = tc_dns_pad_response(a, len, sizeof(c->srv->answer), TC_DNS_PAD_BLOCK_RESPONSE);
		msg = a;
	}
	if (len > TC_DNS_MAX_MSG || stream_reserve(st, 2 + len, 0) != 0 ||
	    tc_doq_frame_response(msg, len, st->buf, st->cap, &framed) != 0)
		return request_close(c, TC_DOQ_INTERNAL_ERROR, "cannot frame the answer");
	st->answered = true;
	st->pending = false;
	st->txlen = (uint32_t)framed;
	st->txsent = 0;
	sendq_push(c, st);
	doq_mark_dirty(c);
	return 0;
}

/* A zone transfer's messages, each with its length prefix (DoQ framing). */
struct xfr_out {
	uint8_t *p;
	size_t len, cap;
};

static int xfr_emit(void *arg, const uint8_t *msg, size_t len)
{
	struct xfr_out *o = arg;
	if (len > TC_DNS_MAX_MSG || o->len + 2 + len > DOQ_XFR_MAX)
		return -1;
	if (o->cap - o->len < 2 + len) {
		size_t cap = o->cap * 2 + 2 + len;
		uint8_t *p = realloc(o->p, cap < DOQ_XFR_MAX ? cap : DOQ_XFR_MAX);
		if (!p)
			return -1;
		o->p = p;
		o->cap = cap < DOQ_XFR_MAX ? cap : DOQ_XFR_MAX;
	}
	tc_dns_put16(o->p + o->len, (uint16_t)len);
	memcpy(o->p + o->len + 2, msg, len);
	o->len += 2 + len;
	return 0;
}

/* RFC 9250 §4.2: the transfer's messages go on the query's stream, one
 * after another, then FIN. Built whole on the loop thread (a zone of ours
 * is small), then sent like any answer, under QUIC flow control. The
 * query's bytes (and the TSIG MAC they hold) stay put until it is done. */
static int answer_transfer(struct doq_conn *c, struct doq_stream *st, const uint8_t *q, size_t qlen)
{
	struct xfr_out o = {0};
	if (tc_dns_service_transfer(c->srv->svc, q, qlen, xfr_emit, &o) != 0 || o.len == 0) {
		free(o.p);
		return request_close(c, TC_DOQ_INTERNAL_ERROR, "zone transfer failed");
	}
	if (st->buf != st->inline_buf)
		free(st->buf);
	st->buf = o.p;
	st->cap = (uint32_t)o.cap;
	st->answered = true;
	st->pending = false;
	st->txlen = (uint32_t)o.len;
	st->txsent = 0;
	sendq_push(c, st);
	doq_mark_dirty(c);
	return 0;
}

static int answer_query(struct doq_conn *c, struct doq_stream *st, const uint8_t *q, size_t qlen)
{
	struct tc_doq_server *s = c->srv;
	s->stats.queries++;
	stream_credit(c, st);
	struct doq_fwd_ctx ctx = {.srv = s, .slot = c->slot, .gen = c->gen, .stream_id = st->id};
	size_t outlen = 0;
	struct tc_dns_salvage sv;
	tc_dns_salvage(q, qlen, &sv);
	st->pad = sv.edns_padding;
	switch (tc_dns_service_handle(s->svc, TC_DNS_TRANSPORT_DOQ, q, qlen, s->answer,
				      sizeof(s->answer), &outlen, &ctx, sizeof(ctx),
				      doq_forward_done)) {
	case TC_DNS_SVC_REPLY:
		return stream_set_answer(c, st, s->answer, outlen);
	case TC_DNS_SVC_PENDING:
		st->pending = true;
		return 0;
	case TC_DNS_SVC_DROP:
		/* A response or a headerless message where a query belongs. */
		return request_close(c, TC_DOQ_PROTOCOL_ERROR, "not a DNS query");
	case TC_DNS_SVC_PROTOCOL_ERROR:
		break;
	case TC_DNS_SVC_TRANSFER:
		return answer_transfer(c, st, q, qlen);
	}
	return request_close(c, TC_DOQ_PROTOCOL_ERROR, "message ID not 0 or edns-tcp-keepalive");
}

void doq_conn_deliver(struct doq_conn *c, int64_t stream_id, const uint8_t *msg, size_t len)
{
	struct doq_stream *st = c->state == DOQ_LIVE ? stream_find(c, stream_id) : NULL;
	if (!st || !st->pending)
		return;   /* cancelled or closed meanwhile */
	stream_set_answer(c, st, msg, len);
	doq_mark_dirty(c);
}

/* ---- ngtcp2 callbacks ---- */

static ngtcp2_conn *conn_of_ref(ngtcp2_crypto_conn_ref *ref)
{
	return ((struct doq_conn *)ref->user_data)->q;
}

static int on_stream_open(ngtcp2_conn *q, int64_t id, void *ud)
{
	struct doq_conn *c = ud;
	/* Unidirectional streams get no credit, so QUIC refuses them first;
	 * this stays as the RFC 9250 §4.2 rule should the credit ever change. */
	if (!ngtcp2_is_bidi_stream(id))
		return request_close(c, TC_DOQ_PROTOCOL_ERROR, "unidirectional stream");
	struct doq_stream *st = stream_new(c->srv, id);
	if (!st)
		return request_close(c, TC_DOQ_INTERNAL_ERROR, "out of memory");
	st->next = c->streams;
	c->streams = st;
	ngtcp2_conn_set_stream_user_data(q, id, st);
	return 0;
}

static int on_recv_stream_data(ngtcp2_conn *q, uint32_t flags, int64_t id, uint64_t offset,
			       const uint8_t *data, size_t len, void *ud, void *sud)
{
	(void)offset;   /* ngtcp2 delivers stream data in order */
	struct doq_conn *c = ud;
	struct doq_stream *st = sud;
	bool fin = flags & NGTCP2_STREAM_DATA_FLAG_FIN;
	/* A stream's own window is one maximal message and never grows; the
	 * connection window reopens when the query is done (stream_credit). */
	if (!st) {
		ngtcp2_conn_extend_max_offset(q, len);
		return 0;
	}
	if (st->answered || st->pending) {
		if (len > 0)
			return request_close(c, TC_DOQ_PROTOCOL_ERROR, "data after the query");
		return 0;
	}
	if ((size_t)st->rxlen + len > DOQ_STREAM_MSG_MAX)
		return request_close(c, TC_DOQ_PROTOCOL_ERROR, "query too long");
	if (stream_reserve(st, st->rxlen + len, st->rxlen) != 0)
		return request_close(c, TC_DOQ_INTERNAL_ERROR, "out of memory");
	memcpy(st->buf + st->rxlen, data, len);
	st->rxlen += (uint32_t)len;
	const uint8_t *msg;
	size_t mlen;
	switch (tc_doq_frame_parse(st->buf, st->rxlen, fin, &msg, &mlen)) {
	case TC_DOQ_FRAME_INCOMPLETE:
		/* Once the length is known, make room for the whole message. */
		if (st->rxlen >= 2 && stream_reserve(st, 2 + (size_t)tc_dns_get16(st->buf), st->rxlen) != 0)
			return request_close(c, TC_DOQ_INTERNAL_ERROR, "out of memory");
		return 0;
	case TC_DOQ_FRAME_PROTOCOL_ERROR:
		return request_close(c, TC_DOQ_PROTOCOL_ERROR,
				     fin ? "stream ended without a complete query" : "bad query framing");
	case TC_DOQ_FRAME_OK:
		break;
	}
	return answer_query(c, st, msg, mlen);
}

static int on_stream_close(ngtcp2_conn *q, uint32_t flags, int64_t id, uint64_t app_error_code,
			   void *ud, void *sud)
{
	(void)flags;
	(void)app_error_code;
	struct doq_conn *c = ud;
	if (sud)
		stream_remove(c, sud);
	/* One stream ends, one more may start: dns.max_streams at a time. */
	if (ngtcp2_is_bidi_stream(id) && !ngtcp2_conn_is_local_stream(q, id))
		ngtcp2_conn_extend_max_streams_bidi(q, 1);
	return 0;
}

/* The client reset its side: it no longer wants the answer (§4.3). */
static int on_stream_reset(ngtcp2_conn *q, int64_t id, uint64_t final_size, uint64_t app_error_code,
			   void *ud, void *sud)
{
	(void)final_size;
	(void)app_error_code;
	struct doq_conn *c = ud;
	struct doq_stream *st = sud;
	if (st) {
		sendq_remove(c, st);
		st->pending = false;
		st->answered = true;   /* nothing more is read or written */
	}
	ngtcp2_conn_shutdown_stream_write(q, id, TC_DOQ_REQUEST_CANCELLED);
	return 0;
}

/* STOP_SENDING: ngtcp2 resets our side itself; just stop queueing. */
static int on_stream_stop_sending(ngtcp2_conn *q, int64_t id, uint64_t app_error_code, void *ud,
				  void *sud)
{
	(void)q;
	(void)id;
	(void)app_error_code;
	if (sud)
		sendq_remove(ud, sud);
	return 0;
}

static int on_extend_max_stream_data(ngtcp2_conn *q, int64_t id, uint64_t max_data, void *ud,
				     void *sud)
{
	(void)q;
	(void)id;
	(void)max_data;
	struct doq_stream *st = sud;
	if (st && st->answered && st->txsent < st->txlen) {
		sendq_push(ud, st);
		doq_mark_dirty(ud);
	}
	return 0;
}

static void on_rand(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx)
{
	(void)ctx;
	if (doq_random(dest, len) != 0)
		memset(dest, 0, len);   /* gnutls_rnd does not fail once initialised */
}

static int on_new_cid(ngtcp2_conn *q, ngtcp2_cid *cid, uint8_t *token, size_t cidlen, void *ud)
{
	(void)q;
	struct doq_conn *c = ud;
	struct tc_doq_server *s = c->srv;
	cid->datalen = cidlen;
	if (doq_random(cid->data, cidlen) != 0 ||
	    ngtcp2_crypto_generate_stateless_reset_token(token, s->reset_secret,
							 sizeof(s->reset_secret), cid) != 0 ||
	    tc_cid_map_put(&s->cids, cid->data, cid->datalen, c) != 0)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	return 0;
}

static int on_remove_cid(ngtcp2_conn *q, const ngtcp2_cid *cid, void *ud)
{
	(void)q;
	struct doq_conn *c = ud;
	tc_cid_map_del(&c->srv->cids, cid->data, cid->datalen, c);
	return 0;
}

static uint64_t wallclock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NGTCP2_SECONDS + (uint64_t)ts.tv_nsec;
}

/* A token for the client's next connection, so it skips the Retry. */
static int on_handshake_completed(ngtcp2_conn *q, void *ud)
{
	struct doq_conn *c = ud;
	struct tc_doq_server *s = c->srv;
	uint8_t token[NGTCP2_CRYPTO_MAX_REGULAR_TOKENLEN];
	const ngtcp2_path *path = ngtcp2_conn_get_path(q);
	ngtcp2_ssize n = ngtcp2_crypto_generate_regular_token(
		token, s->token_secret, sizeof(s->token_secret), path->remote.addr,
		path->remote.addrlen, wallclock_ns());
	if (n > 0)
		ngtcp2_conn_submit_new_token(q, token, (size_t)n);
	return 0;
}

static const ngtcp2_callbacks callbacks = {
	.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb,
	.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb,
	.handshake_completed = on_handshake_completed,
	.encrypt = ngtcp2_crypto_encrypt_cb,
	.decrypt = ngtcp2_crypto_decrypt_cb,
	.hp_mask = ngtcp2_crypto_hp_mask_cb,
	.recv_stream_data = on_recv_stream_data,
	.stream_open = on_stream_open,
	.stream_close = on_stream_close,
	.rand = on_rand,
	.get_new_connection_id = on_new_cid,
	.remove_connection_id = on_remove_cid,
	.update_key = ngtcp2_crypto_update_key_cb,
	.stream_reset = on_stream_reset,
	.extend_max_stream_data = on_extend_max_stream_data,
	.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb,
	.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb,
	.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb,
	.stream_stop_sending = on_stream_stop_sending,
	.version_negotiation = ngtcp2_crypto_version_negotiation_cb,
};

/* ---- lifecycle ---- */

/* ngtcp2's own trace, for debugging only (TC_DOQ_TRACE=1 in the environment). */
static void trace_printf(void *ud, const char *fmt, ...)
{
	(void)ud;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int doq_conn_accept(struct doq_conn *c, const ngtcp2_pkt_hd *hd, const ngtcp2_cid *ocid,
		    const struct sockaddr *peer, socklen_t peerlen, struct tc_quic_creds *creds)
{
	struct tc_doq_server *s = c->srv;
	ngtcp2_cid scid = {.datalen = DOQ_SCID_LEN};
	ngtcp2_settings settings;
	ngtcp2_transport_params params;
	char err[256];

	tc_timer_init(&c->timer);
	c->state = DOQ_LIVE;
	c->ref.get_conn = conn_of_ref;
	c->ref.user_data = c;
	memcpy(&c->peer, peer, peerlen);
	c->peerlen = peerlen;
	c->client_dcid = hd->dcid;
	if (doq_random(scid.data, scid.datalen) != 0)
		goto fail;

	ngtcp2_settings_default(&settings);
	settings.initial_ts = doq_now();
	settings.max_tx_udp_payload_size = DOQ_TX_PKT;
	settings.handshake_timeout = HANDSHAKE_TIMEOUT;
	settings.initial_rtt = INITIAL_RTT;
	/* DNS messages are small: path MTU probes (1.4 kB each) would cost more
	 * than they ever save, and they queue ahead of answers under pacing. */
	settings.no_pmtud = 1;
	if (s->trace)
		settings.log_printf = trace_printf;
	/* hd->token is only passed on after the caller validated it. */
	settings.token.base = hd->token.base;
	settings.token.len = hd->token.len;

	ngtcp2_transport_params_default(&params);
	params.initial_max_streams_bidi = s->lim.max_streams;
	params.initial_max_streams_uni = 0;
	params.initial_max_stream_data_bidi_remote = DOQ_STREAM_MSG_MAX;
	params.initial_max_stream_data_bidi_local = 0;
	params.initial_max_stream_data_uni = 0;
	params.initial_max_data = CONN_WINDOW;
	params.max_idle_timeout = (uint64_t)s->lim.idle_ms * NGTCP2_MILLISECONDS;
	params.max_udp_payload_size = DOQ_RX_PKT;
	params.disable_active_migration = 0;
	params.stateless_reset_token_present = 1;
	if (ngtcp2_crypto_generate_stateless_reset_token(params.stateless_reset_token, s->reset_secret,
							 sizeof(s->reset_secret), &scid) != 0)
		goto fail;
	if (ocid) {
		params.original_dcid = *ocid;
		params.retry_scid = hd->dcid;
		params.retry_scid_present = 1;
	} else {
		params.original_dcid = hd->dcid;
	}

	ngtcp2_path path = {
		.local = {(struct sockaddr *)&s->local, s->locallen},
		.remote = {(struct sockaddr *)&c->peer, c->peerlen},
	};
	int rv = ngtcp2_conn_server_new(&c->q, &hd->scid, &scid, &path, hd->version, &callbacks,
					&settings, &params, NULL, c);
	if (rv != 0) {
		c->q = NULL;
		tc_warn("doq: new connection: %s", ngtcp2_strerror(rv));
		goto fail;
	}
	if (tc_quic_tls_server_session(&c->tls, creds, s->ticket_key.data ? &s->ticket_key : NULL, &c->ref, err,
				       sizeof(err)) != 0) {
		tc_warn("doq: %s", err);
		goto fail;
	}
	tc_quic_creds_ref(creds);
	c->creds = creds;
	ngtcp2_conn_set_tls_native_handle(c->q, c->tls);
	if (tc_cid_map_put(&s->cids, scid.data, scid.datalen, c) != 0 ||
	    tc_cid_map_put(&s->cids, hd->dcid.data, hd->dcid.datalen, c) != 0)
		goto fail;
	s->stats.accepted++;
	return 0;
fail:
	doq_conn_free(c);
	return -1;
}

int doq_conn_read(struct doq_conn *c, const uint8_t *pkt, size_t len, const struct sockaddr *peer,
		  socklen_t peerlen)
{
	struct tc_doq_server *s = c->srv;
	if (c->state == DOQ_CLOSING) {
		/* Repeat the close, a few times only: the client may have lost it. */
		if (c->close_pkt && c->close_resends++ < CLOSE_RESENDS_MAX) {
			memcpy(doq_tx_buf(s), c->close_pkt, c->close_len);
			doq_tx_commit(s, c->close_len, peer, peerlen);
		}
		return 0;
	}
	if (c->state != DOQ_LIVE)
		return 0;
	ngtcp2_path path = {
		.local = {(struct sockaddr *)&s->local, s->locallen},
		.remote = {(struct sockaddr *)peer, peerlen},
	};
	ngtcp2_pkt_info pi = {0};
	int rv = ngtcp2_conn_read_pkt(c->q, &path, &pi, pkt, len, doq_now());
	if (rv == 0) {
		c->last_rx = doq_now();
		doq_mark_dirty(c);
		return 0;
	}
	switch (rv) {
	case NGTCP2_ERR_DRAINING:
		enter_draining(c);
		return rv;
	case NGTCP2_ERR_RETRY:
		return rv;
	case NGTCP2_ERR_DROP_CONN:
		doq_conn_free(c);
		return rv;
	case NGTCP2_ERR_CRYPTO:
		if (!c->close_requested)
			ngtcp2_connection_close_error_set_transport_error_tls_alert(
				&c->ccerr, ngtcp2_conn_get_tls_alert(c->q), NULL, 0);
		break;
	default:
		if (!c->close_requested)
			ngtcp2_connection_close_error_set_transport_error_liberr(&c->ccerr, rv, NULL, 0);
		break;
	}
	close_now(c);
	return rv;
}

void doq_conn_write(struct doq_conn *c)
{
	if (c->state != DOQ_LIVE)
		return;
	if (c->close_requested) {
		close_now(c);
		return;
	}
	struct tc_doq_server *s = c->srv;
	ngtcp2_path_storage ps;
	ngtcp2_path_storage_zero(&ps);
	ngtcp2_pkt_info pi;
	uint64_t ts = doq_now();
	for (unsigned npkt = 0; npkt < DOQ_TX_BATCH;) {
		struct doq_stream *st = c->sendq;
		ngtcp2_vec v = {0};
		uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE;
		int64_t sid = -1;
		if (st) {
			sid = st->id;
			v.base = st->buf + st->txsent;
			v.len = st->txlen - st->txsent;
			flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
		}
		ngtcp2_ssize ndata = -1;
		uint8_t *buf = doq_tx_buf(s);
		ngtcp2_ssize n = ngtcp2_conn_writev_stream(c->q, &ps.path, &pi, buf, DOQ_TX_PKT, &ndata,
							   flags, sid, &v, st ? 1 : 0, ts);
		if (st && ndata >= 0) {
			/* The answer stays in st->buf until ngtcp2 closes the stream,
			 * which is after the client acknowledged it. */
			st->txsent += (uint32_t)ndata;
			if (st->txsent == st->txlen)
				sendq_remove(c, st);
		}
		if (n < 0) {
			switch (n) {
			case NGTCP2_ERR_WRITE_MORE:
				continue;
			case NGTCP2_ERR_STREAM_DATA_BLOCKED:   /* requeued by extend_max_stream_data */
			case NGTCP2_ERR_STREAM_SHUT_WR:
			case NGTCP2_ERR_STREAM_NOT_FOUND:
				sendq_remove(c, st);
				continue;
			default:
				ngtcp2_connection_close_error_set_transport_error_liberr(&c->ccerr, (int)n,
											 NULL, 0);
				close_now(c);
				return;
			}
		}
		if (n == 0)
			break;
		doq_tx_commit(s, (size_t)n, ps.path.remote.addr, ps.path.remote.addrlen);
		npkt++;
	}
	ngtcp2_conn_update_pkt_tx_time(c->q, ts);
	set_timer(c, ngtcp2_conn_get_expiry(c->q));
}

void doq_conn_on_timer(struct doq_conn *c)
{
	if (c->state != DOQ_LIVE) {
		doq_conn_free(c);   /* end of the closing or draining period */
		return;
	}
	int rv = ngtcp2_conn_handle_expiry(c->q, doq_now());
	if (rv == NGTCP2_ERR_IDLE_CLOSE) {
		/* QUIC idle timeout: the connection just ends, silently. */
		doq_conn_free(c);
		return;
	}
	if (rv != 0) {
		ngtcp2_connection_close_error_set_transport_error_liberr(&c->ccerr, rv, NULL, 0);
		close_now(c);
		return;
	}
	doq_conn_write(c);
}

bool doq_conn_idle(const struct doq_conn *c)
{
	return c->state == DOQ_LIVE && !c->close_requested && !c->streams;
}

void doq_conn_evict(struct doq_conn *c)
{
	static const char reason[] = "excessive load: closing idle connections";
	ngtcp2_connection_close_error_set_application_error(&c->ccerr, TC_DOQ_EXCESSIVE_LOAD,
							    (const uint8_t *)reason, sizeof(reason) - 1);
	c->close_requested = true;
	close_now(c);
	doq_conn_free(c);
}

void doq_conn_free(struct doq_conn *c)
{
	struct tc_doq_server *s = c->srv;
	if (c->state == DOQ_FREE)
		return;
	if (c->q) {
		size_t n = ngtcp2_conn_get_num_scid(c->q);
		ngtcp2_cid scids[16];
		if (n <= 16) {
			ngtcp2_conn_get_scid(c->q, scids);
			for (size_t i = 0; i < n; i++)
				tc_cid_map_del(&s->cids, scids[i].data, scids[i].datalen, c);
		}
	}
	tc_cid_map_del(&s->cids, c->client_dcid.data, c->client_dcid.datalen, c);
	while (c->streams) {
		struct doq_stream *st = c->streams;
		c->streams = st->next;
		stream_release(s, st);
	}
	if (c->q)
		ngtcp2_conn_del(c->q);
	if (c->tls)
		gnutls_deinit(c->tls);
	tc_quic_creds_unref(c->creds);
	free(c->close_pkt);
	tc_timer_cancel(&s->timers, &c->timer);
	/* The dirty list may still hold this slot: keep its link intact. */
	bool dirty = c->dirty;
	struct doq_conn *dirty_next = c->dirty_next;
	uint32_t slot = c->slot, gen = c->gen + 1;
	memset(c, 0, sizeof(*c));
	c->srv = s;
	c->slot = slot;
	c->gen = gen;
	c->dirty = dirty;
	c->dirty_next = dirty_next;
	c->state = DOQ_FREE;
	tc_timer_init(&c->timer);
	doq_conn_release_slot(c);
}
