/* DoQ client: see doq_client.h. */
#define _GNU_SOURCE
#include "ctl/doq_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "resolver/dns_wire.h"
#include "resolver/doq.h"

#define TX_PKT 1452
#define HANDSHAKE_TIMEOUT (10 * NGTCP2_SECONDS)
/* ngtcp2 0.12 paces from the first packet on at cwnd / initial RTT; with
 * RFC 9002's 333 ms our Finished would wait ~25 ms behind the Initial.
 * Resolvers are near; a short guess costs at most an early retransmission. */
#define INITIAL_RTT (50 * NGTCP2_MILLISECONDS)
#define CONN_WINDOW (16 * 1024 * 1024)
#define STREAM_WINDOW (2 + TC_DNS_MAX_MSG)

static const char priority[] =
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:"
	"+CHACHA20-POLY1305:+AES-128-CCM:%DISABLE_TLS13_COMPAT_MODE";

struct cstream {
	int64_t id;
	struct cstream *next;
	uint8_t *tx;
	size_t txlen, txsent;
	bool fin, ended;
	uint8_t *rx;
	size_t rxlen, rxcap;
	tc_doq_stream_fn done;
	void *arg;
};

struct tc_doq_client {
	int fd;
	struct sockaddr_storage local, remote;
	socklen_t locallen, remotelen;
	gnutls_certificate_credentials_t cred;
	gnutls_session_t tls;
	ngtcp2_conn *q;
	ngtcp2_crypto_conn_ref ref;
	struct cstream *streams;
	size_t nopen;
	bool handshake_done, reset_seen;
	struct tc_doq_close close;
	uint8_t rxbuf[65536];
	uint8_t txbuf[TX_PKT];
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NGTCP2_SECONDS + (uint64_t)ts.tv_nsec;
}

/* ---- streams ---- */

