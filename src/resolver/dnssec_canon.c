/* Canonical form, canonical order and the RRSIG signing input
 * (RFC 4034 §3.1.8.1, §6). Validators rebuild exactly these octets, so
 * every rule here is one a validator applies: lower-case owner and RDATA
 * names, the original TTL, RDATA sorted as octet strings, no duplicates. */
#include <stdlib.h>
#include <string.h>

#include "resolver/dns_build.h"
#include "resolver/dns_name.h"
#include "resolver/dnssec.h"

/* Offsets of the labels of name, leftmost first; returns the count. */
static unsigned label_offsets(const uint8_t *name, size_t len, size_t *at)
{
	unsigned n = 0;
	for (size_t i = 0; i < len && name[i] != 0 && n < TC_DNS_MAX_LABELS; i += (size_t)name[i] + 1)
		at[n++] = i;
	return n;
}

int tc_dnssec_name_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t la[TC_DNS_MAX_LABELS], lb[TC_DNS_MAX_LABELS];
	unsigned na = label_offsets(a, alen, la), nb = label_offsets(b, blen, lb);
	/* Rightmost label first; within a label, lower-cased octets, and a
	 * label that is a prefix of the other sorts first. */
	while (na > 0 && nb > 0) {
		const uint8_t *pa = a + la[--na], *pb = b + lb[--nb];
		size_t ka = pa[0], kb = pb[0], k = ka < kb ? ka : kb;
		for (size_t i = 1; i <= k; i++) {
			uint8_t ca = tc_dns_fold(pa[i]), cb = tc_dns_fold(pb[i]);
			if (ca != cb)
				return ca < cb ? -1 : 1;
		}
		if (ka != kb)
			return ka < kb ? -1 : 1;
	}
	if (na == nb)
		return 0;
	return na < nb ? -1 : 1;   /* the ancestor sorts before its descendants */
}

uint16_t tc_dnssec_key_tag(const uint8_t *rdata, size_t len)
{
	uint32_t ac = 0;
	for (size_t i = 0; i < len; i++)
		ac += (i & 1) ? rdata[i] : (uint32_t)rdata[i] << 8;
	ac += (ac >> 16) & 0xffff;
	return (uint16_t)(ac & 0xffff);
}

void tc_dnssec_dnskey_rdata(uint8_t out[TC_DNSSEC_DNSKEY_LEN], uint16_t flags,
			    const uint8_t point[64])
{
	tc_dns_put16(out, flags);
	out[2] = 3;   /* protocol, always 3 (RFC 4034 §2.1.2) */
	out[3] = TC_DNSSEC_ALG_ECDSAP256SHA256;
	memcpy(out + 4, point, 64);
}

size_t tc_dnssec_rrsig_head(uint8_t *out, size_t cap, const struct tc_rrsig_fields *f)
{
	size_t n = TC_DNSSEC_RRSIG_FIXED + f->signer_len;
	if (n > cap)
		return 0;
	tc_dns_put16(out, f->type_covered);
	out[2] = TC_DNSSEC_ALG_ECDSAP256SHA256;
	out[3] = f->labels;
	tc_dns_put32(out + 4, f->original_ttl);
	tc_dns_put32(out + 8, f->expiration);
	tc_dns_put32(out + 12, f->inception);
	tc_dns_put16(out + 16, f->key_tag);
	tc_dns_name_lower(out + TC_DNSSEC_RRSIG_FIXED, f->signer, f->signer_len);
	return n;
}

uint8_t tc_dnssec_rrsig_labels(const uint8_t *owner, size_t olen)
{
	unsigned n = tc_dns_name_labels(owner, olen);
	if (n > 0 && owner[0] == 1 && owner[1] == '*')
		n--;
	return (uint8_t)n;
}

/* Lower-cases the uncompressed name at rd[off..] in place, if there is one. */
static size_t lower_name_at(uint8_t *rd, size_t rdlen, size_t off)
{
	if (off >= rdlen)
		return 0;
	size_t n = tc_dns_name_wire_len(rd + off, rdlen - off);
	tc_dns_name_lower(rd + off, rd + off, n);
	return n;
}

