/* Message builder with name compression. The compression table holds the
 * offsets of labels already written (each one starts a name suffix that
 * runs to the root); a new name is matched suffix by suffix, longest first,
 * against those, case-insensitively, so an answer's owner name points back
 * at the question and keeps the case the client asked with. */
#include "resolver/dns_build.h"

#include <string.h>

#include "resolver/dns_name.h"

void tc_dns_build_init(struct tc_dns_builder *b, uint8_t *buf, size_t bufcap)
{
	b->buf = buf;
	b->bufcap = bufcap;
	b->limit = bufcap < TC_DNS_MAX_MSG ? bufcap : TC_DNS_MAX_MSG;
	b->len = 0;
	b->section = TC_DNS_SEC_QUESTION;
	memset(b->counts, 0, sizeof(b->counts));
	b->nptrs = 0;
}

void tc_dns_build_set_limit(struct tc_dns_builder *b, size_t limit)
{
	if (limit > b->bufcap)
		limit = b->bufcap;
	if (limit > TC_DNS_MAX_MSG)
		limit = TC_DNS_MAX_MSG;
	b->limit = limit;
}

void tc_dns_build_mark(const struct tc_dns_builder *b, struct tc_dns_mark *m)
{
	m->len = b->len;
	m->section = b->section;
	memcpy(m->counts, b->counts, sizeof(m->counts));
	m->nptrs = b->nptrs;
}

void tc_dns_build_rollback(struct tc_dns_builder *b, const struct tc_dns_mark *m)
{
	b->len = m->len;
	b->section = m->section;
	memcpy(b->counts, m->counts, sizeof(b->counts));
	b->nptrs = m->nptrs;
}

static bool room(const struct tc_dns_builder *b, size_t n)
{
	return b->len <= b->limit && n <= b->limit - b->len;
}

static int put_bytes(struct tc_dns_builder *b, const void *p, size_t n)
{
	if (!room(b, n))
		return -1;
	if (n)
		memcpy(b->buf + b->len, p, n);
	b->len += n;
	return 0;
}

static int put_u8(struct tc_dns_builder *b, uint8_t v)
{
	return put_bytes(b, &v, 1);
}

static int put_u16(struct tc_dns_builder *b, uint16_t v)
{
	uint8_t p[2];
	tc_dns_put16(p, v);
	return put_bytes(b, p, 2);
}

static int put_u32(struct tc_dns_builder *b, uint32_t v)
{
	uint8_t p[4];
	tc_dns_put32(p, v);
	return put_bytes(b, p, 4);
}

int tc_dns_build_header(struct tc_dns_builder *b, uint16_t id, uint16_t flags)
{
	uint8_t h[TC_DNS_HEADER_LEN] = {0};
	tc_dns_put16(h, id);
	tc_dns_put16(h + 2, flags);
	b->len = 0;
	return put_bytes(b, h, sizeof(h));
}

void tc_dns_build_set_flags(struct tc_dns_builder *b, uint16_t flags)
{
	if (b->len >= TC_DNS_HEADER_LEN)
		tc_dns_put16(b->buf + 2, flags);
}

uint16_t tc_dns_build_get_flags(const struct tc_dns_builder *b)
{
	return b->len >= TC_DNS_HEADER_LEN ? tc_dns_get16(b->buf + 2) : 0;
}

size_t tc_dns_build_finish(struct tc_dns_builder *b)
{
	if (b->len < TC_DNS_HEADER_LEN)
		return 0;
	for (int i = 0; i < 4; i++)
		tc_dns_put16(b->buf + 4 + 2 * i, b->counts[i]);
	return b->len;
}

