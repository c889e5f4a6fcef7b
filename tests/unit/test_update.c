/* RFC 2136 pieces on their own: the policy's name patterns ("*.suffix",
 * "prefix.*", exact, absolute) and types, the prescan's RCODEs, the
 * prerequisites against a zone, and applying encoded changes (add, delete
 * one record, an RRset, a name; SOA/NS/DNSSEC untouchable), with deleted
 * names gone from the copy. nsupdate end to end is dns_update_test.sh. */
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "resolver/dns_build.h"
#include "resolver/dns_name.h"
#include "resolver/tsig.h"
#include "resolver/update.h"
#include "unit/cunit_main.h"

#define APEX "trust.hypermesh.online."

static struct tc_zone *zone;
static struct tc_tsig_keyring ring;
static struct tc_update u;

static int suite_init(void)
{
	struct tc_config cfg;
	char err[256];
	tc_config_defaults(&cfg, true);
	if (tc_zone_from_config(&cfg, &zone, err, sizeof(err)) != 0)
		return 1;
	static const char extra[] = "_acme-challenge.www 60 TXT \"a\"\n_acme-challenge.www 60 TXT \"b\"\n";
	static const char keys[] = "key acme { algorithm hmac-sha256; secret \"AAAA\"; };\n"
				   "key other { algorithm hmac-sha256; secret \"AAAA\"; };\n";
	return tc_zone_load_text(zone, extra, sizeof(extra) - 1, "t", err, sizeof(err)) != 0 ||
	       tc_tsig_keys_parse(keys, sizeof(keys) - 1, &ring, err, sizeof(err)) != 0;
}

static int suite_cleanup(void)
{
	tc_zone_free(zone);
	return 0;
}

static size_t wire(const char *text, uint8_t *out)
{
	size_t len;
	const char *why;
	static const uint8_t root = 0;
	CU_ASSERT_FATAL(tc_dns_name_from_text(text, strlen(text), &root, 1, out, &len, &why) == 0);
	return len;
}

/* An UPDATE of the zone with one prerequisite (or none) and one change. */
static size_t make_update(uint8_t *m, const char *zname, const char *pname, uint16_t ptype,
			  uint16_t pclass, const char *name, uint16_t type, uint16_t rclass,
			  uint32_t ttl, const uint8_t *rd, size_t rdlen)
{
	uint8_t w[TC_DNS_MAX_NAME];
	struct tc_dns_builder b;
	tc_dns_build_init(&b, m, 4096);
	CU_ASSERT_FATAL(tc_dns_build_header(&b, 7, TC_DNS_OPCODE_UPDATE << 11) == 0);
	CU_ASSERT_FATAL(tc_dns_build_question(&b, w, wire(zname, w), TC_DNS_TYPE_SOA, 1) == 0);
	if (pname)
		CU_ASSERT_FATAL(tc_dns_put_rr(&b, TC_DNS_SEC_ANSWER, w, wire(pname, w), ptype, pclass, 0,
					      NULL, 0) == 0);
	CU_ASSERT_FATAL(tc_dns_put_rr(&b, TC_DNS_SEC_AUTHORITY, w, wire(name, w), type, rclass, ttl,
				      rd, rdlen) == 0);
	return tc_dns_build_finish(&b);
}

static uint16_t parse(const uint8_t *m, size_t len)
{
	size_t olen;
	const uint8_t *origin = tc_zone_origin(zone, &olen);
	return tc_update_parse(m, len, origin, olen, &u);
}

static const uint8_t txt[] = "\x05token";

