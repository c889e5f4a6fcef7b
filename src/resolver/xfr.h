/* Zone transfers out (AXFR, RFC 5936; IXFR, RFC 1995) over a stream
 * transport, TSIG-signed message by message (RFC 8945 §5.3.1).
 *
 * Who may transfer is decided by the caller (dns_service.c: a valid TSIG
 * of a key named in dns.secondaries). This file only writes the answer:
 *  - AXFR: the SOA, every other record of the zone (DNSKEY, RRSIG, NSEC,
 *    glue included) in node order, the SOA again; messages of at most
 *    16 KiB, the question in the first one only;
 *  - IXFR: a client already at our serial (or ahead of it, RFC 1982) gets
 *    our SOA alone ("up to date"); one whose serial starts a chain of
 *    deltas in the IXFR log (ixfr_log.h) up to ours gets the difference
 *    sequences (RFC 1995 §4: our SOA, then per delta old SOA, deletions,
 *    new SOA, additions, then our SOA); any other gets the whole zone in
 *    AXFR form, which RFC 1995 §4 allows when no difference is kept. */
#ifndef TC_RESOLVER_XFR_H
#define TC_RESOLVER_XFR_H

#include <stddef.h>
#include <stdint.h>

#include "resolver/ixfr_log.h"
#include "resolver/tsig.h"
#include "resolver/zone.h"

#define TC_XFR_MSG_MAX 16384

/* Sends one message of the answer; 0, or -1 to stop. */
typedef int (*tc_xfr_emit_fn)(void *arg, const uint8_t *msg, size_t len);

/* query is the request without its TSIG RR (valid, QTYPE AXFR or IXFR,
 * QCLASS IN, QNAME the zone apex: checked by the caller); req the TSIG it
 * carried (its key signs every message). Returns 0, or -1 when a message
 * could not be built or emit failed. */
int tc_xfr_answer(const struct tc_zone *zone, const uint8_t *query, size_t qlen,
		  const struct tc_tsig_request *req, uint64_t now, tc_xfr_emit_fn emit, void *arg);

/* The same, answering IXFR from log's deltas when it can (log may be
 * NULL: AXFR form). */
int tc_xfr_answer_from(const struct tc_zone *zone, struct tc_ixfr_log *log, const uint8_t *query,
		       size_t qlen, const struct tc_tsig_request *req, uint64_t now,
		       tc_xfr_emit_fn emit, void *arg);

/* The client's serial from the SOA in an IXFR query's authority section;
 * -1 when there is none. */
int tc_xfr_ixfr_serial(const uint8_t *query, size_t qlen, uint32_t *serial);

#endif
