/* DNS wire format: the strict reader (every malformed-input class), the
 * builder's compression and typed record writers, and name helpers. */
#include <stdlib.h>
#include <string.h>

#include "resolver/dns_build.h"
#include "resolver/dns_name.h"
#include "resolver/dns_wire.h"
#include "unit/cunit_main.h"

/* Copies bytes into an exact-size heap buffer so ASan catches over-reads. */
static enum tc_dns_err parse_exact(const uint8_t *bytes, size_t len, struct tc_dns_msg *m)
{
	uint8_t *copy = malloc(len ? len : 1);
	CU_ASSERT_FATAL(copy != NULL);
	memcpy(copy, bytes, len);
	enum tc_dns_err e = tc_dns_parse(copy, len, m);
	free(copy);
	return e;
}

#define HDR(qd, an, ns, ar) 0x12, 0x34, 0x01, 0x00, 0, qd, 0, an, 0, ns, 0, ar
#define QNAME_EXAMPLE 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0

static void test_parse_ok(void)
{
	static const uint8_t q[] = {HDR(1, 0, 0, 1), QNAME_EXAMPLE, 0, 1, 0, 1,
				    /* OPT: root, type 41, size 4096, ext 0, ver 0, DO, one cookie option */
				    0, 0, 41, 0x10, 0x00, 0, 0, 0x80, 0x00, 0, 12, 0, 10, 0, 8,
				    1, 2, 3, 4, 5, 6, 7, 8};
	struct tc_dns_msg m;
	CU_ASSERT_EQUAL(parse_exact(q, sizeof(q), &m), TC_DNS_OK);
	CU_ASSERT_EQUAL(m.id, 0x1234);
	CU_ASSERT_EQUAL(m.flags, 0x0100);
	CU_ASSERT_EQUAL(m.qdcount, 1);
	CU_ASSERT_EQUAL(m.arcount, 1);
	CU_ASSERT_EQUAL(m.qname_len, 13);
	CU_ASSERT(memcmp(m.qname, q + 12, 13) == 0);
	CU_ASSERT_EQUAL(m.qtype, 1);
	CU_ASSERT_EQUAL(m.qclass, 1);
	CU_ASSERT(m.has_edns);
	CU_ASSERT_EQUAL(m.edns_udp_size, 4096);
	CU_ASSERT_EQUAL(m.edns_version, 0);
	CU_ASSERT_EQUAL(m.edns_flags, TC_DNS_EDNS_FLAG_DO);
	CU_ASSERT(!m.edns_tcp_keepalive);

	/* Every shorter prefix is rejected, never read past. */
	for (size_t len = 0; len < sizeof(q); len++)
		CU_ASSERT_NOT_EQUAL(parse_exact(q, len, &m), TC_DNS_OK);
}

