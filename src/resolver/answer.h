/* The authoritative answer function: query bytes + transport -> response
 * bytes, from a prebuilt zone, without allocation and without state, so
 * any number of threads may call it on one zone.
 *
 * Behaviour:
 *  - fewer than 12 octets, or QR=1 (a response): DROP, nothing is sent;
 *  - opcode other than QUERY: NOTIMP; malformed message, QDCOUNT != 1,
 *    QTYPE OPT: FORMERR. Both echo ID, opcode, RD and CD, the question when
 *    the query had exactly one readable question, and carry our OPT when
 *    the query had one (RFC 6891 §7), malformed or not;
 *  - EDNS version > 0: BADVERS with our OPT (RFC 6891 §6.1.3);
 *  - QCLASS other than IN, AXFR/IXFR: REFUSED;
 *  - a name outside the zone: NOT_OURS, with a REFUSED response in out
 *    that the caller sends unless it forwards the query upstream;
 *  - in the zone: AA answers; CNAME chains followed inside the zone (up to
 *    8 links, RCODE of the last link, RFC 6604); NXDOMAIN and NODATA with
 *    the SOA in authority at TTL min(SOA TTL, MINIMUM) (RFC 2308); a
 *    delegation gets a referral (NS in authority, glue in additional);
 *    A/AAAA of in-zone NS/MX/SRV targets go into additional when they fit;
 *  - ANY is answered minimally (RFC 8482 §4.1): one RRset of the name,
 *    the same over every transport, never the whole node;
 *  - EDNS: an OPT with our payload size is added whenever the query had
 *    one; DO is echoed (RFC 3225), options are not;
 *  - DNSSEC (RFC 4035 §3.1), when DO is set and the zone is signed: every
 *    RRset in the answer comes with its RRSIGs (negative SOA: both at the
 *    negative TTL); NODATA adds the NSEC matching (or, at an empty
 *    non-terminal, covering) the name, NXDOMAIN the NSEC covering the name
 *    and the one covering the wildcard at the closest encloser; a referral
 *    adds the DS RRset or the NSEC proving there is none; glue is never
 *    signed. AD is never set (we are authoritative, not validating);
 *  - size: over UDP the limit is 512 without EDNS, else the client's size
 *    clamped to [512, 1232] and to udp_max; a response over it is cut to
 *    the question (+OPT) with TC=1. TCP and DoQ never set TC (limit 65535;
 *    an answer that still does not fit is SERVFAIL);
 *  - DoQ (RFC 9250 §4.2.1): the query ID must be 0 and edns-tcp-keepalive
 *    must be absent (§5.5.2), else DOQ_PROTOCOL_ERROR; the reply keeps ID 0. */
#ifndef TC_RESOLVER_ANSWER_H
#define TC_RESOLVER_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolver/dns_wire.h"
#include "resolver/zone.h"

enum tc_dns_transport {
	TC_DNS_TRANSPORT_UDP = 0,
	TC_DNS_TRANSPORT_TCP,
	TC_DNS_TRANSPORT_DOQ,
};

/* Set RA in responses: the process offers recursion (dns.traditional_fallback). */
#define TC_DNS_ANSWER_F_RA 0x1u

struct tc_dns_answer_opts {
	enum tc_dns_transport transport;
	uint16_t udp_max;      /* our EDNS UDP payload size, clamped to [512, 1232]; 0 = 1232 */
	unsigned flags;        /* TC_DNS_ANSWER_F_* */
	uint16_t reserve;      /* octets to leave free at the end (a TSIG RR to come) */
};

enum tc_dns_answer_status {
	TC_DNS_ANSWER_REPLY = 0,          /* send out[0..outlen) */
	TC_DNS_ANSWER_NOT_OURS,           /* out holds REFUSED; forward the query or send it */
	TC_DNS_ANSWER_DROP,               /* send nothing */
	TC_DNS_ANSWER_DOQ_PROTOCOL_ERROR, /* DoQ: close the connection with DOQ_PROTOCOL_ERROR */
};

struct tc_dns_answer_info {
	enum tc_dns_err parse_error;  /* why a query was dropped or got FORMERR */
	uint16_t rcode;               /* extended RCODE of the response */
	uint16_t qtype;
	bool truncated;               /* TC was set */
};

/* An error answer to query (FORMERR, NOTIMP, NOTAUTH, REFUSED): ID,
 * opcode, RD and CD echoed, the question when readable, our OPT when the
 * query had one. outcap at least 512. */
enum tc_dns_answer_status tc_dns_answer_error(const uint8_t *query, size_t qlen, uint16_t rcode,
					      const struct tc_dns_answer_opts *opts, uint8_t *out,
					      size_t outcap, size_t *outlen);

/* outcap must be at least TC_DNS_UDP_MIN (512); give 65535 for TCP/DoQ.
 * info may be NULL. */
enum tc_dns_answer_status tc_dns_answer(const struct tc_zone *zone, const uint8_t *query,
					size_t qlen, const struct tc_dns_answer_opts *opts,
					uint8_t *out, size_t outcap, size_t *outlen,
					struct tc_dns_answer_info *info);

#endif
