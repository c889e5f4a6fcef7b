/* DNS presentation output: see dns_print.h. */
#include "ctl/dns_print.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/base64.h"

#include "resolver/dns_name.h"

struct tbuf {
	char *p;
	size_t cap, len;
	int overflow;
};

static void put(struct tbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct tbuf *b, const char *fmt, ...)
{
	if (b->len >= b->cap) {
		b->overflow = 1;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->len = b->cap - 1;
		b->overflow = 1;
		return;
	}
	b->len += (size_t)n;
}

const char *tc_dns_type_text(uint16_t type, char buf[16])
{
	static const struct {
		uint16_t type;
		const char *name;
	} names[] = {
		{TC_DNS_TYPE_A, "A"},         {TC_DNS_TYPE_NS, "NS"},       {TC_DNS_TYPE_CNAME, "CNAME"},
		{TC_DNS_TYPE_SOA, "SOA"},     {TC_DNS_TYPE_PTR, "PTR"},     {TC_DNS_TYPE_HINFO, "HINFO"},
		{TC_DNS_TYPE_MX, "MX"},       {TC_DNS_TYPE_TXT, "TXT"},     {TC_DNS_TYPE_AAAA, "AAAA"},
		{TC_DNS_TYPE_SRV, "SRV"},     {TC_DNS_TYPE_OPT, "OPT"},     {TC_DNS_TYPE_DS, "DS"},
		{TC_DNS_TYPE_RRSIG, "RRSIG"}, {TC_DNS_TYPE_NSEC, "NSEC"},   {TC_DNS_TYPE_DNSKEY, "DNSKEY"},
		{TC_DNS_TYPE_TLSA, "TLSA"},   {TC_DNS_TYPE_AXFR, "AXFR"},   {TC_DNS_TYPE_IXFR, "IXFR"},
		{TC_DNS_TYPE_ANY, "ANY"},     {TC_DNS_TYPE_CAA, "CAA"},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].type == type)
			return names[i].name;
	snprintf(buf, 16, "TYPE%u", type);
	return buf;
}

const char *tc_dns_rcode_text(unsigned rcode, char buf[16])
{
	static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
					    "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
					    "NOTZONE"};
	if (rcode < sizeof(names) / sizeof(names[0]))
		return names[rcode];
	if (rcode == TC_DNS_RCODE_BADVERS)
		return "BADVERS";
	snprintf(buf, 16, "RCODE%u", rcode);
	return buf;
}

static const char *class_text(uint16_t c, char buf[16])
{
	if (c == TC_DNS_CLASS_IN)
		return "IN";
	if (c == TC_DNS_CLASS_CH)
		return "CH";
	if (c == TC_DNS_CLASS_ANY)
		return "ANY";
	snprintf(buf, 16, "CLASS%u", c);
	return buf;
}

/* A (possibly compressed) name at *off in msg, as text; -1 if malformed. */
static int name_at(const uint8_t *msg, size_t len, size_t *off, size_t end, struct tbuf *b)
{
	uint8_t name[TC_DNS_MAX_NAME];
	size_t nlen;
	if (tc_dns_read_name(msg, len, off, name, &nlen) != TC_DNS_OK || *off > end)
		return -1;
	char text[4 * TC_DNS_MAX_NAME + 2];
	tc_dns_name_to_text(name, nlen, text, sizeof(text));
	put(b, "%s", text);
	return 0;
}

/* One <character-string> at *off, quoted with RFC 1035 escapes. */
static int charstr_at(const uint8_t *msg, size_t *off, size_t end, struct tbuf *b)
{
	if (*off >= end || *off + 1 + msg[*off] > end)
		return -1;
	size_t n = msg[*off];
	const uint8_t *p = msg + *off + 1;
	put(b, "\"");
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\')
			put(b, "\\%c", p[i]);
		else if (p[i] < 0x20 || p[i] > 0x7e)
			put(b, "\\%03u", p[i]);
		else
			put(b, "%c", p[i]);
	}
	put(b, "\"");
	*off += 1 + n;
	return 0;
}

