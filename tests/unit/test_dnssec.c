/* DNSSEC for the authoritative zone: canonical order and form, type
 * bitmaps, the RRSIG signing input checked against the RFC 6605 §6.1
 * example signature, whole-zone signing (NSEC chain, what is and is not
 * signed), DNSSEC answers (RRSIGs with DO, NSEC proofs for NXDOMAIN and
 * NODATA, signed referrals, truncation), live zone swaps under readers,
 * and TLSA records from certificates. */
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/config.h"
#include "common/hex.h"
#include "resolver/answer.h"
#include "resolver/dns_name.h"
#include "resolver/dnssec.h"
#include "resolver/tlsa.h"
#include "resolver/zone.h"
#include "resolver/zone_live.h"
#include "unit/cunit_main.h"

static size_t wire(const char *text, uint8_t *out)
{
	size_t len = 0;
	const char *why;
	static const uint8_t root = 0;
	CU_ASSERT_FATAL(tc_dns_name_from_text(text, strlen(text), &root, 1, out, &len, &why) == 0);
	return len;
}

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2;
	CU_ASSERT_FATAL(n <= cap && tc_hex_decode(hex, out, n) == 0);
	return n;
}

/* ---- canonical order and form ---- */

static void test_canonical_order(void)
{
	/* RFC 4034 §6.1, in its order. */
	static const char *const names[] = {
	    "example.",       "a.example.",     "yljkjljk.a.example.", "Z.a.example.",
	    "zABC.a.EXAMPLE.", "z.example.",    "\\001.z.example.",     "*.z.example.",
	    "\\200.z.example.",
	};
	size_t n = sizeof(names) / sizeof(names[0]);
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < n; k++) {
			uint8_t a[TC_DNS_MAX_NAME], b[TC_DNS_MAX_NAME];
			size_t al = wire(names[i], a), bl = wire(names[k], b);
			int c = tc_dnssec_name_cmp(a, al, b, bl);
			if (i < k)
				CU_ASSERT(c < 0);
			if (i == k)
				CU_ASSERT(c == 0);
			if (i > k)
				CU_ASSERT(c > 0);
		}
	}
	uint8_t a[TC_DNS_MAX_NAME], b[TC_DNS_MAX_NAME];
	size_t al = wire("WWW.Example.", a), bl = wire("www.example.", b);
	CU_ASSERT_EQUAL(tc_dnssec_name_cmp(a, al, b, bl), 0);
}

static void test_type_bitmap(void)
{
	/* RFC 4034 §4.3: A MX RRSIG NSEC TYPE1234. */
	static const uint16_t types[] = {1, 15, 46, 47, 1234};
	uint8_t out[64], want[64];
	/* Window 0: 6 octets (A, MX, RRSIG, NSEC); window 4: 27 octets, the
	 * last one holding bit 210 % 8 = 2 of TYPE1234. */
	size_t wl = unhex("0006400100000003", want, sizeof(want));
	want[wl++] = 4;
	want[wl++] = 27;
	memset(want + wl, 0, 26);
	wl += 26;
	want[wl++] = 0x20;
	size_t n = tc_dnssec_type_bitmap(types, 5, out, sizeof(out));
	CU_ASSERT_EQUAL(n, wl);
	CU_ASSERT(memcmp(out, want, wl) == 0);
	CU_ASSERT_EQUAL(tc_dnssec_type_bitmap(types, 5, out, 8), 0);   /* too small */
}

static void test_canonical_rdata(void)
{
	struct tc_zone_rr rrs[3];
	uint8_t ns1[TC_DNS_MAX_NAME], ns2[TC_DNS_MAX_NAME];
	size_t l1 = wire("B.Example.", ns1), l2 = wire("a.example.", ns2);
	rrs[0] = (struct tc_zone_rr){TC_DNS_TYPE_NS, (uint16_t)l1, 60, ns1};
	rrs[1] = (struct tc_zone_rr){TC_DNS_TYPE_NS, (uint16_t)l2, 60, ns2};
	rrs[2] = (struct tc_zone_rr){TC_DNS_TYPE_NS, (uint16_t)l1, 60, ns1};   /* duplicate */
	uint8_t owner[TC_DNS_MAX_NAME];
	size_t ol = wire("Example.", owner);
	uint8_t head[] = {0xaa, 0xbb};
	size_t len;
	uint8_t *in = tc_dnssec_signing_input(head, 2, owner, ol, TC_DNS_TYPE_NS, 300, rrs, 3, &len);
	CU_ASSERT_FATAL(in != NULL);
	/* head, then a.example. before b.example., once each, all lower case,
	 * TTL 300 (the original TTL, not the records'). */
	uint8_t want[1024];
	size_t w = 0;
	memcpy(want, head, 2);
	w = 2;
	const char *targets[] = {"a.example.", "b.example."};
	for (int i = 0; i < 2; i++) {
		w += wire("example.", want + w);
		uint8_t fixed[10] = {0, 2, 0, 1, 0, 0, 1, 44, 0, 0};
		uint8_t t[TC_DNS_MAX_NAME];
		size_t tl = wire(targets[i], t);
		fixed[9] = (uint8_t)tl;
		memcpy(want + w, fixed, 10);
		w += 10;
		memcpy(want + w, t, tl);
		w += tl;
	}
	CU_ASSERT_EQUAL(len, w);
	CU_ASSERT(memcmp(in, want, w) == 0);
	free(in);
	/* The caller's records are left as they were. */
	CU_ASSERT_EQUAL(ns1[1], 'B');
}

/* ---- RFC 6605 §6.1 known answer ---- */

static EVP_PKEY *key_from_point(const uint8_t point[64])
{
	/* DER SubjectPublicKeyInfo prefix of an uncompressed P-256 point. */
	static const uint8_t prefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
					 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
					 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04};
	uint8_t der[sizeof(prefix) + 64];
	memcpy(der, prefix, sizeof(prefix));
	memcpy(der + sizeof(prefix), point, 64);
	const unsigned char *p = der;
	return d2i_PUBKEY(NULL, &p, sizeof(der));
}

/* r || s -> DER, then an OpenSSL verification of SHA-256 ECDSA. */
static bool verify_raw(EVP_PKEY *pub, const uint8_t *data, size_t len, const uint8_t sig[64])
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	ECDSA_SIG_set0(s, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
	unsigned char *der = NULL;
	int dl = i2d_ECDSA_SIG(s, &der);
	ECDSA_SIG_free(s);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = dl > 0 && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) == 1 &&
		  EVP_DigestVerify(md, der, (size_t)dl, data, len) == 1;
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	return ok;
}

