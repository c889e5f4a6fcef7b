/* A small DNS-over-QUIC client (RFC 9250) on ngtcp2 + GnuTLS: one QUIC
 * connection over a connected UDP socket, any number of streams on it.
 * Used by `trustchainctl dig +quic`, the DoQ tests and the DoQ bench.
 *
 * The server certificate is verified against the trust anchors in cafile
 * (our ca/root.pem) and the name server_name (dns.<bootstrap.domain>);
 * the ALPN offered is "doq" unless the caller asks otherwise (tests do, to
 * see the server refuse it).
 *
 * Non-blocking core (tc_doq_client_io with the socket from
 * tc_doq_client_fd, for event loops driving many connections) plus blocking
 * helpers (handshake, query) built on it. Not thread-safe: one thread per
 * client object. */
#ifndef TC_CTL_DOQ_CLIENT_H
#define TC_CTL_DOQ_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct tc_doq_client_opts {
	const char *cafile;          /* PEM trust anchors (required unless insecure) */
	const char *server_name;     /* name the certificate must carry; also SNI */
	const char *alpn;            /* NULL: "doq" */
	uint32_t idle_timeout_ms;    /* our max_idle_timeout; 0: none (the server's applies) */
	bool insecure;               /* skip certificate verification (never for real use) */
	const uint8_t *session;      /* tc_doq_client_session of an earlier connection: resume it */
	size_t session_len;          /* (a full handshake if the server does not take it; never 0-RTT) */
};

/* How the connection ended, once it has. */
enum tc_doq_close_kind {
	TC_DOQ_OPEN = 0,
	TC_DOQ_CLOSED_BY_PEER_APP,        /* CONNECTION_CLOSE 0x1d: code is a DoQ error code */
	TC_DOQ_CLOSED_BY_PEER_TRANSPORT,  /* CONNECTION_CLOSE 0x1c: QUIC/TLS error code */
	TC_DOQ_CLOSED_RESET,              /* stateless reset from the server */
	TC_DOQ_CLOSED_IDLE,               /* idle timeout */
	TC_DOQ_CLOSED_LOCAL,              /* we closed it: error (code, reason) or free */
};

struct tc_doq_close {
	enum tc_doq_close_kind kind;
	uint64_t code;
	char reason[128];
};

/* A stream ended: status 0 with every octet the server sent (FIN seen),
 * or -1 when it was reset or the connection closed first. */
typedef void (*tc_doq_stream_fn)(void *arg, int64_t stream_id, int status, const uint8_t *data,
				 size_t len);

struct tc_doq_client;

/* Creates the connection and sends the first flight; NULL with err. */
struct tc_doq_client *tc_doq_client_new(const struct sockaddr *server, socklen_t len,
					const struct tc_doq_client_opts *opts, char *err,
					size_t errlen);
int tc_doq_client_fd(const struct tc_doq_client *c);

/* Non-blocking step: reads every datagram waiting, runs due timers, writes
 * what is queued. Returns 0 while the connection is open, -1 once closed. */
int tc_doq_client_io(struct tc_doq_client *c);
/* Milliseconds until tc_doq_client_io must run even without input, -1 none. */
int tc_doq_client_timeout_ms(const struct tc_doq_client *c);
/* Waits up to timeout_ms for the socket or a timer, then one io step. */
int tc_doq_client_step(struct tc_doq_client *c, int timeout_ms);

bool tc_doq_client_handshake_done(const struct tc_doq_client *c);
/* Blocks until the handshake completes (0) or fails / times out (-1, err). */
int tc_doq_client_handshake(struct tc_doq_client *c, int timeout_ms, char *err, size_t errlen);

/* Opens a client bidirectional stream with data (copied; sent with FIN
 * when fin) and writes at once; done runs when the stream ends. Returns 0,
 * or -1 when no stream can be opened now (closed, no stream credit). */
int tc_doq_client_send(struct tc_doq_client *c, const uint8_t *data, size_t len, bool fin,
		       tc_doq_stream_fn done, void *arg, int64_t *stream_id);
/* Streams opened and not yet ended. */
size_t tc_doq_client_streams_open(const struct tc_doq_client *c);

/* One DNS query (Message ID must already be 0) framed on its own stream;
 * waits for the answer and returns it unframed. -1 with err on failure. */
int tc_doq_client_query(struct tc_doq_client *c, const uint8_t *query, size_t qlen,
			uint8_t *resp, size_t cap, size_t *resplen, int timeout_ms, char *err,
			size_t errlen);

const struct tc_doq_close *tc_doq_client_close_info(const struct tc_doq_client *c);

/* The TLS session to resume on a later connection (opts.session): the
 * ticket the server sent after the handshake, malloc'ed into *out. -1 when
 * none came (yet: it follows the handshake; step or query first). */
int tc_doq_client_session(const struct tc_doq_client *c, uint8_t **out, size_t *len);
/* true when the handshake resumed a session instead of a full one. */
bool tc_doq_client_resumed(const struct tc_doq_client *c);

/* The server's leaf certificate (DER) once the handshake has it, else NULL. */
const uint8_t *tc_doq_client_peer_cert(const struct tc_doq_client *c, size_t *len);
/* Human-readable description of how and why the connection ended. */
void tc_doq_client_describe_close(const struct tc_doq_client *c, char *out, size_t outlen);

/* Closes politely (DOQ_NO_ERROR) if still open, then frees. */
void tc_doq_client_free(struct tc_doq_client *c);

#endif