/* Does the name written at off in the message equal suffix (uncompressed)? */
static bool name_at_equals(const struct tc_dns_builder *b, size_t off, const uint8_t *suffix,
			   size_t slen)
{
	size_t p = off, i = 0;
	unsigned hops = 0;
	for (;;) {
		if (p >= b->len)
			return false;
		uint8_t c = b->buf[p];
		if ((c & 0xc0) == 0xc0) {
			if (p + 1 >= b->len || ++hops > TC_DNS_MAX_PTR_HOPS)
				return false;
			p = ((size_t)(c & 0x3f) << 8) | b->buf[p + 1];
			continue;
		}
		if (i >= slen || suffix[i] != c)
			return false;
		if (c == 0)
			return true;
		if (p + 1 + c > b->len || i + 1 + c > slen)
			return false;
		for (size_t k = 1; k <= c; k++)
			if (tc_dns_fold(b->buf[p + k]) != tc_dns_fold(suffix[i + k]))
				return false;
		p += (size_t)c + 1;
		i += (size_t)c + 1;
	}
}

/* Remembers the labels of name[0..upto) just written at start. */
static void remember_labels(struct tc_dns_builder *b, size_t start, const uint8_t *name, size_t upto)
{
	for (size_t i = 0; i < upto && name[i] != 0; i += (size_t)name[i] + 1) {
		size_t off = start + i;
		if (off >= 0x4000 || b->nptrs >= TC_DNS_COMPRESS_MAX)
			return;
		b->ptrs[b->nptrs++] = (uint16_t)off;
	}
}

int tc_dns_build_name(struct tc_dns_builder *b, const uint8_t *name, size_t len)
{
	if (len == 0 || len > TC_DNS_MAX_NAME)
		return -1;
	size_t start = b->len;
	for (size_t i = 0; i < len && name[i] != 0; i += (size_t)name[i] + 1) {
		for (unsigned e = 0; e < b->nptrs; e++) {
			if (!name_at_equals(b, b->ptrs[e], name + i, len - i))
				continue;
			if (!room(b, i + 2))
				return -1;
			memcpy(b->buf + b->len, name, i);
			b->len += i;
			tc_dns_put16(b->buf + b->len, (uint16_t)(0xc000u | b->ptrs[e]));
			b->len += 2;
			remember_labels(b, start, name, i);
			return 0;
		}
	}
	if (put_bytes(b, name, len) != 0)
		return -1;
	remember_labels(b, start, name, len);
	return 0;
}

int tc_dns_build_question(struct tc_dns_builder *b, const uint8_t *name, size_t len,
			  uint16_t qtype, uint16_t qclass)
{
	struct tc_dns_mark m;
	tc_dns_build_mark(b, &m);
	if (b->section != TC_DNS_SEC_QUESTION || tc_dns_build_name(b, name, len) != 0 ||
	    put_u16(b, qtype) != 0 || put_u16(b, qclass) != 0) {
		tc_dns_build_rollback(b, &m);
		return -1;
	}
	b->counts[TC_DNS_SEC_QUESTION]++;
	return 0;
}

/* A record under construction: header written, RDLENGTH still to patch. */
struct rr_ctx {
	struct tc_dns_mark mark;
	size_t rdlen_at;
	enum tc_dns_section sec;
};

static int rr_begin(struct tc_dns_builder *b, enum tc_dns_section sec, const uint8_t *owner,
		    size_t olen, uint16_t type, uint16_t rclass, uint32_t ttl, struct rr_ctx *c)
{
	tc_dns_build_mark(b, &c->mark);
	c->sec = sec;
	if ((int)sec < b->section || sec == TC_DNS_SEC_QUESTION)
		return -1;
	if (tc_dns_build_name(b, owner, olen) != 0 || put_u16(b, type) != 0 ||
	    put_u16(b, rclass) != 0 || put_u32(b, ttl) != 0) {
		tc_dns_build_rollback(b, &c->mark);
		return -1;
	}
	c->rdlen_at = b->len;
	if (put_u16(b, 0) != 0) {
		tc_dns_build_rollback(b, &c->mark);
		return -1;
	}
	return 0;
}

static int rr_end(struct tc_dns_builder *b, struct rr_ctx *c, int status)
{
	size_t rdlen = b->len - c->rdlen_at - 2;
	if (status != 0 || rdlen > 0xffff || b->counts[c->sec] == 0xffff) {
		tc_dns_build_rollback(b, &c->mark);
		return -1;
	}
	tc_dns_put16(b->buf + c->rdlen_at, (uint16_t)rdlen);
	b->section = (int)c->sec;
	b->counts[c->sec]++;
	return 0;
}