static void test_rfc6605_example(void)
{
	unsigned char *key = NULL, *sig = NULL;
	size_t klen, slen;
	CU_ASSERT_FATAL(tc_base64_decode("GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7w"
					 "NcP+e+MAnLr+Wi9xMWyQLc8NAA==",
					 &key, &klen) == 0 && klen == 64);
	CU_ASSERT_FATAL(tc_base64_decode("qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXAyGmt+3SNruPFKG7t"
					 "ZoLBLlUzGGus7ZwmwWep666VCw==",
					 &sig, &slen) == 0 && slen == 64);
	uint8_t dnskey[TC_DNSSEC_DNSKEY_LEN];
	tc_dnssec_dnskey_rdata(dnskey, 257, key);
	CU_ASSERT_EQUAL(tc_dnssec_key_tag(dnskey, sizeof(dnskey)), 55648);

	uint8_t apex[TC_DNS_MAX_NAME], owner[TC_DNS_MAX_NAME];
	size_t al = wire("example.net.", apex), ol = wire("www.example.net.", owner);
	/* 20100909100439 and 20100812100439 UTC */
	struct tc_rrsig_fields f = {.type_covered = TC_DNS_TYPE_A, .labels = 3, .original_ttl = 3600,
				    .expiration = 1284026679u, .inception = 1281607479u,
				    .key_tag = 55648, .signer = apex, .signer_len = al};
	CU_ASSERT_EQUAL(tc_dnssec_rrsig_labels(owner, ol), 3);
	uint8_t head[128];
	size_t hl = tc_dnssec_rrsig_head(head, sizeof(head), &f);
	CU_ASSERT_EQUAL(hl, 18 + al);
	uint8_t addr[4] = {192, 0, 2, 1};
	struct tc_zone_rr a = {TC_DNS_TYPE_A, 4, 3600, addr};
	size_t len;
	uint8_t *in = tc_dnssec_signing_input(head, hl, owner, ol, TC_DNS_TYPE_A, 3600, &a, 1, &len);
	CU_ASSERT_FATAL(in != NULL);
	EVP_PKEY *pub = key_from_point(key);
	CU_ASSERT_FATAL(pub != NULL);
	CU_ASSERT(verify_raw(pub, in, len, sig));
	in[len - 1] ^= 1;   /* one octet off and it no longer verifies */
	CU_ASSERT(!verify_raw(pub, in, len, sig));

	/* The conversions the resolver uses on the signer's answers. */
	uint8_t point[64], raw[64];
	unsigned char *spki = NULL;
	int spl = i2d_PUBKEY(pub, &spki);
	CU_ASSERT(tc_dnssec_point_from_spki(spki, (size_t)spl, point) == 0);
	CU_ASSERT(memcmp(point, key, 64) == 0);
	CU_ASSERT(tc_dnssec_point_from_spki(spki, (size_t)spl - 1, point) != 0);
	ECDSA_SIG *es = ECDSA_SIG_new();
	ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
	unsigned char *der = NULL;
	int dl = i2d_ECDSA_SIG(es, &der);
	CU_ASSERT(tc_dnssec_sig_from_der(der, (size_t)dl, raw) == 0);
	CU_ASSERT(memcmp(raw, sig, 64) == 0);
	CU_ASSERT(tc_dnssec_sig_from_der(der, (size_t)dl - 1, raw) != 0);
	CU_ASSERT(tc_dnssec_sig_from_der((const uint8_t *)"junk", 4, raw) != 0);
	ECDSA_SIG_free(es);
	OPENSSL_free(der);
	OPENSSL_free(spki);
	EVP_PKEY_free(pub);
	free(in);
	free(key);
	free(sig);
}

/* ---- zone signing with a local key ---- */

static EVP_PKEY *zone_key;
static atomic_int sign_calls;

static int local_sign(void *ctx, const uint8_t *data, size_t len, uint8_t sig[64], char *err,
		      size_t errlen)
{
	(void)ctx;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char der[80];
	size_t dl = sizeof(der);
	int ok = EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, zone_key) == 1 &&
		 EVP_DigestSign(md, der, &dl, data, len) == 1;
	EVP_MD_CTX_free(md);
	atomic_fetch_add(&sign_calls, 1);
	if (!ok || tc_dnssec_sig_from_der(der, dl, sig) != 0) {
		snprintf(err, errlen, "local signing failed");
		return -1;
	}
	return 0;
}

static int failing_sign(void *ctx, const uint8_t *data, size_t len, uint8_t sig[64], char *err,
			size_t errlen)
{
	(void)ctx;
	(void)data;
	(void)len;
	(void)sig;
	snprintf(err, errlen, "HSM said no");
	return -1;
}

static struct tc_dnssec_zone_key zkey;
static struct tc_zone *signed_zone;
static const char *const extra_records =
    "www 300 A 192.0.2.10\n"
    "www 300 A 192.0.2.11\n"
    "alias 300 CNAME www\n"
    "dangling 300 CNAME nowhere\n"
    "a.b.c 300 A 192.0.2.3\n"
    "sub 300 NS ns1.sub\n"
    "ns1.sub 300 A 192.0.2.53\n"
    "secure 300 NS ns.secure\n"
    "secure 300 DS \\# 36 30390d02 0000000000000000000000000000000000000000000000000000000000000000\n"
    "ns.secure 300 A 192.0.2.54\n"
    "mixed 300 TXT \"one\"\n"
    "mixed 600 TXT \"two\"\n";

static struct tc_zone *build_zone(void)
{
	struct tc_config cfg;
	char err[512];
	struct tc_zone *z = NULL;
	tc_config_defaults(&cfg, true);
	cfg.dns.addresses.count = 1;
	snprintf(cfg.dns.addresses.items[0], TC_CFG_STR, "192.0.2.1");
	CU_ASSERT_FATAL(tc_zone_from_config(&cfg, &z, err, sizeof(err)) == 0);
	CU_ASSERT_FATAL(tc_zone_load_text(z, extra_records, strlen(extra_records), "extra", err,
					  sizeof(err)) == 0);
	uint8_t h[32] = {1, 2, 3};
	CU_ASSERT_FATAL(tc_zone_add_tlsa(z, "_853._udp.dns", 3, 1, 1, h, 32, err, sizeof(err)) == 0);
	return z;
}

static int suite_init(void)
{
	zone_key = EVP_EC_gen("P-256");
	if (!zone_key)
		return 1;
	uint8_t enc[65];
	size_t el = 0;
	if (EVP_PKEY_get_octet_string_param(zone_key, "encoded-pub-key", enc, sizeof(enc), &el) != 1 ||
	    el != 65)
		return 1;
	time_t now = time(NULL);
	tc_dnssec_dnskey_rdata(zkey.dnskey, TC_DNSSEC_FLAGS_CSK, enc + 1);
	zkey.inception = (uint32_t)(now - 3600);
	zkey.expiration = (uint32_t)(now + 7 * 86400);
	zkey.sign = local_sign;
	return 0;
}