void tc_dnssec_canonical_rdata(uint16_t type, const uint8_t *rdata, size_t rdlen, uint8_t *out)
{
	memcpy(out, rdata, rdlen);
	size_t n;
	switch (type) {
	case TC_DNS_TYPE_NS:
	case TC_DNS_TYPE_CNAME:
	case TC_DNS_TYPE_PTR:
		lower_name_at(out, rdlen, 0);
		break;
	case TC_DNS_TYPE_MX:
		lower_name_at(out, rdlen, 2);
		break;
	case TC_DNS_TYPE_SRV:
		lower_name_at(out, rdlen, 6);
		break;
	case TC_DNS_TYPE_SOA:
		n = lower_name_at(out, rdlen, 0);
		if (n)
			lower_name_at(out, rdlen, n);
		break;
	default:
		break;
	}
}

struct canon_rr {
	const uint8_t *rd;   /* canonical RDATA inside the scratch buffer */
	uint16_t len;
};

static int canon_cmp(const void *pa, const void *pb)
{
	const struct canon_rr *a = pa, *b = pb;
	size_t k = a->len < b->len ? a->len : b->len;
	int c = k ? memcmp(a->rd, b->rd, k) : 0;
	if (c != 0)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

uint8_t *tc_dnssec_signing_input(const uint8_t *head, size_t headlen, const uint8_t *owner,
				 size_t olen, uint16_t type, uint32_t ttl,
				 const struct tc_zone_rr *rrs, size_t count, size_t *len)
{
	size_t total = headlen, rdtotal = 0;
	for (size_t i = 0; i < count; i++) {
		total += olen + 10 + rrs[i].rdlen;
		rdtotal += rrs[i].rdlen;
	}
	if (count == 0 || total > TC_DNSSEC_MAX_SIGNING_INPUT)
		return NULL;
	uint8_t *out = malloc(total);
	uint8_t *scratch = malloc(rdtotal ? rdtotal : 1);
	struct canon_rr *order = malloc(count * sizeof(*order));
	if (!out || !scratch || !order) {
		free(out);
		free(scratch);
		free(order);
		return NULL;
	}
	size_t s = 0;
	for (size_t i = 0; i < count; i++) {
		tc_dnssec_canonical_rdata(type, rrs[i].rdata, rrs[i].rdlen, scratch + s);
		order[i] = (struct canon_rr){scratch + s, rrs[i].rdlen};
		s += rrs[i].rdlen;
	}
	qsort(order, count, sizeof(*order), canon_cmp);

	uint8_t lc_owner[TC_DNS_MAX_NAME];
	tc_dns_name_lower(lc_owner, owner, olen);
	size_t o = 0;
	memcpy(out, head, headlen);
	o += headlen;
	for (size_t i = 0; i < count; i++) {
		if (i > 0 && canon_cmp(&order[i - 1], &order[i]) == 0)
			continue;   /* an RRset is a set (RFC 4034 §6.3) */
		memcpy(out + o, lc_owner, olen);
		o += olen;
		tc_dns_put16(out + o, type);
		tc_dns_put16(out + o + 2, TC_DNS_CLASS_IN);
		tc_dns_put32(out + o + 4, ttl);
		tc_dns_put16(out + o + 8, order[i].len);
		o += 10;
		memcpy(out + o, order[i].rd, order[i].len);
		o += order[i].len;
	}
	free(scratch);
	free(order);
	*len = o;
	return out;
}

size_t tc_dnssec_type_bitmap(const uint16_t *types, size_t ntypes, uint8_t *out, size_t cap)
{
	size_t o = 0;
	size_t i = 0;
	while (i < ntypes) {
		unsigned window = types[i] >> 8;
		uint8_t bits[32] = {0};
		unsigned used = 0;
		for (; i < ntypes && (unsigned)(types[i] >> 8) == window; i++) {
			unsigned low = types[i] & 0xff;
			bits[low / 8] |= (uint8_t)(0x80u >> (low % 8));
			if (low / 8 + 1 > used)
				used = low / 8 + 1;
		}
		if (o + 2 + used > cap)
			return 0;
		out[o++] = (uint8_t)window;
		out[o++] = (uint8_t)used;
		memcpy(out + o, bits, used);
		o += used;
	}
	return o;
}