static void test_prescan(void)
{
	uint8_t m[4096];
	size_t n = make_update(m, APEX, NULL, 0, 0, "_acme-challenge.x." APEX, 16, 1, 60, txt, 6);
	CU_ASSERT_EQUAL(parse(m, n), 0);
	CU_ASSERT(u.nupdate == 1 && u.update[0].rdlen == 6);
	n = make_update(m, "example.com.", NULL, 0, 0, "a.example.com.", 16, 1, 60, txt, 6);
	CU_ASSERT_EQUAL(parse(m, n), TC_DNS_RCODE_NOTAUTH);
	n = make_update(m, APEX, NULL, 0, 0, "a.example.com.", 16, 1, 60, txt, 6);
	CU_ASSERT_EQUAL(parse(m, n), TC_DNS_RCODE_NOTZONE);
	n = make_update(m, APEX, NULL, 0, 0, "a." APEX, 255, 1, 60, NULL, 0);   /* add ANY */
	CU_ASSERT_EQUAL(parse(m, n), TC_DNS_RCODE_FORMERR);
	n = make_update(m, APEX, NULL, 0, 0, "a." APEX, 16, 255, 60, NULL, 0);  /* delete, TTL set */
	CU_ASSERT_EQUAL(parse(m, n), TC_DNS_RCODE_FORMERR);
	n = make_update(m, APEX, NULL, 0, 0, "a." APEX, 16, 3, 60, txt, 6);     /* class CH */
	CU_ASSERT_EQUAL(parse(m, n), TC_DNS_RCODE_FORMERR);
	/* A CNAME or MX added without its name (found by fuzz_ixfr: the
	 * record then broke every transfer of the zone); deleting a CNAME
	 * RRset carries no RDATA and stays fine. */
	n = make_update(m, APEX, NULL, 0, 0, "a." APEX, 5, 1, 60, NULL, 0);
	CU_ASSERT_EQUAL(parse(m, n), TC_DNS_RCODE_FORMERR);
	n = make_update(m, APEX, NULL, 0, 0, "a." APEX, 15, 1, 60, NULL, 0);
	CU_ASSERT_EQUAL(parse(m, n), TC_DNS_RCODE_FORMERR);
	n = make_update(m, APEX, NULL, 0, 0, "a." APEX, 5, 255, 0, NULL, 0);
	CU_ASSERT_EQUAL(parse(m, n), 0);
}

static void test_prerequisites(void)
{
	uint8_t m[4096];
	const char *name = "_acme-challenge.www." APEX;
	struct { uint16_t type, rclass, want; const char *pname; } cases[] = {
		{255, 255, 0, "_acme-challenge.www." APEX},                      /* name in use */
		{255, 255, TC_DNS_RCODE_NXDOMAIN, "nope." APEX},
		{16, 255, 0, "_acme-challenge.www." APEX},                       /* RRset exists */
		{1, 255, TC_DNS_RCODE_NXRRSET, "_acme-challenge.www." APEX},
		{255, 254, TC_DNS_RCODE_YXDOMAIN, "_acme-challenge.www." APEX},  /* name not in use */
		{255, 254, 0, "nope." APEX},
		{16, 254, TC_DNS_RCODE_YXRRSET, "_acme-challenge.www." APEX},    /* RRset absent */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = make_update(m, APEX, cases[i].pname, cases[i].type, cases[i].rclass, name, 16,
				       1, 60, txt, 6);
		CU_ASSERT_EQUAL_FATAL(parse(m, n), 0);
		CU_ASSERT_EQUAL(tc_update_check_prereqs(zone, &u), cases[i].want);
	}
}

