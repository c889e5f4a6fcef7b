/* tc_zone_sign with the keys of a rollover (struct tc_dnssec_keyset): every
 * key in the DNSKEY RRset, the DNSKEY RRset signed by each key that signs
 * it (KSK; two during a double-signature roll), every other RRset by the
 * zone-signing key alone (ZSK), a published or retired key signing
 * nothing; sets no validator could use are refused. Local P-256 keys; the
 * signing function finds its key by the tag in the RRSIG head, as the
 * resolver's does. */
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <string.h>

#include "common/config.h"
#include "resolver/dns_wire.h"
#include "resolver/dnssec.h"
#include "resolver/zone.h"
#include "unit/cunit_main.h"

#define NKEYS 3
static EVP_PKEY *keys[NKEYS];
static uint16_t tags[NKEYS];
static struct tc_dnssec_keyset set;

static int sign_by_tag(void *ctx, const uint8_t *data, size_t len, uint8_t sig[64], char *err, size_t errlen)
{
	(void)ctx;
	uint16_t tag = (uint16_t)((data[16] << 8) | data[17]);
	EVP_PKEY *k = NULL;
	for (int i = 0; i < NKEYS; i++)
		if (tags[i] == tag)
			k = keys[i];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char der[80];
	size_t dl = sizeof(der);
	int ok = k && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k) == 1 &&
		 EVP_DigestSign(md, der, &dl, data, len) == 1 && tc_dnssec_sig_from_der(der, dl, sig) == 0;
	EVP_MD_CTX_free(md);
	if (!ok)
		snprintf(err, errlen, "no key with tag %u", tag);
	return ok ? 0 : -1;
}

static struct tc_zone *zone(void)
{
	struct tc_config cfg;
	char err[512];
	struct tc_zone *z = NULL;
	tc_config_defaults(&cfg, true);
	cfg.dns.addresses.count = 1;
	snprintf(cfg.dns.addresses.items[0], TC_CFG_STR, "192.0.2.1");
	CU_ASSERT_FATAL(tc_zone_from_config(&cfg, &z, err, sizeof(err)) == 0);
	return z;
}

/* Tags of the RRSIGs over type at the apex, as a bit per key index. */
static unsigned signers(const struct tc_zone *z, uint16_t type)
{
	size_t ol, c;
	const uint8_t *o = tc_zone_origin(z, &ol);
	const struct tc_zone_node *apex = tc_zone_find(z, o, ol);
	const struct tc_zone_rr *rr = apex ? tc_zone_node_rrset(apex, TC_DNS_TYPE_RRSIG, &c) : NULL;
	unsigned bits = 0;
	for (size_t i = 0; rr && i < c; i++) {
		if (tc_dns_get16(rr[i].rdata) != type)
			continue;
		for (int k = 0; k < NKEYS; k++)
			if (tc_dns_get16(rr[i].rdata + 16) == tags[k])
				bits |= 1u << k;
	}
	return bits;
}

static size_t dnskeys(const struct tc_zone *z)
{
	size_t ol, c = 0;
	const uint8_t *o = tc_zone_origin(z, &ol);
	return tc_zone_node_rrset(tc_zone_find(z, o, ol), TC_DNS_TYPE_DNSKEY, &c) ? c : 0;
}

static int suite_init(void)
{
	for (int i = 0; i < NKEYS; i++) {
		uint8_t enc[65];
		size_t el = 0;
		keys[i] = EVP_EC_gen("P-256");
		if (!keys[i] || EVP_PKEY_get_octet_string_param(keys[i], "encoded-pub-key", enc, sizeof(enc), &el) != 1 ||
		    el != 65)
			return 1;
		/* key 0: KSK (257), keys 1 and 2: ZSKs (256). */
		tc_dnssec_dnskey_rdata(set.key[i].dnskey, i == 0 ? TC_DNSSEC_FLAGS_CSK : TC_DNSSEC_FLAGS_ZSK, enc + 1);
		tags[i] = tc_dnssec_key_tag(set.key[i].dnskey, TC_DNSSEC_DNSKEY_LEN);
	}
	return tags[0] == tags[1] || tags[1] == tags[2] || tags[0] == tags[2];
}

