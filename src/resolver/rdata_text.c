/* RDATA presentation parsers. Each type parser consumes exactly the fields
 * it needs and rejects leftovers, so a typo never silently becomes data. */
#include "resolver/rdata_text.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "resolver/dns_name.h"
#include "resolver/dns_wire.h"

static const struct {
	const char *name;
	uint16_t type;
} type_names[] = {
	{"A", TC_DNS_TYPE_A},       {"NS", TC_DNS_TYPE_NS},       {"CNAME", TC_DNS_TYPE_CNAME},
	{"SOA", TC_DNS_TYPE_SOA},   {"PTR", TC_DNS_TYPE_PTR},     {"HINFO", TC_DNS_TYPE_HINFO},
	{"MX", TC_DNS_TYPE_MX},     {"TXT", TC_DNS_TYPE_TXT},     {"AAAA", TC_DNS_TYPE_AAAA},
	{"SRV", TC_DNS_TYPE_SRV},   {"DS", TC_DNS_TYPE_DS},       {"SSHFP", 44},
	{"DNSKEY", TC_DNS_TYPE_DNSKEY}, {"TLSA", TC_DNS_TYPE_TLSA}, {"SVCB", 64},
	{"HTTPS", 65},              {"CAA", TC_DNS_TYPE_CAA},
};

static bool all_digits(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* Strict unsigned decimal, no sign, no spaces, at most max. */
static int parse_uint(const char *s, size_t len, uint32_t max, uint32_t *out)
{
	if (!all_digits(s, len) || len > 10)
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	if (v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int tc_dns_type_from_text(const char *s, size_t len, uint16_t *type)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
		if (strlen(type_names[i].name) == len && strncasecmp(type_names[i].name, s, len) == 0) {
			*type = type_names[i].type;
			return 0;
		}
	}
	uint32_t v;
	if (len > 4 && strncasecmp(s, "TYPE", 4) == 0 && parse_uint(s + 4, len - 4, 65535, &v) == 0) {
		*type = (uint16_t)v;
		return 0;
	}
	return -1;
}

int tc_dns_ttl_from_text(const char *s, size_t len, uint32_t *ttl)
{
	if (len == 0 || s[0] < '0' || s[0] > '9')
		return -1;
	uint64_t total = 0, cur = 0;
	bool digits = false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c >= '0' && c <= '9') {
			cur = cur * 10 + (uint64_t)(c - '0');
			digits = true;
			if (cur > 0x7fffffffu)
				return -1;
			continue;
		}
		uint64_t mult;
		switch (c) {
		case 's': case 'S': mult = 1; break;
		case 'm': case 'M': mult = 60; break;
		case 'h': case 'H': mult = 3600; break;
		case 'd': case 'D': mult = 86400; break;
		case 'w': case 'W': mult = 604800; break;
		default: return -1;
		}
		if (!digits)
			return -1;
		total += cur * mult;
		cur = 0;
		digits = false;
		if (total > 0x7fffffffu)
			return -1;
	}
	total += cur;
	if (total > 0x7fffffffu)
		return -1;
	*ttl = (uint32_t)total;
	return 0;
}

/* Character-string contents with \X and \DDD decoded; -1 on a bad escape or
 * when the result exceeds cap. */
static int unescape(const struct tc_zone_token *t, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t o = 0;
	for (size_t i = 0; i < t->len; i++) {
		uint8_t c = (uint8_t)t->s[i];
		if (c == '\\') {
			if (i + 1 >= t->len)
				return -1;
			if (t->s[i + 1] >= '0' && t->s[i + 1] <= '9') {
				uint32_t v;
				if (i + 3 >= t->len)
					return -1;
				if (parse_uint(t->s + i + 1, 3, 255, &v) != 0)
					return -1;
				c = (uint8_t)v;
				i += 3;
			} else {
				c = (uint8_t)t->s[++i];
			}
		}
		if (o >= cap)
			return -1;
		out[o++] = c;
	}
	*outlen = o;
	return 0;
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex spread over fields [first, ntok) -> out. Returns the offending field
 * index, or -1 when all is well. */
static long hex_fields(const struct tc_zone_token *tok, size_t first, size_t ntok, uint8_t *out,
		       size_t cap, size_t *outlen)
{
	size_t o = 0;
	int half = -1;
	for (size_t f = first; f < ntok; f++) {
		for (size_t i = 0; i < tok[f].len; i++) {
			int v = hex_nibble(tok[f].s[i]);
			if (v < 0)
				return (long)f;
			if (half < 0) {
				half = v;
				continue;
			}
			if (o >= cap)
				return (long)f;
			out[o++] = (uint8_t)(half << 4 | v);
			half = -1;
		}
	}
	if (half >= 0)
		return (long)(ntok - 1);
	*outlen = o;
	return -1;
}

struct rd_ctx {
	const struct tc_zone_token *tok;
	size_t ntok;
	size_t next;
	const uint8_t *origin;
	size_t olen;
	uint8_t *out;
	size_t cap;
	size_t len;
	size_t bad;
	char *why;
	size_t whylen;
};

__attribute__((format(printf, 2, 3)))
static int rd_fail(struct rd_ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->why, c->whylen, fmt, ap);
	va_end(ap);
	return -1;
}

