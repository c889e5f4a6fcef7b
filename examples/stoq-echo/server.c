/* stoq-echo-server: a QUIC echo server with mutual TLS. Every client must
 * present a certificate TrustChain trusts for --peer-name as a TLS client;
 * each bidirectional stream is echoed back when the client finishes it.
 * SIGHUP re-reads --cert/--key (the agent's reload command): connections
 * already open keep their certificate, new ones get the new one.
 *
 *   stoq-echo-server --listen 127.0.0.1:4433 --cert node.pem --key node.key \
 *       --peer-name client.example --mode local --root root.pem ... */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peer.h"

#define MAX_CONNS 64
#define MAX_CIDS 8
#define TX_PKT 1452
#define MAX_ECHO (64 * 1024)

struct stream {
	int64_t id;
	uint8_t *buf;       /* kept until the stream closes: ngtcp2 retransmits from it */
	size_t len, sent;
	int fin_seen;       /* the whole message is in */
	int fin_sent;       /* the whole echo (and FIN) went out */
	struct stream *next;
};

struct conn {
	int used;
	ngtcp2_conn *q;
	gnutls_session_t tls;
	struct peer_creds *creds;
	ngtcp2_crypto_conn_ref ref;
	struct sockaddr_storage remote;
	socklen_t remotelen;
	ngtcp2_cid cids[MAX_CIDS];
	size_t ncids;
	struct stream *streams;
	int handshake_done;
};

static struct peer peer;
static int fd = -1;
static struct sockaddr_storage local;
static socklen_t locallen = sizeof(local);
static struct conn conns[MAX_CONNS];
static volatile sig_atomic_t reload, stop;
static unsigned long accepted, refused;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		stop = 1;
}

static ngtcp2_conn *conn_of_ref(ngtcp2_crypto_conn_ref *ref)
{
	return ((struct conn *)ref->user_data)->q;
}

static struct conn *find_conn(const uint8_t *dcid, size_t len)
{
	for (size_t i = 0; i < MAX_CONNS; i++)
		for (size_t j = 0; conns[i].used && j < conns[i].ncids; j++)
			if (conns[i].cids[j].datalen == len && memcmp(conns[i].cids[j].data, dcid, len) == 0)
				return &conns[i];
	return NULL;
}

static void conn_free(struct conn *c)
{
	while (c->streams) {
		struct stream *s = c->streams;
		c->streams = s->next;
		free(s->buf);
		free(s);
	}
	if (c->q)
		ngtcp2_conn_del(c->q);
	peer_session_free(c->tls, c->creds);
	memset(c, 0, sizeof(*c));
}

static struct stream *stream_get(struct conn *c, int64_t id)
{
	for (struct stream *s = c->streams; s; s = s->next)
		if (s->id == id)
			return s;
	struct stream *s = calloc(1, sizeof(*s));
	if (s) {
		s->id = id;
		s->next = c->streams;
		c->streams = s;
	}
	return s;
}

static int on_recv_stream_data(ngtcp2_conn *q, uint32_t flags, int64_t id, uint64_t offset, const uint8_t *data,
			       size_t len, void *ud, void *sud)
{
	struct conn *c = ud;
	struct stream *s = stream_get(c, id);
	if (!s || s->len + len > MAX_ECHO)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	uint8_t *nb = realloc(s->buf, s->len + len + 1);
	if (!nb)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	memcpy(nb + s->len, data, len);
	s->buf = nb;
	s->len += len;
	if (flags & NGTCP2_STREAM_DATA_FLAG_FIN)
		s->fin_seen = 1;
	ngtcp2_conn_extend_max_stream_offset(q, id, len);
	ngtcp2_conn_extend_max_offset(q, len);
	return 0;
}

static int on_stream_close(ngtcp2_conn *q, uint32_t flags, int64_t id, uint64_t code, void *ud, void *sud)
{
	struct conn *c = ud;
	for (struct stream **pp = &c->streams; *pp; pp = &(*pp)->next) {
		if ((*pp)->id == id) {
			struct stream *s = *pp;
			*pp = s->next;
			free(s->buf);
			free(s);
			break;
		}
	}
	if (!ngtcp2_conn_is_local_stream(q, id))
		ngtcp2_conn_extend_max_streams_bidi(q, 1);
	return 0;
}

static int on_handshake_completed(ngtcp2_conn *q, void *ud)
{
	((struct conn *)ud)->handshake_done = 1;
	accepted++;
	return 0;
}

