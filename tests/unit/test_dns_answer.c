/* The answer function end to end on the wire: build a query, answer it from
 * a zone built from config + records, parse the response and check every
 * field; plus RCODE handling, EDNS, truncation and DoQ framing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "resolver/answer.h"
#include "resolver/dns_name.h"
#include "resolver/doq.h"
#include "resolver/edns_padding.h"
#include "resolver/zone.h"
#include "unit/cunit_main.h"

#define APEX "trust.hypermesh.online."

static struct tc_zone *zone;
static uint8_t tlsa_hash[32];

static int suite_init(void)
{
	struct tc_config cfg;
	char err[512];
	tc_config_defaults(&cfg, true);
	cfg.dns.addresses.count = 2;
	snprintf(cfg.dns.addresses.items[0], TC_CFG_STR, "192.0.2.1");
	snprintf(cfg.dns.addresses.items[1], TC_CFG_STR, "2001:db8::1");
	if (tc_zone_from_config(&cfg, &zone, err, sizeof(err)) != 0) {
		fprintf(stderr, "zone: %s\n", err);
		return 1;
	}
	static char extra[8192];
	size_t n = (size_t)snprintf(extra, sizeof(extra),
		"www 300 CNAME ca\n"
		"mail 300 MX 10 mx1\n"
		"mx1 300 A 192.0.2.25\n"
		"_dns._udp 300 SRV 0 5 853 dns\n"
		"1.2 300 PTR dns\n"
		"txt 300 TXT \"hello world\" \"second\"\n"
		"a.b.c 300 A 192.0.2.3\n"
		"ext 300 CNAME target.example.com.\n"
		"gone 300 CNAME missing\n"
		"loop1 300 CNAME loop2\n"
		"loop2 300 CNAME loop1\n"
		"sub 300 NS ns1.sub\n"
		"ns1.sub 300 A 192.0.2.53\n");
	/* "big" (3 x 200-octet TXT) needs EDNS; "huge" (8 x 200) needs TCP. */
	for (int i = 0; i < 11; i++) {
		char s[201];
		memset(s, 'a' + i, 200);
		s[200] = '\0';
		n += (size_t)snprintf(extra + n, sizeof(extra) - n, "%s 300 TXT \"%s\"\n",
				      i < 3 ? "big" : "huge", s);
	}
	if (tc_zone_load_text(zone, extra, n, "extra", err, sizeof(err)) != 0) {
		fprintf(stderr, "zone: %s\n", err);
		return 1;
	}
	for (int i = 0; i < 32; i++)
		tlsa_hash[i] = (uint8_t)(0xa0 + i);
	if (tc_zone_add_tlsa(zone, "_853._udp.dns", 3, 1, 1, tlsa_hash, 32, err, sizeof(err)) != 0)
		return 1;
	return 0;
}

static int suite_cleanup(void)
{
	tc_zone_free(zone);
	return 0;
}

struct qopt {
	uint16_t id;
	uint16_t flags;
	int edns;            /* -1: no OPT, else the UDP size */
	uint8_t version;
	bool do_bit;
	bool keepalive;
	uint16_t qclass;
};

static const struct qopt plain = {0x4242, TC_DNS_FLAG_RD, -1, 0, false, false, TC_DNS_CLASS_IN};

static size_t wire(const char *text, uint8_t *out)
{
	size_t len = 0;
	const char *why;
	static const uint8_t root = 0;
	CU_ASSERT_FATAL(tc_dns_name_from_text(text, strlen(text), &root, 1, out, &len, &why) == 0);
	return len;
}

static size_t make_query(uint8_t *q, const char *name, uint16_t qtype, const struct qopt *o)
{
	memset(q, 0, 12);
	tc_dns_put16(q, o->id);
	tc_dns_put16(q + 2, o->flags);
	tc_dns_put16(q + 4, 1);
	size_t len = 12 + wire(name, q + 12);
	tc_dns_put16(q + len, qtype);
	tc_dns_put16(q + len + 2, o->qclass ? o->qclass : TC_DNS_CLASS_IN);
	len += 4;
	if (o->edns >= 0) {
		tc_dns_put16(q + 10, 1);
		q[len] = 0;
		tc_dns_put16(q + len + 1, TC_DNS_TYPE_OPT);
		tc_dns_put16(q + len + 3, (uint16_t)o->edns);
		q[len + 5] = 0;
		q[len + 6] = o->version;
		tc_dns_put16(q + len + 7, o->do_bit ? TC_DNS_EDNS_FLAG_DO : 0);
		tc_dns_put16(q + len + 9, o->keepalive ? 4 : 0);
		len += 11;
		if (o->keepalive) {
			tc_dns_put16(q + len, TC_DNS_EDNS_OPT_TCP_KEEPALIVE);
			tc_dns_put16(q + len + 2, 0);
			len += 4;
		}
	}
	return len;
}

struct resp {
	enum tc_dns_answer_status st;
	struct tc_dns_answer_info info;
	uint8_t buf[65535];
	size_t len;
	struct tc_dns_msg hdr;
	size_t nrr;
	struct tc_dns_rr rr[64];
	int sec[64];
	size_t rr_at[64];        /* offset of each record in buf */
};

static struct resp R;

static void answer_bytes(const uint8_t *q, size_t qlen, enum tc_dns_transport tr, uint16_t udp_max,
			 unsigned flags)
{
	struct tc_dns_answer_opts o = {tr, udp_max, flags, 0};
	/* Exact-size heap copy of the query so ASan sees any over-read. */
	uint8_t *copy = malloc(qlen ? qlen : 1);
	CU_ASSERT_FATAL(copy != NULL);
	memcpy(copy, q, qlen);
	memset(&R, 0, sizeof(R));
	R.st = tc_dns_answer(zone, copy, qlen, &o, R.buf, sizeof(R.buf), &R.len, &R.info);
	free(copy);
	if (R.len == 0)
		return;
	CU_ASSERT_FATAL(tc_dns_parse(R.buf, R.len, &R.hdr) == TC_DNS_OK);
	size_t off = 12;
	for (unsigned i = 0; i < R.hdr.qdcount; i++) {
		CU_ASSERT_FATAL(tc_dns_read_name(R.buf, R.len, &off, NULL, NULL) == TC_DNS_OK);
		off += 4;
	}
	size_t total = (size_t)R.hdr.ancount + R.hdr.nscount + R.hdr.arcount;
	CU_ASSERT_FATAL(total <= 64);
	for (size_t i = 0; i < total; i++) {
		R.rr_at[i] = off;
		CU_ASSERT_FATAL(tc_dns_read_rr(R.buf, R.len, &off, &R.rr[i]) == TC_DNS_OK);
		R.sec[i] = i < R.hdr.ancount ? 1 : i < (size_t)R.hdr.ancount + R.hdr.nscount ? 2 : 3;
	}
	R.nrr = total;
	CU_ASSERT_EQUAL(off, R.len);
}

