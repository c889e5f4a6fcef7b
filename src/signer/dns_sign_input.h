/* What the DNS zone key may sign: exactly one RRSIG signing input
 * (RFC 4034 §3.1.8.1) for our own zone, so a compromised resolver can
 * make the HSM sign DNS data for the bootstrap zone and nothing else
 * (no certificates, no CT structures, no other zone's records):
 *
 *   RRSIG RDATA without the signature: type covered (not a meta type, not
 *   RRSIG), algorithm 13, labels <= the owner's, original TTL, expiration
 *   after inception, at most 31 days apart and ending at most 31 days from
 *   now, key tag, signer name = the zone apex; then one or more RRs in
 *   canonical form: the same lower-case uncompressed owner inside the
 *   zone, type = type covered, class IN, TTL = original TTL, RDATA within
 *   bounds, in strictly ascending canonical order; nothing after. */
#ifndef TC_SIGNER_DNS_SIGN_INPUT_H
#define TC_SIGNER_DNS_SIGN_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TC_DNS_SIGN_INPUT_MAX (64 * 1024)
#define TC_DNS_SIGN_MAX_VALIDITY_S (31 * 86400)

/* 0 when data is such an input for zone (presentation form, e.g.
 * "trust.hypermesh.online"), else -1 with the reason in why. */
int tc_dns_sign_input_check(const uint8_t *data, size_t len, const char *zone, time_t now,
			    char *why, size_t whylen);

#endif
