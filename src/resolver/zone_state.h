/* What a clean stop of the resolver leaves for its next start, so IXFR
 * deltas survive a restart: <data_dir>/dns/zone.state holds the zone
 * served at the stop (every record, RRSIGs and NSEC included), the
 * signatures of that build with their validity times (sig_cache.h), and
 * the IXFR deltas that led to it (ixfr_log.h).
 *
 * At start the keeper reuses those signatures (an unchanged RRset signs to
 * the same RRSIG, no HSM call), diffs the zone it builds against the saved
 * one and appends that delta to the restored chain: a secondary at any
 * serial of the chain gets an IXFR of the few records that changed across
 * the restart instead of an AXFR.
 *
 * The file describes one stop only: it is removed when read, so a crash
 * (kill -9, no save) leaves none and the next start falls back to AXFR for
 * older serials, never to a stale zone. The saved zone is only a diff base,
 * never served (it lacks the NSEC chain index denial answers need).
 *
 * Format: "TCZS" | version 1 (4) | payload length (8) | SHA-256 of payload
 * (32) | payload, all big endian; payload:
 *   flags (4: bit 0 signed) | inception (4) | expiration (4) |
 *   sigs length (4) | sigs (TC_SIG_CACHE_ENTRY_LEN each) |
 *   zone length (4) | zone RRs (ixfr_log.h RR encoding, class IN) |
 *   chain length (4) | IXFR deltas (tc_ixfr_log_all). */
#ifndef TC_RESOLVER_ZONE_STATE_H
#define TC_RESOLVER_ZONE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolver/sig_cache.h"
#include "resolver/zone.h"

#define TC_ZONE_STATE_MAX (64u * 1024 * 1024)

struct tc_zone_state {
	bool is_signed;
	uint32_t inception, expiration;
	struct tc_zone *zone;         /* its SOA holds the serial */
	struct tc_sig_cache *sigs;    /* NULL when unsigned */
	uint8_t *chain;               /* malloc'ed, may be NULL */
	size_t chain_len;
};

/* The state's bytes (malloc'ed in *out), as tc_zone_state_save writes
 * them. 0, or -1 + err when it does not fit TC_ZONE_STATE_MAX. */
int tc_zone_state_encode(const struct tc_zone_state *st, uint8_t **out, size_t *len, char *err, size_t errlen);

/* Writes path atomically (a temporary file, fsync, rename). 0 or -1 + err. */
int tc_zone_state_save(const char *path, const struct tc_zone_state *st, char *err, size_t errlen);

/* Parses a state file's bytes for the zone origin. 0 (st filled: free with
 * tc_zone_state_clear) or -1 + err (damaged, wrong zone). */
int tc_zone_state_parse(const uint8_t *buf, size_t len, const char *origin, struct tc_zone_state *st,
			char *err, size_t errlen);

/* Reads path and removes it. 1 with st filled, 0 when there is none, -1 +
 * err when it is damaged (removed all the same). */
int tc_zone_state_take(const char *path, const char *origin, struct tc_zone_state *st, char *err,
		       size_t errlen);

void tc_zone_state_clear(struct tc_zone_state *st);

#endif