static int on_new_cid(ngtcp2_conn *q, ngtcp2_cid *cid, uint8_t *token, size_t cidlen, void *ud)
{
	struct conn *c = ud;
	if (c->ncids == MAX_CIDS)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	cid->datalen = cidlen;
	peer_rand(cid->data, cidlen, NULL);
	peer_rand(token, NGTCP2_STATELESS_RESET_TOKENLEN, NULL);
	c->cids[c->ncids++] = *cid;
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
	.stream_close = on_stream_close,
	.rand = peer_rand,
	.get_new_connection_id = on_new_cid,
	.update_key = ngtcp2_crypto_update_key_cb,
	.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb,
	.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb,
	.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb,
	.version_negotiation = ngtcp2_crypto_version_negotiation_cb,
};

static struct conn *accept_conn(const uint8_t *pkt, size_t len, const struct sockaddr *from, socklen_t fromlen)
{
	ngtcp2_pkt_hd hd;
	if (ngtcp2_accept(&hd, pkt, len) != 0)
		return NULL;
	struct conn *c = NULL;
	for (size_t i = 0; i < MAX_CONNS && !c; i++)
		if (!conns[i].used)
			c = &conns[i];
	if (!c)
		return NULL; /* full: the client retries */
	c->used = 1;
	c->ref.get_conn = conn_of_ref;
	c->ref.user_data = c;
	memcpy(&c->remote, from, fromlen);
	c->remotelen = fromlen;
	ngtcp2_cid scid = {.datalen = 16};
	peer_rand(scid.data, scid.datalen, NULL);
	c->cids[c->ncids++] = scid;
	c->cids[c->ncids++] = hd.dcid; /* the client's first packets still use it */

	ngtcp2_settings settings;
	ngtcp2_settings_default(&settings);
	settings.initial_ts = peer_now_ns();
	settings.max_tx_udp_payload_size = TX_PKT;
	settings.initial_rtt = 50 * NGTCP2_MILLISECONDS;
	settings.no_pmtud = 1;
	ngtcp2_transport_params params;
	ngtcp2_transport_params_default(&params);
	params.initial_max_streams_bidi = 16;
	params.initial_max_stream_data_bidi_remote = MAX_ECHO;
	params.initial_max_data = 16 * MAX_ECHO;
	params.max_idle_timeout = 30 * NGTCP2_SECONDS;
	params.original_dcid = hd.dcid;
	ngtcp2_path path = {.local = {(struct sockaddr *)&local, locallen},
			    .remote = {(struct sockaddr *)&c->remote, c->remotelen}};
	if (ngtcp2_conn_server_new(&c->q, &hd.scid, &scid, &path, hd.version, &callbacks, &settings, &params, NULL,
				   c) != 0) {
		c->q = NULL;
		conn_free(c);
		return NULL;
	}
	if (peer_session(&peer, 1, &c->ref, &c->tls, &c->creds) != 0) {
		conn_free(c);
		return NULL;
	}
	ngtcp2_conn_set_tls_native_handle(c->q, c->tls);
	return c;
}

static void send_pkt(const struct conn *c, const uint8_t *pkt, size_t len)
{
	while (sendto(fd, pkt, len, 0, (const struct sockaddr *)&c->remote, c->remotelen) < 0 && errno == EINTR)
		;
}

/* Ends a connection after a failed handshake or a protocol error, saying
 * why: a refused client certificate is a TLS alert. */
static void close_conn(struct conn *c, int rv)
{
	ngtcp2_connection_close_error ccerr;
	if (rv == NGTCP2_ERR_CRYPTO)
		ngtcp2_connection_close_error_set_transport_error_tls_alert(&ccerr, ngtcp2_conn_get_tls_alert(c->q),
									    NULL, 0);
	else
		ngtcp2_connection_close_error_set_transport_error_liberr(&ccerr, rv, NULL, 0);
	uint8_t buf[TX_PKT];
	ngtcp2_path_storage ps;
	ngtcp2_path_storage_zero(&ps);
	ngtcp2_pkt_info pi;
	ngtcp2_ssize n = ngtcp2_conn_write_connection_close(c->q, &ps.path, &pi, buf, sizeof(buf), &ccerr,
							    peer_now_ns());
	if (n > 0)
		send_pkt(c, buf, (size_t)n);
	char why[600];
	peer_refusal(c->tls, why, sizeof(why));
	if (why[0]) {
		refused++;
		fprintf(stderr, "stoq-echo-server: refused a client: %s\n", why);
	}
	conn_free(c);
}