/* Writes RDATA of a compressible type; -1 if it is not laid out as expected. */
static int put_compressed_rdata(struct tc_dns_builder *b, uint16_t type, const uint8_t *rd,
				size_t rdlen)
{
	size_t n1, n2;
	switch (type) {
	case TC_DNS_TYPE_NS:
	case TC_DNS_TYPE_CNAME:
	case TC_DNS_TYPE_PTR:
		/* Empty is no name (name_wire_len says 0 for it too): copied. */
		if (rdlen == 0 || tc_dns_name_wire_len(rd, rdlen) != rdlen)
			return 1;
		return tc_dns_build_name(b, rd, rdlen);
	case TC_DNS_TYPE_MX:
		if (rdlen < 3 || tc_dns_name_wire_len(rd + 2, rdlen - 2) != rdlen - 2)
			return 1;
		if (put_bytes(b, rd, 2) != 0)
			return -1;
		return tc_dns_build_name(b, rd + 2, rdlen - 2);
	case TC_DNS_TYPE_SOA:
		n1 = tc_dns_name_wire_len(rd, rdlen);
		if (n1 == 0)
			return 1;
		n2 = tc_dns_name_wire_len(rd + n1, rdlen - n1);
		if (n2 == 0 || n1 + n2 + 20 != rdlen)
			return 1;
		if (tc_dns_build_name(b, rd, n1) != 0 || tc_dns_build_name(b, rd + n1, n2) != 0)
			return -1;
		return put_bytes(b, rd + n1 + n2, 20);
	default:
		return 1;
	}
}

int tc_dns_put_rr(struct tc_dns_builder *b, enum tc_dns_section sec, const uint8_t *owner,
		  size_t olen, uint16_t type, uint16_t rclass, uint32_t ttl, const uint8_t *rdata,
		  size_t rdlen)
{
	struct rr_ctx c;
	if (rr_begin(b, sec, owner, olen, type, rclass, ttl, &c) != 0)
		return -1;
	size_t before = b->len;
	int st = put_compressed_rdata(b, type, rdata, rdlen);
	if (st > 0) {
		/* Not a compressible layout: copy verbatim. */
		b->len = before;
		st = put_bytes(b, rdata, rdlen);
	}
	return rr_end(b, &c, st);
}

int tc_dns_put_a(struct tc_dns_builder *b, enum tc_dns_section sec, const uint8_t *owner,
		 size_t olen, uint32_t ttl, const uint8_t addr[4])
{
	return tc_dns_put_rr(b, sec, owner, olen, TC_DNS_TYPE_A, TC_DNS_CLASS_IN, ttl, addr, 4);
}

int tc_dns_put_aaaa(struct tc_dns_builder *b, enum tc_dns_section sec, const uint8_t *owner,
		    size_t olen, uint32_t ttl, const uint8_t addr[16])
{
	return tc_dns_put_rr(b, sec, owner, olen, TC_DNS_TYPE_AAAA, TC_DNS_CLASS_IN, ttl, addr, 16);
}

static int put_name_rr(struct tc_dns_builder *b, enum tc_dns_section sec, const uint8_t *owner,
		       size_t olen, uint16_t type, uint32_t ttl, const uint8_t *target, size_t tlen)
{
	struct rr_ctx c;
	if (rr_begin(b, sec, owner, olen, type, TC_DNS_CLASS_IN, ttl, &c) != 0)
		return -1;
	return rr_end(b, &c, tc_dns_build_name(b, target, tlen));
}

int tc_dns_put_ns(struct tc_dns_builder *b, enum tc_dns_section sec, const uint8_t *owner,
		  size_t olen, uint32_t ttl, const uint8_t *target, size_t tlen)
{
	return put_name_rr(b, sec, owner, olen, TC_DNS_TYPE_NS, ttl, target, tlen);
}