static const struct tc_zone_token *field(struct rd_ctx *c, const char *what)
{
	if (c->next >= c->ntok) {
		c->bad = c->ntok;
		rd_fail(c, "missing %s", what);
		return NULL;
	}
	c->bad = c->next;
	return &c->tok[c->next++];
}

static int emit(struct rd_ctx *c, const void *p, size_t n)
{
	if (n > c->cap - c->len)
		return rd_fail(c, "RDATA too long");
	memcpy(c->out + c->len, p, n);
	c->len += n;
	return 0;
}

static int rd_uint(struct rd_ctx *c, const char *what, unsigned bytes)
{
	const struct tc_zone_token *t = field(c, what);
	uint32_t v;
	uint32_t max = bytes == 1 ? 0xff : bytes == 2 ? 0xffff : 0xffffffffu;
	if (!t)
		return -1;
	if (parse_uint(t->s, t->len, max, &v) != 0)
		return rd_fail(c, "bad %s '%.*s'", what, (int)(t->len > 64 ? 64 : t->len), t->s);
	uint8_t b[4];
	tc_dns_put32(b, v);
	return emit(c, b + 4 - bytes, bytes);
}

/* SOA timers accept TTL-style units. */
static int rd_time(struct rd_ctx *c, const char *what)
{
	const struct tc_zone_token *t = field(c, what);
	uint32_t v;
	if (!t)
		return -1;
	if (parse_uint(t->s, t->len, 0xffffffffu, &v) != 0 && tc_dns_ttl_from_text(t->s, t->len, &v) != 0)
		return rd_fail(c, "bad %s '%.*s'", what, (int)(t->len > 64 ? 64 : t->len), t->s);
	uint8_t b[4];
	tc_dns_put32(b, v);
	return emit(c, b, 4);
}

static int rd_name(struct rd_ctx *c, const char *what)
{
	const struct tc_zone_token *t = field(c, what);
	uint8_t name[TC_DNS_MAX_NAME];
	size_t nlen;
	const char *why;
	if (!t)
		return -1;
	if (tc_dns_name_from_text(t->s, t->len, c->origin, c->olen, name, &nlen, &why) != 0)
		return rd_fail(c, "bad %s: %s", what, why);
	return emit(c, name, nlen);
}

static int rd_addr(struct rd_ctx *c, int af)
{
	const struct tc_zone_token *t = field(c, "address");
	char text[64];
	uint8_t addr[16];
	if (!t)
		return -1;
	if (t->len >= sizeof(text))
		return rd_fail(c, "bad address");
	memcpy(text, t->s, t->len);
	text[t->len] = '\0';
	if (inet_pton(af, text, addr) != 1)
		return rd_fail(c, "bad %s address '%s'", af == AF_INET ? "IPv4" : "IPv6", text);
	return emit(c, addr, af == AF_INET ? 4 : 16);
}

static int rd_txt(struct rd_ctx *c)
{
	if (c->next >= c->ntok) {
		c->bad = c->ntok;
		return rd_fail(c, "TXT needs at least one string");
	}
	while (c->next < c->ntok) {
		const struct tc_zone_token *t = field(c, "string");
		uint8_t s[256];
		size_t n;
		if (unescape(t, s + 1, 255, &n) != 0)
			return rd_fail(c, "bad escape or string longer than 255 octets");
		s[0] = (uint8_t)n;
		if (emit(c, s, n + 1) != 0)
			return -1;
	}
	return 0;
}

static int rd_caa(struct rd_ctx *c)
{
	if (rd_uint(c, "CAA flags", 1) != 0)
		return -1;
	const struct tc_zone_token *t = field(c, "CAA tag");
	if (!t)
		return -1;
	if (t->len == 0 || t->len > 15)
		return rd_fail(c, "CAA tag must be 1-15 letters or digits");
	for (size_t i = 0; i < t->len; i++) {
		char ch = t->s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')))
			return rd_fail(c, "CAA tag must be 1-15 letters or digits");
	}
	uint8_t tl = (uint8_t)t->len;
	if (emit(c, &tl, 1) != 0 || emit(c, t->s, t->len) != 0)
		return -1;
	t = field(c, "CAA value");
	if (!t)
		return -1;
	size_t n;
	if (unescape(t, c->out + c->len, c->cap - c->len, &n) != 0)
		return rd_fail(c, "bad CAA value");
	c->len += n;
	return 0;
}