static int suite_cleanup(void)
{
	tc_zone_free(signed_zone);
	EVP_PKEY_free(zone_key);
	return 0;
}

static const struct tc_zone_node *node(const struct tc_zone *z, const char *name)
{
	uint8_t w[TC_DNS_MAX_NAME];
	size_t l = wire(name, w);
	return tc_zone_find(z, w, l);
}

/* The RRSIG at n covering type, or NULL. */
static const struct tc_zone_rr *rrsig_for(const struct tc_zone_node *n, uint16_t type)
{
	size_t c;
	const struct tc_zone_rr *s = tc_zone_node_rrset(n, TC_DNS_TYPE_RRSIG, &c);
	for (size_t i = 0; i < c; i++)
		if (tc_dns_get16(s[i].rdata) == type)
			return &s[i];
	return NULL;
}

/* Verifies the RRSIG over (n, type) the way a validator does. */
static bool rrset_verifies(const struct tc_zone_node *n, uint16_t type)
{
	const struct tc_zone_rr *sig = rrsig_for(n, type);
	size_t count;
	const struct tc_zone_rr *rrs = tc_zone_node_rrset(n, type, &count);
	if (!sig || !rrs || sig->rdlen < 18 + 64)
		return false;
	size_t hl = sig->rdlen - 64, len;
	uint8_t *in = tc_dnssec_signing_input(sig->rdata, hl, n->name, n->name_len, type,
					      tc_dns_get32(sig->rdata + 4), rrs, count, &len);
	EVP_PKEY *pub = key_from_point(zkey.dnskey + 4);
	bool ok = in && pub && verify_raw(pub, in, len, sig->rdata + hl);
	EVP_PKEY_free(pub);
	free(in);
	return ok;
}

static void test_sign_zone(void)
{
	char err[512];
	signed_zone = build_zone();
	atomic_store(&sign_calls, 0);
	long n = tc_zone_sign(signed_zone, &zkey, err, sizeof(err));
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL(n, atomic_load(&sign_calls));
	CU_ASSERT(tc_zone_is_signed(signed_zone));

	const struct tc_zone_node *apex = node(signed_zone, "trust.hypermesh.online.");
	static const uint16_t apex_types[] = {TC_DNS_TYPE_SOA, TC_DNS_TYPE_NS, TC_DNS_TYPE_A,
					      TC_DNS_TYPE_TXT, TC_DNS_TYPE_CAA, TC_DNS_TYPE_DNSKEY,
					      TC_DNS_TYPE_NSEC};
	for (size_t i = 0; i < sizeof(apex_types) / sizeof(apex_types[0]); i++)
		CU_ASSERT(rrset_verifies(apex, apex_types[i]));
	size_t c;
	const struct tc_zone_rr *dk = tc_zone_node_rrset(apex, TC_DNS_TYPE_DNSKEY, &c);
	CU_ASSERT_FATAL(dk && c == 1);
	CU_ASSERT(dk->rdlen == TC_DNSSEC_DNSKEY_LEN && memcmp(dk->rdata, zkey.dnskey, 68) == 0);
	/* RRSIG fields: algorithm 13, labels, validity, key tag, signer. */
	const struct tc_zone_rr *s = rrsig_for(node(signed_zone, "www.trust.hypermesh.online."),
					       TC_DNS_TYPE_A);
	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_EQUAL(s->rdata[2], 13);
	CU_ASSERT_EQUAL(s->rdata[3], 4);
	CU_ASSERT_EQUAL(tc_dns_get32(s->rdata + 4), 300);
	CU_ASSERT_EQUAL(tc_dns_get32(s->rdata + 8), zkey.expiration);
	CU_ASSERT_EQUAL(tc_dns_get32(s->rdata + 12), zkey.inception);
	CU_ASSERT_EQUAL(tc_dns_get16(s->rdata + 16), tc_dnssec_key_tag(zkey.dnskey, 68));
	uint8_t apexw[TC_DNS_MAX_NAME];
	size_t al = wire("trust.hypermesh.online.", apexw);
	CU_ASSERT(memcmp(s->rdata + 18, apexw, al) == 0);
	CU_ASSERT(rrset_verifies(node(signed_zone, "www.trust.hypermesh.online."), TC_DNS_TYPE_A));
	CU_ASSERT(rrset_verifies(node(signed_zone, "alias.trust.hypermesh.online."),
				 TC_DNS_TYPE_CNAME));
	CU_ASSERT(rrset_verifies(node(signed_zone, "_853._udp.dns.trust.hypermesh.online."),
				 TC_DNS_TYPE_TLSA));
	/* One TTL per RRset: the smaller one. */
	const struct tc_zone_rr *tx = tc_zone_node_rrset(node(signed_zone, "mixed.trust.hypermesh.online."),
							 TC_DNS_TYPE_TXT, &c);
	CU_ASSERT(c == 2 && tx[0].ttl == 300 && tx[1].ttl == 300);
	CU_ASSERT(rrset_verifies(node(signed_zone, "mixed.trust.hypermesh.online."), TC_DNS_TYPE_TXT));

	/* Delegations: NS not signed, DS signed, glue neither signed nor chained. */
	const struct tc_zone_node *sub = node(signed_zone, "sub.trust.hypermesh.online.");
	CU_ASSERT(rrsig_for(sub, TC_DNS_TYPE_NS) == NULL);
	CU_ASSERT(rrset_verifies(sub, TC_DNS_TYPE_NSEC));
	const struct tc_zone_node *sec = node(signed_zone, "secure.trust.hypermesh.online.");
	CU_ASSERT(rrsig_for(sec, TC_DNS_TYPE_NS) == NULL);
	CU_ASSERT(rrset_verifies(sec, TC_DNS_TYPE_DS));
	const struct tc_zone_node *glue = node(signed_zone, "ns1.sub.trust.hypermesh.online.");
	CU_ASSERT(rrsig_for(glue, TC_DNS_TYPE_A) == NULL);
	CU_ASSERT(tc_zone_node_rrset(glue, TC_DNS_TYPE_NSEC, &c) == NULL);
	/* An empty non-terminal gets no NSEC. */
	CU_ASSERT(tc_zone_node_rrset(node(signed_zone, "b.c.trust.hypermesh.online."),
				     TC_DNS_TYPE_NSEC, &c) == NULL);
}

/* Walks the NSEC chain from the apex: canonical order, wraps to the apex,
 * visits every authoritative name once; bitmaps list what is there. */