int tc_dns_put_cname(struct tc_dns_builder *b, enum tc_dns_section sec, const uint8_t *owner,
		     size_t olen, uint32_t ttl, const uint8_t *target, size_t tlen)
{
	return put_name_rr(b, sec, owner, olen, TC_DNS_TYPE_CNAME, ttl, target, tlen);
}

int tc_dns_put_ptr(struct tc_dns_builder *b, enum tc_dns_section sec, const uint8_t *owner,
		   size_t olen, uint32_t ttl, const uint8_t *target, size_t tlen)
{
	return put_name_rr(b, sec, owner, olen, TC_DNS_TYPE_PTR, ttl, target, tlen);
}

int tc_dns_put_mx(struct tc_dns_builder *b, enum tc_dns_section sec, const uint8_t *owner,
		  size_t olen, uint32_t ttl, uint16_t preference, const uint8_t *exchange,
		  size_t elen)
{
	struct rr_ctx c;
	if (rr_begin(b, sec, owner, olen, TC_DNS_TYPE_MX, TC_DNS_CLASS_IN, ttl, &c) != 0)
		return -1;
	int st = put_u16(b, preference);
	if (st == 0)
		st = tc_dns_build_name(b, exchange, elen);
	return rr_end(b, &c, st);
}

int tc_dns_put_srv(struct tc_dns_builder *b, enum tc_dns_section sec, const uint8_t *owner,
		   size_t olen, uint32_t ttl, uint16_t priority, uint16_t weight, uint16_t port,
		   const uint8_t *target, size_t tlen)
{
	struct rr_ctx c;
	if (rr_begin(b, sec, owner, olen, TC_DNS_TYPE_SRV, TC_DNS_CLASS_IN, ttl, &c) != 0)
		return -1;
	/* RFC 2782: the SRV target is never compressed. */
	int st = put_u16(b, priority);
	if (st == 0)
		st = put_u16(b, weight);
	if (st == 0)
		st = put_u16(b, port);
	if (st == 0 && tc_dns_name_wire_len(target, tlen) != tlen)
		st = -1;
	if (st == 0)
		st = put_bytes(b, target, tlen);
	return rr_end(b, &c, st);
}

int tc_dns_put_soa(struct tc_dns_builder *b, enum tc_dns_section sec, const uint8_t *owner,
		   size_t olen, uint32_t ttl, const struct tc_dns_soa *soa)
{
	struct rr_ctx c;
	if (rr_begin(b, sec, owner, olen, TC_DNS_TYPE_SOA, TC_DNS_CLASS_IN, ttl, &c) != 0)
		return -1;
	int st = tc_dns_build_name(b, soa->mname, soa->mname_len);
	if (st == 0)
		st = tc_dns_build_name(b, soa->rname, soa->rname_len);
	const uint32_t times[5] = {soa->serial, soa->refresh, soa->retry, soa->expire, soa->minimum};
	for (int i = 0; i < 5 && st == 0; i++)
		st = put_u32(b, times[i]);
	return rr_end(b, &c, st);
}

int tc_dns_put_txt(struct tc_dns_builder *b, enum tc_dns_section sec, const uint8_t *owner,
		   size_t olen, uint32_t ttl, const uint8_t *text, size_t len)
{
	struct rr_ctx c;
	if (rr_begin(b, sec, owner, olen, TC_DNS_TYPE_TXT, TC_DNS_CLASS_IN, ttl, &c) != 0)
		return -1;
	int st = 0;
	size_t off = 0;
	do {
		size_t n = len - off > 255 ? 255 : len - off;
		st = put_u8(b, (uint8_t)n);
		if (st == 0)
			st = put_bytes(b, text + off, n);
		off += n;
	} while (st == 0 && off < len);
	return rr_end(b, &c, st);
}