static int rd_generic(struct rd_ctx *c)
{
	c->next++;   /* the "\#" marker */
	const struct tc_zone_token *t = field(c, "RDATA length");
	uint32_t want;
	if (!t)
		return -1;
	if (parse_uint(t->s, t->len, 65535, &want) != 0)
		return rd_fail(c, "bad RDATA length");
	size_t got = 0;
	long badf = hex_fields(c->tok, c->next, c->ntok, c->out, c->cap, &got);
	if (badf >= 0) {
		c->bad = (size_t)badf;
		return rd_fail(c, "bad hex RDATA");
	}
	if (got != want) {
		c->bad = c->ntok ? c->ntok - 1 : 0;
		return rd_fail(c, "RDATA length %u does not match %zu hex octets", (unsigned)want, got);
	}
	c->len = got;
	c->next = c->ntok;
	return 0;
}

static int rd_tlsa(struct rd_ctx *c)
{
	if (rd_uint(c, "TLSA usage", 1) != 0 || rd_uint(c, "TLSA selector", 1) != 0 ||
	    rd_uint(c, "TLSA matching type", 1) != 0)
		return -1;
	if (c->next >= c->ntok) {
		c->bad = c->ntok;
		return rd_fail(c, "missing TLSA certificate data");
	}
	size_t got = 0;
	long badf = hex_fields(c->tok, c->next, c->ntok, c->out + c->len, c->cap - c->len, &got);
	if (badf >= 0) {
		c->bad = (size_t)badf;
		return rd_fail(c, "bad hex in TLSA certificate data");
	}
	c->len += got;
	c->next = c->ntok;
	return 0;
}

int tc_rdata_from_text(uint16_t type, const struct tc_zone_token *tok, size_t ntok,
		       const uint8_t *origin, size_t olen, uint8_t *out, size_t cap,
		       size_t *outlen, size_t *bad, char *why, size_t whylen)
{
	struct rd_ctx c = {.tok = tok, .ntok = ntok, .origin = origin, .olen = olen, .out = out,
			   .cap = cap, .why = why, .whylen = whylen};
	int rc;
	if (ntok && !tok[0].quoted && tok[0].len == 2 && tok[0].s[0] == '\\' && tok[0].s[1] == '#') {
		rc = rd_generic(&c);
	} else {
		switch (type) {
		case TC_DNS_TYPE_A: rc = rd_addr(&c, AF_INET); break;
		case TC_DNS_TYPE_AAAA: rc = rd_addr(&c, AF_INET6); break;
		case TC_DNS_TYPE_NS:
		case TC_DNS_TYPE_CNAME:
		case TC_DNS_TYPE_PTR: rc = rd_name(&c, "target name"); break;
		case TC_DNS_TYPE_MX:
			rc = rd_uint(&c, "MX preference", 2);
			if (rc == 0)
				rc = rd_name(&c, "MX exchange");
			break;
		case TC_DNS_TYPE_SRV:
			rc = rd_uint(&c, "SRV priority", 2);
			if (rc == 0)
				rc = rd_uint(&c, "SRV weight", 2);
			if (rc == 0)
				rc = rd_uint(&c, "SRV port", 2);
			if (rc == 0)
				rc = rd_name(&c, "SRV target");
			break;
		case TC_DNS_TYPE_SOA:
			rc = rd_name(&c, "SOA mname");
			if (rc == 0)
				rc = rd_name(&c, "SOA rname");
			if (rc == 0)
				rc = rd_uint(&c, "SOA serial", 4);
			if (rc == 0)
				rc = rd_time(&c, "SOA refresh");
			if (rc == 0)
				rc = rd_time(&c, "SOA retry");
			if (rc == 0)
				rc = rd_time(&c, "SOA expire");
			if (rc == 0)
				rc = rd_time(&c, "SOA minimum");
			break;
		case TC_DNS_TYPE_TXT: rc = rd_txt(&c); break;
		case TC_DNS_TYPE_CAA: rc = rd_caa(&c); break;
		case TC_DNS_TYPE_TLSA: rc = rd_tlsa(&c); break;
		default:
			c.bad = 0;
			rc = rd_fail(&c, "no text parser for TYPE%u: use the \\# generic form", type);
			break;
		}
	}
	if (rc != 0) {
		*bad = c.bad;
		return -1;
	}
	if (c.next < ntok) {
		*bad = c.next;
		snprintf(why, whylen, "unexpected extra field");
		return -1;
	}
	*outlen = c.len;
	return 0;
}
