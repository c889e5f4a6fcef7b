/* Shared between the DoQ listener loop (doq_server.c) and the per-connection
 * code (doq_conn.c); nothing outside these two files includes it. */
#ifndef TC_RESOLVER_DOQ_INTERNAL_H
#define TC_RESOLVER_DOQ_INTERNAL_H

#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "resolver/dns_wire.h"
#include "resolver/doq_server.h"
#include "resolver/quic_cid_map.h"
#include "resolver/quic_timer_heap.h"

#define DOQ_SCID_LEN 16
#define DOQ_SECRET_LEN 32
#define DOQ_RX_BATCH 32
#define DOQ_RX_PKT 2048          /* larger datagrams are dropped (ours are <= 1452) */
#define DOQ_TX_BATCH 64
#define DOQ_TX_PKT 1452          /* max_tx_udp_payload_size */
#define DOQ_STREAM_INLINE 768    /* most queries and answers fit without malloc */
#define DOQ_STREAM_MSG_MAX (2 + TC_DNS_MAX_MSG)
#define DOQ_XFR_MAX (64u * 1024 * 1024)  /* a zone transfer on one stream, framed */

struct doq_stream {
	int64_t id;
	struct doq_stream *next;        /* the connection's streams */
	struct doq_stream *send_next;   /* the connection's send queue */
	bool queued, answered, pending;
	bool credited;                  /* rxlen went back to the connection window */
	bool pad;                       /* the query carried EDNS Padding: so must the answer */
	uint32_t rxlen, cap;            /* bytes of the query so far; size of buf */
	uint32_t txlen, txsent;
	uint8_t *buf;                   /* query while reading, then the framed answer */
	uint8_t inline_buf[DOQ_STREAM_INLINE];
};

enum doq_conn_state { DOQ_FREE = 0, DOQ_LIVE, DOQ_CLOSING, DOQ_DRAINING };

struct doq_conn {
	struct tc_doq_server *srv;
	uint32_t slot, gen;
	enum doq_conn_state state;
	ngtcp2_conn *q;
	gnutls_session_t tls;
	struct tc_quic_creds *creds;
	ngtcp2_crypto_conn_ref ref;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	ngtcp2_cid client_dcid;         /* the client's first DCID, routed here too */
	struct tc_timer timer;
	bool dirty;
	struct doq_conn *dirty_next;
	struct doq_stream *streams, *sendq, *sendq_tail;
	/* Set by a callback that must end the connection (callbacks cannot
	 * write the CONNECTION_CLOSE themselves). */
	bool close_requested;
	ngtcp2_connection_close_error ccerr;
	uint8_t *close_pkt;
	size_t close_len;
	unsigned close_resends;
	uint64_t last_rx;               /* doq_now() of the last packet from the client (eviction order) */
};

struct doq_fwd_done;

/* What a forwarded query carries back to the loop (copied by the forwarder). */
struct doq_fwd_ctx {
	struct tc_doq_server *srv;
	uint32_t slot, gen;
	int64_t stream_id;
};

struct tc_doq_server {
	int fd, epfd, stopfd, fwdfd;
	const struct tc_dns_service *svc;
	struct tc_doq_limits lim;
	struct sockaddr_storage local;
	socklen_t locallen;
	uint8_t reset_secret[DOQ_SECRET_LEN];
	uint8_t token_secret[DOQ_SECRET_LEN];
	gnutls_datum_t ticket_key;      /* TLS session tickets (quic_tls.h); drawn at start */

	pthread_mutex_t creds_lock;
	struct tc_quic_creds *creds;

	struct doq_conn *conns;         /* lim.max_conns slots */
	uint32_t *free_slots, nfree, nconns;
	struct tc_cid_map cids;
	struct tc_timer_heap timers;
	struct doq_conn *dirty;
	struct doq_stream *stream_pool;
	size_t pool_len;

	pthread_t thread;
	bool started;
	pthread_mutex_t fwd_lock;
	struct doq_fwd_done *fwd_head;

	uint64_t reset_window_ms;
	unsigned resets_in_window;
	bool warned_no_creds, warned_full;
	bool trace;                     /* TC_DOQ_TRACE set: ngtcp2 logs to stderr */
	struct tc_doq_stats stats;

	/* Datagram batches for recvmmsg / sendmmsg. */
	struct mmsghdr rxmsg[DOQ_RX_BATCH];
	struct iovec rxiov[DOQ_RX_BATCH];
	struct sockaddr_storage rxaddr[DOQ_RX_BATCH];
	uint8_t rxbuf[DOQ_RX_BATCH][DOQ_RX_PKT];
	unsigned ntx;
	struct mmsghdr txmsg[DOQ_TX_BATCH];
	struct iovec txiov[DOQ_TX_BATCH];
	struct sockaddr_storage txaddr[DOQ_TX_BATCH];
	uint8_t txbuf[DOQ_TX_BATCH][DOQ_TX_PKT];

	uint8_t answer[TC_DNS_MAX_MSG];
};

/* doq_server.c */
uint64_t doq_now(void);
/* The buffer the next outgoing datagram is written into (flushes a full batch). */
uint8_t *doq_tx_buf(struct tc_doq_server *s);
void doq_tx_commit(struct tc_doq_server *s, size_t len, const struct sockaddr *to, socklen_t tolen);
void doq_tx_flush(struct tc_doq_server *s);
void doq_mark_dirty(struct doq_conn *c);
/* Returns the next free connection slot, or NULL at max_connections. */
struct doq_conn *doq_conn_slot(struct tc_doq_server *s);
void doq_conn_release_slot(struct doq_conn *c);
int doq_random(uint8_t *buf, size_t len);
/* tc_forward_done_fn for queries forwarded from a DoQ stream. */
void doq_forward_done(const void *ctx, const uint8_t *resp, size_t len);

/* doq_conn.c */
/* Sets up c (a fresh slot) for the client Initial hd from peer; ocid is the
 * original DCID recovered from a Retry token (NULL without Retry); token is
 * the validated token (NULL/0 when none). Returns 0 or -1 (slot released). */
int doq_conn_accept(struct doq_conn *c, const ngtcp2_pkt_hd *hd, const ngtcp2_cid *ocid,
		    const struct sockaddr *peer, socklen_t peerlen, struct tc_quic_creds *creds);
/* Feeds one datagram; the connection may be freed on return (ngtcp2 drop).
 * Returns NGTCP2_ERR_RETRY when a Retry must be sent instead (new conns). */
int doq_conn_read(struct doq_conn *c, const uint8_t *pkt, size_t len, const struct sockaddr *peer,
		  socklen_t peerlen);
void doq_conn_write(struct doq_conn *c);
void doq_conn_on_timer(struct doq_conn *c);
void doq_conn_deliver(struct doq_conn *c, int64_t stream_id, const uint8_t *msg, size_t len);
/* Frees the connection's state and its slot (no packet is sent). */
void doq_conn_free(struct doq_conn *c);
/* 1 when c may be closed for a newcomer: live, no query in progress. */
bool doq_conn_idle(const struct doq_conn *c);
/* Closes c with DOQ_EXCESSIVE_LOAD (RFC 9250 §4.3) and frees its slot at
 * once: its closing period would hold the slot the newcomer needs (a late
 * packet of the client gets a stateless reset instead of the close again). */
void doq_conn_evict(struct doq_conn *c);
void doq_stream_pool_free(struct tc_doq_server *s);

#endif