int tc_dns_put_caa(struct tc_dns_builder *b, enum tc_dns_section sec, const uint8_t *owner,
		   size_t olen, uint32_t ttl, uint8_t flags, const char *tag, const uint8_t *value,
		   size_t vlen)
{
	size_t tlen = strlen(tag);
	struct rr_ctx c;
	if (tlen == 0 || tlen > 255)
		return -1;
	if (rr_begin(b, sec, owner, olen, TC_DNS_TYPE_CAA, TC_DNS_CLASS_IN, ttl, &c) != 0)
		return -1;
	int st = put_u8(b, flags);
	if (st == 0)
		st = put_u8(b, (uint8_t)tlen);
	if (st == 0)
		st = put_bytes(b, tag, tlen);
	if (st == 0)
		st = put_bytes(b, value, vlen);
	return rr_end(b, &c, st);
}

int tc_dns_put_tlsa(struct tc_dns_builder *b, enum tc_dns_section sec, const uint8_t *owner,
		    size_t olen, uint32_t ttl, uint8_t usage, uint8_t selector, uint8_t mtype,
		    const uint8_t *data, size_t dlen)
{
	struct rr_ctx c;
	if (rr_begin(b, sec, owner, olen, TC_DNS_TYPE_TLSA, TC_DNS_CLASS_IN, ttl, &c) != 0)
		return -1;
	int st = put_u8(b, usage);
	if (st == 0)
		st = put_u8(b, selector);
	if (st == 0)
		st = put_u8(b, mtype);
	if (st == 0)
		st = put_bytes(b, data, dlen);
	return rr_end(b, &c, st);
}

int tc_dns_put_opt(struct tc_dns_builder *b, uint16_t udp_size, uint8_t ext_rcode,
		   uint8_t version, uint16_t edns_flags)
{
	static const uint8_t root = 0;
	uint32_t ttl = ((uint32_t)ext_rcode << 24) | ((uint32_t)version << 16) | edns_flags;
	struct rr_ctx c;
	if (rr_begin(b, TC_DNS_SEC_ADDITIONAL, &root, 1, TC_DNS_TYPE_OPT, udp_size, ttl, &c) != 0)
		return -1;
	return rr_end(b, &c, 0);
}

size_t tc_dns_rdata_soa(uint8_t *out, size_t cap, const struct tc_dns_soa *soa)
{
	size_t n = soa->mname_len + soa->rname_len + 20;
	if (n > cap)
		return 0;
	memcpy(out, soa->mname, soa->mname_len);
	memcpy(out + soa->mname_len, soa->rname, soa->rname_len);
	uint8_t *p = out + soa->mname_len + soa->rname_len;
	tc_dns_put32(p, soa->serial);
	tc_dns_put32(p + 4, soa->refresh);
	tc_dns_put32(p + 8, soa->retry);
	tc_dns_put32(p + 12, soa->expire);
	tc_dns_put32(p + 16, soa->minimum);
	return n;
}

size_t tc_dns_rdata_txt(uint8_t *out, size_t cap, const uint8_t *text, size_t len)
{
	size_t o = 0, off = 0;
	do {
		size_t n = len - off > 255 ? 255 : len - off;
		if (o + 1 + n > cap)
			return 0;
		out[o++] = (uint8_t)n;
		memcpy(out + o, text + off, n);
		o += n;
		off += n;
	} while (off < len);
	return o;
}

size_t tc_dns_rdata_caa(uint8_t *out, size_t cap, uint8_t flags, const char *tag,
			const uint8_t *value, size_t vlen)
{
	size_t tlen = strlen(tag);
	if (tlen == 0 || tlen > 255 || 2 + tlen + vlen > cap)
		return 0;
	out[0] = flags;
	out[1] = (uint8_t)tlen;
	memcpy(out + 2, tag, tlen);
	if (vlen)
		memcpy(out + 2 + tlen, value, vlen);
	return 2 + tlen + vlen;
}

size_t tc_dns_rdata_tlsa(uint8_t *out, size_t cap, uint8_t usage, uint8_t selector, uint8_t mtype,
			 const uint8_t *data, size_t dlen)
{
	if (3 + dlen > cap)
		return 0;
	out[0] = usage;
	out[1] = selector;
	out[2] = mtype;
	if (dlen)
		memcpy(out + 3, data, dlen);
	return 3 + dlen;
}
