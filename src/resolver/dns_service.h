/* One query in, one response out, the same for every transport (UDP, TCP,
 * and later DoQ): the authoritative answer from the zone, or, for a name
 * that is not ours, a cached or forwarded upstream answer when
 * dns.traditional_fallback is on (REFUSED when it is off).
 *
 * The listeners own their sockets and buffers; this layer owns no state but
 * the forwarder, so any number of threads may call tc_dns_service_handle. */
#ifndef TC_RESOLVER_DNS_SERVICE_H
#define TC_RESOLVER_DNS_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "resolver/answer.h"
#include "resolver/forwarder.h"
#include "resolver/tsig_keys.h"
#include "resolver/update.h"
#include "resolver/update_pool.h"
#include "resolver/xfr.h"
#include "resolver/zone.h"
#include "resolver/zone_live.h"

/* TSIG keys (dns.tsig_keys_file) and which of them may transfer the zone
 * (those dns.secondaries name). */
struct tc_dns_auth {
	struct tc_tsig_keyring ring;
	size_t nxfr;
	const struct tc_tsig_key *xfr_keys[TC_TSIG_MAX_KEYS];
};

struct tc_dns_service {
	const struct tc_zone *zone;   /* a fixed zone, or: */
	struct tc_zone_live *live;    /* the zone swapped at run time (wins when set) */
	struct tc_forwarder *fwd;   /* NULL: names outside the zone get REFUSED */
	uint16_t udp_max;           /* our EDNS payload size (0 = 1232) */
	const struct tc_dns_auth *auth;   /* NULL: no keys; signed queries get NOTAUTH/BADKEY */
	/* RFC 2136 UPDATE: who may change what, and where changes go (the zone
	 * keeper). NULL update: every UPDATE is REFUSED. */
	const struct tc_update_policy *policy;
	uint16_t (*update)(void *ctx, const struct tc_update *u);
	void *update_ctx;
	struct tc_ixfr_log *ixfr;   /* deltas for IXFR; NULL: IXFR gets the zone in AXFR form */
	struct tc_update_pool *update_pool;   /* NULL: updates run on the caller's thread */
};

enum tc_dns_service_result {
	TC_DNS_SVC_REPLY = 0,       /* send out[0..*outlen) */
	TC_DNS_SVC_DROP,            /* send nothing (TCP/DoQ: close the connection) */
	TC_DNS_SVC_PENDING,         /* forwarded: done() will deliver the response later */
	TC_DNS_SVC_PROTOCOL_ERROR,  /* DoQ: close with DOQ_PROTOCOL_ERROR */
	TC_DNS_SVC_TRANSFER,        /* an authorised AXFR/IXFR: call tc_dns_service_transfer */
};

/* fwd_ctx (fwd_ctxlen <= TC_FWD_CTX_MAX octets) is copied and handed back to
 * done() when a forwarded answer arrives or the forward fails. */
enum tc_dns_service_result tc_dns_service_handle(const struct tc_dns_service *svc,
						 enum tc_dns_transport transport,
						 const uint8_t *query, size_t qlen, uint8_t *out,
						 size_t outcap, size_t *outlen,
						 const void *fwd_ctx, size_t fwd_ctxlen,
						 tc_forward_done_fn done);

/* Writes the zone transfer asked by query (after TC_DNS_SVC_TRANSFER) as
 * messages through emit. 0, or -1 (the connection should be closed). */
int tc_dns_service_transfer(const struct tc_dns_service *svc, const uint8_t *query, size_t qlen,
			    tc_xfr_emit_fn emit, void *arg);

/* The most a client accepts over UDP: 512 without EDNS, else its EDNS size
 * (at least 512). Used to cut forwarded answers the client cannot take. */
size_t tc_dns_client_udp_limit(const uint8_t *query, size_t qlen);

/* Rewrites resp (a response to query) into a question-only response with
 * TC=1 so the client retries over TCP; returns the new length, 0 if the
 * response cannot be cut (no question). */
size_t tc_dns_truncate_response(uint8_t *resp, size_t len);

#endif
