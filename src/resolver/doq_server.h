/* DNS over QUIC listener (RFC 9250) on the UDP socket the supervisor passes
 * as DOQ: one thread running an epoll loop over that socket, ngtcp2 for
 * QUIC and GnuTLS (quic_tls.h) for the handshake.
 *
 * Protocol, as the RFC asks:
 *  - ALPN "doq" only; TLS 1.3; one query per client-initiated bidirectional
 *    stream, 2-octet length prefix (doq_frame.c), Message ID 0;
 *  - a bad message ID, edns-tcp-keepalive, a stream whose FIN arrives before
 *    a complete length-prefixed message, anything after the message, or
 *    data on a client unidirectional stream close the connection with
 *    DOQ_PROTOCOL_ERROR (unidirectional streams get no credit at all, so
 *    QUIC itself refuses them with STREAM_LIMIT_ERROR first);
 *  - a stream the client resets or stops is cancelled with
 *    DOQ_REQUEST_CANCELLED; failures inside the server close with
 *    DOQ_INTERNAL_ERROR; a new connection over dns.max_connections closes
 *    the least recently active connection with no query in progress with
 *    DOQ_EXCESSIVE_LOAD (RFC 9250 §4.3) to make room, and is refused
 *    (CONNECTION_REFUSED, before any state is kept) only when every
 *    connection has a query in progress;
 *  - answers come from tc_dns_service_handle with TC_DNS_TRANSPORT_DOQ, the
 *    same path as UDP and TCP (zone, forwarder or REFUSED).
 *
 * Limits: dns.idle_timeout_ms as QUIC max_idle_timeout (the connection is
 * dropped silently when it expires, as QUIC specifies), dns.max_streams as
 * initial_max_streams_bidi with one more stream granted as each one ends.
 *
 * Address validation: when the listener holds 3/4 of max_connections or
 * more (or always, with retry_always), a client Initial without a valid
 * token gets a Retry; clients that finished a handshake get a NEW_TOKEN so
 * they skip the Retry next time. Tokens and stateless reset tokens derive
 * from secrets drawn from the kernel CSPRNG at start (the resolver has no
 * Random capability at the signer; nothing needs them to survive a restart:
 * after a restart every old connection is gone anyway and a reset for it
 * is merely ignored).
 *
 * TLS session resumption is on: a ticket follows every full handshake
 * (its key drawn at start, never stored), and a client that presents it
 * skips the certificate and signature. 0-RTT is disabled. All our queries
 * are read-only and idempotent, so a replayed query would only cost an
 * answer, but accepting early data needs an anti-replay store and care
 * with what may be answered before the handshake confirms the client's
 * address (amplification); the saving is one round trip per new
 * connection, which DoQ clients amortise by keeping connections open. */
#ifndef TC_RESOLVER_DOQ_SERVER_H
#define TC_RESOLVER_DOQ_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolver/dns_service.h"
#include "resolver/quic_tls.h"

struct tc_doq_limits {
	uint32_t max_conns;      /* dns.max_connections */
	uint32_t max_streams;    /* dns.max_streams */
	uint32_t idle_ms;        /* dns.idle_timeout_ms */
	bool retry_always;       /* validate every new client address with Retry */
};

struct tc_doq_stats {
	uint64_t accepted, refused, retries, resets_sent, queries, protocol_errors, evicted;
};

struct tc_doq_server;

/* Starts the loop thread on fd (a bound UDP socket). Until credentials
 * are set, new connections are not accepted (their Initials are dropped,
 * so clients retransmit and get in once the certificate arrives). */
int tc_doq_server_start(int fd, const struct tc_dns_service *svc,
			const struct tc_doq_limits *lim, struct tc_doq_server **out, char *err,
			size_t errlen);

/* Installs the credentials for new connections (takes a reference; the
 * previous ones live on in the connections that use them). Any thread. */
void tc_doq_server_set_creds(struct tc_doq_server *s, struct tc_quic_creds *creds);

/* Counters so far (any thread, approximate while running). */
void tc_doq_server_stats(const struct tc_doq_server *s, struct tc_doq_stats *out);

/* Stops the thread, closes every connection and frees everything. */
void tc_doq_server_stop(struct tc_doq_server *s);

#endif