static void test_nsec_chain(void)
{
	CU_ASSERT_FATAL(signed_zone != NULL);
	const struct tc_zone_node *apex = node(signed_zone, "trust.hypermesh.online.");
	const struct tc_zone_node *cur = apex;
	size_t steps = 0;
	bool saw_sub = false, saw_www = false;
	do {
		size_t c;
		const struct tc_zone_rr *nsec = tc_zone_node_rrset(cur, TC_DNS_TYPE_NSEC, &c);
		CU_ASSERT_FATAL(nsec && c == 1);
		size_t nl = tc_dns_name_wire_len(nsec->rdata, nsec->rdlen);
		CU_ASSERT_FATAL(nl > 0);
		const struct tc_zone_node *next = tc_zone_find(signed_zone, nsec->rdata, nl);
		CU_ASSERT_FATAL(next != NULL);
		if (next != apex)
			CU_ASSERT(tc_dnssec_name_cmp(cur->name, cur->name_len, next->name, next->name_len) < 0);
		CU_ASSERT_EQUAL(nsec->ttl, tc_zone_negative_ttl(signed_zone));
		const uint8_t *bm = nsec->rdata + nl;
		size_t bl = nsec->rdlen - nl;
		CU_ASSERT_FATAL(bl >= 2 && bm[0] == 0);
		bool has_a = bm[1] >= 1 && (bm[2] & 0x40);                 /* type 1 */
		bool has_ns = bm[1] >= 1 && (bm[2] & 0x20);                /* type 2 */
		bool has_rrsig = bm[1] >= 6 && (bm[2 + 5] & 0x02);         /* type 46 */
		bool has_nsec = bm[1] >= 6 && (bm[2 + 5] & 0x01);          /* type 47 */
		CU_ASSERT(has_rrsig && has_nsec);
		if (cur == node(signed_zone, "sub.trust.hypermesh.online.")) {
			saw_sub = true;
			CU_ASSERT(has_ns);
		}
		if (cur == node(signed_zone, "www.trust.hypermesh.online.")) {
			saw_www = true;
			CU_ASSERT(has_a && !has_ns);
		}
		cur = next;
		steps++;
	} while (cur != apex && steps < 100);
	CU_ASSERT(cur == apex);
	CU_ASSERT(saw_sub && saw_www);
	/* apex, www, alias, dangling, a.b.c, sub, secure, mixed, ca, ct, dns,
	 * _853._udp.dns */
	CU_ASSERT_EQUAL(steps, 12);

	/* Covering: an absent name maps to its predecessor, an existing one
	 * to itself. */
	uint8_t w[TC_DNS_MAX_NAME];
	size_t l = wire("www.trust.hypermesh.online.", w);
	CU_ASSERT(tc_zone_nsec_covering(signed_zone, w, l) == node(signed_zone, "www.trust.hypermesh.online."));
	l = wire("wwx.trust.hypermesh.online.", w);
	CU_ASSERT(tc_zone_nsec_covering(signed_zone, w, l) == node(signed_zone, "www.trust.hypermesh.online."));
	l = wire("0.trust.hypermesh.online.", w);
	CU_ASSERT(tc_zone_nsec_covering(signed_zone, w, l) == apex);
}

static void test_sign_errors(void)
{
	char err[512] = "";
	struct tc_zone *z = build_zone();
	struct tc_dnssec_zone_key bad = zkey;
	bad.sign = failing_sign;
	CU_ASSERT(tc_zone_sign(z, &bad, err, sizeof(err)) == -1);
	CU_ASSERT(strstr(err, "HSM said no") != NULL);
	tc_zone_free(z);

	z = build_zone();
	bad = zkey;
	bad.dnskey[3] = 8;
	CU_ASSERT(tc_zone_sign(z, &bad, err, sizeof(err)) == -1);
	tc_zone_free(z);

	/* Old DNSSEC data from a zone file is replaced, and signing twice
	 * gives the same record count (no leftovers). */
	z = build_zone();
	uint8_t o[TC_DNS_MAX_NAME];
	size_t ol = wire("trust.hypermesh.online.", o);
	uint8_t junk[18 + 24 + 64] = {0, 1, 13};
	memcpy(junk + 18, o, ol);
	CU_ASSERT(tc_zone_add_rr(z, o, ol, TC_DNS_TYPE_RRSIG, 60, junk, 18 + ol + 64, err,
				 sizeof(err)) == 0);
	CU_ASSERT(tc_zone_sign(z, &zkey, err, sizeof(err)) > 0);
	size_t first = tc_zone_rr_count(z);
	CU_ASSERT(tc_zone_sign(z, &zkey, err, sizeof(err)) > 0);
	CU_ASSERT_EQUAL(tc_zone_rr_count(z), first);
	size_t c;
	const struct tc_zone_rr *sigs = tc_zone_node_rrset(node(z, "trust.hypermesh.online."),
							   TC_DNS_TYPE_RRSIG, &c);
	for (size_t i = 0; i < c; i++)
		CU_ASSERT(sigs[i].rdlen != 18 + ol + 64 || memcmp(sigs[i].rdata, junk, 4) != 0);
	tc_zone_free(z);
}

/* ---- answers ---- */

struct resp {
	uint8_t buf[65535];
	size_t len;
	struct tc_dns_msg hdr;
	size_t nrr;
	struct tc_dns_rr rr[64];
	int sec[64];
	struct tc_dns_answer_info info;
};
static struct resp R;

static void ask(const struct tc_zone *z, const char *name, uint16_t qtype, bool dnssec,
		uint16_t bufsize, enum tc_dns_transport tr)
{
	uint8_t q[512];
	memset(q, 0, 12);
	tc_dns_put16(q, 0x1234);
	tc_dns_put16(q + 4, 1);
	tc_dns_put16(q + 10, 1);
	size_t len = 12 + wire(name, q + 12);
	tc_dns_put16(q + len, qtype);
	tc_dns_put16(q + len + 2, TC_DNS_CLASS_IN);
	len += 4;
	q[len] = 0;
	tc_dns_put16(q + len + 1, TC_DNS_TYPE_OPT);
	tc_dns_put16(q + len + 3, bufsize);
	memset(q + len + 5, 0, 6);
	tc_dns_put16(q + len + 7, dnssec ? TC_DNS_EDNS_FLAG_DO : 0);
	len += 11;
	struct tc_dns_answer_opts o = {tr, 0, 0, 0};
	memset(&R, 0, sizeof(R));
	CU_ASSERT_FATAL(tc_dns_answer(z, q, len, &o, R.buf, sizeof(R.buf), &R.len, &R.info) ==
			TC_DNS_ANSWER_REPLY);
	CU_ASSERT_FATAL(tc_dns_parse(R.buf, R.len, &R.hdr) == TC_DNS_OK);
	size_t off = 12;
	CU_ASSERT_FATAL(tc_dns_read_name(R.buf, R.len, &off, NULL, NULL) == TC_DNS_OK);
	off += 4;
	R.nrr = (size_t)R.hdr.ancount + R.hdr.nscount + R.hdr.arcount;
	CU_ASSERT_FATAL(R.nrr <= 64);
	for (size_t i = 0; i < R.nrr; i++) {
		CU_ASSERT_FATAL(tc_dns_read_rr(R.buf, R.len, &off, &R.rr[i]) == TC_DNS_OK);
		R.sec[i] = i < R.hdr.ancount ? 1 : i < (size_t)R.hdr.ancount + R.hdr.nscount ? 2 : 3;
	}
}