static void hex_at(const uint8_t *p, size_t n, struct tbuf *b)
{
	for (size_t i = 0; i < n; i++)
		put(b, "%02X", p[i]);
}

static int base64_at(const uint8_t *p, size_t n, struct tbuf *b)
{
	char *text = tc_base64_encode(p, n);
	if (!text)
		return -1;
	put(b, "%s", text);
	free(text);
	return 0;
}

/* RFC 4034 §3.2: YYYYMMDDHHmmSS in UTC. */
static void sigtime_at(uint32_t t, struct tbuf *b)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char text[32];
	if (gmtime_r(&tt, &tm) && strftime(text, sizeof(text), "%Y%m%d%H%M%S", &tm))
		put(b, "%s", text);
	else
		put(b, "%u", t);
}

/* RFC 4034 §4.1.2 type bit maps as mnemonics; -1 when malformed. */
static int type_bitmap_at(const uint8_t *p, size_t n, struct tbuf *b)
{
	size_t i = 0;
	while (i < n) {
		if (n - i < 2 || p[i + 1] == 0 || p[i + 1] > 32 || n - i - 2 < p[i + 1])
			return -1;
		unsigned window = p[i];
		size_t blen = p[i + 1];
		for (size_t k = 0; k < blen; k++)
			for (unsigned bit = 0; bit < 8; bit++)
				if (p[i + 2 + k] & (0x80 >> bit)) {
					char tb[16];
					put(b, " %s",
					    tc_dns_type_text((uint16_t)(window * 256 + k * 8 + bit), tb));
				}
		i += 2 + blen;
	}
	return 0;
}

static int rdata_typed(const uint8_t *msg, size_t len, const struct tc_dns_rr *rr, struct tbuf *b)
{
	size_t off = rr->rdata_off, end = rr->rdata_off + rr->rdlen;
	const uint8_t *p = msg + off;
	char addr[INET6_ADDRSTRLEN];
	switch (rr->type) {
	case TC_DNS_TYPE_A:
		if (rr->rdlen != 4 || !inet_ntop(AF_INET, p, addr, sizeof(addr)))
			return -1;
		put(b, "%s", addr);
		return 0;
	case TC_DNS_TYPE_AAAA:
		if (rr->rdlen != 16 || !inet_ntop(AF_INET6, p, addr, sizeof(addr)))
			return -1;
		put(b, "%s", addr);
		return 0;
	case TC_DNS_TYPE_NS:
	case TC_DNS_TYPE_CNAME:
	case TC_DNS_TYPE_PTR:
		return name_at(msg, len, &off, end, b) == 0 && off == end ? 0 : -1;
	case TC_DNS_TYPE_MX:
		if (rr->rdlen < 3)
			return -1;
		put(b, "%u ", tc_dns_get16(p));
		off += 2;
		return name_at(msg, len, &off, end, b) == 0 && off == end ? 0 : -1;
	case TC_DNS_TYPE_SRV:
		if (rr->rdlen < 7)
			return -1;
		put(b, "%u %u %u ", tc_dns_get16(p), tc_dns_get16(p + 2), tc_dns_get16(p + 4));
		off += 6;
		return name_at(msg, len, &off, end, b) == 0 && off == end ? 0 : -1;
	case TC_DNS_TYPE_SOA:
		if (name_at(msg, len, &off, end, b) != 0)
			return -1;
		put(b, " ");
		if (name_at(msg, len, &off, end, b) != 0 || end - off != 20)
			return -1;
		p = msg + off;
		put(b, " %u %u %u %u %u", tc_dns_get32(p), tc_dns_get32(p + 4), tc_dns_get32(p + 8),
		    tc_dns_get32(p + 12), tc_dns_get32(p + 16));
		return 0;
	case TC_DNS_TYPE_TXT:
		if (rr->rdlen == 0)
			return -1;
		for (int first = 1; off < end; first = 0) {
			if (!first)
				put(b, " ");
			if (charstr_at(msg, &off, end, b) != 0)
				return -1;
		}
		return 0;
	case TC_DNS_TYPE_CAA: {
		if (rr->rdlen < 2 || p[1] == 0 || 2u + p[1] > rr->rdlen)
			return -1;
		put(b, "%u %.*s \"", p[0], (int)p[1], (const char *)p + 2);
		for (size_t i = 2u + p[1]; i < rr->rdlen; i++) {
			if (p[i] == '"' || p[i] == '\\')
				put(b, "\\%c", p[i]);
			else if (p[i] < 0x20 || p[i] > 0x7e)
				put(b, "\\%03u", p[i]);
			else
				put(b, "%c", p[i]);
		}
		put(b, "\"");
		return 0;
	}
	case TC_DNS_TYPE_DNSKEY:
		if (rr->rdlen < 5)
			return -1;
		put(b, "%u %u %u ", tc_dns_get16(p), p[2], p[3]);
		return base64_at(p + 4, rr->rdlen - 4u, b);
	case TC_DNS_TYPE_RRSIG: {
		if (rr->rdlen < 19)
			return -1;
		char tb[16];
		put(b, "%s %u %u %u ", tc_dns_type_text(tc_dns_get16(p), tb), p[2], p[3],
		    tc_dns_get32(p + 4));
		sigtime_at(tc_dns_get32(p + 8), b);
		put(b, " ");
		sigtime_at(tc_dns_get32(p + 12), b);
		put(b, " %u ", tc_dns_get16(p + 16));
		off += 18;
		if (name_at(msg, len, &off, end, b) != 0 || off >= end)
			return -1;
		put(b, " ");
		return base64_at(msg + off, end - off, b);
	}
	case TC_DNS_TYPE_NSEC:
		if (name_at(msg, len, &off, end, b) != 0)
			return -1;
		return type_bitmap_at(msg + off, end - off, b);
	case TC_DNS_TYPE_TLSA:
	case TC_DNS_TYPE_DS:
		if (rr->rdlen < (rr->type == TC_DNS_TYPE_TLSA ? 4 : 5))
			return -1;
		if (rr->type == TC_DNS_TYPE_TLSA) {
			put(b, "%u %u %u ", p[0], p[1], p[2]);
			hex_at(p + 3, rr->rdlen - 3u, b);
		} else {
			put(b, "%u %u %u ", tc_dns_get16(p), p[2], p[3]);
			hex_at(p + 4, rr->rdlen - 4u, b);
		}
		return 0;
	}
	return -1;
}

