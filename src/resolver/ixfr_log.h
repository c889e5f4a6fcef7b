/* Incremental zone transfer (IXFR, RFC 1995) deltas: what changed from one
 * published (signed) zone to the next, RRSIG and NSEC changes included, so
 * a secondary that asks IXFR from a serial we still hold gets only the
 * difference sequences instead of the whole zone.
 *
 * A delta is bytes, in the RR encoding of update.h
 *   owner (uncompressed wire, lower case) | type (2) | class (2) | ttl (4) |
 *   rdlen (2) | rdata
 * laid out exactly as RFC 1995 §4 sends it: the old SOA (class NONE), the
 * deleted records (NONE), the new SOA (class IN), the added records (IN).
 * The log keeps the deltas of the zones published since the process
 * started, oldest dropped past a byte budget; a client whose serial is not
 * the start of a chain up to the served zone gets AXFR (RFC 1995 §4). The
 * log is in memory; a clean stop saves it with the zone served and its
 * signatures (zone_state.h), so the next start continues the chain with
 * the delta across the restart. */
#ifndef TC_RESOLVER_IXFR_LOG_H
#define TC_RESOLVER_IXFR_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "resolver/zone.h"

#define TC_IXFR_CLASS_NONE 254

struct tc_ixfr_rr {
	const uint8_t *owner;
	size_t owner_len;
	uint16_t type, rclass;
	uint32_t ttl;
	const uint8_t *rdata;
	uint16_t rdlen;
};

/* Reads the encoded RR at *pos (advanced past it). 0, or -1 when the bytes
 * there are not one whole RR (bad name, short, past len). */
int tc_ixfr_read_rr(const uint8_t *buf, size_t len, size_t *pos, struct tc_ixfr_rr *rr);

/* Checks that buf[0..len) is one or more whole deltas, each in the order
 * above with SOA RDATA that holds a serial, each starting at the serial
 * the previous one ended at. *from, *to: the first and last serials;
 * *ndeltas their count. 0 or -1. */
int tc_ixfr_check(const uint8_t *buf, size_t len, uint32_t *from, uint32_t *to,
		  size_t *ndeltas);

/* The delta from old to next (both with a SOA) into a malloc'ed *out
 * (free it). 0, or -1 (no SOA, out of memory). */
int tc_ixfr_diff(const struct tc_zone *old, const struct tc_zone *next, uint8_t **out,
		 size_t *len);

struct tc_ixfr_log;

/* max_bytes: the budget of kept deltas (the oldest go first). */
struct tc_ixfr_log *tc_ixfr_log_new(size_t max_bytes);
void tc_ixfr_log_free(struct tc_ixfr_log *log);

/* Appends a delta (copied; checked with tc_ixfr_check). One that does not
 * start where the last ended, or larger than the budget, empties the log
 * first (it then holds only this one, or nothing). 0 or -1 (refused). */
int tc_ixfr_log_append(struct tc_ixfr_log *log, const uint8_t *delta, size_t len);
void tc_ixfr_log_reset(struct tc_ixfr_log *log);

/* The deltas leading from serial from to serial to, concatenated into a
 * malloc'ed *out. 0, or -1 when the log holds no such chain. Safe from any
 * thread. */
int tc_ixfr_log_chain(struct tc_ixfr_log *log, uint32_t from, uint32_t to, uint8_t **out,
		      size_t *len);

/* Every delta held, oldest first, concatenated into a malloc'ed *out (NULL
 * and 0 when none): what a restart keeps (zone_state.h). 0 or -1. */
int tc_ixfr_log_all(struct tc_ixfr_log *log, uint8_t **out, size_t *len);
/* Appends each delta of buf (as tc_ixfr_log_all wrote it), one by one.
 * 0, or -1 when buf is not a chain (the log is then left empty). */
int tc_ixfr_log_load(struct tc_ixfr_log *log, const uint8_t *buf, size_t len);

#endif
