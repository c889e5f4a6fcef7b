/* Zone construction (config, zone file, TLSA API), lookups and master-file
 * errors with their line numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "resolver/dns_name.h"
#include "resolver/rdata_text.h"
#include "resolver/zone.h"
#include "unit/cunit_main.h"

#ifndef TC_TEST_DATA_DIR
#error "TC_TEST_DATA_DIR must point at tests/data"
#endif

static size_t wire(const char *text, uint8_t *out)
{
	static const uint8_t root = 0;
	size_t len = 0;
	const char *why;
	CU_ASSERT_FATAL(tc_dns_name_from_text(text, strlen(text), &root, 1, out, &len, &why) == 0);
	tc_dns_name_lower(out, out, len);
	return len;
}

static enum tc_zone_result lookup(const struct tc_zone *z, const char *name, uint16_t type,
				  struct tc_zone_match *m)
{
	uint8_t w[TC_DNS_MAX_NAME];
	size_t len = wire(name, w);
	return tc_zone_lookup(z, w, len, type, m);
}

static struct tc_zone *empty_zone(void)
{
	struct tc_zone *z = NULL;
	char err[256];
	CU_ASSERT_FATAL(tc_zone_new("trust.hypermesh.online", &z, err, sizeof(err)) == 0);
	return z;
}

static void test_config_zone(void)
{
	struct tc_config cfg;
	tc_config_defaults(&cfg, true);
	cfg.dns.addresses.count = 2;
	snprintf(cfg.dns.addresses.items[0], TC_CFG_STR, "192.0.2.1");
	snprintf(cfg.dns.addresses.items[1], TC_CFG_STR, "2001:db8::1");
	cfg.dns.record_count = 2;
	snprintf(cfg.dns.records[0].name, TC_CFG_STR, "www");
	cfg.dns.records[0].ttl = 120;
	snprintf(cfg.dns.records[0].type, 16, "CNAME");
	snprintf(cfg.dns.records[0].rdata, TC_CFG_STR, "ca");
	snprintf(cfg.dns.records[1].name, TC_CFG_STR, "abs.trust.hypermesh.online.");
	cfg.dns.records[1].ttl = 60;
	snprintf(cfg.dns.records[1].type, 16, "TXT");
	snprintf(cfg.dns.records[1].rdata, TC_CFG_STR, "\"x y\"");

	struct tc_zone *z = NULL;
	char err[512] = "";
	int rc = tc_zone_from_config(&cfg, &z, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "zone: %s\n", err);
	CU_ASSERT_FATAL(rc == 0);

	struct tc_zone_match m;
	/* SOA: generated names and timers. */
	CU_ASSERT_EQUAL(lookup(z, "trust.hypermesh.online.", TC_DNS_TYPE_SOA, &m), TC_ZONE_ANSWER);
	CU_ASSERT_EQUAL(m.count, 1);
	uint8_t dns[TC_DNS_MAX_NAME], hm[TC_DNS_MAX_NAME];
	size_t dlen = wire("dns.trust.hypermesh.online.", dns);
	size_t hlen = wire("hostmaster.trust.hypermesh.online.", hm);
	const struct tc_zone_rr *soa = tc_zone_soa(z);
	CU_ASSERT_PTR_EQUAL(soa, m.rrs);
	CU_ASSERT_EQUAL(soa->rdlen, dlen + hlen + 20);
	CU_ASSERT(memcmp(soa->rdata, dns, dlen) == 0);
	CU_ASSERT(memcmp(soa->rdata + dlen, hm, hlen) == 0);
	const uint8_t *t = soa->rdata + dlen + hlen;
	CU_ASSERT(tc_dns_get32(t) > 1700000000u);   /* serial: build time */
	CU_ASSERT_EQUAL(tc_dns_get32(t + 4), 3600);
	CU_ASSERT_EQUAL(tc_dns_get32(t + 8), 600);
	CU_ASSERT_EQUAL(tc_dns_get32(t + 12), 1209600);
	CU_ASSERT_EQUAL(tc_dns_get32(t + 16), 300);
	CU_ASSERT_EQUAL(soa->ttl, 3600);
	CU_ASSERT_EQUAL(tc_zone_negative_ttl(z), 300);

	CU_ASSERT_EQUAL(lookup(z, "trust.hypermesh.online.", TC_DNS_TYPE_NS, &m), TC_ZONE_ANSWER);
	CU_ASSERT_EQUAL(m.count, 1);
	CU_ASSERT(m.rrs[0].rdlen == dlen && memcmp(m.rrs[0].rdata, dns, dlen) == 0);

	static const char *const hosts[] = {"trust.hypermesh.online.", "ca.trust.hypermesh.online.",
					    "ct.trust.hypermesh.online.", "dns.trust.hypermesh.online."};
	for (size_t i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(lookup(z, hosts[i], TC_DNS_TYPE_A, &m), TC_ZONE_ANSWER);
		CU_ASSERT(m.count == 1 && m.rrs[0].rdlen == 4 && m.rrs[0].ttl == 300);
		CU_ASSERT(memcmp(m.rrs[0].rdata, "\xc0\x00\x02\x01", 4) == 0);
		CU_ASSERT_EQUAL(lookup(z, hosts[i], TC_DNS_TYPE_AAAA, &m), TC_ZONE_ANSWER);
		CU_ASSERT(m.count == 1 && m.rrs[0].rdlen == 16);
		CU_ASSERT(m.rrs[0].rdata[0] == 0x20 && m.rrs[0].rdata[1] == 0x01 && m.rrs[0].rdata[15] == 1);
	}
	CU_ASSERT_EQUAL(lookup(z, "trust.hypermesh.online.", TC_DNS_TYPE_TXT, &m), TC_ZONE_ANSWER);
	const char *want_txt = "TrustChain CA: TrustChain DEV";
	CU_ASSERT(m.rrs[0].rdata[0] == strlen(want_txt) &&
		  memcmp(m.rrs[0].rdata + 1, want_txt, strlen(want_txt)) == 0);
	CU_ASSERT_EQUAL(lookup(z, "trust.hypermesh.online.", TC_DNS_TYPE_CAA, &m), TC_ZONE_ANSWER);
	CU_ASSERT(m.rrs[0].rdlen == 2 + 5 + 22 && m.rrs[0].rdata[0] == 0 && m.rrs[0].rdata[1] == 5 &&
		  memcmp(m.rrs[0].rdata + 2, "issuetrust.hypermesh.online", 27) == 0);

	/* dns.records: relative and absolute names. */
	CU_ASSERT_EQUAL(lookup(z, "www.trust.hypermesh.online.", TC_DNS_TYPE_A, &m), TC_ZONE_CNAME);
	CU_ASSERT_EQUAL(m.rrs[0].ttl, 120);
	CU_ASSERT_EQUAL(lookup(z, "abs.trust.hypermesh.online.", TC_DNS_TYPE_TXT, &m), TC_ZONE_ANSWER);
	CU_ASSERT(m.rrs[0].rdlen == 4 && memcmp(m.rrs[0].rdata, "\x03x y", 4) == 0);
	tc_zone_free(z);
}