/* Records of type (RRSIG: covering `covered`) in section sec, owned by name (NULL: any). */
static int count(int sec, uint16_t type, uint16_t covered, const char *name)
{
	int n = 0;
	uint8_t w[TC_DNS_MAX_NAME];
	size_t wl = name ? wire(name, w) : 0;
	for (size_t i = 0; i < R.nrr; i++) {
		if (R.sec[i] != sec || R.rr[i].type != type)
			continue;
		if (type == TC_DNS_TYPE_RRSIG && tc_dns_get16(R.buf + R.rr[i].rdata_off) != covered)
			continue;
		if (name && !tc_dns_name_equal(R.rr[i].name, R.rr[i].name_len, w, wl))
			continue;
		n++;
	}
	return n;
}

static void test_answer_positive(void)
{
	CU_ASSERT_FATAL(signed_zone != NULL);
	ask(signed_zone, "WWW.trust.hypermesh.online.", TC_DNS_TYPE_A, true, 1232, TC_DNS_TRANSPORT_UDP);
	CU_ASSERT_EQUAL(TC_DNS_RCODE(R.hdr.flags), TC_DNS_RCODE_NOERROR);
	CU_ASSERT(R.hdr.flags & TC_DNS_FLAG_AA);
	CU_ASSERT(!(R.hdr.flags & TC_DNS_FLAG_AD));
	CU_ASSERT_EQUAL(count(1, TC_DNS_TYPE_A, 0, NULL), 2);
	CU_ASSERT_EQUAL(count(1, TC_DNS_TYPE_RRSIG, TC_DNS_TYPE_A, "www.trust.hypermesh.online."), 1);
	CU_ASSERT(R.hdr.has_edns && (R.hdr.edns_flags & TC_DNS_EDNS_FLAG_DO));

	/* Without DO: the same answer, no DNSSEC records. */
	ask(signed_zone, "www.trust.hypermesh.online.", TC_DNS_TYPE_A, false, 1232, TC_DNS_TRANSPORT_UDP);
	CU_ASSERT_EQUAL(count(1, TC_DNS_TYPE_A, 0, NULL), 2);
	CU_ASSERT_EQUAL(R.hdr.ancount, 2);
	CU_ASSERT_EQUAL(R.hdr.nscount, 0);

	/* CNAME: each link with its signature. */
	ask(signed_zone, "alias.trust.hypermesh.online.", TC_DNS_TYPE_A, true, 1232, TC_DNS_TRANSPORT_UDP);
	CU_ASSERT_EQUAL(count(1, TC_DNS_TYPE_RRSIG, TC_DNS_TYPE_CNAME, "alias.trust.hypermesh.online."), 1);
	CU_ASSERT_EQUAL(count(1, TC_DNS_TYPE_RRSIG, TC_DNS_TYPE_A, "www.trust.hypermesh.online."), 1);

	/* DNSKEY, TLSA, and an explicit NSEC query. */
	ask(signed_zone, "trust.hypermesh.online.", TC_DNS_TYPE_DNSKEY, true, 1232, TC_DNS_TRANSPORT_UDP);
	CU_ASSERT_EQUAL(count(1, TC_DNS_TYPE_DNSKEY, 0, NULL), 1);
	CU_ASSERT_EQUAL(count(1, TC_DNS_TYPE_RRSIG, TC_DNS_TYPE_DNSKEY, NULL), 1);
	ask(signed_zone, "_853._udp.dns.trust.hypermesh.online.", TC_DNS_TYPE_TLSA, true, 1232,
	    TC_DNS_TRANSPORT_UDP);
	CU_ASSERT_EQUAL(count(1, TC_DNS_TYPE_TLSA, 0, NULL), 1);
	CU_ASSERT_EQUAL(count(1, TC_DNS_TYPE_RRSIG, TC_DNS_TYPE_TLSA, NULL), 1);
	ask(signed_zone, "www.trust.hypermesh.online.", TC_DNS_TYPE_NSEC, true, 1232, TC_DNS_TRANSPORT_UDP);
	CU_ASSERT_EQUAL(count(1, TC_DNS_TYPE_NSEC, 0, NULL), 1);
	CU_ASSERT_EQUAL(count(1, TC_DNS_TYPE_RRSIG, TC_DNS_TYPE_NSEC, NULL), 1);
	/* Type RRSIG: the RRSIGs themselves, nothing signs them. */
	ask(signed_zone, "www.trust.hypermesh.online.", TC_DNS_TYPE_RRSIG, true, 1232, TC_DNS_TRANSPORT_UDP);
	CU_ASSERT_EQUAL(R.hdr.ancount, 2);   /* over A and over NSEC */
}

