/* stoq-echo-client: connects over QUIC with mutual TLS, verifies the server
 * through TrustChain as --peer-name, sends --message on one stream and
 * prints the echo. --count N makes N connections one after the other and
 * prints handshakes per second (the bench); --repeat N --interval-ms MS
 * keeps one connection and sends the message N times on new streams.
 *
 * Exit status: 0 echoed; 1 refused (by us: the verdict's reasons are
 * printed; or by the server: its TLS alert); 2 any other failure. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peer.h"

#define TX_PKT 1452

struct client {
	int fd;
	struct sockaddr_storage local, remote;
	socklen_t locallen, remotelen;
	ngtcp2_conn *q;
	gnutls_session_t tls;
	struct peer_creds *creds;
	ngtcp2_crypto_conn_ref ref;
	int handshake_done, confirmed, closed, rv;
	int64_t sid;
	const char *msg;
	size_t sent;
	char echo[4096];
	size_t echolen;
	int echo_done;
};

static struct peer peer;

static ngtcp2_conn *conn_of_ref(ngtcp2_crypto_conn_ref *ref)
{
	return ((struct client *)ref->user_data)->q;
}

static int on_handshake_completed(ngtcp2_conn *q, void *ud)
{
	((struct client *)ud)->handshake_done = 1;
	return 0;
}

/* HANDSHAKE_DONE from the server: it has verified our certificate too. */
static int on_handshake_confirmed(ngtcp2_conn *q, void *ud)
{
	((struct client *)ud)->confirmed = 1;
	return 0;
}

static int on_recv_stream_data(ngtcp2_conn *q, uint32_t flags, int64_t id, uint64_t offset, const uint8_t *data,
			       size_t len, void *ud, void *sud)
{
	struct client *c = ud;
	size_t room = sizeof(c->echo) - 1 - c->echolen;
	size_t k = len < room ? len : room;
	memcpy(c->echo + c->echolen, data, k);
	c->echolen += k;
	if (flags & NGTCP2_STREAM_DATA_FLAG_FIN)
		c->echo_done = 1;
	ngtcp2_conn_extend_max_stream_offset(q, id, len);
	ngtcp2_conn_extend_max_offset(q, len);
	return 0;
}

static int on_new_cid(ngtcp2_conn *q, ngtcp2_cid *cid, uint8_t *token, size_t cidlen, void *ud)
{
	cid->datalen = cidlen;
	peer_rand(cid->data, cidlen, NULL);
	peer_rand(token, NGTCP2_STATELESS_RESET_TOKENLEN, NULL);
	return 0;
}

static const ngtcp2_callbacks callbacks = {
	.client_initial = ngtcp2_crypto_client_initial_cb,
	.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb,
	.handshake_completed = on_handshake_completed,
	.handshake_confirmed = on_handshake_confirmed,
	.encrypt = ngtcp2_crypto_encrypt_cb,
	.decrypt = ngtcp2_crypto_decrypt_cb,
	.hp_mask = ngtcp2_crypto_hp_mask_cb,
	.recv_stream_data = on_recv_stream_data,
	.recv_retry = ngtcp2_crypto_recv_retry_cb,
	.rand = peer_rand,
	.get_new_connection_id = on_new_cid,
	.update_key = ngtcp2_crypto_update_key_cb,
	.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb,
	.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb,
	.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb,
	.version_negotiation = ngtcp2_crypto_version_negotiation_cb,
};