static void test_config_errors(void)
{
	struct tc_config cfg;
	struct tc_zone *z = NULL;
	char err[512] = "";
	tc_config_defaults(&cfg, true);
	snprintf(cfg.dns.addresses.items[0], TC_CFG_STR, "not-an-address");
	CU_ASSERT_EQUAL(tc_zone_from_config(&cfg, &z, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NULL(z);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "dns.addresses"));

	tc_config_defaults(&cfg, true);
	cfg.dns.record_count = 1;
	snprintf(cfg.dns.records[0].name, TC_CFG_STR, "www.example.com.");
	cfg.dns.records[0].ttl = 60;
	snprintf(cfg.dns.records[0].type, 16, "A");
	snprintf(cfg.dns.records[0].rdata, TC_CFG_STR, "192.0.2.9");
	CU_ASSERT_EQUAL(tc_zone_from_config(&cfg, &z, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "dns.records[0]:1:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "outside the zone"));

	snprintf(cfg.dns.records[0].name, TC_CFG_STR, "www");
	snprintf(cfg.dns.records[0].type, 16, "A");
	snprintf(cfg.dns.records[0].rdata, TC_CFG_STR, "192.0.2");
	CU_ASSERT_EQUAL(tc_zone_from_config(&cfg, &z, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "bad IPv4 address"));

	tc_config_defaults(&cfg, true);
	snprintf(cfg.dns.zone_file, TC_CFG_STR, "/nonexistent/zone");
	CU_ASSERT_EQUAL(tc_zone_from_config(&cfg, &z, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/zone"));
}

static void test_zone_file_good(void)
{
	struct tc_config cfg;
	tc_config_defaults(&cfg, true);
	snprintf(cfg.dns.zone_file, TC_CFG_STR, "%s/zones/good.zone", TC_TEST_DATA_DIR);
	struct tc_zone *z = NULL;
	char err[512] = "";
	int rc = tc_zone_from_config(&cfg, &z, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "zone: %s\n", err);
	CU_ASSERT_FATAL(rc == 0);
	struct tc_zone_match m;

	/* The file's SOA replaces the generated one; timers use units. */
	const struct tc_zone_rr *soa = tc_zone_soa(z);
	CU_ASSERT_EQUAL(soa->ttl, 3600);
	const uint8_t *t = soa->rdata + soa->rdlen - 20;
	CU_ASSERT_EQUAL(tc_dns_get32(t), 2024010101u);
	CU_ASSERT_EQUAL(tc_dns_get32(t + 4), 7200);
	CU_ASSERT_EQUAL(tc_dns_get32(t + 8), 900);
	CU_ASSERT_EQUAL(tc_dns_get32(t + 12), 1209600);
	CU_ASSERT_EQUAL(tc_dns_get32(t + 16), 120);
	CU_ASSERT_EQUAL(tc_zone_negative_ttl(z), 120);
	CU_ASSERT_EQUAL(lookup(z, "trust.hypermesh.online.", TC_DNS_TYPE_SOA, &m), TC_ZONE_ANSWER);
	CU_ASSERT_EQUAL(m.count, 1);

	/* Blank owners continue the apex: generated NS + two from the file (the
	 * duplicate of the generated one collapses). */
	CU_ASSERT_EQUAL(lookup(z, "trust.hypermesh.online.", TC_DNS_TYPE_NS, &m), TC_ZONE_ANSWER);
	CU_ASSERT_EQUAL(m.count, 2);
	CU_ASSERT_EQUAL(lookup(z, "trust.hypermesh.online.", TC_DNS_TYPE_MX, &m), TC_ZONE_ANSWER);
	CU_ASSERT(m.count == 1 && m.rrs[0].ttl == 600 && tc_dns_get16(m.rrs[0].rdata) == 10);

	CU_ASSERT_EQUAL(lookup(z, "mail.trust.hypermesh.online.", TC_DNS_TYPE_A, &m), TC_ZONE_ANSWER);
	CU_ASSERT(m.rrs[0].ttl == 300 && memcmp(m.rrs[0].rdata, "\xc0\x00\x02\x19", 4) == 0);
	CU_ASSERT_EQUAL(lookup(z, "mail.trust.hypermesh.online.", TC_DNS_TYPE_AAAA, &m), TC_ZONE_ANSWER);
	CU_ASSERT_EQUAL(m.rrs[0].ttl, 3600);   /* $TTL */

	CU_ASSERT_EQUAL(lookup(z, "txt.trust.hypermesh.online.", TC_DNS_TYPE_TXT, &m), TC_ZONE_ANSWER);
	static const uint8_t txt[] = "\x0bhello world\x0asemi;colon\x0cquote\"inside\x03" "ABC";
	CU_ASSERT(m.rrs[0].rdlen == sizeof(txt) - 1 && memcmp(m.rrs[0].rdata, txt, sizeof(txt) - 1) == 0);

	CU_ASSERT_EQUAL(lookup(z, "caa.trust.hypermesh.online.", TC_DNS_TYPE_CAA, &m), TC_ZONE_ANSWER);
	CU_ASSERT_EQUAL(m.count, 2);
	CU_ASSERT_EQUAL(lookup(z, "_853._udp.dns.trust.hypermesh.online.", TC_DNS_TYPE_TLSA, &m),
			TC_ZONE_ANSWER);
	CU_ASSERT(m.rrs[0].rdlen == 3 + 32 && m.rrs[0].rdata[0] == 3 && m.rrs[0].rdata[3] == 0x01 &&
		  m.rrs[0].rdata[34] == 0xef);
	CU_ASSERT_EQUAL(lookup(z, "_dns._udp.trust.hypermesh.online.", TC_DNS_TYPE_SRV, &m),
			TC_ZONE_ANSWER);
	CU_ASSERT(tc_dns_get16(m.rrs[0].rdata + 4) == 853);
	CU_ASSERT_EQUAL(lookup(z, "4.3.2.1.trust.hypermesh.online.", TC_DNS_TYPE_PTR, &m), TC_ZONE_ANSWER);
	CU_ASSERT_EQUAL(lookup(z, "opaque.trust.hypermesh.online.", 65280, &m), TC_ZONE_ANSWER);
	CU_ASSERT(m.rrs[0].rdlen == 4 && memcmp(m.rrs[0].rdata, "\xde\xad\xbe\xef", 4) == 0);

	/* Empty non-terminals, NXDOMAIN, CNAME, case, out of zone. */
	CU_ASSERT_EQUAL(lookup(z, "a.b.trust.hypermesh.online.", TC_DNS_TYPE_A, &m), TC_ZONE_NODATA);
	CU_ASSERT_EQUAL(lookup(z, "b.trust.hypermesh.online.", TC_DNS_TYPE_A, &m), TC_ZONE_NODATA);
	CU_ASSERT_EQUAL(lookup(z, "deep.a.b.trust.hypermesh.online.", TC_DNS_TYPE_A, &m), TC_ZONE_ANSWER);
	CU_ASSERT_EQUAL(lookup(z, "x.deep.a.b.trust.hypermesh.online.", TC_DNS_TYPE_A, &m),
			TC_ZONE_NXDOMAIN);
	CU_ASSERT_EQUAL(lookup(z, "nope.trust.hypermesh.online.", TC_DNS_TYPE_A, &m), TC_ZONE_NXDOMAIN);
	CU_ASSERT_EQUAL(lookup(z, "mail.trust.hypermesh.online.", TC_DNS_TYPE_TXT, &m), TC_ZONE_NODATA);
	CU_ASSERT_EQUAL(lookup(z, "www.trust.hypermesh.online.", TC_DNS_TYPE_A, &m), TC_ZONE_CNAME);
	CU_ASSERT_EQUAL(lookup(z, "www.trust.hypermesh.online.", TC_DNS_TYPE_CNAME, &m), TC_ZONE_ANSWER);
	CU_ASSERT_EQUAL(lookup(z, "hypermesh.online.", TC_DNS_TYPE_A, &m), TC_ZONE_OUT_OF_ZONE);
	CU_ASSERT_EQUAL(lookup(z, "xtrust.hypermesh.online.", TC_DNS_TYPE_A, &m), TC_ZONE_OUT_OF_ZONE);
	CU_ASSERT_EQUAL(lookup(z, "example.com.", TC_DNS_TYPE_A, &m), TC_ZONE_OUT_OF_ZONE);

	/* Delegation: the cut and everything below it refer, DS stays here. */
	CU_ASSERT_EQUAL(lookup(z, "sub.trust.hypermesh.online.", TC_DNS_TYPE_A, &m), TC_ZONE_DELEGATION);
	CU_ASSERT(m.count == 1 && m.rrs[0].type == TC_DNS_TYPE_NS);
	CU_ASSERT_EQUAL(lookup(z, "x.y.sub.trust.hypermesh.online.", TC_DNS_TYPE_A, &m),
			TC_ZONE_DELEGATION);
	CU_ASSERT_EQUAL(lookup(z, "ns1.sub.trust.hypermesh.online.", TC_DNS_TYPE_A, &m),
			TC_ZONE_DELEGATION);
	CU_ASSERT_EQUAL(lookup(z, "sub.trust.hypermesh.online.", TC_DNS_TYPE_DS, &m), TC_ZONE_NODATA);

	/* ANY: one RRset only (RFC 8482). */
	CU_ASSERT_EQUAL(lookup(z, "trust.hypermesh.online.", TC_DNS_TYPE_ANY, &m), TC_ZONE_ANSWER);
	CU_ASSERT(m.count >= 1);
	for (size_t i = 1; i < m.count; i++)
		CU_ASSERT_EQUAL(m.rrs[i].type, m.rrs[0].type);
	tc_zone_free(z);
}

static void test_tlsa_api(void)
{
	struct tc_zone *z = empty_zone();
	char err[256];
	uint8_t hash[32];
	for (int i = 0; i < 32; i++)
		hash[i] = (uint8_t)i;
	CU_ASSERT_EQUAL(tc_zone_add_tlsa(z, "_853._udp.dns", 3, 1, 1, hash, 32, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(tc_zone_add_tlsa(z, "_853._udp.dns", 3, 1, 1, hash, 32, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(tc_zone_add_tlsa(z, "_443._tcp.ca.trust.hypermesh.online.", 2, 0, 2, hash, 32, err,
					 sizeof(err)), 0);
	CU_ASSERT_EQUAL(tc_zone_add_tlsa(z, "_443._tcp.example.com.", 3, 1, 1, hash, 32, err,
					 sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "outside the zone"));
	struct tc_zone_match m;
	CU_ASSERT_EQUAL(lookup(z, "_853._UDP.dns.trust.hypermesh.online.", TC_DNS_TYPE_TLSA, &m),
			TC_ZONE_ANSWER);
	CU_ASSERT_EQUAL(m.count, 1);   /* the duplicate collapsed */
	CU_ASSERT(m.rrs[0].rdlen == 35 && m.rrs[0].rdata[0] == 3 && m.rrs[0].rdata[1] == 1 &&
		  m.rrs[0].rdata[2] == 1 && memcmp(m.rrs[0].rdata + 3, hash, 32) == 0);
	CU_ASSERT_EQUAL(lookup(z, "_udp.dns.trust.hypermesh.online.", TC_DNS_TYPE_A, &m), TC_ZONE_NODATA);
	tc_zone_free(z);
}

static void test_zone_rules(void)
{
	struct tc_zone *z = empty_zone();
	char err[256];
	uint8_t owner[TC_DNS_MAX_NAME], target[TC_DNS_MAX_NAME];
	size_t olen = wire("x.trust.hypermesh.online.", owner);
	size_t tlen = wire("y.trust.hypermesh.online.", target);
	CU_ASSERT_EQUAL(tc_zone_add_rr(z, owner, olen, TC_DNS_TYPE_CNAME, 60, target, tlen, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(tc_zone_add_rr(z, owner, olen, TC_DNS_TYPE_A, 60, (const uint8_t *)"\1\2\3\4", 4,
				       err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "CNAME and other data"));
	CU_ASSERT_EQUAL(tc_zone_add_rr(z, owner, olen, TC_DNS_TYPE_CNAME, 60, owner, olen, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(tc_zone_add_rr(z, target, tlen, TC_DNS_TYPE_A, 60, (const uint8_t *)"\1\2\3", 3,
				       err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "4 octets"));
	CU_ASSERT_EQUAL(tc_zone_add_rr(z, target, tlen, TC_DNS_TYPE_OPT, 60, NULL, 0, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(tc_zone_add_rr(z, target, tlen, TC_DNS_TYPE_SOA, 60, NULL, 0, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(tc_zone_add_rr(z, target, tlen, TC_DNS_TYPE_A, 0x80000000u,
				       (const uint8_t *)"\1\2\3\4", 4, err, sizeof(err)), -1);
	/* NS RDATA must be exactly one name. */
	CU_ASSERT_EQUAL(tc_zone_add_rr(z, target, tlen, TC_DNS_TYPE_NS, 60, target, tlen - 1, err,
				       sizeof(err)), -1);
	CU_ASSERT_EQUAL(tc_zone_rr_count(z), 1);
	tc_zone_free(z);
}

struct bad_case {
	const char *text;
	unsigned line;
	const char *needle;
};

static void test_zone_file_errors(void)
{
	static const struct bad_case cases[] = {
		{"ok A 192.0.2.1\nbad A 192.0.2\n", 2, "bad IPv4 address"},
		{"ok A 192.0.2.1\n\n; c\nx AAAA ::zz\n", 4, "bad IPv6 address"},
		{"a 300 IN BOGUS 1\n", 1, "unknown record type"},
		{"a 30x A 192.0.2.1\n", 1, "bad TTL"},
		{"$TTL forever\n", 1, "bad $TTL"},
		{"a A 192.0.2.1\n$INCLUDE other.zone\n", 2, "$INCLUDE"},
		{"$GENERATE 1-10 x A 1.2.3.4\n", 1, "unknown directive"},
		{"a CH A 192.0.2.1\n", 1, "only class IN"},
		{"\n\n\ttxt \"unterminated\n", 3, "newline inside a quoted string"},
		{"t TXT \"no end", 1, "unterminated quoted string"},
		{"@ SOA dns hostmaster (\n 1 2 3 4\n 5\n", 1, "unbalanced '('"},
		{"@ SOA dns hostmaster ( 1 2 ( 3 4 5 )\n", 1, "nested '('"},
		{"a A 192.0.2.1 )\n", 1, "')' without '('"},
		{"@ SOA dns hostmaster (\n 1\n 2\n 3x\n 4 5 )\n", 4, "bad SOA retry"},
		{"a MX 10\n", 1, "missing MX exchange"},
		{"a A 192.0.2.1 192.0.2.2\n", 1, "unexpected extra field"},
		{"   A 192.0.2.1\n", 1, "no owner name"},
		{"www.example.com. A 192.0.2.1\n", 1, "outside the zone"},
		{"c CNAME x\nc A 192.0.2.1\n", 2, "CNAME and other data"},
		{"a\\999 A 192.0.2.1\n", 1, "escape over 255"},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa A 192.0.2.1\n", 1,
		 "label longer than 63"},
		{"a..b A 192.0.2.1\n", 1, "empty label"},
		{"t TLSA 3 1 1 abc\n", 1, "bad hex"},
		{"t TLSA 3 1 256 ab\n", 1, "bad TLSA matching type"},
		{"c CAA 0 is-sue \"x\"\n", 1, "CAA tag"},
		{"o TYPE65280 \\# 3 deadbeef\n", 1, "does not match"},
		{"o DS 1 2 3 abcd\n", 1, "generic form"},
		{"s SRV 0 5 70000 dns\n", 1, "bad SRV port"},
		{"x\n", 1, "missing record type"},
		{"$ORIGIN\n", 1, "$ORIGIN takes"},
		{"a TXT \"" "0123456789012345678901234567890123456789012345678901234567890123456789"
		 "0123456789012345678901234567890123456789012345678901234567890123456789"
		 "0123456789012345678901234567890123456789012345678901234567890123456789"
		 "0123456789012345678901234567890123456789012345678901234567890123456789\"\n", 1,
		 "longer than 255"},
		{"$ORIGIN example.com.\nwww A 192.0.2.1\n", 2, "outside the zone"},
		{"@ CNAME www\n", 1, "CNAME at the zone apex"},
		{"x SOA a b 1 2 3 4 5\n", 1, "SOA only at the zone apex"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tc_zone *z = empty_zone();
		char err[512] = "";
		char want[32];
		int rc = tc_zone_load_text(z, cases[i].text, strlen(cases[i].text), "t.zone", err, sizeof(err));
		snprintf(want, sizeof(want), "t.zone:%u: ", cases[i].line);
		bool ok = rc == -1 && strncmp(err, want, strlen(want)) == 0 && strstr(err, cases[i].needle);
		if (!ok)
			fprintf(stderr, "case %zu: rc=%d err='%s' want '%s...%s'\n", i, rc, err, want,
				cases[i].needle);
		CU_ASSERT(ok);
		tc_zone_free(z);
	}
}

static void test_zone_file_syntax(void)
{
	struct tc_zone *z = empty_zone();
	char err[512] = "";
	/* Not NUL-terminated input, CRLF line ends, comment-only lines, TTL
	 * before/after class, last explicit TTL inherited without $TTL. */
	const char text[] = "a 77 IN A 192.0.2.1\r\n; comment\r\n  \r\nb IN 88 A 192.0.2.2\r\n"
			    "c A 192.0.2.3 ; trailing comment\r\nd TXT plain \\\"q\\\" \"\"";
	char *copy = malloc(sizeof(text) - 1);
	CU_ASSERT_FATAL(copy != NULL);
	memcpy(copy, text, sizeof(text) - 1);
	int rc = tc_zone_load_text(z, copy, sizeof(text) - 1, "s", err, sizeof(err));
	if (rc)
		fprintf(stderr, "%s\n", err);
	CU_ASSERT_EQUAL(rc, 0);
	free(copy);
	struct tc_zone_match m;
	CU_ASSERT_EQUAL(lookup(z, "a.trust.hypermesh.online.", TC_DNS_TYPE_A, &m), TC_ZONE_ANSWER);
	CU_ASSERT_EQUAL(m.rrs[0].ttl, 77);
	CU_ASSERT_EQUAL(lookup(z, "b.trust.hypermesh.online.", TC_DNS_TYPE_A, &m), TC_ZONE_ANSWER);
	CU_ASSERT_EQUAL(m.rrs[0].ttl, 88);
	CU_ASSERT_EQUAL(lookup(z, "c.trust.hypermesh.online.", TC_DNS_TYPE_A, &m), TC_ZONE_ANSWER);
	CU_ASSERT_EQUAL(m.rrs[0].ttl, 88);
	CU_ASSERT_EQUAL(lookup(z, "d.trust.hypermesh.online.", TC_DNS_TYPE_TXT, &m), TC_ZONE_ANSWER);
	CU_ASSERT(m.rrs[0].rdlen == 11 && memcmp(m.rrs[0].rdata, "\x05plain\x03\"q\"\x00", 11) == 0);
	tc_zone_free(z);
}

static void test_zone_file_from_disk(void)
{
	char path[] = "/tmp/tc_zone_XXXXXX";
	int fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	const char *text = "$TTL 60\nhost A 192.0.2.44\nbad A\n";
	CU_ASSERT(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	struct tc_zone *z = empty_zone();
	char err[512] = "";
	CU_ASSERT_EQUAL(tc_zone_load_file(z, path, err, sizeof(err)), -1);
	char want[64];
	snprintf(want, sizeof(want), "%s:3: missing address", path);
	CU_ASSERT_STRING_EQUAL(err, want);
	unlink(path);
	CU_ASSERT_EQUAL(tc_zone_load_file(z, path, err, sizeof(err)), -1);
	tc_zone_free(z);
}

static void test_zone_new_errors(void)
{
	struct tc_zone *z = NULL;
	char err[256];
	CU_ASSERT_EQUAL(tc_zone_new("a..b", &z, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NULL(z);
	CU_ASSERT_EQUAL(tc_zone_new("example.", &z, err, sizeof(err)), 0);
	size_t len;
	const uint8_t *o = tc_zone_origin(z, &len);
	CU_ASSERT(len == 9 && memcmp(o, "\x07" "example", 9) == 0);
	CU_ASSERT_PTR_NULL(tc_zone_soa(z));
	CU_ASSERT_EQUAL(tc_zone_negative_ttl(z), 0);
	/* Many names force the hash table to grow. */
	for (int i = 0; i < 2000; i++) {
		char line[64];
		int n = snprintf(line, sizeof(line), "h%d.g%d A 192.0.2.%d\n", i, i % 7, i % 250);
		CU_ASSERT_EQUAL_FATAL(tc_zone_load_text(z, line, (size_t)n, "gen", err, sizeof(err)), 0);
	}
	struct tc_zone_match m;
	CU_ASSERT_EQUAL(tc_zone_node_count(z), 1 + 7 + 2000);
	CU_ASSERT_EQUAL(lookup(z, "h1999.g4.example.", TC_DNS_TYPE_A, &m), TC_ZONE_ANSWER);
	CU_ASSERT_EQUAL(lookup(z, "g4.example.", TC_DNS_TYPE_A, &m), TC_ZONE_NODATA);
	CU_ASSERT_EQUAL(lookup(z, "h1999.g5.example.", TC_DNS_TYPE_A, &m), TC_ZONE_NXDOMAIN);
	tc_zone_free(z);
}

static void test_text_helpers(void)
{
	uint16_t type;
	uint32_t ttl;
	CU_ASSERT(tc_dns_type_from_text("aaaa", 4, &type) == 0 && type == TC_DNS_TYPE_AAAA);
	CU_ASSERT(tc_dns_type_from_text("TYPE65280", 9, &type) == 0 && type == 65280);
	CU_ASSERT_EQUAL(tc_dns_type_from_text("TYPE65536", 9, &type), -1);
	CU_ASSERT_EQUAL(tc_dns_type_from_text("TYPE", 4, &type), -1);
	CU_ASSERT_EQUAL(tc_dns_type_from_text("AAAAA", 5, &type), -1);
	CU_ASSERT(tc_dns_ttl_from_text("3600", 4, &ttl) == 0 && ttl == 3600);
	CU_ASSERT(tc_dns_ttl_from_text("1h30m", 5, &ttl) == 0 && ttl == 5400);
	CU_ASSERT(tc_dns_ttl_from_text("1W2d", 4, &ttl) == 0 && ttl == 777600);
	CU_ASSERT(tc_dns_ttl_from_text("2147483647", 10, &ttl) == 0 && ttl == 2147483647u);
	CU_ASSERT_EQUAL(tc_dns_ttl_from_text("2147483648", 10, &ttl), -1);
	CU_ASSERT_EQUAL(tc_dns_ttl_from_text("4000w", 5, &ttl), -1);
	CU_ASSERT_EQUAL(tc_dns_ttl_from_text("1x", 2, &ttl), -1);
	CU_ASSERT_EQUAL(tc_dns_ttl_from_text("h", 1, &ttl), -1);
	CU_ASSERT_EQUAL(tc_dns_ttl_from_text("", 0, &ttl), -1);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"config zone: SOA, NS, A/AAAA, TXT, CAA, records", test_config_zone},
		{"config zone errors", test_config_errors},
		{"zone file: every accepted construct", test_zone_file_good},
		{"zone file: CRLF, comments, TTL inheritance", test_zone_file_syntax},
		{"zone file errors carry their line number", test_zone_file_errors},
		{"zone file from disk", test_zone_file_from_disk},
		{"TLSA API", test_tlsa_api},
		{"zone content rules", test_zone_rules},
		{"zone origin, growth, lookups", test_zone_new_errors},
		{"type and TTL text", test_text_helpers},
		{NULL, NULL},
	};
	return tc_run_suite("dns_zone", tests, NULL, NULL);
}