static void test_answer_negative(void)
{
	CU_ASSERT_FATAL(signed_zone != NULL);
	const char *apex = "trust.hypermesh.online.";
	/* NXDOMAIN: SOA + its RRSIG, the NSEC covering the name and the one
	 * covering the wildcard at the closest encloser (here the same: the
	 * apex NSEC covers both 0.<apex> and *.<apex>), each signed. */
	ask(signed_zone, "0.trust.hypermesh.online.", TC_DNS_TYPE_A, true, 1232, TC_DNS_TRANSPORT_UDP);
	CU_ASSERT_EQUAL(TC_DNS_RCODE(R.hdr.flags), TC_DNS_RCODE_NXDOMAIN);
	CU_ASSERT_EQUAL(count(2, TC_DNS_TYPE_SOA, 0, apex), 1);
	CU_ASSERT_EQUAL(count(2, TC_DNS_TYPE_RRSIG, TC_DNS_TYPE_SOA, apex), 1);
	CU_ASSERT_EQUAL(count(2, TC_DNS_TYPE_NSEC, 0, apex), 1);
	CU_ASSERT_EQUAL(count(2, TC_DNS_TYPE_RRSIG, TC_DNS_TYPE_NSEC, apex), 1);
	CU_ASSERT_EQUAL(R.hdr.nscount, 4);
	/* The SOA and its RRSIG carry the negative TTL. */
	for (size_t i = 0; i < R.nrr; i++)
		if (R.rr[i].type == TC_DNS_TYPE_SOA ||
		    (R.rr[i].type == TC_DNS_TYPE_RRSIG && tc_dns_get16(R.buf + R.rr[i].rdata_off) == TC_DNS_TYPE_SOA))
			CU_ASSERT_EQUAL(R.rr[i].ttl, tc_zone_negative_ttl(signed_zone));

	/* A name after www: covered by www's NSEC, the wildcard by the apex's. */
	ask(signed_zone, "wwx.trust.hypermesh.online.", TC_DNS_TYPE_A, true, 1232, TC_DNS_TRANSPORT_UDP);
	CU_ASSERT_EQUAL(TC_DNS_RCODE(R.hdr.flags), TC_DNS_RCODE_NXDOMAIN);
	CU_ASSERT_EQUAL(count(2, TC_DNS_TYPE_NSEC, 0, "www.trust.hypermesh.online."), 1);
	CU_ASSERT_EQUAL(count(2, TC_DNS_TYPE_NSEC, 0, apex), 1);
	CU_ASSERT_EQUAL(count(2, TC_DNS_TYPE_RRSIG, TC_DNS_TYPE_NSEC, NULL), 2);

	/* Below an empty non-terminal: the closest encloser is b.c. */
	ask(signed_zone, "x.b.c.trust.hypermesh.online.", TC_DNS_TYPE_A, true, 1232, TC_DNS_TRANSPORT_UDP);
	CU_ASSERT_EQUAL(TC_DNS_RCODE(R.hdr.flags), TC_DNS_RCODE_NXDOMAIN);
	CU_ASSERT(count(2, TC_DNS_TYPE_NSEC, 0, NULL) >= 1);

	/* NODATA: the name's own NSEC, which lacks the type. */
	ask(signed_zone, "www.trust.hypermesh.online.", TC_DNS_TYPE_MX, true, 1232, TC_DNS_TRANSPORT_UDP);
	CU_ASSERT_EQUAL(TC_DNS_RCODE(R.hdr.flags), TC_DNS_RCODE_NOERROR);
	CU_ASSERT_EQUAL(R.hdr.ancount, 0);
	CU_ASSERT_EQUAL(count(2, TC_DNS_TYPE_NSEC, 0, "www.trust.hypermesh.online."), 1);
	CU_ASSERT_EQUAL(count(2, TC_DNS_TYPE_RRSIG, TC_DNS_TYPE_NSEC, NULL), 1);
	CU_ASSERT_EQUAL(R.hdr.nscount, 4);

	/* NODATA at an empty non-terminal: the NSEC whose next name is below it. */
	ask(signed_zone, "c.trust.hypermesh.online.", TC_DNS_TYPE_A, true, 1232, TC_DNS_TRANSPORT_UDP);
	CU_ASSERT_EQUAL(TC_DNS_RCODE(R.hdr.flags), TC_DNS_RCODE_NOERROR);
	CU_ASSERT_EQUAL(count(2, TC_DNS_TYPE_NSEC, 0, NULL), 1);

	/* CNAME to a missing name: the CNAME signed, then the denial of the target. */
	ask(signed_zone, "dangling.trust.hypermesh.online.", TC_DNS_TYPE_A, true, 1232,
	    TC_DNS_TRANSPORT_UDP);
	CU_ASSERT_EQUAL(TC_DNS_RCODE(R.hdr.flags), TC_DNS_RCODE_NXDOMAIN);
	CU_ASSERT_EQUAL(count(1, TC_DNS_TYPE_RRSIG, TC_DNS_TYPE_CNAME, NULL), 1);
	CU_ASSERT(count(2, TC_DNS_TYPE_NSEC, 0, NULL) >= 1);

	/* Without DO: only the SOA. */
	ask(signed_zone, "0.trust.hypermesh.online.", TC_DNS_TYPE_A, false, 1232, TC_DNS_TRANSPORT_UDP);
	CU_ASSERT_EQUAL(R.hdr.nscount, 1);
}

static void test_answer_referral(void)
{
	CU_ASSERT_FATAL(signed_zone != NULL);
	/* Unsigned child: NS, then the NSEC proving there is no DS. */
	ask(signed_zone, "host.sub.trust.hypermesh.online.", TC_DNS_TYPE_A, true, 1232,
	    TC_DNS_TRANSPORT_UDP);
	CU_ASSERT(!(R.hdr.flags & TC_DNS_FLAG_AA));
	CU_ASSERT_EQUAL(count(2, TC_DNS_TYPE_NS, 0, NULL), 1);
	CU_ASSERT_EQUAL(count(2, TC_DNS_TYPE_RRSIG, TC_DNS_TYPE_NS, NULL), 0);
	CU_ASSERT_EQUAL(count(2, TC_DNS_TYPE_NSEC, 0, "sub.trust.hypermesh.online."), 1);
	CU_ASSERT_EQUAL(count(2, TC_DNS_TYPE_RRSIG, TC_DNS_TYPE_NSEC, NULL), 1);
	CU_ASSERT_EQUAL(count(3, TC_DNS_TYPE_A, 0, "ns1.sub.trust.hypermesh.online."), 1);
	CU_ASSERT_EQUAL(count(3, TC_DNS_TYPE_RRSIG, TC_DNS_TYPE_A, NULL), 0);
	/* Signed child: the DS and its RRSIG. */
	ask(signed_zone, "host.secure.trust.hypermesh.online.", TC_DNS_TYPE_A, true, 1232,
	    TC_DNS_TRANSPORT_UDP);
	CU_ASSERT_EQUAL(count(2, TC_DNS_TYPE_DS, 0, NULL), 1);
	CU_ASSERT_EQUAL(count(2, TC_DNS_TYPE_RRSIG, TC_DNS_TYPE_DS, NULL), 1);
	CU_ASSERT_EQUAL(count(2, TC_DNS_TYPE_NSEC, 0, NULL), 0);
	/* The DS itself is ours to answer, signed. */
	ask(signed_zone, "secure.trust.hypermesh.online.", TC_DNS_TYPE_DS, true, 1232,
	    TC_DNS_TRANSPORT_UDP);
	CU_ASSERT(R.hdr.flags & TC_DNS_FLAG_AA);
	CU_ASSERT_EQUAL(count(1, TC_DNS_TYPE_RRSIG, TC_DNS_TYPE_DS, NULL), 1);
}

static void test_answer_sizes(void)
{
	CU_ASSERT_FATAL(signed_zone != NULL);
	/* The NXDOMAIN proof (~600 octets) does not fit 512: TC, question only. */
	ask(signed_zone, "wwx.trust.hypermesh.online.", TC_DNS_TYPE_A, true, 512, TC_DNS_TRANSPORT_UDP);
	CU_ASSERT(R.hdr.flags & TC_DNS_FLAG_TC);
	CU_ASSERT(R.info.truncated);
	CU_ASSERT_EQUAL(R.hdr.ancount + R.hdr.nscount, 0);
	CU_ASSERT(R.len <= 512);
	/* Over TCP the same query is whole. */
	ask(signed_zone, "wwx.trust.hypermesh.online.", TC_DNS_TYPE_A, true, 512, TC_DNS_TRANSPORT_TCP);
	CU_ASSERT(!(R.hdr.flags & TC_DNS_FLAG_TC));
	CU_ASSERT_EQUAL(R.hdr.nscount, 6);
	/* The same question without DO still fits in 512. */
	ask(signed_zone, "wwx.trust.hypermesh.online.", TC_DNS_TYPE_A, false, 512, TC_DNS_TRANSPORT_UDP);
	CU_ASSERT(!(R.hdr.flags & TC_DNS_FLAG_TC));
}