static int client_open(struct client *c, const struct sockaddr_in *server)
{
	memset(c, 0, sizeof(*c));
	c->sid = -1;
	memcpy(&c->remote, server, sizeof(*server));
	c->remotelen = sizeof(*server);
	c->locallen = sizeof(c->local);
	c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (const struct sockaddr *)server, sizeof(*server)) != 0 ||
	    getsockname(c->fd, (struct sockaddr *)&c->local, &c->locallen) != 0)
		return -1;
	ngtcp2_cid dcid = {.datalen = 18}, scid = {.datalen = 16};
	peer_rand(dcid.data, dcid.datalen, NULL);
	peer_rand(scid.data, scid.datalen, NULL);
	ngtcp2_settings settings;
	ngtcp2_settings_default(&settings);
	settings.initial_ts = peer_now_ns();
	settings.max_tx_udp_payload_size = TX_PKT;
	settings.initial_rtt = 50 * NGTCP2_MILLISECONDS;
	settings.handshake_timeout = 5 * NGTCP2_SECONDS;
	settings.no_pmtud = 1;
	ngtcp2_transport_params params;
	ngtcp2_transport_params_default(&params);
	params.initial_max_stream_data_bidi_local = 64 * 1024;
	params.initial_max_data = 1024 * 1024;
	params.max_idle_timeout = 10 * NGTCP2_SECONDS;
	ngtcp2_path path = {.local = {(struct sockaddr *)&c->local, c->locallen},
			    .remote = {(struct sockaddr *)&c->remote, c->remotelen}};
	c->ref.get_conn = conn_of_ref;
	c->ref.user_data = c;
	if (ngtcp2_conn_client_new(&c->q, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1, &callbacks, &settings, &params,
				   NULL, c) != 0) {
		c->q = NULL;
		return -1;
	}
	if (peer_session(&peer, 0, &c->ref, &c->tls, &c->creds) != 0)
		return -1;
	ngtcp2_conn_set_tls_native_handle(c->q, c->tls);
	return 0;
}

static void client_free(struct client *c)
{
	if (c->q && !c->closed && c->handshake_done) {
		/* Say goodbye so the server frees the connection at once. */
		uint8_t buf[TX_PKT];
		ngtcp2_path_storage ps;
		ngtcp2_path_storage_zero(&ps);
		ngtcp2_pkt_info pi;
		ngtcp2_connection_close_error ccerr;
		ngtcp2_connection_close_error_set_application_error(&ccerr, 0, NULL, 0);
		ngtcp2_ssize n = ngtcp2_conn_write_connection_close(c->q, &ps.path, &pi, buf, sizeof(buf), &ccerr,
								    peer_now_ns());
		if (n > 0 && send(c->fd, buf, (size_t)n, 0) < 0)
			(void)0; /* lost: the server's idle timer frees it */
	}
	if (c->q)
		ngtcp2_conn_del(c->q);
	peer_session_free(c->tls, c->creds);
	if (c->fd >= 0)
		close(c->fd);
}

static void fail(struct client *c, int rv)
{
	c->closed = 1;
	c->rv = rv;
}

static void client_write(struct client *c)
{
	uint8_t buf[TX_PKT];
	ngtcp2_path_storage ps;
	ngtcp2_path_storage_zero(&ps);
	ngtcp2_pkt_info pi;
	uint64_t ts = peer_now_ns();
	if (c->handshake_done && c->sid < 0 && ngtcp2_conn_open_bidi_stream(c->q, &c->sid, NULL) != 0)
		c->sid = -1;
	for (int budget = 64; budget > 0 && !c->closed; budget--) {
		size_t left = c->msg ? strlen(c->msg) - c->sent : 0;
		int have = c->sid >= 0 && c->msg && (left > 0 || c->sent == 0 || c->sent < strlen(c->msg) + 1);
		ngtcp2_vec v = {.base = (uint8_t *)c->msg + c->sent, .len = left};
		ngtcp2_ssize nd = -1;
		ngtcp2_ssize n = ngtcp2_conn_writev_stream(
			c->q, &ps.path, &pi, buf, sizeof(buf), &nd,
			NGTCP2_WRITE_STREAM_FLAG_MORE | (have ? NGTCP2_WRITE_STREAM_FLAG_FIN : 0), have ? c->sid : -1,
			&v, have ? 1 : 0, ts);
		if (have && nd >= 0) {
			c->sent += (size_t)nd;
			if (c->sent == strlen(c->msg))
				c->msg = NULL; /* all sent, FIN included */
		}
		if (n == NGTCP2_ERR_WRITE_MORE)
			continue;
		if (n == NGTCP2_ERR_STREAM_DATA_BLOCKED)
			break;
		if (n < 0) {
			fail(c, (int)n);
			return;
		}
		if (n == 0)
			break;
		if (send(c->fd, buf, (size_t)n, 0) < 0 && errno != EAGAIN)
			break;
	}
	ngtcp2_conn_update_pkt_tx_time(c->q, ts);
}

