/* Rollover timing (resolver/dnssec_roll.h): for ZSK pre-publish and KSK
 * double-signature plans, a model of every validator cache (a DNSKEY RRset
 * held for its TTL, an RRSIG for its TTL, a DS for its TTL, each fetched
 * from a server up to the propagation delay behind) never finds a
 * signature without its key, or a DS without its KSK, at any time of the
 * rollover; and the same plan taken 10 s early does. */
#include <stdbool.h>
#include <string.h>

#include "resolver/dnssec_roll.h"
#include "unit/cunit_main.h"

static const struct tc_roll_params P = {
    .dnskey_ttl = 300, .max_sig_ttl = 600, .ds_ttl = 900, .propagation_s = 60, .parent_propagation_s = 120,
    .safety_s = 0};

/* ZSK: the zone as published at time t. */
static bool zsk_has(const struct tc_roll_plan *pl, time_t t, int key)
{
	return key == 1 ? t >= pl->publish : t < pl->remove;
}
static int zsk_signer(const struct tc_roll_plan *pl, time_t t)
{
	return t >= pl->activate ? 1 : 0;
}

/* True when some validator at some time holds an RRSIG whose key is not in
 * the DNSKEY RRset it holds. At time v it may hold a DNSKEY RRset published
 * at any s in [v - TTL - propagation, v] and an RRSIG made at any h in
 * [v - sig TTL - propagation, v]; the key sets and the signing key change
 * once each in the plan, so the ends of both ranges are every case. */
static bool zsk_bogus(const struct tc_roll_plan *pl)
{
	for (time_t v = pl->publish - 2000; v <= pl->remove + 2000; v++) {
		time_t ss[2] = {v - P.dnskey_ttl - P.propagation_s, v};
		time_t hs[2] = {v - P.max_sig_ttl - P.propagation_s, v};
		for (int i = 0; i < 2; i++)
			for (int j = 0; j < 2; j++)
				if (!zsk_has(pl, ss[i], zsk_signer(pl, hs[j])))
					return true;
	}
	return false;
}

static void test_zsk_prepublish(void)
{
	struct tc_roll_plan pl;
	CU_ASSERT_FATAL(tc_roll_plan(TC_ROLL_ZSK_PREPUBLISH, &P, 100000, 0, &pl) == 0);
	CU_ASSERT_EQUAL(pl.activate, 100000 + 60 + 300);
	CU_ASSERT_EQUAL(pl.remove, pl.activate + 60 + 600);
	CU_ASSERT(!zsk_bogus(&pl));
	struct tc_roll_plan early = pl;
	early.activate -= 10;
	CU_ASSERT(zsk_bogus(&early));
	early = pl;
	early.remove -= 10;
	CU_ASSERT(zsk_bogus(&early));
}

/* KSK: DNSKEY RRset holds the new KSK from publish, the old until remove;
 * the parent's DS is the old one before ds_seen, the new one after. A
 * validator at v holds a DNSKEY RRset from any s in [v - TTL -
 * propagation, v] and a DS RRset from any h in [v - DS TTL - parent
 * propagation, v] (ends of the ranges, as above). */
static bool ksk_bogus(const struct tc_roll_plan *pl, time_t ds_seen)
{
	for (time_t v = pl->publish - 2000; v <= pl->remove + 2000; v++) {
		time_t ss[2] = {v - P.dnskey_ttl - P.propagation_s, v};
		time_t hs[2] = {v - P.ds_ttl - P.parent_propagation_s, v};
		for (int i = 0; i < 2; i++)
			for (int j = 0; j < 2; j++) {
				int ds = hs[j] >= ds_seen ? 1 : 0;
				bool has = ds == 1 ? ss[i] >= pl->publish : ss[i] < pl->remove;
				if (!has)
					return true;
			}
	}
	return false;
}

static void test_ksk_double_signature(void)
{
	struct tc_roll_plan pl;
	CU_ASSERT_FATAL(tc_roll_plan(TC_ROLL_KSK_DOUBLE_SIGNATURE, &P, 100000, 0, &pl) == 0);
	CU_ASSERT_EQUAL(pl.activate, 100000);
	CU_ASSERT_EQUAL(pl.ds_submit, 100000 + 60 + 300);
	CU_ASSERT_EQUAL(pl.remove, 0); /* not before the parent is seen */
	time_t seen = pl.ds_submit + 3600; /* the registrar took an hour */
	CU_ASSERT_FATAL(tc_roll_plan(TC_ROLL_KSK_DOUBLE_SIGNATURE, &P, 100000, seen, &pl) == 0);
	CU_ASSERT_EQUAL(pl.remove, seen + 120 + 900);
	CU_ASSERT(!ksk_bogus(&pl, seen));
	struct tc_roll_plan early = pl;
	early.remove -= 10;
	CU_ASSERT(ksk_bogus(&early, seen));
	/* A DS served before the new DNSKEY RRset could be everywhere. */
	CU_ASSERT_EQUAL(tc_roll_plan(TC_ROLL_KSK_DOUBLE_SIGNATURE, &P, 100000, pl.ds_submit - 1, &pl), -1);
	struct tc_roll_plan ok;
	tc_roll_plan(TC_ROLL_KSK_DOUBLE_SIGNATURE, &P, 100000, 100000 + 360, &ok);
	CU_ASSERT(!ksk_bogus(&ok, 100000 + 360));
	CU_ASSERT(ksk_bogus(&ok, 100000 + 350)); /* the parent ahead of ds_submit */
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"ZSK pre-publish: never a signature without its key", test_zsk_prepublish},
		{"KSK double signature: never a DS without its key", test_ksk_double_signature},
		{NULL, NULL},
	};
	return tc_run_suite("dnssec_roll", tests, NULL, NULL);
}