/* An unsigned zone answers DO queries without DNSSEC records. */
static void test_answer_unsigned(void)
{
	struct tc_zone *z = build_zone();
	ask(z, "www.trust.hypermesh.online.", TC_DNS_TYPE_A, true, 1232, TC_DNS_TRANSPORT_UDP);
	CU_ASSERT_EQUAL(R.hdr.ancount, 2);
	ask(z, "0.trust.hypermesh.online.", TC_DNS_TYPE_A, true, 1232, TC_DNS_TRANSPORT_UDP);
	CU_ASSERT_EQUAL(R.hdr.nscount, 1);
	tc_zone_free(z);
}

/* ---- live swaps ---- */

struct reader_arg {
	struct tc_zone_live *live;
	atomic_bool *stop;
	atomic_long answered;
	int bad;
};

static void *reader(void *p)
{
	struct reader_arg *a = p;
	uint8_t q[TC_DNS_MAX_NAME + 32], out[1232];
	memset(q, 0, sizeof(q));
	q[5] = 1;
	size_t len = 12 + wire("www.trust.hypermesh.online.", q + 12);
	q[len + 1] = 1;
	q[len + 3] = 1;
	len += 4;
	struct tc_dns_answer_opts o = {TC_DNS_TRANSPORT_UDP, 0, 0, 0};
	while (!atomic_load(a->stop)) {
		unsigned token;
		const struct tc_zone *z = tc_zone_live_enter(a->live, &token);
		size_t olen;
		enum tc_dns_answer_status st = tc_dns_answer(z, q, len, &o, out, sizeof(out), &olen, NULL);
		if (st != TC_DNS_ANSWER_REPLY || tc_dns_get16(out + 6) != 2) {
			if (a->bad++ == 0)
				fprintf(stderr, "reader: status %d, %zu octets, ancount %u rcode %u\n", st,
					olen, tc_dns_get16(out + 6), out[3] & 0xf);
		}
		tc_zone_live_leave(a->live, token);
		atomic_fetch_add(&a->answered, 1);
	}
	return NULL;
}

static void test_live_swap(void)
{
	struct tc_zone_live *live = tc_zone_live_new(build_zone());
	CU_ASSERT_FATAL(live != NULL);
	atomic_bool stop;
	atomic_init(&stop, false);
	struct reader_arg args[3];
	pthread_t th[3];
	for (int i = 0; i < 3; i++) {
		args[i].live = live;
		args[i].stop = &stop;
		atomic_init(&args[i].answered, 0);
		args[i].bad = 0;
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, reader, &args[i]) == 0);
	}
	/* Every swap frees the previous zone: ASan reports any reader that
	 * still used it. Swap until every reader has answered a good number
	 * of queries (a busy machine may start them late). */
	for (int i = 0; i < 50 || (i < 100000 && (atomic_load(&args[0].answered) < 1000 ||
						  atomic_load(&args[1].answered) < 1000 ||
						  atomic_load(&args[2].answered) < 1000));
	     i++)
		tc_zone_live_swap(live, build_zone());
	atomic_store(&stop, true);
	long total = 0;
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		CU_ASSERT_EQUAL(args[i].bad, 0);
		total += atomic_load(&args[i].answered);
	}
	CU_ASSERT(total >= 3000);
	CU_ASSERT(tc_zone_live_peek(live) != NULL);
	tc_zone_live_free(live);
}

/* ---- TLSA ---- */

static X509 *make_cert(EVP_PKEY *key, const char *cn)
{
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, key);
	X509_sign(x, key, EVP_sha256());
	return x;
}

static void write_pem(const char *path, X509 *x)
{
	FILE *f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	PEM_write_X509(f, x);
	fclose(f);
}