static void ask(const char *name, uint16_t qtype, const struct qopt *o, enum tc_dns_transport tr)
{
	uint8_t q[600];
	size_t qlen = make_query(q, name, qtype, o);
	answer_bytes(q, qlen, tr, 0, 0);
}

static const uint8_t *rdata(size_t i)
{
	return R.buf + R.rr[i].rdata_off;
}

static bool rr_name_is(size_t i, const char *name)
{
	uint8_t w[TC_DNS_MAX_NAME];
	size_t len = wire(name, w);
	return tc_dns_name_equal(R.rr[i].name, R.rr[i].name_len, w, len);
}

/* Decodes the (possibly compressed) name at RDATA offset rel of record i. */
static bool rdata_name_is(size_t i, size_t rel, const char *name, size_t *next)
{
	uint8_t w[TC_DNS_MAX_NAME], got[TC_DNS_MAX_NAME];
	size_t len = wire(name, w), glen;
	size_t off = R.rr[i].rdata_off + rel;
	if (tc_dns_read_name(R.buf, R.len, &off, got, &glen) != TC_DNS_OK)
		return false;
	if (next)
		*next = off - R.rr[i].rdata_off;
	return tc_dns_name_equal(got, glen, w, len);
}

static void expect_header(uint16_t id, uint16_t rcode, bool aa, uint16_t an, uint16_t ns, uint16_t ar)
{
	CU_ASSERT_EQUAL(R.st, TC_DNS_ANSWER_REPLY);
	CU_ASSERT_EQUAL(R.hdr.id, id);
	CU_ASSERT(R.hdr.flags & TC_DNS_FLAG_QR);
	CU_ASSERT_EQUAL(TC_DNS_OPCODE(R.hdr.flags), 0);
	CU_ASSERT_EQUAL(TC_DNS_RCODE(R.hdr.flags), rcode & 0xf);
	CU_ASSERT_EQUAL(!!(R.hdr.flags & TC_DNS_FLAG_AA), aa);
	CU_ASSERT(!(R.hdr.flags & TC_DNS_FLAG_TC));
	CU_ASSERT(!(R.hdr.flags & TC_DNS_FLAG_RA));
	CU_ASSERT_EQUAL(R.hdr.qdcount, 1);
	CU_ASSERT_EQUAL(R.hdr.ancount, an);
	CU_ASSERT_EQUAL(R.hdr.nscount, ns);
	CU_ASSERT_EQUAL(R.hdr.arcount, ar);
	CU_ASSERT_EQUAL(R.info.rcode, rcode);
}

static void expect_rr(size_t i, int sec, const char *owner, uint16_t type, uint32_t ttl, uint16_t rdlen)
{
	CU_ASSERT_EQUAL(R.sec[i], sec);
	CU_ASSERT(rr_name_is(i, owner));
	CU_ASSERT_EQUAL(R.rr[i].type, type);
	CU_ASSERT_EQUAL(R.rr[i].rclass, TC_DNS_CLASS_IN);
	CU_ASSERT_EQUAL(R.rr[i].ttl, ttl);
	CU_ASSERT_EQUAL(R.rr[i].rdlen, rdlen);
}

static void test_a(void)
{
	ask("ca." APEX, TC_DNS_TYPE_A, &plain, TC_DNS_TRANSPORT_UDP);
	expect_header(0x4242, 0, true, 1, 0, 0);
	CU_ASSERT(R.hdr.flags & TC_DNS_FLAG_RD);
	CU_ASSERT_EQUAL(R.hdr.qtype, TC_DNS_TYPE_A);
	CU_ASSERT_EQUAL(R.hdr.qclass, TC_DNS_CLASS_IN);
	expect_rr(0, 1, "ca." APEX, TC_DNS_TYPE_A, 300, 4);
	CU_ASSERT(memcmp(rdata(0), "\xc0\x00\x02\x01", 4) == 0);
	CU_ASSERT_EQUAL(R.info.qtype, TC_DNS_TYPE_A);
}