static void client_read(struct client *c)
{
	uint8_t buf[65536];
	ngtcp2_path path = {.local = {(struct sockaddr *)&c->local, c->locallen},
			    .remote = {(struct sockaddr *)&c->remote, c->remotelen}};
	while (!c->closed) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		if (n < 0)
			return;
		ngtcp2_pkt_info pi = {0};
		int rv = ngtcp2_conn_read_pkt(c->q, &path, &pi, buf, (size_t)n, peer_now_ns());
		if (rv != 0)
			fail(c, rv);
	}
}

enum want { WANT_CONFIRMED, WANT_ECHO, WANT_NOTHING };

/* Drives the connection (packets, timers) until it has what it wants, is
 * closed, or the deadline passes. */
static void drive(struct client *c, uint64_t deadline, enum want w)
{
	while (!c->closed && peer_now_ns() < deadline) {
		if ((w == WANT_CONFIRMED && c->confirmed) || (w == WANT_ECHO && c->echo_done))
			return;
		uint64_t exp = ngtcp2_conn_get_expiry(c->q), now = peer_now_ns();
		int t = exp <= now ? 0 : exp - now > 100 * NGTCP2_MILLISECONDS ? 100 : (int)((exp - now) / NGTCP2_MILLISECONDS) + 1;
		if (deadline - now < (uint64_t)t * NGTCP2_MILLISECONDS)
			t = (int)((deadline - now) / NGTCP2_MILLISECONDS) + 1;
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		poll(&p, 1, t);
		client_read(c);
		if (!c->closed && ngtcp2_conn_get_expiry(c->q) <= peer_now_ns()) {
			int rv = ngtcp2_conn_handle_expiry(c->q, peer_now_ns());
			if (rv != 0)
				fail(c, rv);
		}
		if (!c->closed)
			client_write(c);
	}
}

/* One connection: 0 echoed (or, when msg is NULL, the handshake confirmed:
 * both ends verified each other), 1 refused, 2 other failure; why gets a
 * sentence. With repeat > 1 the same connection sends msg again on a new
 * stream every interval_ms, repeat times in all (a long-lived connection,
 * e.g. across a certificate reload on the server). */
static int run_one(const struct sockaddr_in *server, const char *msg, int repeat, int interval_ms, int timeout_ms,
		   char *why, size_t whylen)
{
	struct client c;
	int rc = 2, echoes = 0;
	why[0] = '\0';
	if (client_open(&c, server) != 0) {
		snprintf(why, whylen, "cannot set up the connection");
		goto out;
	}
	c.msg = msg;
	client_write(&c);
	drive(&c, peer_now_ns() + (uint64_t)timeout_ms * NGTCP2_MILLISECONDS, msg ? WANT_ECHO : WANT_CONFIRMED);
	echoes += c.echo_done;
	while (msg && echoes < repeat && c.echo_done && !c.closed) {
		drive(&c, peer_now_ns() + (uint64_t)interval_ms * NGTCP2_MILLISECONDS, WANT_NOTHING);
		if (c.closed)
			break;
		c.echo_done = 0;
		c.echolen = 0;
		c.sent = 0;
		c.sid = -1;
		c.msg = msg;
		client_write(&c);
		drive(&c, peer_now_ns() + (uint64_t)timeout_ms * NGTCP2_MILLISECONDS, WANT_ECHO);
		echoes += c.echo_done;
	}
	char refusal[600];
	peer_refusal(c.tls, refusal, sizeof(refusal));
	if (refusal[0]) {
		snprintf(why, whylen, "refused the server: %s", refusal);
		rc = 1;
	} else if (c.closed && c.rv == NGTCP2_ERR_DRAINING) {
		ngtcp2_connection_close_error ce;
		ngtcp2_conn_get_connection_close_error(c.q, &ce);
		const char *alert = ce.error_code >= 0x100 && ce.error_code < 0x200
					    ? gnutls_alert_get_name((gnutls_alert_description_t)(ce.error_code - 0x100))
					    : NULL;
		snprintf(why, whylen, "the server closed the connection: %s (0x%llx)", alert ? alert : "QUIC error",
			 (unsigned long long)ce.error_code);
		rc = alert ? 1 : 2;
	} else if (c.closed) {
		snprintf(why, whylen, "%s", ngtcp2_strerror(c.rv));
	} else if (!(msg ? c.echo_done && echoes == (repeat > 1 ? repeat : 1) : c.confirmed)) {
		snprintf(why, whylen, "no %s within %d ms (%d echoes)", msg ? "echo" : "handshake", timeout_ms, echoes);
	} else {
		rc = 0;
		if (msg && repeat > 1)
			snprintf(why, whylen, "%.*s (%d times on one connection)", (int)c.echolen, c.echo, echoes);
		else if (msg)
			snprintf(why, whylen, "%.*s", (int)c.echolen, c.echo);
	}
out:
	client_free(&c);
	return rc;
}