static void test_tlsa_association(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = make_cert(k, "dns.example");
	unsigned char *der = NULL, *spki = NULL;
	int dl = i2d_X509(x, &der), sl = i2d_PUBKEY(k, &spki);
	uint8_t want[64], got[4096];
	unsigned wl;
	EVP_Digest(spki, (size_t)sl, want, &wl, EVP_sha256(), NULL);
	CU_ASSERT_EQUAL(tc_tlsa_association(der, (size_t)dl, 1, 1, got, sizeof(got)), 32);
	CU_ASSERT(memcmp(got, want, 32) == 0);
	EVP_Digest(der, (size_t)dl, want, &wl, EVP_sha256(), NULL);
	CU_ASSERT_EQUAL(tc_tlsa_association(der, (size_t)dl, 0, 1, got, sizeof(got)), 32);
	CU_ASSERT(memcmp(got, want, 32) == 0);
	EVP_Digest(spki, (size_t)sl, want, &wl, EVP_sha512(), NULL);
	CU_ASSERT_EQUAL(tc_tlsa_association(der, (size_t)dl, 1, 2, got, sizeof(got)), 64);
	CU_ASSERT(memcmp(got, want, 64) == 0);
	CU_ASSERT_EQUAL(tc_tlsa_association(der, (size_t)dl, 1, 0, got, sizeof(got)), (size_t)sl);
	CU_ASSERT(memcmp(got, spki, (size_t)sl) == 0);
	CU_ASSERT_EQUAL(tc_tlsa_association(der, (size_t)dl, 1, 0, got, 10), 0);
	CU_ASSERT_EQUAL(tc_tlsa_association(der, (size_t)dl, 2, 1, got, sizeof(got)), 0);
	CU_ASSERT_EQUAL(tc_tlsa_association(der, (size_t)dl, 1, 3, got, sizeof(got)), 0);
	CU_ASSERT_EQUAL(tc_tlsa_association(der, (size_t)dl - 1, 1, 1, got, sizeof(got)), 0);

	CU_ASSERT_EQUAL(tc_tlsa_port_of("127.0.0.1:50051"), 50051);
	CU_ASSERT_EQUAL(tc_tlsa_port_of("[::1]:443"), 443);
	CU_ASSERT_EQUAL(tc_tlsa_port_of("localhost"), 0);
	CU_ASSERT_EQUAL(tc_tlsa_port_of("h:0"), 0);
	CU_ASSERT_EQUAL(tc_tlsa_port_of("h:65536"), 0);
	CU_ASSERT_EQUAL(tc_tlsa_port_of("h:12x"), 0);
	OPENSSL_free(der);
	OPENSSL_free(spki);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* The TLSA RRset at owner as (usage, selector, mtype, first data octet) tuples. */
static size_t tlsa_at(const struct tc_zone *z, const char *owner, uint8_t (*out)[4])
{
	size_t c = 0;
	const struct tc_zone_node *n = node(z, owner);
	const struct tc_zone_rr *r = n ? tc_zone_node_rrset(n, TC_DNS_TYPE_TLSA, &c) : NULL;
	for (size_t i = 0; r && i < c; i++) {
		memcpy(out[i], r[i].rdata, 3);
		out[i][3] = r[i].rdlen == 35 ? 32 : 0;
	}
	return c;
}

static void test_service_tlsa(void)
{
	char dir[] = "/tmp/tc-tlsa-XXXXXX";
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	char path[512];
	struct tc_config cfg;
	tc_config_defaults(&cfg, true);
	snprintf(cfg.server.data_dir, sizeof(cfg.server.data_dir), "%s", dir);
	snprintf(cfg.gateway.listen, sizeof(cfg.gateway.listen), "127.0.0.1:7443");
	snprintf(cfg.ct.http_listen, sizeof(cfg.ct.http_listen), "127.0.0.1:6962");
	cfg.dns.quic_port = 853;
	char err[512];
	struct tc_tlsa_report rep;

	/* No certificates yet: nothing added, no problem. */
	struct tc_zone *z;
	CU_ASSERT_FATAL(tc_zone_from_config(&cfg, &z, err, sizeof(err)) == 0);
	size_t before = tc_zone_rr_count(z);
	CU_ASSERT(tc_zone_add_service_tlsa(z, &cfg, &rep, err, sizeof(err)) == 0);
	CU_ASSERT(!rep.intermediate && !rep.doq_cert && !rep.problem[0]);
	CU_ASSERT_EQUAL(tc_zone_rr_count(z), before);
	tc_zone_free(z);

	EVP_PKEY *ca = EVP_EC_gen("P-256"), *ee = EVP_EC_gen("P-256");
	X509 *cax = make_cert(ca, "CA"), *eex = make_cert(ee, "dns");
	snprintf(path, sizeof(path), "%s/ca", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/ca/intermediate.pem", dir);
	write_pem(path, cax);
	snprintf(path, sizeof(path), "%s/dns", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/dns/doq_cert.pem", dir);
	write_pem(path, eex);

	CU_ASSERT_FATAL(tc_zone_from_config(&cfg, &z, err, sizeof(err)) == 0);
	CU_ASSERT(tc_zone_add_service_tlsa(z, &cfg, &rep, err, sizeof(err)) == 0);
	CU_ASSERT(rep.intermediate && rep.doq_cert && !rep.problem[0]);
	uint8_t t[8][4];
	CU_ASSERT_EQUAL(tlsa_at(z, "_7443._tcp.ca.trust.hypermesh.online.", t), 2);
	CU_ASSERT_EQUAL(tlsa_at(z, "_6962._tcp.ct.trust.hypermesh.online.", t), 2);
	size_t n = tlsa_at(z, "_853._udp.dns.trust.hypermesh.online.", t);
	CU_ASSERT_EQUAL(n, 3);
	int ta_spki = 0, ta_cert = 0, ee_spki = 0;
	for (size_t i = 0; i < n; i++) {
		ta_spki += t[i][0] == 2 && t[i][1] == 1 && t[i][2] == 1 && t[i][3] == 32;
		ta_cert += t[i][0] == 2 && t[i][1] == 0 && t[i][2] == 1 && t[i][3] == 32;
		ee_spki += t[i][0] == 3 && t[i][1] == 1 && t[i][2] == 1 && t[i][3] == 32;
	}
	CU_ASSERT(ta_spki == 1 && ta_cert == 1 && ee_spki == 1);
	/* The 3 1 1 data is SHA-256 of the DoQ certificate's SPKI. */
	const struct tc_zone_node *dn = node(z, "_853._udp.dns.trust.hypermesh.online.");
	size_t c;
	const struct tc_zone_rr *r = tc_zone_node_rrset(dn, TC_DNS_TYPE_TLSA, &c);
	unsigned char *spki = NULL;
	int sl = i2d_PUBKEY(ee, &spki);
	uint8_t want[32];
	unsigned wl;
	EVP_Digest(spki, (size_t)sl, want, &wl, EVP_sha256(), NULL);
	bool found = false;
	for (size_t i = 0; i < c; i++)
		found |= r[i].rdata[0] == 3 && memcmp(r[i].rdata + 3, want, 32) == 0;
	CU_ASSERT(found);
	OPENSSL_free(spki);
	tc_zone_free(z);

	/* A damaged DoQ certificate is reported and skipped, the rest stays. */
	FILE *f = fopen(path, "w");
	fputs("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n", f);
	fclose(f);
	CU_ASSERT_FATAL(tc_zone_from_config(&cfg, &z, err, sizeof(err)) == 0);
	CU_ASSERT(tc_zone_add_service_tlsa(z, &cfg, &rep, err, sizeof(err)) == 0);
	CU_ASSERT(rep.intermediate && !rep.doq_cert && strstr(rep.problem, "doq_cert.pem") != NULL);
	CU_ASSERT_EQUAL(tlsa_at(z, "_853._udp.dns.trust.hypermesh.online.", t), 2);
	tc_zone_free(z);

	unlink(path);
	snprintf(path, sizeof(path), "%s/ca/intermediate.pem", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ca", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/dns", dir);
	rmdir(path);
	rmdir(dir);
	X509_free(cax);
	X509_free(eex);
	EVP_PKEY_free(ca);
	EVP_PKEY_free(ee);
}

int main(void)
{
	static const struct tc_test tests[] = {
	    {"canonical name order (RFC 4034 6.1)", test_canonical_order},
	    {"NSEC type bitmap (RFC 4034 4.3)", test_type_bitmap},
	    {"signing input: canonical RDATA, order, duplicates", test_canonical_rdata},
	    {"RFC 6605 6.1 example signature verifies over our input", test_rfc6605_example},
	    {"zone signing: DNSKEY, RRSIGs, delegations, TTLs", test_sign_zone},
	    {"NSEC chain walk and covering lookup", test_nsec_chain},
	    {"signing errors and re-signing", test_sign_errors},
	    {"answers with DO: RRSIGs", test_answer_positive},
	    {"answers with DO: NXDOMAIN/NODATA proofs", test_answer_negative},
	    {"answers with DO: signed referrals", test_answer_referral},
	    {"answers with DO: truncation", test_answer_sizes},
	    {"unsigned zone ignores DO", test_answer_unsigned},
	    {"live zone swaps under readers", test_live_swap},
	    {"TLSA association data and ports", test_tlsa_association},
	    {"TLSA records from the data directory", test_service_tlsa},
	    {NULL, NULL},
	};
	return tc_run_suite("dnssec", tests, suite_init, suite_cleanup);
}