static struct cstream *stream_of(struct tc_doq_client *c, int64_t id)
{
	for (struct cstream *s = c->streams; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

/* Reports the end of a stream once (its buffers live until ngtcp2 closes it). */
static void stream_end(struct tc_doq_client *c, struct cstream *s, int status)
{
	if (s->ended)
		return;
	s->ended = true;
	c->nopen--;
	if (s->done)
		s->done(s->arg, s->id, status, s->rx, s->rxlen);
}

static void stream_unlink_free(struct tc_doq_client *c, struct cstream *s)
{
	for (struct cstream **pp = &c->streams; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	free(s->tx);
	free(s->rx);
	free(s);
}

/* ---- closing ---- */

static void mark_closed(struct tc_doq_client *c, enum tc_doq_close_kind kind, uint64_t code,
			const char *reason, size_t reasonlen)
{
	if (c->close.kind != TC_DOQ_OPEN)
		return;
	c->close.kind = kind;
	c->close.code = code;
	if (reasonlen >= sizeof(c->close.reason))
		reasonlen = sizeof(c->close.reason) - 1;
	memcpy(c->close.reason, reason ? reason : "", reason ? reasonlen : 0);
	c->close.reason[reason ? reasonlen : 0] = '\0';
	for (struct cstream *s = c->streams; s; s = s->next)
		stream_end(c, s, -1);
}

static void peer_closed(struct tc_doq_client *c)
{
	if (c->reset_seen) {
		mark_closed(c, TC_DOQ_CLOSED_RESET, 0, "stateless reset", 15);
		return;
	}
	ngtcp2_connection_close_error ccerr;
	ngtcp2_conn_get_connection_close_error(c->q, &ccerr);
	enum tc_doq_close_kind kind = ccerr.type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION
					      ? TC_DOQ_CLOSED_BY_PEER_APP
					      : TC_DOQ_CLOSED_BY_PEER_TRANSPORT;
	mark_closed(c, kind, ccerr.error_code, (const char *)ccerr.reason, ccerr.reasonlen);
}

static void send_datagram(struct tc_doq_client *c, const uint8_t *pkt, size_t len)
{
	for (;;) {
		ssize_t n = send(c->fd, pkt, len, 0);
		if (n >= 0 || errno != EINTR)
			return;   /* a lost datagram is QUIC's business */
	}
}

/* We end the connection: tell the server why, then stop. */
static void close_locally(struct tc_doq_client *c, const ngtcp2_connection_close_error *ccerr,
			  const char *reason)
{
	if (c->close.kind != TC_DOQ_OPEN)
		return;
	ngtcp2_path_storage ps;
	ngtcp2_path_storage_zero(&ps);
	ngtcp2_pkt_info pi;
	ngtcp2_ssize n = ngtcp2_conn_write_connection_close(c->q, &ps.path, &pi, c->txbuf,
							    sizeof(c->txbuf), ccerr, now_ns());
	if (n > 0)
		send_datagram(c, c->txbuf, (size_t)n);
	mark_closed(c, TC_DOQ_CLOSED_LOCAL, ccerr->error_code, reason, strlen(reason));
}

static void fail_liberr(struct tc_doq_client *c, int rv)
{
	ngtcp2_connection_close_error ccerr;
	char reason[128];
	if (rv == NGTCP2_ERR_CRYPTO) {
		uint8_t alert = ngtcp2_conn_get_tls_alert(c->q);
		ngtcp2_connection_close_error_set_transport_error_tls_alert(&ccerr, alert, NULL, 0);
		const char *name = gnutls_alert_get_name((gnutls_alert_description_t)alert);
		snprintf(reason, sizeof(reason), "TLS handshake failed (%s)",
			 name ? name : "no alert");
	} else {
		ngtcp2_connection_close_error_set_transport_error_liberr(&ccerr, rv, NULL, 0);
		snprintf(reason, sizeof(reason), "%s", ngtcp2_strerror(rv));
	}
	close_locally(c, &ccerr, reason);
}

/* ---- ngtcp2 callbacks ---- */

static ngtcp2_conn *conn_of_ref(ngtcp2_crypto_conn_ref *ref)
{
	return ((struct tc_doq_client *)ref->user_data)->q;
}

static int on_handshake_completed(ngtcp2_conn *q, void *ud)
{
	(void)q;
	((struct tc_doq_client *)ud)->handshake_done = true;
	return 0;
}

static int on_recv_stream_data(ngtcp2_conn *q, uint32_t flags, int64_t id, uint64_t offset,
			       const uint8_t *data, size_t len, void *ud, void *sud)
{
	(void)offset;
	(void)sud;
	struct tc_doq_client *c = ud;
	ngtcp2_conn_extend_max_offset(q, len);
	struct cstream *s = stream_of(c, id);
	if (!s || s->ended)
		return 0;
	if (s->rxlen + len > STREAM_WINDOW)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	if (s->rxlen + len > s->rxcap) {
		size_t cap = s->rxcap ? s->rxcap * 2 : 512;
		while (cap < s->rxlen + len)
			cap *= 2;
		uint8_t *nb = realloc(s->rx, cap);
		if (!nb)
			return NGTCP2_ERR_CALLBACK_FAILURE;
		s->rx = nb;
		s->rxcap = cap;
	}
	memcpy(s->rx + s->rxlen, data, len);
	s->rxlen += len;
	if (flags & NGTCP2_STREAM_DATA_FLAG_FIN)
		stream_end(c, s, 0);
	return 0;
}

static int on_stream_reset(ngtcp2_conn *q, int64_t id, uint64_t final_size, uint64_t code,
			   void *ud, void *sud)
{
	(void)q;
	(void)final_size;
	(void)code;
	(void)sud;
	struct tc_doq_client *c = ud;
	struct cstream *s = stream_of(c, id);
	if (s)
		stream_end(c, s, -1);
	return 0;
}

static int on_stream_close(ngtcp2_conn *q, uint32_t flags, int64_t id, uint64_t code, void *ud,
			   void *sud)
{
	(void)q;
	(void)flags;
	(void)code;
	(void)sud;
	struct tc_doq_client *c = ud;
	struct cstream *s = stream_of(c, id);
	if (s) {
		stream_end(c, s, -1);
		stream_unlink_free(c, s);
	}
	return 0;
}

static int on_stateless_reset(ngtcp2_conn *q, const ngtcp2_pkt_stateless_reset *sr, void *ud)
{
	(void)q;
	(void)sr;
	((struct tc_doq_client *)ud)->reset_seen = true;
	return 0;
}

static void on_rand(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx)
{
	(void)ctx;
	if (gnutls_rnd(GNUTLS_RND_RANDOM, dest, len) != 0)
		memset(dest, 0, len);
}

static int on_new_cid(ngtcp2_conn *q, ngtcp2_cid *cid, uint8_t *token, size_t cidlen, void *ud)
{
	(void)q;
	(void)ud;
	cid->datalen = cidlen;
	if (gnutls_rnd(GNUTLS_RND_RANDOM, cid->data, cidlen) != 0 ||
	    gnutls_rnd(GNUTLS_RND_RANDOM, token, NGTCP2_STATELESS_RESET_TOKENLEN) != 0)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	return 0;
}

static const ngtcp2_callbacks callbacks = {
	.client_initial = ngtcp2_crypto_client_initial_cb,
	.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb,
	.handshake_completed = on_handshake_completed,
	.encrypt = ngtcp2_crypto_encrypt_cb,
	.decrypt = ngtcp2_crypto_decrypt_cb,
	.hp_mask = ngtcp2_crypto_hp_mask_cb,
	.recv_stream_data = on_recv_stream_data,
	.stream_close = on_stream_close,
	.recv_stateless_reset = on_stateless_reset,
	.recv_retry = ngtcp2_crypto_recv_retry_cb,
	.rand = on_rand,
	.get_new_connection_id = on_new_cid,
	.update_key = ngtcp2_crypto_update_key_cb,
	.stream_reset = on_stream_reset,
	.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb,
	.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb,
	.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb,
	.version_negotiation = ngtcp2_crypto_version_negotiation_cb,
};

/* ---- setup ---- */

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

static int is_numeric_host(const char *name)
{
	uint8_t buf[16];
	return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

static int tls_setup(struct tc_doq_client *c, const struct tc_doq_client_opts *o, char *err,
		     size_t errlen)
{
	const char *alpn_str = o->alpn ? o->alpn : "doq";
	int rv = gnutls_certificate_allocate_credentials(&c->cred);
	if (rv == 0 && !o->insecure) {
		if (!o->cafile || !o->server_name) {
			snprintf(err, errlen, "a CA file and a server name are needed to verify the server");
			return -1;
		}
		rv = gnutls_certificate_set_x509_trust_file(c->cred, o->cafile, GNUTLS_X509_FMT_PEM);
		if (rv <= 0) {
			snprintf(err, errlen, "%s: %s", o->cafile,
				 rv == 0 ? "no certificate in the file" : gnutls_strerror(rv));
			return -1;
		}
		rv = 0;
	}
	if (rv == 0)
		rv = gnutls_init(&c->tls, GNUTLS_CLIENT);
	if (rv == 0)
		rv = gnutls_priority_set_direct(c->tls, priority, NULL);
	if (rv == 0)
		rv = gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, c->cred);
	if (rv == 0) {
		gnutls_datum_t alpn = {(unsigned char *)alpn_str, (unsigned)strlen(alpn_str)};
		rv = gnutls_alpn_set_protocols(c->tls, &alpn, 1, GNUTLS_ALPN_MANDATORY);
	}
	if (rv == 0 && o->server_name && !is_numeric_host(o->server_name))
		rv = gnutls_server_name_set(c->tls, GNUTLS_NAME_DNS, o->server_name,
					    strlen(o->server_name));
	/* No early data is ever written: resumption only (RFC 9250 §4.5). */
	if (rv == 0 && o->session && o->session_len)
		rv = gnutls_session_set_data(c->tls, o->session, o->session_len);
	if (rv != 0) {
		snprintf(err, errlen, "TLS setup: %s", gnutls_strerror(rv));
		return -1;
	}
	if (ngtcp2_crypto_gnutls_configure_client_session(c->tls) != 0) {
		snprintf(err, errlen, "TLS setup: ngtcp2 glue failed");
		return -1;
	}
	if (!o->insecure)
		gnutls_session_set_verify_cert(c->tls, o->server_name, 0);
	c->ref.get_conn = conn_of_ref;
	c->ref.user_data = c;
	gnutls_session_set_ptr(c->tls, &c->ref);
	return 0;
}

static int quic_setup(struct tc_doq_client *c, const struct tc_doq_client_opts *o, char *err,
		      size_t errlen)
{
	ngtcp2_cid dcid = {.datalen = 18}, scid = {.datalen = 16};
	if (gnutls_rnd(GNUTLS_RND_RANDOM, dcid.data, dcid.datalen) != 0 ||
	    gnutls_rnd(GNUTLS_RND_RANDOM, scid.data, scid.datalen) != 0) {
		snprintf(err, errlen, "no randomness");
		return -1;
	}
	ngtcp2_settings settings;
	ngtcp2_settings_default(&settings);
	settings.initial_ts = now_ns();
	settings.max_tx_udp_payload_size = TX_PKT;
	settings.handshake_timeout = HANDSHAKE_TIMEOUT;
	settings.initial_rtt = INITIAL_RTT;
	/* DNS messages are small: path MTU probes (1.4 kB each) would cost more
	 * than they ever save, and they queue ahead of answers under pacing. */
	settings.no_pmtud = 1;
	if (getenv("TC_DOQ_TRACE"))
		settings.log_printf = trace_printf;
	ngtcp2_transport_params params;
	ngtcp2_transport_params_default(&params);
	params.initial_max_streams_bidi = 0;   /* the server never opens streams */
	params.initial_max_streams_uni = 0;
	params.initial_max_stream_data_bidi_local = STREAM_WINDOW;
	params.initial_max_data = CONN_WINDOW;
	params.max_idle_timeout = (uint64_t)o->idle_timeout_ms * NGTCP2_MILLISECONDS;
	ngtcp2_path path = {
		.local = {(struct sockaddr *)&c->local, c->locallen},
		.remote = {(struct sockaddr *)&c->remote, c->remotelen},
	};
	int rv = ngtcp2_conn_client_new(&c->q, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1, &callbacks,
					&settings, &params, NULL, c);
	if (rv != 0) {
		c->q = NULL;
		snprintf(err, errlen, "QUIC setup: %s", ngtcp2_strerror(rv));
		return -1;
	}
	ngtcp2_conn_set_tls_native_handle(c->q, c->tls);
	return 0;
}

struct tc_doq_client *tc_doq_client_new(const struct sockaddr *server, socklen_t len,
					const struct tc_doq_client_opts *opts, char *err,
					size_t errlen)
{
	struct tc_doq_client *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->fd = -1;
	if (len > sizeof(c->remote)) {
		snprintf(err, errlen, "bad server address");
		goto fail;
	}
	memcpy(&c->remote, server, len);
	c->remotelen = len;
	c->locallen = sizeof(c->local);
	c->fd = socket(server->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, server, len) != 0 ||
	    getsockname(c->fd, (struct sockaddr *)&c->local, &c->locallen) != 0) {
		snprintf(err, errlen, "UDP socket: %s", strerror(errno));
		goto fail;
	}
	if (tls_setup(c, opts, err, errlen) != 0 || quic_setup(c, opts, err, errlen) != 0)
		goto fail;
	tc_doq_client_io(c);
	return c;
fail:
	tc_doq_client_free(c);
	return NULL;
}

int tc_doq_client_fd(const struct tc_doq_client *c)
{
	return c->fd;
}

bool tc_doq_client_handshake_done(const struct tc_doq_client *c)
{
	return c->handshake_done && c->close.kind == TC_DOQ_OPEN;
}

const struct tc_doq_close *tc_doq_client_close_info(const struct tc_doq_client *c)
{
	return &c->close;
}

const uint8_t *tc_doq_client_peer_cert(const struct tc_doq_client *c, size_t *len)
{
	unsigned n = 0;
	const gnutls_datum_t *certs = c->tls ? gnutls_certificate_get_peers(c->tls, &n) : NULL;
	if (!certs || n == 0)
		return NULL;
	*len = certs[0].size;
	return certs[0].data;
}

size_t tc_doq_client_streams_open(const struct tc_doq_client *c)
{
	return c->nopen;
}

/* ---- I/O ---- */

static void read_all(struct tc_doq_client *c)
{
	ngtcp2_path path = {
		.local = {(struct sockaddr *)&c->local, c->locallen},
		.remote = {(struct sockaddr *)&c->remote, c->remotelen},
	};
	while (c->close.kind == TC_DOQ_OPEN) {
		ssize_t n = recv(c->fd, c->rxbuf, sizeof(c->rxbuf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECONNREFUSED)
				mark_closed(c, TC_DOQ_CLOSED_LOCAL, 0, "nothing listens there (ICMP port unreachable)", 46);
			return;
		}
		ngtcp2_pkt_info pi = {0};
		int rv = ngtcp2_conn_read_pkt(c->q, &path, &pi, c->rxbuf, (size_t)n, now_ns());
		if (rv == NGTCP2_ERR_DRAINING) {
			peer_closed(c);
			return;
		}
		if (rv != 0) {
			fail_liberr(c, rv);
			return;
		}
	}
}

static void write_all(struct tc_doq_client *c)
{
	ngtcp2_path_storage ps;
	ngtcp2_path_storage_zero(&ps);
	ngtcp2_pkt_info pi;
	uint64_t ts = now_ns();
	struct cstream *s = c->streams;
	for (unsigned npkt = 0; npkt < 64 && c->close.kind == TC_DOQ_OPEN;) {
		while (s && s->txsent == s->txlen && !(s->fin && s->txsent == 0 && s->txlen == 0))
			s = s->next;
		ngtcp2_vec v = {0};
		uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE;
		int64_t sid = -1;
		if (s) {
			sid = s->id;
			v.base = s->tx + s->txsent;
			v.len = s->txlen - s->txsent;
			if (s->fin)
				flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
		}
		ngtcp2_ssize ndata = -1;
		ngtcp2_ssize n = ngtcp2_conn_writev_stream(c->q, &ps.path, &pi, c->txbuf, sizeof(c->txbuf),
							   &ndata, flags, sid, &v, s ? 1 : 0, ts);
		if (s && ndata >= 0) {
			s->txsent += (size_t)ndata;
			if (s->txlen == 0)
				s->fin = false;   /* the empty FIN went out */
			if (s->txsent == s->txlen)
				s = s->next;
		}
		if (n < 0) {
			if (n == NGTCP2_ERR_WRITE_MORE)
				continue;
			if (n == NGTCP2_ERR_STREAM_DATA_BLOCKED || n == NGTCP2_ERR_STREAM_SHUT_WR ||
			    n == NGTCP2_ERR_STREAM_NOT_FOUND) {
				s = s ? s->next : NULL;
				continue;
			}
			fail_liberr(c, (int)n);
			return;
		}
		if (n == 0)
			break;
		send_datagram(c, c->txbuf, (size_t)n);
		npkt++;
	}
	ngtcp2_conn_update_pkt_tx_time(c->q, ts);
}

static void run_timers(struct tc_doq_client *c)
{
	if (c->close.kind != TC_DOQ_OPEN || ngtcp2_conn_get_expiry(c->q) > now_ns())
		return;
	int rv = ngtcp2_conn_handle_expiry(c->q, now_ns());
	if (rv == NGTCP2_ERR_IDLE_CLOSE)
		mark_closed(c, TC_DOQ_CLOSED_IDLE, 0, "idle timeout", 12);
	else if (rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT)
		mark_closed(c, TC_DOQ_CLOSED_LOCAL, 0, "handshake timeout", 17);
	else if (rv != 0)
		fail_liberr(c, rv);
}

int tc_doq_client_io(struct tc_doq_client *c)
{
	if (c->close.kind == TC_DOQ_OPEN)
		read_all(c);
	run_timers(c);
	if (c->close.kind == TC_DOQ_OPEN)
		write_all(c);
	return c->close.kind == TC_DOQ_OPEN ? 0 : -1;
}

int tc_doq_client_timeout_ms(const struct tc_doq_client *c)
{
	if (c->close.kind != TC_DOQ_OPEN)
		return -1;
	uint64_t at = ngtcp2_conn_get_expiry(c->q), now = now_ns();
	if (at == UINT64_MAX)
		return -1;
	if (at <= now)
		return 0;
	uint64_t ms = (at - now + NGTCP2_MILLISECONDS - 1) / NGTCP2_MILLISECONDS;
	return ms > 60000 ? 60000 : (int)ms;
}

int tc_doq_client_step(struct tc_doq_client *c, int timeout_ms)
{
	if (c->close.kind != TC_DOQ_OPEN)
		return -1;
	int t = tc_doq_client_timeout_ms(c);
	if (t < 0 || (timeout_ms >= 0 && timeout_ms < t))
		t = timeout_ms;
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	if (poll(&p, 1, t) < 0 && errno != EINTR)
		return -1;
	return tc_doq_client_io(c);
}

static int64_t ms_left(uint64_t deadline)
{
	uint64_t now = now_ns();
	return now >= deadline ? 0 : (int64_t)((deadline - now) / NGTCP2_MILLISECONDS) + 1;
}

int tc_doq_client_handshake(struct tc_doq_client *c, int timeout_ms, char *err, size_t errlen)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * NGTCP2_MILLISECONDS;
	while (!tc_doq_client_handshake_done(c) && c->close.kind == TC_DOQ_OPEN) {
		int64_t left = ms_left(deadline);
		if (left == 0)
			break;
		tc_doq_client_step(c, (int)left);
	}
	if (tc_doq_client_handshake_done(c))
		return 0;
	if (c->close.kind == TC_DOQ_OPEN)
		snprintf(err, errlen, "no handshake within %d ms", timeout_ms);
	else
		tc_doq_client_describe_close(c, err, errlen);
	return -1;
}

int tc_doq_client_send(struct tc_doq_client *c, const uint8_t *data, size_t len, bool fin,
		       tc_doq_stream_fn done, void *arg, int64_t *stream_id)
{
	if (c->close.kind != TC_DOQ_OPEN)
		return -1;
	struct cstream *s = calloc(1, sizeof(*s));
	if (!s || (len && !(s->tx = malloc(len)))) {
		free(s);
		return -1;
	}
	if (ngtcp2_conn_open_bidi_stream(c->q, &s->id, NULL) != 0) {
		free(s->tx);
		free(s);
		return -1;
	}
	if (len)
		memcpy(s->tx, data, len);
	s->txlen = len;
	s->fin = fin;
	s->done = done;
	s->arg = arg;
	/* Append, so streams go out in the order they were opened. */
	struct cstream **pp = &c->streams;
	while (*pp)
		pp = &(*pp)->next;
	*pp = s;
	c->nopen++;
	if (stream_id)
		*stream_id = s->id;
	write_all(c);
	return 0;
}

struct query_wait {
	bool done;
	int status;
	uint8_t *resp;
	size_t cap, len;
	char *err;
	size_t errlen;
};

static void query_done(void *arg, int64_t id, int status, const uint8_t *data, size_t len)
{
	(void)id;
	struct query_wait *w = arg;
	w->done = true;
	w->status = -1;
	if (status != 0) {
		snprintf(w->err, w->errlen, "the stream was reset or the connection closed");
		return;
	}
	const uint8_t *msg;
	size_t mlen;
	if (tc_doq_frame_parse(data, len, true, &msg, &mlen) != TC_DOQ_FRAME_OK) {
		snprintf(w->err, w->errlen, "malformed DoQ response (%zu octets)", len);
		return;
	}
	if (mlen > w->cap) {
		snprintf(w->err, w->errlen, "response of %zu octets does not fit", mlen);
		return;
	}
	memcpy(w->resp, msg, mlen);
	w->len = mlen;
	w->status = 0;
}

int tc_doq_client_query(struct tc_doq_client *c, const uint8_t *query, size_t qlen,
			uint8_t *resp, size_t cap, size_t *resplen, int timeout_ms, char *err,
			size_t errlen)
{
	uint8_t framed[2 + TC_DNS_MAX_MSG];
	size_t flen;
	if (tc_doq_frame_response(query, qlen, framed, sizeof(framed), &flen) != 0) {
		snprintf(err, errlen, "query of %zu octets cannot be framed", qlen);
		return -1;
	}
	struct query_wait w = {.resp = resp, .cap = cap, .err = err, .errlen = errlen};
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * NGTCP2_MILLISECONDS;
	int64_t sid;
	/* No stream credit yet: the server grants more as earlier streams end. */
	while (c->close.kind == TC_DOQ_OPEN && ngtcp2_conn_get_streams_bidi_left(c->q) == 0 &&
	       ms_left(deadline) > 0)
		tc_doq_client_step(c, (int)ms_left(deadline));
	if (tc_doq_client_send(c, framed, flen, true, query_done, &w, &sid) != 0) {
		if (c->close.kind != TC_DOQ_OPEN)
			tc_doq_client_describe_close(c, err, errlen);
		else
			snprintf(err, errlen, "no stream credit left");
		return -1;
	}
	while (!w.done) {
		int64_t left = ms_left(deadline);
		if (left == 0) {
			snprintf(err, errlen, "no answer within %d ms", timeout_ms);
			struct cstream *s = stream_of(c, sid);
			if (s)
				s->done = NULL;   /* w is about to go out of scope */
			return -1;
		}
		tc_doq_client_step(c, (int)left);
	}
	if (w.status != 0 && c->close.kind != TC_DOQ_OPEN)
		tc_doq_client_describe_close(c, err, errlen);
	*resplen = w.len;
	return w.status;
}

static const char *doq_error_name(uint64_t code)
{
	switch (code) {
	case TC_DOQ_NO_ERROR: return "DOQ_NO_ERROR";
	case TC_DOQ_INTERNAL_ERROR: return "DOQ_INTERNAL_ERROR";
	case TC_DOQ_PROTOCOL_ERROR: return "DOQ_PROTOCOL_ERROR";
	case TC_DOQ_REQUEST_CANCELLED: return "DOQ_REQUEST_CANCELLED";
	case TC_DOQ_EXCESSIVE_LOAD: return "DOQ_EXCESSIVE_LOAD";
	case TC_DOQ_UNSPECIFIED_ERROR: return "DOQ_UNSPECIFIED_ERROR";
	}
	return "unknown DoQ error";
}

void tc_doq_client_describe_close(const struct tc_doq_client *c, char *out, size_t outlen)
{
	const struct tc_doq_close *cl = &c->close;
	const char *r = cl->reason[0] ? cl->reason : "";
	switch (cl->kind) {
	case TC_DOQ_OPEN:
		snprintf(out, outlen, "connection open");
		break;
	case TC_DOQ_CLOSED_BY_PEER_APP:
		snprintf(out, outlen, "server closed the connection: %s (0x%llx)%s%s%s", doq_error_name(cl->code),
			 (unsigned long long)cl->code, *r ? " \"" : "", r, *r ? "\"" : "");
		break;
	case TC_DOQ_CLOSED_BY_PEER_TRANSPORT:
		snprintf(out, outlen, "server closed the connection: QUIC error 0x%llx%s%s%s",
			 (unsigned long long)cl->code, *r ? " \"" : "", r, *r ? "\"" : "");
		break;
	case TC_DOQ_CLOSED_RESET:
		snprintf(out, outlen, "server reset the connection (it no longer knows it)");
		break;
	case TC_DOQ_CLOSED_IDLE:
		snprintf(out, outlen, "connection idle timeout");
		break;
	case TC_DOQ_CLOSED_LOCAL:
		snprintf(out, outlen, "%s", *r ? r : "connection closed");
		break;
	}
}

void tc_doq_client_free(struct tc_doq_client *c)
{
	if (!c)
		return;
	if (c->q && c->close.kind == TC_DOQ_OPEN && c->handshake_done) {
		ngtcp2_connection_close_error ccerr;
		ngtcp2_connection_close_error_set_application_error(&ccerr, TC_DOQ_NO_ERROR, NULL, 0);
		close_locally(c, &ccerr, "closed");
	}
	while (c->streams) {
		struct cstream *s = c->streams;
		c->streams = s->next;
		free(s->tx);
		free(s->rx);
		free(s);
	}
	if (c->q)
		ngtcp2_conn_del(c->q);
	if (c->tls)
		gnutls_deinit(c->tls);
	if (c->cred)
		gnutls_certificate_free_credentials(c->cred);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

int tc_doq_client_session(const struct tc_doq_client *c, uint8_t **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	gnutls_datum_t d = {NULL, 0};
	if (!c->tls || !(gnutls_session_get_flags(c->tls) & GNUTLS_SFLAGS_SESSION_TICKET) ||
	    gnutls_session_get_data2(c->tls, &d) != 0)
		return -1;
	*out = malloc(d.size);
	if (*out) {
		memcpy(*out, d.data, d.size);
		*len = d.size;
	}
	gnutls_free(d.data);
	return *out ? 0 : -1;
}

bool tc_doq_client_resumed(const struct tc_doq_client *c)
{
	return c->tls && gnutls_session_is_resumed(c->tls);
}