/* This process's CPU time (user + system) in seconds: on a shared machine
 * the bench compares CPU per handshake, which other load does not skew. */
static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {PEER_LONG_OPTIONS,
					     {"connect", 1, 0, 'c'},
					     {"message", 1, 0, 'm'},
					     {"count", 1, 0, 'n'},
					     {"timeout-ms", 1, 0, 't'},
					     {"repeat", 1, 0, 'r'},
					     {"interval-ms", 1, 0, 'i'},
					     {0, 0, 0, 0}};
	const char *connect_to = "127.0.0.1:4433", *msg = "hello from stoq-echo";
	int count = 0, timeout = 5000, repeat = 1, interval = 500, o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'c')
			connect_to = optarg;
		else if (o == 'm')
			msg = optarg;
		else if (o == 'n')
			count = atoi(optarg);
		else if (o == 't')
			timeout = atoi(optarg);
		else if (o == 'r')
			repeat = atoi(optarg);
		else if (o == 'i')
			interval = atoi(optarg);
		else if (!peer_option(&peer.cfg, o, optarg)) {
			fprintf(stderr, "usage: stoq-echo-client --connect HOST:PORT [--message TEXT] [--count N]\n"
				"         [--repeat N --interval-ms MS] [--timeout-ms MS]\n%s",
				peer_usage);
			return 2;
		}
	}
	char host[64];
	const char *colon = strrchr(connect_to, ':');
	struct sockaddr_in server = {.sin_family = AF_INET};
	if (!colon || (size_t)(colon - connect_to) >= sizeof(host)) {
		fprintf(stderr, "--connect HOST:PORT\n");
		return 2;
	}
	memcpy(host, connect_to, (size_t)(colon - connect_to));
	host[colon - connect_to] = '\0';
	server.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &server.sin_addr) != 1 || peer_open(&peer) != 0)
		return 2;
	char why[700];
	int rc;
	if (count <= 0) {
		rc = run_one(&server, msg, repeat, interval, timeout, why, sizeof(why));
		printf("%s: %s\n", rc == 0 ? "echo" : rc == 1 ? "refused" : "error", why);
	} else {
		/* The bench: handshakes only, one connection after the other. */
		uint64_t t0 = peer_now_ns();
		double cpu0 = cpu_seconds();
		int i;
		for (i = 0, rc = 0; i < count && rc == 0; i++)
			rc = run_one(&server, NULL, 1, 0, timeout, why, sizeof(why));
		double s = (double)(peer_now_ns() - t0) / NGTCP2_SECONDS;
		double cpu = cpu_seconds() - cpu0;
		if (rc != 0)
			printf("error after %d handshakes: %s\n", i - 1, why);
		else
			printf("handshakes: %d in %.3f s = %.1f/s, client CPU %.3f s (%s mode)\n", count, s, count / s,
			       cpu, peer.cfg.mode);
	}
	peer_close(&peer);
	return rc;
}