static void test_policy(void)
{
	struct tc_config cfg;
	tc_config_defaults(&cfg, true);
	cfg.dns.update_rule_count = 1;
	struct tc_dns_update_rule_cfg *r = &cfg.dns.update_policy[0];
	snprintf(r->key, sizeof(r->key), "acme");
	r->names.count = 3;
	snprintf(r->names.items[0], TC_CFG_STR, "_acme-challenge.*");
	snprintf(r->names.items[1], TC_CFG_STR, "*.dyn");
	snprintf(r->names.items[2], TC_CFG_STR, "Host.Trust.Hypermesh.Online.");
	r->type_count = 1;
	snprintf(r->types[0], sizeof(r->types[0]), "TXT");
	static struct tc_update_policy p;
	char err[128];
	CU_ASSERT_FATAL(tc_update_policy_from_config(&cfg, &ring, &p, err, sizeof(err)) == 0);
	const struct tc_tsig_key *acme = tc_tsig_key_find_text(&ring, "acme");
	const struct tc_tsig_key *other = tc_tsig_key_find_text(&ring, "other");
	size_t olen;
	const uint8_t *origin = tc_zone_origin(zone, &olen);
	struct { const char *name; uint16_t type; const struct tc_tsig_key *key; bool ok; } cases[] = {
		{"_acme-challenge." APEX, 16, NULL, true},          /* the apex's own challenge */
		{"_acme-challenge.www." APEX, 16, NULL, true},
		{"_acme-challenge.a.b." APEX, 16, NULL, true},
		{"x._acme-challenge." APEX, 16, NULL, false},
		{"_acme-challengex." APEX, 16, NULL, false},
		{"a.dyn." APEX, 16, NULL, true},
		{"dyn." APEX, 16, NULL, false},                     /* strictly below */
		{"host." APEX, 16, NULL, true},
		{"www." APEX, 16, NULL, false},
		{"_acme-challenge.www." APEX, 1, NULL, false},      /* type not granted */
		{"_acme-challenge.www." APEX, 16, NULL, false},     /* other key (the last case) */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t m[4096];
		size_t n = make_update(m, APEX, NULL, 0, 0, cases[i].name, cases[i].type, 1, 60,
				       cases[i].type == 1 ? (const uint8_t *)"\1\2\3\4" : txt,
				       cases[i].type == 1 ? 4 : 6);
		CU_ASSERT_EQUAL_FATAL(parse(m, n), 0);
		const struct tc_tsig_key *k = i == sizeof(cases) / sizeof(cases[0]) - 1 ? other : acme;
		if (tc_update_allowed(&p, k, origin, olen, &u) != cases[i].ok) {
			fprintf(stderr, "\n  %s type %u: expected %s\n", cases[i].name, cases[i].type,
				cases[i].ok ? "allowed" : "refused");
			CU_FAIL("policy");
		}
	}
}

static void test_apply(void)
{
	uint8_t m[4096], ops[4096];
	const char *name = "_acme-challenge.www." APEX;
	char err[256];
	/* Delete "a", then the whole name: a copy has no node left for it. */
	size_t n = make_update(m, APEX, NULL, 0, 0, name, 16, 254, 0, (const uint8_t *)"\1a", 2);
	CU_ASSERT_FATAL(parse(m, n) == 0);
	size_t len = tc_update_encode(&u, ops, sizeof(ops));
	CU_ASSERT_FATAL(len > 0);
	CU_ASSERT_EQUAL(tc_update_apply(zone, ops, len, err, sizeof(err)), 0);
	uint8_t w[TC_DNS_MAX_NAME];
	size_t wl = wire(name, w), cnt;
	CU_ASSERT_PTR_NOT_NULL(tc_zone_node_rrset(tc_zone_find(zone, w, wl), 16, &cnt));
	CU_ASSERT_EQUAL(cnt, 1);
	n = make_update(m, APEX, NULL, 0, 0, name, 255, 255, 0, NULL, 0);
	CU_ASSERT_FATAL(parse(m, n) == 0);
	len = tc_update_encode(&u, ops, sizeof(ops));
	CU_ASSERT_EQUAL(tc_update_apply(zone, ops, len, err, sizeof(err)), 0);
	/* The apex SOA survives a delete of every RRset at the apex. */
	n = make_update(m, APEX, NULL, 0, 0, APEX, 255, 255, 0, NULL, 0);
	CU_ASSERT_FATAL(parse(m, n) == 0);
	len = tc_update_encode(&u, ops, sizeof(ops));
	CU_ASSERT_EQUAL(tc_update_apply(zone, ops, len, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(tc_zone_soa(zone));
	struct tc_zone *copy = NULL;
	CU_ASSERT_FATAL(tc_update_copy_records(zone, &copy, err, sizeof(err)) == 0);
	CU_ASSERT_PTR_NULL(tc_zone_find(copy, w, wl));
	CU_ASSERT_PTR_NOT_NULL(tc_zone_soa(copy));
	CU_ASSERT_EQUAL(tc_zone_serial(copy), tc_zone_serial(zone));
	tc_zone_free(copy);
	/* Bytes that are not encoded changes. */
	static const uint8_t junk[] = {3, 'a', 'b'};
	CU_ASSERT_EQUAL(tc_update_apply(zone, junk, sizeof(junk), err, sizeof(err)), -1);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"prescan RCODEs", test_prescan},
		{"prerequisites", test_prerequisites},
		{"policy patterns and types", test_policy},
		{"apply, delete, copy without empty names", test_apply},
		{NULL, NULL},
	};
	return tc_run_suite("update", tests, suite_init, suite_cleanup);
}
