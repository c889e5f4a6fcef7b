/* The shape check of DNS zone signing requests: see dns_sign_input.h.
 * Self-contained (the signer links no resolver code): a strict reader of
 * uncompressed names and fixed fields. */
#include "signer/dns_sign_input.h"
#include "common/errorf.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define RRSIG_FIXED 18
#define TYPE_OPT 41
#define TYPE_RRSIG 46
#define CLASS_IN 1
#define ALG_ECDSAP256SHA256 13
#define MAX_NAME 255

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Length of the uncompressed name at p (labels <= 63, total <= 255, no
 * pointers, within max) and its label count; 0 when it is not one. With
 * lower set, an upper-case letter also makes it invalid. */
static size_t name_len(const uint8_t *p, size_t max, unsigned *labels, bool lower)
{
	size_t i = 0;
	*labels = 0;
	for (;;) {
		if (i >= max)
			return 0;
		uint8_t c = p[i];
		if (c > 63 || i + 1 + c > MAX_NAME || i + 1 + c > max)
			return 0;
		if (c == 0)
			return i + 1;
		for (size_t k = 1; k <= c; k++)
			if (lower && p[i + k] >= 'A' && p[i + k] <= 'Z')
				return 0;
		i += (size_t)c + 1;
		(*labels)++;
	}
}

/* "a.b.c" -> lower-case wire form; 0 or -1. */
static int zone_wire(const char *zone, uint8_t *out, size_t *len)
{
	size_t zl = strlen(zone), o = 0, start = 0;
	if (zl && zone[zl - 1] == '.')
		zl--;
	if (zl == 0 || zl + 2 > MAX_NAME)
		return -1;
	while (start <= zl) {
		size_t end = start;
		while (end < zl && zone[end] != '.')
			end++;
		size_t lab = end - start;
		if (lab == 0 || lab > 63)
			return -1;
		out[o++] = (uint8_t)lab;
		for (size_t i = start; i < end; i++) {
			char c = zone[i];
			out[o++] = (uint8_t)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
		start = end + 1;
	}
	out[o++] = 0;
	*len = o;
	return 0;
}

/* Does name (wire, lower case) end with the zone at a label boundary? */
static bool inside(const uint8_t *name, size_t len, const uint8_t *zone, size_t zlen)
{
	for (size_t i = 0; i < len; i += (size_t)name[i] + 1) {
		if (len - i == zlen)
			return memcmp(name + i, zone, zlen) == 0;
		if (name[i] == 0)
			break;
	}
	return false;
}

static int rdata_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t k = alen < blen ? alen : blen;
	int c = k ? memcmp(a, b, k) : 0;
	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

int tc_dns_sign_input_check(const uint8_t *d, size_t n, const char *zone, time_t now, char *why,
			    size_t wl)
{
	uint8_t apex[MAX_NAME];
	size_t alen;
	unsigned labels;
	if (zone_wire(zone, apex, &alen) != 0)
		return tc_errorf(why, wl, "the configured zone is not a valid name");
	if (n < RRSIG_FIXED + 1 || n > TC_DNS_SIGN_INPUT_MAX)
		return tc_errorf(why, wl, "not an RRSIG signing input (size %zu)", n);
	uint16_t covered = get16(d);
	if (covered == 0 || covered == TYPE_OPT || covered == TYPE_RRSIG ||
	    (covered >= 128 && covered <= 255))
		return tc_errorf(why, wl, "type covered %u cannot be signed", covered);
	if (d[2] != ALG_ECDSAP256SHA256)
		return tc_errorf(why, wl, "algorithm %u, expected 13", d[2]);
	uint8_t rrsig_labels = d[3];
	uint32_t orig_ttl = get32(d + 4), expiration = get32(d + 8), inception = get32(d + 12);
	/* RFC 4034 §3.1.5 serial arithmetic: expiration must follow inception. */
	uint32_t span = expiration - inception;
	if (span == 0 || span > TC_DNS_SIGN_MAX_VALIDITY_S)
		return tc_errorf(why, wl, "validity of %u s is not in (0, %u]", span,
			      TC_DNS_SIGN_MAX_VALIDITY_S);
	int32_t ahead = (int32_t)(expiration - (uint32_t)now);
	if (ahead > TC_DNS_SIGN_MAX_VALIDITY_S)
		return tc_errorf(why, wl, "expiration more than %u s from now", TC_DNS_SIGN_MAX_VALIDITY_S);
	size_t off = RRSIG_FIXED;
	size_t sl = name_len(d + off, n - off, &labels, true);
	if (sl != alen || memcmp(d + off, apex, alen) != 0)
		return tc_errorf(why, wl, "signer name is not the zone %s", zone);
	off += sl;
	if (off == n)
		return tc_errorf(why, wl, "no record to sign");

	const uint8_t *owner = NULL, *prev_rd = NULL;
	size_t olen = 0, prev_len = 0, count = 0;
	while (off < n) {
		unsigned owner_labels;
		size_t nl = name_len(d + off, n - off, &owner_labels, true);
		if (nl == 0)
			return tc_errorf(why, wl, "record %zu: owner is not a lower-case uncompressed name",
				      count);
		if (!owner) {
			owner = d + off;
			olen = nl;
			if (!inside(owner, olen, apex, alen))
				return tc_errorf(why, wl, "owner outside the zone %s", zone);
			if (rrsig_labels > owner_labels)
				return tc_errorf(why, wl, "labels %u exceed the owner's %u", rrsig_labels,
					      owner_labels);
		} else if (nl != olen || memcmp(d + off, owner, olen) != 0) {
			return tc_errorf(why, wl, "record %zu: not the same owner (one RRset per input)",
				      count);
		}
		off += nl;
		if (n - off < 10)
			return tc_errorf(why, wl, "record %zu: truncated", count);
		uint16_t type = get16(d + off), rclass = get16(d + off + 2);
		uint32_t ttl = get32(d + off + 4);
		size_t rdlen = get16(d + off + 8);
		off += 10;
		if (type != covered || rclass != CLASS_IN || ttl != orig_ttl)
			return tc_errorf(why, wl, "record %zu: type/class/TTL differ from the RRSIG's",
				      count);
		if (rdlen > n - off)
			return tc_errorf(why, wl, "record %zu: RDATA runs past the end", count);
		if (prev_rd && rdata_cmp(prev_rd, prev_len, d + off, rdlen) >= 0)
			return tc_errorf(why, wl, "record %zu: not in canonical order", count);
		prev_rd = d + off;
		prev_len = rdlen;
		off += rdlen;
		count++;
	}
	return 0;
}