int tc_dns_rdata_text(const uint8_t *msg, size_t len, const struct tc_dns_rr *rr, char *out,
		      size_t cap)
{
	struct tbuf b = {out, cap, 0, 0};
	if (cap == 0 || rr->rdata_off + rr->rdlen > len)
		return -1;
	out[0] = '\0';
	if (rdata_typed(msg, len, rr, &b) == 0 && !b.overflow)
		return 0;
	/* RFC 3597 §5 generic form. */
	b.len = 0;
	b.overflow = 0;
	put(&b, "\\# %u", rr->rdlen);
	if (rr->rdlen)
		put(&b, " ");
	hex_at(msg + rr->rdata_off, rr->rdlen, &b);
	return b.overflow ? -1 : 0;
}

static void print_flags(FILE *out, uint16_t flags)
{
	static const struct {
		uint16_t bit;
		const char *name;
	} bits[] = {
		{TC_DNS_FLAG_QR, "qr"}, {TC_DNS_FLAG_AA, "aa"}, {TC_DNS_FLAG_TC, "tc"},
		{TC_DNS_FLAG_RD, "rd"}, {TC_DNS_FLAG_RA, "ra"}, {TC_DNS_FLAG_AD, "ad"},
		{TC_DNS_FLAG_CD, "cd"},
	};
	fprintf(out, ";; flags:");
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (flags & bits[i].bit)
			fprintf(out, " %s", bits[i].name);
}

static const char *const section_names[] = {"QUESTION", "ANSWER", "AUTHORITY", "ADDITIONAL"};