static void write_conn(struct conn *c)
{
	uint8_t buf[TX_PKT];
	ngtcp2_path_storage ps;
	ngtcp2_path_storage_zero(&ps);
	ngtcp2_pkt_info pi;
	uint64_t ts = peer_now_ns();
	for (int budget = 64; budget > 0; budget--) {
		struct stream *s = c->streams;
		while (s && !(s->fin_seen && !s->fin_sent))
			s = s->next;
		ngtcp2_vec v = {0};
		int64_t sid = -1;
		uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE;
		if (s) {
			sid = s->id;
			v.base = s->buf + s->sent;
			v.len = s->len - s->sent;
			flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
		}
		ngtcp2_ssize nd = -1;
		ngtcp2_ssize n = ngtcp2_conn_writev_stream(c->q, &ps.path, &pi, buf, sizeof(buf), &nd, flags, sid, &v,
							   s ? 1 : 0, ts);
		if (s && nd >= 0) {
			s->sent += (size_t)nd;
			s->fin_sent = s->sent == s->len; /* FIN goes with the last byte */
		}
		if (n == NGTCP2_ERR_WRITE_MORE)
			continue;
		if (n == NGTCP2_ERR_STREAM_DATA_BLOCKED)
			break; /* the client grants more credit later */
		if (n == NGTCP2_ERR_STREAM_SHUT_WR) {
			s->fin_sent = 1; /* the client does not want the echo */
			continue;
		}
		if (n < 0) {
			close_conn(c, (int)n);
			return;
		}
		if (n == 0)
			break;
		send_pkt(c, buf, (size_t)n);
	}
	ngtcp2_conn_update_pkt_tx_time(c->q, ts);
}

static void read_packets(void)
{
	uint8_t buf[65536];
	for (;;) {
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fromlen);
		if (n < 0)
			return;
		ngtcp2_version_cid vc;
		if (ngtcp2_pkt_decode_version_cid(&vc, buf, (size_t)n, 16) != 0)
			continue;
		struct conn *c = find_conn(vc.dcid, vc.dcidlen);
		if (!c && !(c = accept_conn(buf, (size_t)n, (struct sockaddr *)&from, fromlen)))
			continue;
		ngtcp2_path path = {.local = {(struct sockaddr *)&local, locallen},
				    .remote = {(struct sockaddr *)&from, fromlen}};
		ngtcp2_pkt_info pi = {0};
		int rv = ngtcp2_conn_read_pkt(c->q, &path, &pi, buf, (size_t)n, peer_now_ns());
		if (rv == NGTCP2_ERR_DRAINING || rv == NGTCP2_ERR_DROP_CONN) {
			conn_free(c);
			continue;
		}
		if (rv != 0) {
			close_conn(c, rv);
			continue;
		}
		write_conn(c);
	}
}

static int timeout_ms(void)
{
	uint64_t next = UINT64_MAX, now = peer_now_ns();
	for (size_t i = 0; i < MAX_CONNS; i++)
		if (conns[i].used && ngtcp2_conn_get_expiry(conns[i].q) < next)
			next = ngtcp2_conn_get_expiry(conns[i].q);
	if (next == UINT64_MAX)
		return 1000;
	return next <= now ? 0 : (int)((next - now) / NGTCP2_MILLISECONDS) + 1;
}

static void run_timers(void)
{
	uint64_t now = peer_now_ns();
	for (size_t i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &conns[i];
		if (!c->used || ngtcp2_conn_get_expiry(c->q) > now)
			continue;
		int rv = ngtcp2_conn_handle_expiry(c->q, now);
		if (rv == NGTCP2_ERR_IDLE_CLOSE || rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT)
			conn_free(c);
		else if (rv != 0)
			close_conn(c, rv);
		else
			write_conn(c);
	}
}

static int bind_udp(const char *listen)
{
	char host[64];
	const char *colon = strrchr(listen, ':');
	if (!colon || (size_t)(colon - listen) >= sizeof(host))
		return -1;
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&local, &locallen) != 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {PEER_LONG_OPTIONS, {"listen", 1, 0, 'l'}, {0, 0, 0, 0}};
	const char *listen = "127.0.0.1:4433";
	int o;
	/* First of all: a SIGHUP from the agent while we start is a reload to
	 * do, never the end of the process. */
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'l')
			listen = optarg;
		else if (!peer_option(&peer.cfg, o, optarg)) {
			fprintf(stderr, "usage: stoq-echo-server --listen HOST:PORT\n%s", peer_usage);
			return 2;
		}
	}
	if (peer_open(&peer) != 0)
		return 2;
	if (bind_udp(listen) != 0) {
		fprintf(stderr, "stoq-echo-server: cannot listen on %s\n", listen);
		return 2;
	}
	printf("stoq-echo-server: listening on %s (%s mode)\n", listen, peer.cfg.mode);
	fflush(stdout);
	while (!stop) {
		if (reload) {
			reload = 0;
			fprintf(stderr, "stoq-echo-server: %s\n",
				peer_load_cert(&peer) == 0 ? "certificate reloaded" : "reload failed, keeping the old certificate");
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, timeout_ms()) < 0 && errno != EINTR)
			break;
		read_packets();
		run_timers();
	}
	for (size_t i = 0; i < MAX_CONNS; i++)
		if (conns[i].used)
			conn_free(&conns[i]);
	fprintf(stderr, "stoq-echo-server: %lu handshakes, %lu clients refused\n", accepted, refused);
	peer_close(&peer);
	close(fd);
	return 0;
}