static void test_parse_header_and_counts(void)
{
	static const uint8_t short_hdr[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0};
	struct tc_dns_msg m;
	CU_ASSERT_EQUAL(parse_exact(short_hdr, sizeof(short_hdr), &m), TC_DNS_ERR_SHORT_HEADER);
	CU_ASSERT(tc_dns_err_is_drop(TC_DNS_ERR_SHORT_HEADER));
	CU_ASSERT(!tc_dns_err_is_drop(TC_DNS_ERR_COUNTS));

	static const uint8_t counts[] = {0x12, 0x34, 0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					 0xff, 0xff, QNAME_EXAMPLE, 0, 1, 0, 1};
	CU_ASSERT_EQUAL(parse_exact(counts, sizeof(counts), &m), TC_DNS_ERR_COUNTS);
	static const uint8_t two_q[] = {HDR(2, 0, 0, 0), QNAME_EXAMPLE, 0, 1, 0, 1};
	CU_ASSERT_EQUAL(parse_exact(two_q, sizeof(two_q), &m), TC_DNS_ERR_TRUNCATED);
	static const uint8_t ar_claimed[] = {HDR(1, 0, 0, 1), QNAME_EXAMPLE, 0, 1, 0, 1, 0, 0, 0, 0, 0};
	CU_ASSERT_EQUAL(parse_exact(ar_claimed, sizeof(ar_claimed), &m), TC_DNS_ERR_TRUNCATED);
	static const uint8_t trailing[] = {HDR(1, 0, 0, 0), QNAME_EXAMPLE, 0, 1, 0, 1, 0xde, 0xad};
	CU_ASSERT_EQUAL(parse_exact(trailing, sizeof(trailing), &m), TC_DNS_ERR_TRAILING);
	static const uint8_t no_type[] = {HDR(1, 0, 0, 0), QNAME_EXAMPLE, 0, 1};
	CU_ASSERT_EQUAL(parse_exact(no_type, sizeof(no_type), &m), TC_DNS_ERR_TRUNCATED);
	static const uint8_t no_type2[] = {HDR(1, 0, 0, 0), 1, 'a', 0, 0, 1, 0};
	CU_ASSERT_EQUAL(parse_exact(no_type2, sizeof(no_type2), &m), TC_DNS_ERR_TRUNCATED);
	static const uint8_t zero_q[] = {HDR(0, 0, 0, 0)};
	CU_ASSERT_EQUAL(parse_exact(zero_q, sizeof(zero_q), &m), TC_DNS_OK);
	CU_ASSERT_EQUAL(m.qname_len, 0);
	/* A record whose RDLENGTH runs past the end. */
	static const uint8_t rdlen[] = {HDR(1, 1, 0, 0), QNAME_EXAMPLE, 0, 1, 0, 1,
					0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 5, 1, 2, 3, 4};
	CU_ASSERT_EQUAL(parse_exact(rdlen, sizeof(rdlen), &m), TC_DNS_ERR_TRUNCATED);
}