static int suite_cleanup(void)
{
	for (int i = 0; i < NKEYS; i++)
		EVP_PKEY_free(keys[i]);
	return 0;
}

static long sign(struct tc_zone *z, const struct tc_dnssec_keyset *s)
{
	char err[256];
	struct tc_dnssec_zone_key zk = {.inception = 1796600000, .expiration = 1796600000 + 86400,
					.sign = sign_by_tag, .set = s};
	long n = tc_zone_sign(z, &zk, err, sizeof(err));
	if (n < 0)
		printf("(%s) ", err);
	return n;
}

static void test_prepublish(void)
{
	/* KSK 0 signs DNSKEY, ZSK 1 the zone, ZSK 2 published only. */
	struct tc_dnssec_keyset s = set;
	s.n = 3;
	s.key[0].signs_dnskey = true;
	s.key[1].signs_zone = true;
	struct tc_zone *z = zone();
	CU_ASSERT_FATAL(sign(z, &s) > 0);
	CU_ASSERT_EQUAL(dnskeys(z), 3);
	CU_ASSERT_EQUAL(signers(z, TC_DNS_TYPE_DNSKEY), 1u << 0);
	CU_ASSERT_EQUAL(signers(z, TC_DNS_TYPE_SOA), 1u << 1);
	CU_ASSERT_EQUAL(signers(z, TC_DNS_TYPE_NSEC), 1u << 1);
	/* Signed again with the roles moved on (2 active, 1 retired): the old
	 * signatures are stripped, none of key 1 is left. */
	s.key[1].signs_zone = false;
	s.key[2].signs_zone = true;
	CU_ASSERT_FATAL(sign(z, &s) > 0);
	CU_ASSERT_EQUAL(dnskeys(z), 3);
	CU_ASSERT_EQUAL(signers(z, TC_DNS_TYPE_SOA), 1u << 2);
	tc_zone_free(z);
}

static void test_double_signature(void)
{
	/* Keys 0 and 1 both sign the DNSKEY RRset (1 as a second KSK), 2 the zone. */
	struct tc_dnssec_keyset s = set;
	s.n = 3;
	s.key[0].signs_dnskey = s.key[1].signs_dnskey = true;
	s.key[2].signs_zone = true;
	struct tc_zone *z = zone();
	CU_ASSERT_FATAL(sign(z, &s) > 0);
	CU_ASSERT_EQUAL(signers(z, TC_DNS_TYPE_DNSKEY), (1u << 0) | (1u << 1));
	CU_ASSERT_EQUAL(signers(z, TC_DNS_TYPE_SOA), 1u << 2);
	tc_zone_free(z);
}

static void test_refused(void)
{
	struct tc_zone *z = zone();
	struct tc_dnssec_keyset s = set;
	s.n = 2;
	s.key[0].signs_dnskey = true; /* nobody signs the zone data */
	CU_ASSERT_EQUAL(sign(z, &s), -1);
	s.key[0].signs_dnskey = false;
	s.key[1].signs_zone = true; /* nobody signs the DNSKEY RRset */
	CU_ASSERT_EQUAL(sign(z, &s), -1);
	s.key[0].signs_dnskey = true;
	memcpy(s.key[1].dnskey, s.key[0].dnskey, TC_DNSSEC_DNSKEY_LEN); /* two keys, one tag */
	CU_ASSERT_EQUAL(sign(z, &s), -1);
	s.n = 0;
	CU_ASSERT_EQUAL(sign(z, &s), -1);
	s = set;
	s.n = 2;
	s.key[0].signs_dnskey = s.key[1].signs_zone = true;
	s.key[1].dnskey[3] = 8; /* RSA: not ours */
	CU_ASSERT_EQUAL(sign(z, &s), -1);
	tc_zone_free(z);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"pre-publish: published key in DNSKEY only, ZSK signs data, KSK DNSKEY", test_prepublish},
		{"double signature: both KSKs sign DNSKEY", test_double_signature},
		{"sets without a DNSKEY or data signer, duplicate tags, other algorithms refused", test_refused},
		{NULL, NULL},
	};
	return tc_run_suite("dnssec_keyset", tests, suite_init, suite_cleanup);
}