static void test_aaaa(void)
{
	ask("dns." APEX, TC_DNS_TYPE_AAAA, &plain, TC_DNS_TRANSPORT_UDP);
	expect_header(0x4242, 0, true, 1, 0, 0);
	expect_rr(0, 1, "dns." APEX, TC_DNS_TYPE_AAAA, 300, 16);
	static const uint8_t want[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	CU_ASSERT(memcmp(rdata(0), want, 16) == 0);
}

static void test_ns(void)
{
	ask(APEX, TC_DNS_TYPE_NS, &plain, TC_DNS_TRANSPORT_UDP);
	/* NS answer plus the A and AAAA of dns.<domain> as additional data. */
	expect_header(0x4242, 0, true, 1, 0, 2);
	CU_ASSERT_EQUAL(R.rr[0].type, TC_DNS_TYPE_NS);
	CU_ASSERT(rr_name_is(0, APEX) && R.rr[0].ttl == 3600);
	size_t next;
	CU_ASSERT(rdata_name_is(0, 0, "dns." APEX, &next));
	CU_ASSERT_EQUAL(next, R.rr[0].rdlen);
	CU_ASSERT_EQUAL(R.rr[0].rdlen, 6);   /* "dns" + pointer to the question name */
	expect_rr(1, 3, "dns." APEX, TC_DNS_TYPE_A, 300, 4);
	expect_rr(2, 3, "dns." APEX, TC_DNS_TYPE_AAAA, 300, 16);
}

static void test_soa(void)
{
	ask(APEX, TC_DNS_TYPE_SOA, &plain, TC_DNS_TRANSPORT_UDP);
	expect_header(0x4242, 0, true, 1, 0, 0);
	CU_ASSERT_EQUAL(R.rr[0].type, TC_DNS_TYPE_SOA);
	CU_ASSERT_EQUAL(R.rr[0].ttl, 3600);
	size_t at;
	CU_ASSERT(rdata_name_is(0, 0, "dns." APEX, &at));
	CU_ASSERT(rdata_name_is(0, at, "hostmaster." APEX, &at));
	CU_ASSERT_EQUAL(at + 20, R.rr[0].rdlen);
	const uint8_t *t = rdata(0) + at;
	const struct tc_zone_rr *soa = tc_zone_soa(zone);
	CU_ASSERT_EQUAL(tc_dns_get32(t), tc_dns_get32(soa->rdata + soa->rdlen - 20));
	CU_ASSERT_EQUAL(tc_dns_get32(t + 4), 3600);
	CU_ASSERT_EQUAL(tc_dns_get32(t + 8), 600);
	CU_ASSERT_EQUAL(tc_dns_get32(t + 12), 1209600);
	CU_ASSERT_EQUAL(tc_dns_get32(t + 16), 300);
}

static void test_txt(void)
{
	ask(APEX, TC_DNS_TYPE_TXT, &plain, TC_DNS_TRANSPORT_UDP);
	expect_header(0x4242, 0, true, 1, 0, 0);
	const char *want = "TrustChain CA: TrustChain DEV";
	expect_rr(0, 1, APEX, TC_DNS_TYPE_TXT, 3600, (uint16_t)(1 + strlen(want)));
	CU_ASSERT(rdata(0)[0] == strlen(want) && memcmp(rdata(0) + 1, want, strlen(want)) == 0);

	ask("txt." APEX, TC_DNS_TYPE_TXT, &plain, TC_DNS_TRANSPORT_UDP);
	expect_header(0x4242, 0, true, 1, 0, 0);
	expect_rr(0, 1, "txt." APEX, TC_DNS_TYPE_TXT, 300, 19);
	CU_ASSERT(memcmp(rdata(0), "\x0bhello world\x06second", 19) == 0);
}

static void test_caa(void)
{
	ask(APEX, TC_DNS_TYPE_CAA, &plain, TC_DNS_TRANSPORT_UDP);
	expect_header(0x4242, 0, true, 1, 0, 0);
	expect_rr(0, 1, APEX, TC_DNS_TYPE_CAA, 3600, 2 + 5 + 22);
	CU_ASSERT(rdata(0)[0] == 0 && rdata(0)[1] == 5);
	CU_ASSERT(memcmp(rdata(0) + 2, "issue", 5) == 0);
	CU_ASSERT(memcmp(rdata(0) + 7, "trust.hypermesh.online", 22) == 0);
}

static void test_tlsa(void)
{
	ask("_853._udp.dns." APEX, TC_DNS_TYPE_TLSA, &plain, TC_DNS_TRANSPORT_UDP);
	expect_header(0x4242, 0, true, 1, 0, 0);
	expect_rr(0, 1, "_853._udp.dns." APEX, TC_DNS_TYPE_TLSA, 300, 35);
	CU_ASSERT(rdata(0)[0] == 3 && rdata(0)[1] == 1 && rdata(0)[2] == 1);
	CU_ASSERT(memcmp(rdata(0) + 3, tlsa_hash, 32) == 0);
}

static void test_cname(void)
{
	ask("www." APEX, TC_DNS_TYPE_A, &plain, TC_DNS_TRANSPORT_UDP);
	expect_header(0x4242, 0, true, 2, 0, 0);
	expect_rr(0, 1, "www." APEX, TC_DNS_TYPE_CNAME, 300, 5);   /* "ca" + pointer */
	CU_ASSERT(rdata_name_is(0, 0, "ca." APEX, NULL));
	expect_rr(1, 1, "ca." APEX, TC_DNS_TYPE_A, 300, 4);
	CU_ASSERT(memcmp(rdata(1), "\xc0\x00\x02\x01", 4) == 0);

	ask("www." APEX, TC_DNS_TYPE_CNAME, &plain, TC_DNS_TRANSPORT_UDP);
	expect_header(0x4242, 0, true, 1, 0, 0);
	CU_ASSERT_EQUAL(R.rr[0].type, TC_DNS_TYPE_CNAME);

	/* Out of the zone: the chain stops at the CNAME. */
	ask("ext." APEX, TC_DNS_TYPE_A, &plain, TC_DNS_TRANSPORT_UDP);
	expect_header(0x4242, 0, true, 1, 0, 0);
	CU_ASSERT(rdata_name_is(0, 0, "target.example.com.", NULL));
	/* To a missing in-zone name: NXDOMAIN of the last link (RFC 6604). */
	ask("gone." APEX, TC_DNS_TYPE_A, &plain, TC_DNS_TRANSPORT_UDP);
	expect_header(0x4242, TC_DNS_RCODE_NXDOMAIN, true, 1, 1, 0);
	CU_ASSERT_EQUAL(R.rr[1].type, TC_DNS_TYPE_SOA);
	/* A loop ends once every link was given. */
	ask("loop1." APEX, TC_DNS_TYPE_A, &plain, TC_DNS_TRANSPORT_UDP);
	expect_header(0x4242, 0, true, 2, 0, 0);
	CU_ASSERT(rr_name_is(0, "loop1." APEX) && rr_name_is(1, "loop2." APEX));
}

static void test_mx(void)
{
	ask("mail." APEX, TC_DNS_TYPE_MX, &plain, TC_DNS_TRANSPORT_UDP);
	expect_header(0x4242, 0, true, 1, 0, 1);
	expect_rr(0, 1, "mail." APEX, TC_DNS_TYPE_MX, 300, 2 + 4 + 2);
	CU_ASSERT_EQUAL(tc_dns_get16(rdata(0)), 10);
	CU_ASSERT(rdata_name_is(0, 2, "mx1." APEX, NULL));
	expect_rr(1, 3, "mx1." APEX, TC_DNS_TYPE_A, 300, 4);
	CU_ASSERT(memcmp(rdata(1), "\xc0\x00\x02\x19", 4) == 0);
}

static void test_srv(void)
{
	ask("_dns._udp." APEX, TC_DNS_TYPE_SRV, &plain, TC_DNS_TRANSPORT_UDP);
	expect_header(0x4242, 0, true, 1, 0, 2);
	uint8_t target[TC_DNS_MAX_NAME];
	size_t tlen = wire("dns." APEX, target);
	expect_rr(0, 1, "_dns._udp." APEX, TC_DNS_TYPE_SRV, 300, (uint16_t)(6 + tlen));
	CU_ASSERT_EQUAL(tc_dns_get16(rdata(0)), 0);
	CU_ASSERT_EQUAL(tc_dns_get16(rdata(0) + 2), 5);
	CU_ASSERT_EQUAL(tc_dns_get16(rdata(0) + 4), 853);
	CU_ASSERT(memcmp(rdata(0) + 6, target, tlen) == 0);   /* uncompressed */
	CU_ASSERT_EQUAL(R.rr[1].type, TC_DNS_TYPE_A);
	CU_ASSERT_EQUAL(R.rr[2].type, TC_DNS_TYPE_AAAA);
}

static void test_ptr(void)
{
	ask("1.2." APEX, TC_DNS_TYPE_PTR, &plain, TC_DNS_TRANSPORT_UDP);
	expect_header(0x4242, 0, true, 1, 0, 0);
	expect_rr(0, 1, "1.2." APEX, TC_DNS_TYPE_PTR, 300, 6);
	CU_ASSERT(rdata_name_is(0, 0, "dns." APEX, NULL));
}

static void test_nxdomain_nodata(void)
{
	ask("nope." APEX, TC_DNS_TYPE_A, &plain, TC_DNS_TRANSPORT_UDP);
	expect_header(0x4242, TC_DNS_RCODE_NXDOMAIN, true, 0, 1, 0);
	/* SOA TTL 3600, MINIMUM 300: negative TTL is the smaller. */
	CU_ASSERT_EQUAL(R.sec[0], 2);
	CU_ASSERT(rr_name_is(0, APEX));
	CU_ASSERT_EQUAL(R.rr[0].type, TC_DNS_TYPE_SOA);
	CU_ASSERT_EQUAL(R.rr[0].ttl, 300);
	CU_ASSERT(rdata_name_is(0, 0, "dns." APEX, NULL));

	ask("ca." APEX, TC_DNS_TYPE_MX, &plain, TC_DNS_TRANSPORT_UDP);
	expect_header(0x4242, 0, true, 0, 1, 0);
	CU_ASSERT(R.rr[0].type == TC_DNS_TYPE_SOA && R.rr[0].ttl == 300);

	/* Empty non-terminals exist: NODATA, not NXDOMAIN. */
	ask("b.c." APEX, TC_DNS_TYPE_A, &plain, TC_DNS_TRANSPORT_UDP);
	expect_header(0x4242, 0, true, 0, 1, 0);
	ask("c." APEX, TC_DNS_TYPE_TXT, &plain, TC_DNS_TRANSPORT_UDP);
	expect_header(0x4242, 0, true, 0, 1, 0);
	ask("x.a.b.c." APEX, TC_DNS_TYPE_A, &plain, TC_DNS_TRANSPORT_UDP);
	expect_header(0x4242, TC_DNS_RCODE_NXDOMAIN, true, 0, 1, 0);
}

static void test_case_preserved(void)
{
	uint8_t q[300];
	const char *mixed = "cA.TRUST.hyperMESH.Online.";
	size_t qlen = make_query(q, mixed, TC_DNS_TYPE_A, &plain);
	answer_bytes(q, qlen, TC_DNS_TRANSPORT_UDP, 0, 0);
	expect_header(0x4242, 0, true, 1, 0, 0);
	size_t nlen = qlen - 12 - 4;
	/* The question is echoed octet for octet ... */
	CU_ASSERT(memcmp(R.buf + 12, q + 12, nlen + 4) == 0);
	/* ... and the answer's owner points at it, so it reads in the client's case. */
	CU_ASSERT(R.buf[R.rr_at[0]] == 0xc0 && R.buf[R.rr_at[0] + 1] == 12);
	CU_ASSERT(R.rr[0].name_len == nlen && memcmp(R.rr[0].name, q + 12, nlen) == 0);
	CU_ASSERT(memcmp(rdata(0), "\xc0\x00\x02\x01", 4) == 0);
}

static void test_compression(void)
{
	ask(APEX, TC_DNS_TYPE_SOA, &plain, TC_DNS_TRANSPORT_UDP);
	expect_header(0x4242, 0, true, 1, 0, 0);
	uint8_t apex[TC_DNS_MAX_NAME], mname[TC_DNS_MAX_NAME], rname[TC_DNS_MAX_NAME];
	size_t alen = wire(APEX, apex), mlen = wire("dns." APEX, mname);
	size_t rlen = wire("hostmaster." APEX, rname);
	size_t uncompressed = 12 + alen + 4 + alen + 10 + mlen + rlen + 20;
	CU_ASSERT(R.len < uncompressed);
	CU_ASSERT_EQUAL(R.len, uncompressed - (alen - 2) - (alen - 2) - (alen - 2));
	CU_ASSERT(R.buf[R.rr_at[0]] == 0xc0 && R.buf[R.rr_at[0] + 1] == 12);
	/* Every pointer in the message points strictly backwards (the strict
	 * reader already enforced that while parsing the response). */
	size_t at;
	CU_ASSERT(rdata_name_is(0, 0, "dns." APEX, &at));
	CU_ASSERT_EQUAL(at, 4 + 2);
	CU_ASSERT(rdata_name_is(0, at, "hostmaster." APEX, NULL));

	/* MX + additional: the additional owner points into the MX RDATA. */
	ask("mail." APEX, TC_DNS_TYPE_MX, &plain, TC_DNS_TRANSPORT_UDP);
	CU_ASSERT(R.buf[R.rr_at[1]] == 0xc0);
	size_t target = (size_t)(R.buf[R.rr_at[1]] & 0x3f) << 8 | R.buf[R.rr_at[1] + 1];
	CU_ASSERT_EQUAL(target, R.rr[0].rdata_off + 2);
}

static void test_edns(void)
{
	struct qopt o = plain;
	o.edns = 4096;
	o.do_bit = true;
	ask("ca." APEX, TC_DNS_TYPE_A, &o, TC_DNS_TRANSPORT_UDP);
	expect_header(0x4242, 0, true, 1, 0, 1);
	CU_ASSERT_EQUAL(R.sec[1], 3);
	CU_ASSERT_EQUAL(R.rr[1].type, TC_DNS_TYPE_OPT);
	CU_ASSERT_EQUAL(R.rr[1].name_len, 1);
	CU_ASSERT_EQUAL(R.rr[1].rclass, 1232);             /* our payload size */
	CU_ASSERT_EQUAL(R.rr[1].ttl, TC_DNS_EDNS_FLAG_DO); /* ext rcode 0, version 0, DO echoed */
	CU_ASSERT_EQUAL(R.rr[1].rdlen, 0);
	CU_ASSERT(R.hdr.has_edns && R.hdr.edns_version == 0);

	o.do_bit = false;
	ask("nope." APEX, TC_DNS_TYPE_A, &o, TC_DNS_TRANSPORT_UDP);
	expect_header(0x4242, TC_DNS_RCODE_NXDOMAIN, true, 0, 1, 1);
	CU_ASSERT(R.rr[1].type == TC_DNS_TYPE_OPT && R.rr[1].ttl == 0);

	/* Our size is configurable. */
	uint8_t q[300];
	size_t qlen = make_query(q, "ca." APEX, TC_DNS_TYPE_A, &o);
	answer_bytes(q, qlen, TC_DNS_TRANSPORT_UDP, 800, 0);
	CU_ASSERT_EQUAL(R.rr[1].rclass, 800);
}

static void test_truncation(void)
{
	struct qopt o = plain;
	/* ~700 octets: too big for 512 without EDNS. */
	ask("big." APEX, TC_DNS_TYPE_TXT, &plain, TC_DNS_TRANSPORT_UDP);
	CU_ASSERT_EQUAL(R.st, TC_DNS_ANSWER_REPLY);
	CU_ASSERT(R.hdr.flags & TC_DNS_FLAG_TC);
	CU_ASSERT(R.info.truncated);
	CU_ASSERT(R.hdr.qdcount == 1 && R.hdr.ancount == 0 && R.hdr.nscount == 0 && R.hdr.arcount == 0);
	CU_ASSERT(R.len <= 512);

	o.edns = 4096;
	ask("big." APEX, TC_DNS_TYPE_TXT, &o, TC_DNS_TRANSPORT_UDP);
	expect_header(0x4242, 0, true, 3, 0, 1);
	CU_ASSERT(R.len > 512 && R.len <= 1232);

	/* A client size under 512 counts as 512. */
	o.edns = 100;
	ask("big." APEX, TC_DNS_TYPE_TXT, &o, TC_DNS_TRANSPORT_UDP);
	CU_ASSERT(R.hdr.flags & TC_DNS_FLAG_TC);
	CU_ASSERT(R.hdr.ancount == 0 && R.hdr.arcount == 1 && R.rr[0].type == TC_DNS_TYPE_OPT);

	/* Our own limit applies even when the client offers more. */
	o.edns = 4096;
	uint8_t q[300];
	size_t qlen = make_query(q, "big." APEX, TC_DNS_TYPE_TXT, &o);
	answer_bytes(q, qlen, TC_DNS_TRANSPORT_UDP, 600, 0);
	CU_ASSERT(R.hdr.flags & TC_DNS_FLAG_TC);
	CU_ASSERT(R.len <= 600);

	/* ~1700 octets: over 1232 even with a 4096 EDNS size ... */
	ask("huge." APEX, TC_DNS_TYPE_TXT, &o, TC_DNS_TRANSPORT_UDP);
	CU_ASSERT(R.hdr.flags & TC_DNS_FLAG_TC);
	CU_ASSERT(R.hdr.ancount == 0 && R.hdr.arcount == 1);
	CU_ASSERT(R.len <= 1232);
	/* ... but TCP and DoQ never truncate. */
	ask("huge." APEX, TC_DNS_TYPE_TXT, &o, TC_DNS_TRANSPORT_TCP);
	expect_header(0x4242, 0, true, 8, 0, 1);
	CU_ASSERT(R.len > 1232);
	ask("huge." APEX, TC_DNS_TYPE_TXT, &plain, TC_DNS_TRANSPORT_TCP);
	expect_header(0x4242, 0, true, 8, 0, 0);
	o.id = 0;
	ask("huge." APEX, TC_DNS_TYPE_TXT, &o, TC_DNS_TRANSPORT_DOQ);
	expect_header(0, 0, true, 8, 0, 1);
}

static void test_badvers(void)
{
	struct qopt o = plain;
	o.edns = 1232;
	o.version = 1;
	ask("ca." APEX, TC_DNS_TYPE_A, &o, TC_DNS_TRANSPORT_UDP);
	CU_ASSERT_EQUAL(R.st, TC_DNS_ANSWER_REPLY);
	CU_ASSERT_EQUAL(TC_DNS_RCODE(R.hdr.flags), 0);   /* lower 4 bits of 16 */
	CU_ASSERT(R.hdr.ancount == 0 && R.hdr.arcount == 1);
	CU_ASSERT_EQUAL(R.rr[0].type, TC_DNS_TYPE_OPT);
	CU_ASSERT_EQUAL(R.rr[0].ttl >> 24, 1);           /* upper 8 bits: 16 >> 4 */
	CU_ASSERT_EQUAL((R.rr[0].ttl >> 16) & 0xff, 0);  /* we speak version 0 */
	CU_ASSERT_EQUAL(R.info.rcode, TC_DNS_RCODE_BADVERS);
}

/* FORMERR with ID echoed; the question when exactly one was readable (qd)
 * and our OPT when the query carried one (ar, RFC 6891 §7). */
static void expect_formerr(const uint8_t *q, size_t len, enum tc_dns_err why, uint16_t qd,
			   uint16_t ar)
{
	answer_bytes(q, len, TC_DNS_TRANSPORT_UDP, 0, 0);
	CU_ASSERT_EQUAL(R.st, TC_DNS_ANSWER_REPLY);
	CU_ASSERT_EQUAL(R.hdr.id, tc_dns_get16(q));
	CU_ASSERT(R.hdr.flags & TC_DNS_FLAG_QR);
	CU_ASSERT_EQUAL(TC_DNS_RCODE(R.hdr.flags), TC_DNS_RCODE_FORMERR);
	CU_ASSERT_EQUAL(R.hdr.qdcount, qd);
	CU_ASSERT(R.hdr.ancount == 0 && R.hdr.nscount == 0);
	CU_ASSERT_EQUAL(R.hdr.arcount, ar);
	if (ar)
		CU_ASSERT(R.nrr == 1 && R.rr[0].type == TC_DNS_TYPE_OPT && R.rr[0].rclass == 1232);
	if (qd == 0 && ar == 0)
		CU_ASSERT_EQUAL(R.len, 12);
	if (why != TC_DNS_OK)
		CU_ASSERT_EQUAL(R.info.parse_error, why);
}

#define H(qd, an, ns, ar) 0xbe, 0xef, 0x01, 0x00, 0, qd, 0, an, 0, ns, 0, ar
#define QN 2, 'c', 'a', 5, 't', 'r', 'u', 's', 't', 9, 'h', 'y', 'p', 'e', 'r', 'm', 'e', 's', 'h', \
	   6, 'o', 'n', 'l', 'i', 'n', 'e', 0

static void test_malformed(void)
{
	static const uint8_t label40[] = {H(1, 0, 0, 0), 0x40, 'a', 0, 0, 1, 0, 1};
	expect_formerr(label40, sizeof(label40), TC_DNS_ERR_LABEL_TYPE, 0, 0);
	static const uint8_t label80[] = {H(1, 0, 0, 0), 0x80, 'a', 0, 0, 1, 0, 1};
	expect_formerr(label80, sizeof(label80), TC_DNS_ERR_LABEL_TYPE, 0, 0);
	static const uint8_t fwd[] = {H(1, 0, 0, 0), 0xc0, 18, 0, 1, 0, 1, 1, 'a', 0};
	expect_formerr(fwd, sizeof(fwd), TC_DNS_ERR_POINTER, 0, 0);
	static const uint8_t self[] = {H(1, 0, 0, 0), 0xc0, 12, 0, 1, 0, 1};
	expect_formerr(self, sizeof(self), TC_DNS_ERR_POINTER, 0, 0);
	static const uint8_t counts[] = {H(1, 9, 9, 9), QN, 0, 1, 0, 1};
	expect_formerr(counts, sizeof(counts), TC_DNS_ERR_COUNTS, 1, 0);
	static const uint8_t trailing[] = {H(1, 0, 0, 0), QN, 0, 1, 0, 1, 0};
	expect_formerr(trailing, sizeof(trailing), TC_DNS_ERR_TRAILING, 1, 0);
	static const uint8_t trunc_q[] = {H(1, 0, 0, 0), QN, 0, 1, 0};
	expect_formerr(trunc_q, sizeof(trunc_q), TC_DNS_ERR_TRUNCATED, 0, 0);
	static const uint8_t opt_answer[] = {H(1, 1, 0, 0), QN, 0, 1, 0, 1, 0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0};
	expect_formerr(opt_answer, sizeof(opt_answer), TC_DNS_ERR_OPT, 1, 1);
	static const uint8_t opt_twice[] = {H(1, 0, 0, 2), QN, 0, 1, 0, 1, 0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0,
					    0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0};
	expect_formerr(opt_twice, sizeof(opt_twice), TC_DNS_ERR_OPT, 1, 1);
	static const uint8_t no_q[] = {H(0, 0, 0, 0)};
	expect_formerr(no_q, sizeof(no_q), TC_DNS_OK, 0, 0);
	static const uint8_t two_q[] = {H(2, 0, 0, 0), QN, 0, 1, 0, 1, 0xc0, 12, 0, 28, 0, 1};
	expect_formerr(two_q, sizeof(two_q), TC_DNS_OK, 0, 0);
	static const uint8_t qtype_opt[] = {H(1, 0, 0, 0), QN, 0, 41, 0, 1};
	expect_formerr(qtype_opt, sizeof(qtype_opt), TC_DNS_OK, 1, 0);

	/* Name of 256 octets. */
	uint8_t longq[12 + 260 + 4];
	static const uint8_t h[] = {H(1, 0, 0, 0)};
	memcpy(longq, h, 12);
	size_t o = 12;
	for (int l = 0; l < 4; l++) {
		longq[o++] = 63;
		memset(longq + o, 'q', 63);
		o += 63;
	}
	longq[o++] = 0;
	memcpy(longq + o, "\0\1\0\1", 4);
	expect_formerr(longq, o + 4, TC_DNS_ERR_NAME_TOO_LONG, 0, 0);

	/* A chain of pointers over the hop limit, in an additional record. */
	size_t chain = TC_DNS_MAX_PTR_HOPS + 1;
	uint8_t *m = calloc(1, 12 + 31 + 1 + 10 + 2 * chain + 12);
	CU_ASSERT_FATAL(m != NULL);
	static const uint8_t h2[] = {H(1, 0, 0, 2), QN, 0, 1, 0, 1};
	memcpy(m, h2, sizeof(h2));
	o = sizeof(h2);
	m[o] = 0;                               /* owner: root */
	tc_dns_put16(m + o + 1, 65281);
	tc_dns_put16(m + o + 3, 1);
	tc_dns_put16(m + o + 9, (uint16_t)(2 * chain));
	o += 11;
	tc_dns_put16(m + o, 0xc000 | 12);
	o += 2;
	for (size_t i = 1; i < chain; i++, o += 2)
		tc_dns_put16(m + o, (uint16_t)(0xc000 | (o - 2)));
	tc_dns_put16(m + o, (uint16_t)(0xc000 | (o - 2)));
	tc_dns_put16(m + o + 2, 65281);
	tc_dns_put16(m + o + 4, 1);
	o += 12;
	expect_formerr(m, o, TC_DNS_ERR_POINTER_LOOP, 1, 0);
	free(m);

	/* Dropped: nothing readable to answer, or not a query. */
	static const uint8_t short_hdr[] = {0xbe, 0xef, 1, 0, 0, 1, 0, 0, 0, 0, 0};
	answer_bytes(short_hdr, sizeof(short_hdr), TC_DNS_TRANSPORT_UDP, 0, 0);
	CU_ASSERT(R.st == TC_DNS_ANSWER_DROP && R.len == 0);
	CU_ASSERT_EQUAL(R.info.parse_error, TC_DNS_ERR_SHORT_HEADER);
	answer_bytes(short_hdr, 0, TC_DNS_TRANSPORT_UDP, 0, 0);
	CU_ASSERT(R.st == TC_DNS_ANSWER_DROP && R.len == 0);
	static const uint8_t response[] = {0xbe, 0xef, 0x84, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, QN, 0, 1, 0, 1};
	answer_bytes(response, sizeof(response), TC_DNS_TRANSPORT_UDP, 0, 0);
	CU_ASSERT(R.st == TC_DNS_ANSWER_DROP && R.len == 0);
	/* Even a malformed response is never answered. */
	static const uint8_t bad_response[] = {0xbe, 0xef, 0x80, 0x00, 0, 9, 0, 0, 0, 0, 0, 0, 0xff};
	answer_bytes(bad_response, sizeof(bad_response), TC_DNS_TRANSPORT_UDP, 0, 0);
	CU_ASSERT(R.st == TC_DNS_ANSWER_DROP && R.len == 0);
}

static void test_notimp(void)
{
	static const uint8_t opcodes[] = {1, 2, 4, 15};
	for (size_t i = 0; i < sizeof(opcodes); i++) {
		uint8_t q[] = {0x12, 0x99, (uint8_t)(opcodes[i] << 3 | 1), 0, 0, 1, 0, 0, 0, 0, 0, 0, QN, 0, 6, 0, 1};
		answer_bytes(q, sizeof(q), TC_DNS_TRANSPORT_UDP, 0, 0);
		CU_ASSERT_EQUAL(R.st, TC_DNS_ANSWER_REPLY);
		CU_ASSERT_EQUAL(R.hdr.id, 0x1299);
		CU_ASSERT_EQUAL(TC_DNS_OPCODE(R.hdr.flags), opcodes[i]);
		CU_ASSERT_EQUAL(TC_DNS_RCODE(R.hdr.flags), TC_DNS_RCODE_NOTIMP);
		CU_ASSERT(R.hdr.flags & TC_DNS_FLAG_QR);
		CU_ASSERT(R.hdr.flags & TC_DNS_FLAG_RD);
		/* The question comes back; no OPT since the query had none. */
		CU_ASSERT(R.hdr.qdcount == 1 && R.hdr.arcount == 0);
		CU_ASSERT_EQUAL(R.len, sizeof(q));
		CU_ASSERT(memcmp(R.buf + 12, q + 12, sizeof(q) - 12) == 0);
	}
}

/* RFC 6891 §7: an error answer to a query with EDNS carries our OPT (DO
 * echoed), or the client concludes we lack EDNS. NOTIFY (opcode 4) with
 * OPT, zero and two questions with OPT. */
static void test_error_answers_keep_edns(void)
{
	uint8_t q[] = {0x12, 0x99, 4 << 3, 0, 0, 1, 0, 0, 0, 0, 0, 1, QN, 0, 6, 0, 1,
		       0, 0, 41, 4, 0xd0, 0, 0, 0x80, 0, 0, 0};
	answer_bytes(q, sizeof(q), TC_DNS_TRANSPORT_UDP, 0, 0);
	CU_ASSERT_EQUAL(TC_DNS_RCODE(R.hdr.flags), TC_DNS_RCODE_NOTIMP);
	CU_ASSERT(R.hdr.qdcount == 1 && R.hdr.arcount == 1 && R.nrr == 1);
	CU_ASSERT(R.rr[0].type == TC_DNS_TYPE_OPT && R.rr[0].rclass == 1232);
	CU_ASSERT_EQUAL(R.rr[0].ttl, TC_DNS_EDNS_FLAG_DO);
	CU_ASSERT(memcmp(R.buf + 12, q + 12, 31) == 0);

	static const uint8_t no_q[] = {H(0, 0, 0, 1), 0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0};
	expect_formerr(no_q, sizeof(no_q), TC_DNS_OK, 0, 1);
	static const uint8_t two_q[] = {H(2, 0, 0, 1), QN, 0, 1, 0, 1, 0xc0, 12, 0, 28, 0, 1,
					0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0};
	expect_formerr(two_q, sizeof(two_q), TC_DNS_OK, 0, 1);
	/* A record after the OPT runs past the end: the OPT was still seen. */
	static const uint8_t broken_after_opt[] = {H(1, 0, 0, 2), QN, 0, 1, 0, 1,
						   0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	expect_formerr(broken_after_opt, sizeof(broken_after_opt), TC_DNS_ERR_TRUNCATED, 1, 1);
}

/* tc_dns_pad_response: to the block, OPT length updated, a record after
 * the OPT kept whole; no OPT or no room: unchanged. */
static void test_padding(void)
{
	struct qopt o = plain;
	o.edns = 1232;
	ask("ca." APEX, TC_DNS_TYPE_A, &o, TC_DNS_TRANSPORT_TCP);
	size_t before = R.len;
	CU_ASSERT_FATAL(before > 0 && before < 468);
	size_t n = tc_dns_pad_response(R.buf, R.len, sizeof(R.buf), 468);
	CU_ASSERT_EQUAL(n, 468);
	struct tc_dns_msg m;
	CU_ASSERT_FATAL(tc_dns_parse(R.buf, n, &m) == TC_DNS_OK);
	CU_ASSERT(m.has_edns && m.edns_padding);
	/* Padding twice does nothing. */
	CU_ASSERT_EQUAL(tc_dns_pad_response(R.buf, n, sizeof(R.buf), 468), n);

	ask("ca." APEX, TC_DNS_TYPE_A, &plain, TC_DNS_TRANSPORT_TCP);
	CU_ASSERT_EQUAL(tc_dns_pad_response(R.buf, R.len, sizeof(R.buf), 468), R.len);

	ask("ca." APEX, TC_DNS_TYPE_A, &o, TC_DNS_TRANSPORT_TCP);
	CU_ASSERT_EQUAL(tc_dns_pad_response(R.buf, R.len, 400, 468), R.len);

	/* OPT followed by a record (as TSIG follows it). */
	uint8_t msg[600] = {H(0, 0, 0, 2), 0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0,
			    0, 0, 16, 0, 1, 0, 0, 0, 60, 0, 2, 1, 'x'};
	size_t mlen = 12 + 11 + 13;
	n = tc_dns_pad_response(msg, mlen, sizeof(msg), 128);
	CU_ASSERT_EQUAL(n, 128);
	CU_ASSERT_FATAL(tc_dns_parse(msg, n, &m) == TC_DNS_OK);
	CU_ASSERT(m.edns_padding);
	CU_ASSERT(memcmp(msg + n - 13, "\0\0\x10\0\x01\0\0\0\x3c\0\x02\x01x", 13) == 0);
}

static void test_refused(void)
{
	ask("www.example.com.", TC_DNS_TYPE_A, &plain, TC_DNS_TRANSPORT_UDP);
	CU_ASSERT_EQUAL(R.st, TC_DNS_ANSWER_NOT_OURS);
	CU_ASSERT_EQUAL(TC_DNS_RCODE(R.hdr.flags), TC_DNS_RCODE_REFUSED);
	CU_ASSERT(!(R.hdr.flags & TC_DNS_FLAG_AA));
	CU_ASSERT(R.hdr.qdcount == 1 && R.hdr.ancount == 0 && R.hdr.nscount == 0);
	CU_ASSERT_EQUAL(R.hdr.id, 0x4242);

	ask("hypermesh.online.", TC_DNS_TYPE_A, &plain, TC_DNS_TRANSPORT_UDP);
	CU_ASSERT_EQUAL(R.st, TC_DNS_ANSWER_NOT_OURS);
	ask("xtrust.hypermesh.online.", TC_DNS_TYPE_A, &plain, TC_DNS_TRANSPORT_UDP);
	CU_ASSERT_EQUAL(R.st, TC_DNS_ANSWER_NOT_OURS);

	/* With EDNS the REFUSED carries our OPT; RA when the process forwards. */
	struct qopt o = plain;
	o.edns = 1232;
	uint8_t q[300];
	size_t qlen = make_query(q, "example.org.", TC_DNS_TYPE_AAAA, &o);
	answer_bytes(q, qlen, TC_DNS_TRANSPORT_UDP, 0, TC_DNS_ANSWER_F_RA);
	CU_ASSERT_EQUAL(R.st, TC_DNS_ANSWER_NOT_OURS);
	CU_ASSERT(R.hdr.flags & TC_DNS_FLAG_RA);
	CU_ASSERT(R.hdr.arcount == 1 && R.rr[0].type == TC_DNS_TYPE_OPT);

	/* Other classes and zone transfers: REFUSED, answered directly. */
	o = plain;
	o.qclass = TC_DNS_CLASS_CH;
	ask("ca." APEX, TC_DNS_TYPE_TXT, &o, TC_DNS_TRANSPORT_UDP);
	CU_ASSERT_EQUAL(R.st, TC_DNS_ANSWER_REPLY);
	CU_ASSERT_EQUAL(TC_DNS_RCODE(R.hdr.flags), TC_DNS_RCODE_REFUSED);
	ask(APEX, TC_DNS_TYPE_AXFR, &plain, TC_DNS_TRANSPORT_TCP);
	CU_ASSERT_EQUAL(R.st, TC_DNS_ANSWER_REPLY);
	CU_ASSERT_EQUAL(TC_DNS_RCODE(R.hdr.flags), TC_DNS_RCODE_REFUSED);
	CU_ASSERT_EQUAL(R.hdr.ancount, 0);
}

static void test_any_minimal(void)
{
	ask(APEX, TC_DNS_TYPE_ANY, &plain, TC_DNS_TRANSPORT_TCP);
	CU_ASSERT_EQUAL(R.st, TC_DNS_ANSWER_REPLY);
	CU_ASSERT(R.hdr.flags & TC_DNS_FLAG_AA);
	CU_ASSERT(R.hdr.ancount >= 1);
	for (size_t i = 1; i < R.hdr.ancount; i++)
		CU_ASSERT_EQUAL(R.rr[i].type, R.rr[0].type);
	ask("nope." APEX, TC_DNS_TYPE_ANY, &plain, TC_DNS_TRANSPORT_UDP);
	CU_ASSERT_EQUAL(TC_DNS_RCODE(R.hdr.flags), TC_DNS_RCODE_NXDOMAIN);
}

static void test_referral(void)
{
	ask("host.sub." APEX, TC_DNS_TYPE_A, &plain, TC_DNS_TRANSPORT_UDP);
	expect_header(0x4242, 0, false, 0, 1, 1);
	expect_rr(0, 2, "sub." APEX, TC_DNS_TYPE_NS, 300, 6);
	CU_ASSERT(rdata_name_is(0, 0, "ns1.sub." APEX, NULL));
	expect_rr(1, 3, "ns1.sub." APEX, TC_DNS_TYPE_A, 300, 4);
	CU_ASSERT(memcmp(rdata(1), "\xc0\x00\x02\x35", 4) == 0);
}

static void test_doq_answer(void)
{
	struct qopt o = plain;
	o.id = 0;
	ask("ca." APEX, TC_DNS_TYPE_A, &o, TC_DNS_TRANSPORT_DOQ);
	expect_header(0, 0, true, 1, 0, 0);
	o.id = 7;
	ask("ca." APEX, TC_DNS_TYPE_A, &o, TC_DNS_TRANSPORT_DOQ);
	CU_ASSERT_EQUAL(R.st, TC_DNS_ANSWER_DOQ_PROTOCOL_ERROR);
	CU_ASSERT_EQUAL(R.len, 0);
	o.id = 0;
	o.edns = 1232;
	o.keepalive = true;
	ask("ca." APEX, TC_DNS_TYPE_A, &o, TC_DNS_TRANSPORT_DOQ);
	CU_ASSERT_EQUAL(R.st, TC_DNS_ANSWER_DOQ_PROTOCOL_ERROR);
	ask("ca." APEX, TC_DNS_TYPE_A, &o, TC_DNS_TRANSPORT_TCP);
	expect_header(0, 0, true, 1, 0, 1);
}

static void test_doq_framing(void)
{
	uint8_t q[300], stream[310];
	struct qopt o = plain;
	o.id = 0;
	size_t qlen = make_query(q, "ca." APEX, TC_DNS_TYPE_A, &o);
	size_t slen;
	CU_ASSERT_EQUAL(tc_doq_frame_response(q, qlen, stream, sizeof(stream), &slen), 0);
	CU_ASSERT_EQUAL(slen, qlen + 2);
	CU_ASSERT_EQUAL(tc_dns_get16(stream), qlen);

	const uint8_t *msg;
	size_t mlen;
	CU_ASSERT_EQUAL(tc_doq_frame_parse(stream, slen, true, &msg, &mlen), TC_DOQ_FRAME_OK);
	CU_ASSERT(msg == stream + 2 && mlen == qlen);
	CU_ASSERT_EQUAL(tc_doq_frame_parse(stream, slen, false, &msg, &mlen), TC_DOQ_FRAME_OK);
	/* Full round trip: answer the framed query, frame the response in place. */
	uint8_t out[600];
	size_t olen;
	struct tc_dns_answer_opts ao = {TC_DNS_TRANSPORT_DOQ, 0, 0, 0};
	CU_ASSERT_EQUAL(tc_dns_answer(zone, msg, mlen, &ao, out + 2, sizeof(out) - 2, &olen, NULL),
			TC_DNS_ANSWER_REPLY);
	size_t flen;
	CU_ASSERT_EQUAL(tc_doq_frame_response(out + 2, olen, out, sizeof(out), &flen), 0);
	CU_ASSERT_EQUAL(tc_dns_get16(out), olen);
	CU_ASSERT_EQUAL(tc_dns_get16(out + 2), 0);   /* response ID 0 */

	/* Message ID not 0. */
	stream[2] = 0x01;
	CU_ASSERT_EQUAL(tc_doq_frame_parse(stream, slen, true, &msg, &mlen), TC_DOQ_FRAME_PROTOCOL_ERROR);
	CU_ASSERT_PTR_NULL(msg);
	stream[2] = 0;
	/* Length prefix larger than the data, at FIN: error; before FIN: wait. */
	CU_ASSERT_EQUAL(tc_doq_frame_parse(stream, slen - 1, true, &msg, &mlen), TC_DOQ_FRAME_PROTOCOL_ERROR);
	CU_ASSERT_EQUAL(tc_doq_frame_parse(stream, slen - 1, false, &msg, &mlen), TC_DOQ_FRAME_INCOMPLETE);
	/* Data beyond the length prefix: error even before FIN. */
	stream[slen] = 0;
	CU_ASSERT_EQUAL(tc_doq_frame_parse(stream, slen + 1, false, &msg, &mlen), TC_DOQ_FRAME_PROTOCOL_ERROR);
	/* Short streams. */
	CU_ASSERT_EQUAL(tc_doq_frame_parse(stream, 1, true, &msg, &mlen), TC_DOQ_FRAME_PROTOCOL_ERROR);
	CU_ASSERT_EQUAL(tc_doq_frame_parse(stream, 0, true, &msg, &mlen), TC_DOQ_FRAME_PROTOCOL_ERROR);
	CU_ASSERT_EQUAL(tc_doq_frame_parse(stream, 1, false, &msg, &mlen), TC_DOQ_FRAME_INCOMPLETE);
	/* A length too small for a DNS header. */
	static const uint8_t tiny[] = {0, 2, 0, 0};
	CU_ASSERT_EQUAL(tc_doq_frame_parse(tiny, sizeof(tiny), true, &msg, &mlen), TC_DOQ_FRAME_PROTOCOL_ERROR);
	/* The framer refuses what cannot be framed. */
	CU_ASSERT_EQUAL(tc_doq_frame_response(q, 0, stream, sizeof(stream), &slen), -1);
	CU_ASSERT_EQUAL(tc_doq_frame_response(q, qlen, stream, qlen + 1, &slen), -1);
}

static void test_small_buffer(void)
{
	uint8_t q[300], out[511];
	size_t qlen = make_query(q, "ca." APEX, TC_DNS_TYPE_A, &plain), olen = 99;
	struct tc_dns_answer_opts ao = {TC_DNS_TRANSPORT_UDP, 0, 0, 0};
	CU_ASSERT_EQUAL(tc_dns_answer(zone, q, qlen, &ao, out, sizeof(out), &olen, NULL), TC_DNS_ANSWER_DROP);
	CU_ASSERT_EQUAL(olen, 0);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"A", test_a},
		{"AAAA", test_aaaa},
		{"NS with additional addresses", test_ns},
		{"SOA", test_soa},
		{"TXT", test_txt},
		{"CAA", test_caa},
		{"TLSA", test_tlsa},
		{"CNAME: in zone, out of zone, to NXDOMAIN, loop", test_cname},
		{"MX with additional address", test_mx},
		{"SRV (target not compressed)", test_srv},
		{"PTR", test_ptr},
		{"NXDOMAIN / NODATA / empty non-terminal with SOA", test_nxdomain_nodata},
		{"mixed-case query keeps its case", test_case_preserved},
		{"name compression used and valid", test_compression},
		{"EDNS OPT echo", test_edns},
		{"truncation per transport and payload size", test_truncation},
		{"BADVERS", test_badvers},
		{"malformed queries: FORMERR or drop", test_malformed},
		{"NOTIMP for other opcodes", test_notimp},
		{"FORMERR/NOTIMP carry OPT and question", test_error_answers_keep_edns},
		{"EDNS padding to a block", test_padding},
		{"REFUSED / not ours", test_refused},
		{"ANY answered minimally", test_any_minimal},
		{"referral to a delegated child", test_referral},
		{"DoQ answer rules", test_doq_answer},
		{"DoQ framing", test_doq_framing},
		{"output buffer under 512", test_small_buffer},
		{NULL, NULL},
	};
	return tc_run_suite("dns_answer", tests, suite_init, suite_cleanup);
}