static void test_parse_labels(void)
{
	struct tc_dns_msg m;
	static const uint8_t ext40[] = {HDR(1, 0, 0, 0), 0x41, 'a', 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0,
					0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	CU_ASSERT_EQUAL(parse_exact(ext40, sizeof(ext40), &m), TC_DNS_ERR_LABEL_TYPE);
	static const uint8_t ext80[] = {HDR(1, 0, 0, 0), 0x80, 'a', 0, 0, 1, 0, 1};
	CU_ASSERT_EQUAL(parse_exact(ext80, sizeof(ext80), &m), TC_DNS_ERR_LABEL_TYPE);
	static const uint8_t lab_past_end[] = {HDR(1, 0, 0, 0), 10, 'a', 'b', 0, 0, 1};
	CU_ASSERT_EQUAL(parse_exact(lab_past_end, sizeof(lab_past_end), &m), TC_DNS_ERR_TRUNCATED);

	/* 256 octets: four 63-octet labels = 256 with their length octets + root. */
	uint8_t longname[12 + 4 * 64 + 1 + 4];
	static const uint8_t h[] = {HDR(1, 0, 0, 0)};
	memcpy(longname, h, 12);
	size_t o = 12;
	for (int l = 0; l < 4; l++) {
		longname[o++] = 63;
		memset(longname + o, 'x', 63);
		o += 63;
	}
	longname[o++] = 0;
	memcpy(longname + o, "\0\1\0\1", 4);
	o += 4;
	CU_ASSERT_EQUAL(parse_exact(longname, o, &m), TC_DNS_ERR_NAME_TOO_LONG);
	/* 255 exactly is fine: shorten the last label by two. */
	longname[12 + 3 * 64] = 61;
	memmove(longname + 12 + 3 * 64 + 62, longname + 12 + 3 * 64 + 64, 5);
	CU_ASSERT_EQUAL(parse_exact(longname, o - 2, &m), TC_DNS_OK);
	CU_ASSERT_EQUAL(m.qname_len, 255);
}

static void test_parse_pointers(void)
{
	struct tc_dns_msg m;
	/* Forward pointer in the question. */
	static const uint8_t fwd[] = {HDR(1, 0, 0, 0), 0xc0, 20, 0, 1, 0, 1, 1, 'a', 0};
	CU_ASSERT_EQUAL(parse_exact(fwd, sizeof(fwd), &m), TC_DNS_ERR_POINTER);
	/* Pointer to itself. */
	static const uint8_t self[] = {HDR(1, 0, 0, 0), 0xc0, 12, 0, 1, 0, 1};
	CU_ASSERT_EQUAL(parse_exact(self, sizeof(self), &m), TC_DNS_ERR_POINTER);
	/* Pointer into the header. */
	static const uint8_t hdr[] = {HDR(1, 0, 0, 0), 0xc0, 2, 0, 1, 0, 1};
	CU_ASSERT_EQUAL(parse_exact(hdr, sizeof(hdr), &m), TC_DNS_ERR_POINTER);
	/* Label then pointer back to the same name's start: a loop. */
	static const uint8_t loop[] = {HDR(1, 1, 0, 0), QNAME_EXAMPLE, 0, 1, 0, 1,
				       1, 'a', 0xc0, 29, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0};
	CU_ASSERT_EQUAL(parse_exact(loop, sizeof(loop), &m), TC_DNS_ERR_POINTER);
	/* A pointer cut off after its first octet. */
	static const uint8_t cut[] = {HDR(1, 0, 0, 0), 1, 'a', 1, 'b', 0xc0};
	CU_ASSERT_EQUAL(parse_exact(cut, sizeof(cut), &m), TC_DNS_ERR_TRUNCATED);
	/* A valid backward pointer to the question name. */
	static const uint8_t ok[] = {HDR(1, 1, 0, 0), QNAME_EXAMPLE, 0, 1, 0, 1,
				     3, 'w', 'w', 'w', 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4};
	CU_ASSERT_EQUAL(parse_exact(ok, sizeof(ok), &m), TC_DNS_OK);
	size_t off = 29;
	uint8_t name[TC_DNS_MAX_NAME];
	size_t nlen;
	CU_ASSERT_EQUAL(tc_dns_read_name(ok, sizeof(ok), &off, name, &nlen), TC_DNS_OK);
	CU_ASSERT_EQUAL(off, 35);
	CU_ASSERT(nlen == 17 && memcmp(name, "\3www\7example\3com", 17) == 0);

	/* A chain of pointers, each to the one before, longer than the hop
	 * limit: built inside the RDATA of a private-type record. */
	size_t chain = TC_DNS_MAX_PTR_HOPS + 2;
	size_t len = 12 + 13 + 4 + (13 + 10 + 2 * chain) + (2 + 10);
	uint8_t *msg = calloc(1, len);
	CU_ASSERT_FATAL(msg != NULL);
	static const uint8_t h1[] = {HDR(1, 0, 0, 2), QNAME_EXAMPLE, 0, 1, 0, 1};
	memcpy(msg, h1, sizeof(h1));
	size_t o = sizeof(h1);
	memcpy(msg + o, "\7example\3com", 13);
	o += 13;
	tc_dns_put16(msg + o, 65280);
	tc_dns_put16(msg + o + 2, 1);
	tc_dns_put16(msg + o + 8, (uint16_t)(2 * chain));
	o += 10;
	size_t first = o;
	tc_dns_put16(msg + o, (uint16_t)(0xc000 | 12));   /* -> question name */
	o += 2;
	for (size_t i = 1; i < chain; i++, o += 2)
		tc_dns_put16(msg + o, (uint16_t)(0xc000 | (o - 2)));
	tc_dns_put16(msg + o, (uint16_t)(0xc000 | (o - 2)));   /* owner of the last record */
	o += 2;
	tc_dns_put16(msg + o, 65280);
	tc_dns_put16(msg + o + 2, 1);
	o += 10;
	CU_ASSERT_EQUAL(o, len);
	CU_ASSERT_EQUAL(parse_exact(msg, len, &m), TC_DNS_ERR_POINTER_LOOP);
	/* Starting further down the chain: exactly the hop limit is accepted,
	 * one more is not. */
	off = first + 2 * (TC_DNS_MAX_PTR_HOPS - 1);
	CU_ASSERT_EQUAL(tc_dns_read_name(msg, len, &off, name, &nlen), TC_DNS_OK);
	CU_ASSERT_EQUAL(nlen, 13);
	off = first + 2 * TC_DNS_MAX_PTR_HOPS;
	CU_ASSERT_EQUAL(tc_dns_read_name(msg, len, &off, name, &nlen), TC_DNS_ERR_POINTER_LOOP);
	free(msg);
}

static void test_parse_opt(void)
{
	struct tc_dns_msg m;
	static const uint8_t in_answer[] = {HDR(1, 1, 0, 0), QNAME_EXAMPLE, 0, 1, 0, 1,
					    0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0};
	CU_ASSERT_EQUAL(parse_exact(in_answer, sizeof(in_answer), &m), TC_DNS_ERR_OPT);
	static const uint8_t twice[] = {HDR(1, 0, 0, 2), QNAME_EXAMPLE, 0, 1, 0, 1,
					0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0,
					0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0};
	CU_ASSERT_EQUAL(parse_exact(twice, sizeof(twice), &m), TC_DNS_ERR_OPT);
	static const uint8_t owner[] = {HDR(1, 0, 0, 1), QNAME_EXAMPLE, 0, 1, 0, 1,
					0xc0, 12, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0};
	CU_ASSERT_EQUAL(parse_exact(owner, sizeof(owner), &m), TC_DNS_ERR_OPT);
	static const uint8_t badopt[] = {HDR(1, 0, 0, 1), QNAME_EXAMPLE, 0, 1, 0, 1,
					 0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 6, 0, 10, 0, 8, 1, 2};
	CU_ASSERT_EQUAL(parse_exact(badopt, sizeof(badopt), &m), TC_DNS_ERR_OPT);
	static const uint8_t shortopt[] = {HDR(1, 0, 0, 1), QNAME_EXAMPLE, 0, 1, 0, 1,
					   0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 3, 0, 10, 0};
	CU_ASSERT_EQUAL(parse_exact(shortopt, sizeof(shortopt), &m), TC_DNS_ERR_OPT);
	static const uint8_t keepalive[] = {HDR(1, 0, 0, 1), QNAME_EXAMPLE, 0, 1, 0, 1,
					    0, 0, 41, 0x04, 0xd0, 0, 1, 0, 0, 0, 4, 0, 11, 0, 0};
	CU_ASSERT_EQUAL(parse_exact(keepalive, sizeof(keepalive), &m), TC_DNS_OK);
	CU_ASSERT(m.edns_tcp_keepalive);
	CU_ASSERT_EQUAL(m.edns_version, 1);
	CU_ASSERT_EQUAL(m.edns_udp_size, 1232);
}

static size_t wire(const char *text, uint8_t *out)
{
	static const uint8_t root = 0;
	size_t len = 0;
	const char *why;
	CU_ASSERT_FATAL(tc_dns_name_from_text(text, strlen(text), &root, 1, out, &len, &why) == 0);
	return len;
}

static void test_names(void)
{
	uint8_t a[TC_DNS_MAX_NAME], b[TC_DNS_MAX_NAME], o[TC_DNS_MAX_NAME];
	size_t alen = wire("WwW.Example.COM.", a);
	size_t blen = wire("www.example.com", b);
	CU_ASSERT(tc_dns_name_equal(a, alen, b, blen));
	CU_ASSERT_EQUAL(tc_dns_name_labels(a, alen), 3);
	size_t olen = wire("example.com.", o);
	CU_ASSERT(tc_dns_name_is_subdomain(a, alen, o, olen));
	CU_ASSERT(tc_dns_name_is_subdomain(o, olen, o, olen));
	size_t xlen = wire("xample.com.", b);
	CU_ASSERT(!tc_dns_name_is_subdomain(o, olen, b, xlen));
	CU_ASSERT(!tc_dns_name_is_subdomain(b, xlen, o, olen));
	CU_ASSERT(tc_dns_name_is_subdomain(a, alen, (const uint8_t *)"", 1));

	/* Relative names, @, escapes. */
	const char *why;
	size_t len;
	CU_ASSERT_EQUAL(tc_dns_name_from_text("www", 3, o, olen, b, &len, &why), 0);
	CU_ASSERT(tc_dns_name_equal(a, alen, b, len));
	CU_ASSERT_EQUAL(tc_dns_name_from_text("@", 1, o, olen, b, &len, &why), 0);
	CU_ASSERT(len == olen && memcmp(b, o, olen) == 0);
	CU_ASSERT_EQUAL(tc_dns_name_from_text("a\\.b\\065.", 9, NULL, 0, b, &len, &why), 0);
	CU_ASSERT(len == 6 && memcmp(b, "\4a.bA\0", 6) == 0);
	char text[64];
	tc_dns_name_to_text(b, len, text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, "a\\.bA.");
	tc_dns_name_to_text((const uint8_t *)"", 1, text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, ".");
	CU_ASSERT_EQUAL(tc_dns_name_from_text("www", 3, NULL, 0, b, &len, &why), -1);
	CU_ASSERT_EQUAL(tc_dns_name_from_text("a\\1", 3, o, olen, b, &len, &why), -1);
	CU_ASSERT_EQUAL(tc_dns_name_from_text("", 0, o, olen, b, &len, &why), -1);
	CU_ASSERT_EQUAL(tc_dns_name_from_text(".a", 2, o, olen, b, &len, &why), -1);
	CU_ASSERT_EQUAL(tc_dns_name_from_text("a\\", 2, o, olen, b, &len, &why), -1);

	CU_ASSERT_EQUAL(tc_dns_name_wire_len(a, alen), alen);
	CU_ASSERT_EQUAL(tc_dns_name_wire_len(a, alen - 1), 0);
	CU_ASSERT_EQUAL(tc_dns_name_wire_len((const uint8_t *)"\xc0\x0c", 2), 0);
}

static void test_builder_compression(void)
{
	uint8_t buf[512];
	struct tc_dns_builder b;
	uint8_t q[TC_DNS_MAX_NAME], www[TC_DNS_MAX_NAME], mail[TC_DNS_MAX_NAME], other[TC_DNS_MAX_NAME];
	size_t qlen = wire("Example.COM.", q);
	size_t wlen = wire("www.example.com.", www);
	size_t mlen = wire("mail.www.EXAMPLE.com.", mail);
	size_t olen = wire("example.net.", other);

	tc_dns_build_init(&b, buf, sizeof(buf));
	CU_ASSERT_EQUAL(tc_dns_build_header(&b, 7, TC_DNS_FLAG_QR), 0);
	CU_ASSERT_EQUAL(tc_dns_build_question(&b, q, qlen, TC_DNS_TYPE_MX, TC_DNS_CLASS_IN), 0);
	CU_ASSERT_EQUAL(b.len, 12 + qlen + 4);
	size_t before = b.len;
	CU_ASSERT_EQUAL(tc_dns_put_mx(&b, TC_DNS_SEC_ANSWER, q, qlen, 60, 10, www, wlen), 0);
	/* owner: pointer (2) + fixed 10 + pref 2 + "www" + pointer (6). */
	CU_ASSERT_EQUAL(b.len - before, 2 + 10 + 2 + 6);
	CU_ASSERT(buf[before] == 0xc0 && buf[before + 1] == 12);
	before = b.len;
	CU_ASSERT_EQUAL(tc_dns_put_cname(&b, TC_DNS_SEC_ANSWER, mail, mlen, 60, other, olen), 0);
	/* "mail" + pointer to the "www" label written above. */
	CU_ASSERT_EQUAL(buf[before], 4);
	CU_ASSERT_EQUAL(buf[before + 5], 0xc0);
	/* SRV targets are never compressed. */
	before = b.len;
	CU_ASSERT_EQUAL(tc_dns_put_srv(&b, TC_DNS_SEC_ANSWER, q, qlen, 60, 1, 2, 3, www, wlen), 0);
	CU_ASSERT_EQUAL(b.len - before, 2 + 10 + 6 + wlen);
	size_t len = tc_dns_build_finish(&b);

	/* Read back: every name decodes to what was written. */
	struct tc_dns_msg m;
	CU_ASSERT_EQUAL(tc_dns_parse(buf, len, &m), TC_DNS_OK);
	CU_ASSERT_EQUAL(m.ancount, 3);
	size_t off = 12 + qlen + 4;
	struct tc_dns_rr rr;
	uint8_t name[TC_DNS_MAX_NAME];
	size_t nlen;
	CU_ASSERT_EQUAL(tc_dns_read_rr(buf, len, &off, &rr), TC_DNS_OK);
	CU_ASSERT(rr.type == TC_DNS_TYPE_MX && rr.ttl == 60 && tc_dns_name_equal(rr.name, rr.name_len, q, qlen));
	CU_ASSERT(memcmp(rr.name, q, qlen) == 0);   /* the question's case */
	size_t roff = rr.rdata_off + 2;
	CU_ASSERT_EQUAL(tc_dns_read_name(buf, len, &roff, name, &nlen), TC_DNS_OK);
	CU_ASSERT(tc_dns_name_equal(name, nlen, www, wlen));
	CU_ASSERT_EQUAL(tc_dns_read_rr(buf, len, &off, &rr), TC_DNS_OK);
	CU_ASSERT(rr.type == TC_DNS_TYPE_CNAME && tc_dns_name_equal(rr.name, rr.name_len, mail, mlen));
	roff = rr.rdata_off;
	CU_ASSERT_EQUAL(tc_dns_read_name(buf, len, &roff, name, &nlen), TC_DNS_OK);
	CU_ASSERT(nlen == olen && memcmp(name, other, olen) == 0);
	CU_ASSERT_EQUAL(tc_dns_read_rr(buf, len, &off, &rr), TC_DNS_OK);
	CU_ASSERT(rr.type == TC_DNS_TYPE_SRV && rr.rdlen == 6 + wlen);
	CU_ASSERT_EQUAL(off, len);
}

static void test_builder_limits(void)
{
	uint8_t buf[100];
	struct tc_dns_builder b;
	uint8_t q[TC_DNS_MAX_NAME];
	size_t qlen = wire("example.com.", q);
	tc_dns_build_init(&b, buf, sizeof(buf));
	CU_ASSERT_EQUAL(tc_dns_build_header(&b, 1, 0), 0);
	CU_ASSERT_EQUAL(tc_dns_build_question(&b, q, qlen, 1, 1), 0);
	struct tc_dns_mark mark;
	tc_dns_build_mark(&b, &mark);
	uint8_t text[200];
	memset(text, 't', sizeof(text));
	size_t len = b.len;
	/* Does not fit: fails and leaves the message unchanged. */
	CU_ASSERT_EQUAL(tc_dns_put_txt(&b, TC_DNS_SEC_ANSWER, q, qlen, 1, text, sizeof(text)), -1);
	CU_ASSERT_EQUAL(b.len, len);
	CU_ASSERT_EQUAL(b.counts[1], 0);
	CU_ASSERT_EQUAL(tc_dns_put_txt(&b, TC_DNS_SEC_ANSWER, q, qlen, 1, text, 40), 0);
	CU_ASSERT_EQUAL(b.counts[1], 1);
	/* Sections only go forward. */
	CU_ASSERT_EQUAL(tc_dns_put_opt(&b, 1232, 0, 0, 0), 0);
	static const uint8_t addr[4] = {1, 2, 3, 4};
	CU_ASSERT_EQUAL(tc_dns_put_a(&b, TC_DNS_SEC_ANSWER, q, qlen, 1, addr), -1);
	tc_dns_build_rollback(&b, &mark);
	CU_ASSERT_EQUAL(b.len, len);
	CU_ASSERT_EQUAL(tc_dns_put_a(&b, TC_DNS_SEC_ANSWER, q, qlen, 1, addr), 0);
	tc_dns_build_set_limit(&b, b.len + 5);
	CU_ASSERT_EQUAL(tc_dns_put_a(&b, TC_DNS_SEC_ANSWER, q, qlen, 1, addr), -1);

	/* TXT longer than 255 splits into character-strings. */
	uint8_t rd[600];
	uint8_t long_text[300];
	memset(long_text, 'x', sizeof(long_text));
	CU_ASSERT_EQUAL(tc_dns_rdata_txt(rd, sizeof(rd), long_text, 300), 302);
	CU_ASSERT(rd[0] == 255 && rd[256] == 45);
	CU_ASSERT_EQUAL(tc_dns_rdata_txt(rd, 100, long_text, 300), 0);
	CU_ASSERT_EQUAL(tc_dns_rdata_txt(rd, sizeof(rd), long_text, 0), 1);
}

/* Every typed writer, read back field by field. */
static void test_typed_writers(void)
{
	static uint8_t buf[2048];
	struct tc_dns_builder b;
	uint8_t zone[TC_DNS_MAX_NAME], ns[TC_DNS_MAX_NAME], hm[TC_DNS_MAX_NAME];
	size_t zlen = wire("example.org.", zone), nlen = wire("ns.example.org.", ns);
	size_t hlen = wire("hostmaster.example.org.", hm);
	static const uint8_t v4[4] = {198, 51, 100, 7};
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 9};
	static const uint8_t hash[4] = {0xca, 0xfe, 0xba, 0xbe};
	struct tc_dns_soa soa = {ns, nlen, hm, hlen, 2024, 3600, 600, 86400, 60};

	tc_dns_build_init(&b, buf, sizeof(buf));
	CU_ASSERT_EQUAL(tc_dns_build_header(&b, 9, TC_DNS_FLAG_QR | TC_DNS_FLAG_AA), 0);
	CU_ASSERT_EQUAL(tc_dns_build_question(&b, zone, zlen, TC_DNS_TYPE_ANY, TC_DNS_CLASS_IN), 0);
	CU_ASSERT_EQUAL(tc_dns_put_a(&b, TC_DNS_SEC_ANSWER, zone, zlen, 1, v4), 0);
	CU_ASSERT_EQUAL(tc_dns_put_aaaa(&b, TC_DNS_SEC_ANSWER, zone, zlen, 2, v6), 0);
	CU_ASSERT_EQUAL(tc_dns_put_ns(&b, TC_DNS_SEC_ANSWER, zone, zlen, 3, ns, nlen), 0);
	CU_ASSERT_EQUAL(tc_dns_put_soa(&b, TC_DNS_SEC_ANSWER, zone, zlen, 4, &soa), 0);
	CU_ASSERT_EQUAL(tc_dns_put_txt(&b, TC_DNS_SEC_ANSWER, zone, zlen, 5, (const uint8_t *)"hi", 2), 0);
	CU_ASSERT_EQUAL(tc_dns_put_caa(&b, TC_DNS_SEC_ANSWER, zone, zlen, 6, 128, "issue",
				       (const uint8_t *)"ca.example", 10), 0);
	CU_ASSERT_EQUAL(tc_dns_put_tlsa(&b, TC_DNS_SEC_ANSWER, zone, zlen, 7, 3, 1, 1, hash, 4), 0);
	CU_ASSERT_EQUAL(tc_dns_put_ptr(&b, TC_DNS_SEC_AUTHORITY, zone, zlen, 8, ns, nlen), 0);
	CU_ASSERT_EQUAL(tc_dns_put_opt(&b, 1232, 1, 0, TC_DNS_EDNS_FLAG_DO), 0);
	size_t len = tc_dns_build_finish(&b);

	struct tc_dns_msg m;
	CU_ASSERT_EQUAL_FATAL(tc_dns_parse(buf, len, &m), TC_DNS_OK);
	CU_ASSERT(m.id == 9 && m.ancount == 7 && m.nscount == 1 && m.arcount == 1);
	CU_ASSERT(m.has_edns && m.edns_udp_size == 1232 && m.edns_ext_rcode == 1 &&
		  m.edns_flags == TC_DNS_EDNS_FLAG_DO);
	size_t off = 12 + zlen + 4, roff, glen;
	struct tc_dns_rr rr;
	uint8_t got[TC_DNS_MAX_NAME];
	static const uint16_t types[] = {TC_DNS_TYPE_A, TC_DNS_TYPE_AAAA, TC_DNS_TYPE_NS, TC_DNS_TYPE_SOA,
					 TC_DNS_TYPE_TXT, TC_DNS_TYPE_CAA, TC_DNS_TYPE_TLSA, TC_DNS_TYPE_PTR,
					 TC_DNS_TYPE_OPT};
	for (size_t i = 0; i < 9; i++) {
		CU_ASSERT_EQUAL_FATAL(tc_dns_read_rr(buf, len, &off, &rr), TC_DNS_OK);
		CU_ASSERT_EQUAL(rr.type, types[i]);
		const uint8_t *rd = buf + rr.rdata_off;
		if (i < 8) {
			CU_ASSERT(tc_dns_name_equal(rr.name, rr.name_len, zone, zlen));
			CU_ASSERT_EQUAL(rr.ttl, i + 1);
			CU_ASSERT_EQUAL(rr.rclass, TC_DNS_CLASS_IN);
		}
		switch (rr.type) {
		case TC_DNS_TYPE_A:
			CU_ASSERT(rr.rdlen == 4 && memcmp(rd, v4, 4) == 0);
			break;
		case TC_DNS_TYPE_AAAA:
			CU_ASSERT(rr.rdlen == 16 && memcmp(rd, v6, 16) == 0);
			break;
		case TC_DNS_TYPE_NS:
		case TC_DNS_TYPE_PTR:
			roff = rr.rdata_off;
			CU_ASSERT_EQUAL(tc_dns_read_name(buf, len, &roff, got, &glen), TC_DNS_OK);
			CU_ASSERT(tc_dns_name_equal(got, glen, ns, nlen));
			CU_ASSERT_EQUAL(roff, rr.rdata_off + rr.rdlen);
			break;
		case TC_DNS_TYPE_SOA:
			roff = rr.rdata_off;
			CU_ASSERT_EQUAL(tc_dns_read_name(buf, len, &roff, got, &glen), TC_DNS_OK);
			CU_ASSERT(tc_dns_name_equal(got, glen, ns, nlen));
			CU_ASSERT_EQUAL(tc_dns_read_name(buf, len, &roff, got, &glen), TC_DNS_OK);
			CU_ASSERT(tc_dns_name_equal(got, glen, hm, hlen));
			CU_ASSERT_EQUAL(roff + 20, rr.rdata_off + rr.rdlen);
			CU_ASSERT(tc_dns_get32(buf + roff) == 2024 && tc_dns_get32(buf + roff + 4) == 3600 &&
				  tc_dns_get32(buf + roff + 8) == 600 && tc_dns_get32(buf + roff + 12) == 86400 &&
				  tc_dns_get32(buf + roff + 16) == 60);
			break;
		case TC_DNS_TYPE_TXT:
			CU_ASSERT(rr.rdlen == 3 && memcmp(rd, "\2hi", 3) == 0);
			break;
		case TC_DNS_TYPE_CAA:
			CU_ASSERT(rr.rdlen == 17 && rd[0] == 128 && rd[1] == 5 &&
				  memcmp(rd + 2, "issueca.example", 15) == 0);
			break;
		case TC_DNS_TYPE_TLSA:
			CU_ASSERT(rr.rdlen == 7 && rd[0] == 3 && rd[1] == 1 && rd[2] == 1 &&
				  memcmp(rd + 3, hash, 4) == 0);
			break;
		case TC_DNS_TYPE_OPT:
			CU_ASSERT(rr.name_len == 1 && rr.rclass == 1232 && rr.rdlen == 0);
			CU_ASSERT_EQUAL(rr.ttl, 0x01008000u);
			break;
		}
	}
	CU_ASSERT_EQUAL(off, len);
	/* The NS target after the owner compresses to "ns" + pointer. */
	CU_ASSERT(len < 12 + zlen + 4 + 9 * 10 + 8 * zlen + 4 + 16 + 2 * nlen + nlen + hlen + 20 + 3 + 17 + 7);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"parse a good query with EDNS", test_parse_ok},
		{"header, counts, truncation, trailing data", test_parse_header_and_counts},
		{"label types and name length", test_parse_labels},
		{"compression pointers: forward, self, loop, hop limit", test_parse_pointers},
		{"OPT placement and layout", test_parse_opt},
		{"name helpers and text conversion", test_names},
		{"builder compression and readback", test_builder_compression},
		{"builder limits, rollback, section order", test_builder_limits},
		{"typed record writers", test_typed_writers},
		{NULL, NULL},
	};
	return tc_run_suite("dns_wire", tests, NULL, NULL);
}
