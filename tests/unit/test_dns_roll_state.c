/* The DNSSEC roll state file (common/dns_roll_state.c) and the signer's
 * rule for DNS key selectors (signer/dns_keys.c): what the resolver, the
 * signer and trustchainctl dns-roll all read must round-trip, and damaged
 * or hostile contents must be refused, never half-read. */
#include <stdlib.h>
#include <string.h>

#include "common/dns_roll_state.h"
#include "signer/dns_keys.h"
#include "unit/cunit_main.h"

static const char good[] = "trustchain-dns-roll 1\n"
			   "key tc-dns-zone ksk active 1796600000\n"
			   "key tc-dns-zone-zsk-1 zsk retired 1796600100\n"
			   "key tc-dns-zone-zsk-2 zsk active 1796600100\n"
			   "roll zsk tc-dns-zone-zsk-2 tc-dns-zone-zsk-1 1796600000 0 3600 300 86400 2 3600 2\n";

static int parse(const char *text)
{
	struct tc_dns_roll_state st;
	char why[256];
	return tc_dns_roll_state_parse(text, strlen(text), &st, why, sizeof(why));
}

static void test_round_trip(void)
{
	struct tc_dns_roll_state st;
	char why[256], out[TC_DNS_ROLL_MAX_BYTES];
	CU_ASSERT_EQUAL_FATAL(tc_dns_roll_state_parse(good, strlen(good), &st, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(st.nkeys, 3);
	CU_ASSERT_EQUAL(st.key[0].role, TC_DNS_ROLE_KSK);
	CU_ASSERT_EQUAL(st.key[1].phase, TC_DNS_KEY_RETIRED);
	CU_ASSERT_EQUAL(st.rolling, TC_DNS_ROLL_ZSK);
	CU_ASSERT_STRING_EQUAL(st.new_label, "tc-dns-zone-zsk-2");
	CU_ASSERT_EQUAL(st.max_sig_ttl, 300);
	CU_ASSERT_EQUAL(st.safety_s, 2);
	CU_ASSERT_PTR_NOT_NULL(tc_dns_roll_state_find(&st, "tc-dns-zone-zsk-1", 17));
	CU_ASSERT_PTR_NULL(tc_dns_roll_state_find(&st, "tc-dns-zone-zsk-1", 16));
	size_t n = tc_dns_roll_state_format(&st, out, sizeof(out));
	CU_ASSERT_EQUAL(n, strlen(good));
	CU_ASSERT_EQUAL(memcmp(out, good, strlen(good)), 0);
	CU_ASSERT_EQUAL(tc_dns_roll_state_format(&st, out, 40), 0); /* too small: nothing */
}

static void test_refused(void)
{
	CU_ASSERT_EQUAL(parse(""), -1);
	CU_ASSERT_EQUAL(parse("trustchain-dns-roll 2\nkey a csk active 0\n"), -1);
	CU_ASSERT_EQUAL(parse("trustchain-dns-roll 1\n"), -1);                        /* no key */
	CU_ASSERT_EQUAL(parse("trustchain-dns-roll 1\nkey a csk active 0"), -1);      /* no newline */
	CU_ASSERT_EQUAL(parse("trustchain-dns-roll 1\nkey a csk active 0\nkey a zsk active 0\n"), -1);
	CU_ASSERT_EQUAL(parse("trustchain-dns-roll 1\nkey a/b csk active 0\n"), -1);  /* a path */
	CU_ASSERT_EQUAL(parse("trustchain-dns-roll 1\nkey a psk active 0\n"), -1);
	CU_ASSERT_EQUAL(parse("trustchain-dns-roll 1\nkey a csk gone 0\n"), -1);
	CU_ASSERT_EQUAL(parse("trustchain-dns-roll 1\nkey a csk active -1\n"), -1);
	CU_ASSERT_EQUAL(parse("trustchain-dns-roll 1\nkey a csk active 0 extra\n"), -1);
	CU_ASSERT_EQUAL(parse("trustchain-dns-roll 1\nkey a  csk active 0\n"), -1);   /* empty field */
	CU_ASSERT_EQUAL(parse("trustchain-dns-roll 1\nkey a csk active 0\nnsec3 1\n"), -1);
	CU_ASSERT_EQUAL(parse("trustchain-dns-roll 1\nkey a csk active 1\nkey b zsk active 1\n"
			      "key c zsk active 1\nkey d zsk active 1\nkey e zsk active 1\n"), -1); /* > 4 */
	/* A roll must name two different keys of the set. */
	CU_ASSERT_EQUAL(parse("trustchain-dns-roll 1\nkey a csk active 0\n"
			      "roll zsk b a 1 0 3600 300 86400 2 3600 2\n"), -1);
	CU_ASSERT_EQUAL(parse("trustchain-dns-roll 1\nkey a csk active 0\n"
			      "roll zsk a a 1 0 3600 300 86400 2 3600 2\n"), -1);
	CU_ASSERT_EQUAL(parse("trustchain-dns-roll 1\nkey a csk active 0\nkey b zsk published 0\n"
			      "roll zsk b a 1 0 3600 300 86400 2 3600\n"), -1);
	CU_ASSERT_EQUAL(parse("trustchain-dns-roll 1\nkey a csk active 0\nkey b zsk published 0\n"
			      "roll zsk b a 1 0 3600 300 99999999999 2 3600 2\n"), -1); /* TTL out of range */
	/* Length-delimited: a NUL is refused, not a cut. */
	static const char nul[] = "trustchain-dns-roll 1\nkey a\0b csk active 0\n";
	struct tc_dns_roll_state st;
	char why[256];
	CU_ASSERT_EQUAL(tc_dns_roll_state_parse(nul, sizeof(nul) - 1, &st, why, sizeof(why)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "NUL"));
}

static int label_ok(const struct tc_config *cfg, const char *l)
{
	char why[256];
	return tc_signer_dns_label_ok(cfg, l, strlen(l), why, sizeof(why));
}

/* What a roll state (writable by whoever owns dns/) can make the signer
 * use: DNS keys only. */
static void test_selector_rule(void)
{
	struct tc_config *cfg = calloc(1, sizeof(*cfg));
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	tc_config_defaults(cfg, true);
	CU_ASSERT_EQUAL(label_ok(cfg, cfg->hsm.dns_key_label), 0);
	char l[80];
	snprintf(l, sizeof(l), "%s-zsk-1796600000", cfg->hsm.dns_key_label);
	CU_ASSERT_EQUAL(label_ok(cfg, l), 0);
	snprintf(l, sizeof(l), "%s-", cfg->hsm.dns_key_label);
	CU_ASSERT_EQUAL(label_ok(cfg, l), -1);
	snprintf(l, sizeof(l), "%sx", cfg->hsm.dns_key_label);
	CU_ASSERT_EQUAL(label_ok(cfg, l), -1); /* not "<label>-..." */
	CU_ASSERT_EQUAL(label_ok(cfg, cfg->hsm.root_key_label), -1);
	CU_ASSERT_EQUAL(label_ok(cfg, cfg->hsm.intermediate_key_label), -1);
	CU_ASSERT_EQUAL(label_ok(cfg, cfg->hsm.audit_key_label), -1);
	CU_ASSERT_EQUAL(label_ok(cfg, cfg->hsm.ct_key_label), -1);
	/* The root's label under the DNS prefix is still refused when it is
	 * configured as the root's. */
	strcpy(cfg->hsm.root_key_label, "tc-dns-zone-root");
	strcpy(cfg->hsm.dns_key_label, "tc-dns-zone");
	CU_ASSERT_EQUAL(label_ok(cfg, cfg->hsm.root_key_label), -1);
	char lng[TC_KEY_LABEL_MAX + 8];
	memset(lng, 'k', sizeof(lng));
	memcpy(lng, cfg->hsm.dns_key_label, strlen(cfg->hsm.dns_key_label));
	lng[strlen(cfg->hsm.dns_key_label)] = '-';
	lng[TC_KEY_LABEL_MAX + 1] = '\0';
	CU_ASSERT_EQUAL(label_ok(cfg, lng), -1); /* 49 octets */
	CU_ASSERT_EQUAL(tc_signer_dns_label_ok(cfg, "tc-dns-zone-\0a", 14, l, sizeof(l)), -1);
	free(cfg);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"roll state: parse and format round-trip", test_round_trip},
		{"roll state: damaged or hostile files refused", test_refused},
		{"DNS key selectors: only DNS keys, never another role's", test_selector_rule},
		{NULL, NULL},
	};
	return tc_run_suite("dns_roll_state", tests, NULL, NULL);
}
