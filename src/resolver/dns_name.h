/* Domain names in uncompressed wire form: comparison (case-insensitive,
 * RFC 4343), zone membership, and conversion from/to presentation text
 * (RFC 1035 §5.1 escapes \X and \DDD). */
#ifndef TC_RESOLVER_DNS_NAME_H
#define TC_RESOLVER_DNS_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolver/dns_wire.h"

/* ASCII-only case folding; length octets (<= 63) are never letters, so a
 * whole wire name can be folded or compared octet by octet. */
static inline uint8_t tc_dns_fold(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

bool tc_dns_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
void tc_dns_name_lower(uint8_t *dst, const uint8_t *src, size_t len);
/* Labels before the root: "www.example." has 2. */
unsigned tc_dns_name_labels(const uint8_t *name, size_t len);
/* True when name equals parent or lies below it. */
bool tc_dns_name_is_subdomain(const uint8_t *name, size_t len, const uint8_t *parent, size_t plen);
/* Length of the uncompressed wire name at p (no pointers, labels <= 63,
 * total <= 255, within max octets), or 0 when it is not one. */
size_t tc_dns_name_wire_len(const uint8_t *p, size_t max);

/* Presentation text -> wire. "@" is the origin; a name without a trailing dot
 * is relative to origin (NULL origin: relative names are an error). Returns 0,
 * or -1 with a static reason in *why. */
int tc_dns_name_from_text(const char *s, size_t len, const uint8_t *origin, size_t olen,
			  uint8_t out[TC_DNS_MAX_NAME], size_t *outlen, const char **why);

/* Wire -> presentation text with a trailing dot, escaping as needed; always
 * NUL-terminates (truncating when cap is too small). */
void tc_dns_name_to_text(const uint8_t *name, size_t len, char *out, size_t cap);

#endif
