/* Presentation format (RFC 1035 §5.1 and each type's RFC) -> wire RDATA,
 * shared by the zone file loader and the dns.records config entries. */
#ifndef TC_RESOLVER_RDATA_TEXT_H
#define TC_RESOLVER_RDATA_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One field of a master-file entry, escapes still in place; quoted fields
 * exclude the quotes. */
struct tc_zone_token {
	const char *s;
	size_t len;
	unsigned line;
	bool quoted;
};

/* Mnemonic ("AAAA") or RFC 3597 "TYPE65280" -> type; -1 if unknown. */
int tc_dns_type_from_text(const char *s, size_t len, uint16_t *type);
/* Decimal seconds or BIND units ("1h30m", "2d", "1w"), at most 2^31-1. */
int tc_dns_ttl_from_text(const char *s, size_t len, uint32_t *ttl);

/* Parses the RDATA fields of one record. Names are relative to origin.
 * Supports A, AAAA, NS, CNAME, PTR, MX, SRV, SOA, TXT, CAA, TLSA and, for
 * any type, the generic "\# <length> <hex>" form. Returns 0, or -1 with the
 * index of the offending field in *bad (ntok when one is missing) and the
 * reason in why. */
int tc_rdata_from_text(uint16_t type, const struct tc_zone_token *tok, size_t ntok,
		       const uint8_t *origin, size_t olen, uint8_t *out, size_t cap,
		       size_t *outlen, size_t *bad, char *why, size_t whylen);

#endif