int tc_dns_print_message(FILE *out, const uint8_t *msg, size_t len)
{
	char t1[16], t2[16];
	if (len < TC_DNS_HEADER_LEN) {
		fprintf(out, ";; malformed message: %zu octets, no header\n", len);
		return -1;
	}
	uint16_t id = tc_dns_get16(msg), flags = tc_dns_get16(msg + 2);
	uint16_t counts[4] = {tc_dns_get16(msg + 4), tc_dns_get16(msg + 6), tc_dns_get16(msg + 8),
			      tc_dns_get16(msg + 10)};
	/* The extended RCODE's upper bits travel in the OPT record (RFC 6891):
	 * find it first so the header line shows the whole RCODE. */
	unsigned ext_rcode = 0;
	struct tc_dns_msg parsed;
	if (tc_dns_parse(msg, len, &parsed) == TC_DNS_OK && parsed.has_edns)
		ext_rcode = parsed.edns_ext_rcode;
	unsigned opcode = TC_DNS_OPCODE(flags);
	fprintf(out, ";; ->>HEADER<<- opcode: %s, status: %s, id: %u\n",
		opcode == 0 ? "QUERY" : opcode == 4 ? "NOTIFY" : opcode == 5 ? "UPDATE" : "OTHER",
		tc_dns_rcode_text((ext_rcode << 4) | TC_DNS_RCODE(flags), t1), id);
	print_flags(out, flags);
	fprintf(out, "; QUERY: %u, ANSWER: %u, AUTHORITY: %u, ADDITIONAL: %u\n", counts[0],
		counts[1], counts[2], counts[3]);

	size_t off = TC_DNS_HEADER_LEN;
	char text[4 * TC_DNS_MAX_NAME + 2];
	/* The longest RDATA text is the generic form of 65535 octets. */
	size_t rdcap = 2 * 65536 + 64;
	char *rdata_buf = malloc(rdcap);
	if (!rdata_buf)
		return -1;
	int rc = -1;
	for (int sec = 0; sec < 4; sec++) {
		bool header_done = false;
		for (unsigned i = 0; i < counts[sec]; i++) {
			if (sec == TC_DNS_SEC_QUESTION) {
				uint8_t name[TC_DNS_MAX_NAME];
				size_t nlen;
				if (tc_dns_read_name(msg, len, &off, name, &nlen) != TC_DNS_OK ||
				    off + 4 > len)
					goto malformed;
				tc_dns_name_to_text(name, nlen, text, sizeof(text));
				if (!header_done) {
					fprintf(out, "\n;; %s SECTION:\n", section_names[sec]);
					header_done = true;
				}
				fprintf(out, ";%s\t\t%s\t%s\n", text,
					class_text(tc_dns_get16(msg + off + 2), t2),
					tc_dns_type_text(tc_dns_get16(msg + off), t1));
				off += 4;
				continue;
			}
			struct tc_dns_rr rr;
			if (tc_dns_read_rr(msg, len, &off, &rr) != TC_DNS_OK)
				goto malformed;
			if (rr.type == TC_DNS_TYPE_OPT) {
				fprintf(out, "\n;; OPT PSEUDOSECTION:\n; EDNS: version: %u, flags:%s; udp: %u\n",
					(rr.ttl >> 16) & 0xff, (rr.ttl & TC_DNS_EDNS_FLAG_DO) ? " do" : "",
					rr.rclass);
				continue;
			}
			if (!header_done) {
				fprintf(out, "\n;; %s SECTION:\n", section_names[sec]);
				header_done = true;
			}
			tc_dns_name_to_text(rr.name, rr.name_len, text, sizeof(text));
			if (tc_dns_rdata_text(msg, len, &rr, rdata_buf, rdcap) != 0)
				goto malformed;
			fprintf(out, "%s\t%u\t%s\t%s\t%s\n", text, rr.ttl, class_text(rr.rclass, t2),
				tc_dns_type_text(rr.type, t1), rdata_buf);
		}
	}
	if (off != len)
		fprintf(out, ";; %zu octets after the last record\n", len - off);
	rc = off == len ? 0 : -1;
	free(rdata_buf);
	return rc;
malformed:
	fprintf(out, ";; malformed message at offset %zu\n", off);
	free(rdata_buf);
	return -1;
}
