/* TSIG (RFC 8945): the key file parser on what tsig-keygen prints and on
 * broken files; signing and checking messages: a valid request, a changed
 * byte (BADSIG), an unknown key or algorithm (BADKEY), a stale time
 * (BADTIME, checked after the MAC), a TSIG that is not last (malformed), a
 * truncated MAC; the signed NOTAUTH answers. Interoperability with BIND's
 * dig, Knot and NSD is in dns_xfr_test.sh. */
#include <stdio.h>
#include <string.h>

#include "resolver/dns_build.h"
#include "resolver/tsig.h"
#include "resolver/tsig_keys.h"
#include "unit/cunit_main.h"

static const char keyfile[] =
	"# made by tsig-keygen\n"
	"key \"xfr-knot\" {\n"
	"\talgorithm hmac-sha256;\n"
	"\tsecret \"CEyjM9jajM8IHMS8d+Zez6u7+7sdUl/E3VhglRaJJgw=\";\n"
	"};\n"
	"/* a comment\n over lines */ key Big.Key. { algorithm HMAC-SHA512; // trailing\n"
	" secret \"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==\"; };\n";

static struct tc_tsig_keyring ring;

static void test_parse_keys(void)
{
	char err[256];
	CU_ASSERT_EQUAL_FATAL(tc_tsig_keys_parse(keyfile, strlen(keyfile), &ring, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ring.count, 2);
	const struct tc_tsig_key *k = tc_tsig_key_find_text(&ring, "xfr-knot");
	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	CU_ASSERT_EQUAL(k->alg, TC_TSIG_HMAC_SHA256);
	CU_ASSERT_EQUAL(k->secret_len, 32);
	k = tc_tsig_key_find_text(&ring, "big.key");
	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	CU_ASSERT_EQUAL(k->alg, TC_TSIG_HMAC_SHA512);
	CU_ASSERT_EQUAL(k->secret_len, 55);
	CU_ASSERT(memcmp(k->name, "\3big\3key", 9) == 0);   /* stored lower case */
	CU_ASSERT_PTR_NULL(tc_tsig_key_find_text(&ring, "other"));
}

static void expect_bad(const char *text, size_t len, const char *why)
{
	struct tc_tsig_keyring r;
	char err[256] = "";
	CU_ASSERT_EQUAL(tc_tsig_keys_parse(text, len, &r, err, sizeof(err)), -1);
	if (!strstr(err, why)) {
		fprintf(stderr, "\n  want: %s\n  got:  %s\n", why, err);
		CU_FAIL("error does not match");
	}
}

static void test_bad_key_files(void)
{
#define BAD(t, why) expect_bad(t, sizeof(t) - 1, why)
	BAD("key \"a\" { algorithm hmac-md5; secret \"AAAA\"; };", "line 1: algorithm: hmac-sha256 or hmac-sha512");
	BAD("key \"a\" {\n algorithm hmac-sha256;\n secret \"AAA\"; };", "line 3: secret: not base64");
	BAD("key \"a\" { algorithm hmac-sha256; };", "needs both algorithm and secret");
	BAD("key \"a\" { secret \"AAAA\"; algorithm hmac-sha256; };\nkey \"A.\" { secret \"AAAA\"; algorithm hmac-sha256; };",
	    "line 2: a key of this name is already defined");
	BAD("key \"a\" { algorithm hmac-sha256; secret \"AAAA\"; }", "expected ';'");
	BAD("key \"a\" { algorithm hmac-sha256; secret \"AAAA\"; nope 1; };", "unknown statement");
	BAD("options { };", "expected a key clause");
	BAD("key \"a\0b\" { };", "NUL byte");
	BAD("key \"a { };", "unterminated string");
	BAD("key \"a\n\" { };", "line break or escape inside a quoted string");
	BAD("/* open", "unterminated comment");
	BAD("key \"a..b\" { };", "not a DNS name");
#undef BAD
	struct tc_tsig_keyring r;
	char err[64];
	CU_ASSERT_EQUAL(tc_tsig_keys_parse("", 0, &r, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(r.count, 0);
}

/* A query for the zone SOA with ID 0x1234, signed with key at time t. */
static size_t signed_query(uint8_t *buf, size_t cap, const struct tc_tsig_key *key, uint64_t t)
{
	struct tc_dns_builder b;
	tc_dns_build_init(&b, buf, cap);
	static const uint8_t apex[] = "\5trust\11hypermesh\6online";
	CU_ASSERT_FATAL(tc_dns_build_header(&b, 0x1234, 0) == 0 &&
			tc_dns_build_question(&b, apex, sizeof(apex), TC_DNS_TYPE_SOA, 1) == 0);
	size_t len = tc_dns_build_finish(&b);
	uint8_t mac[TC_TSIG_MAX_MAC];
	size_t mac_len;
	len = tc_tsig_sign(buf, len, cap, key, NULL, 0, false, t, 0, NULL, 0, mac, &mac_len);
	CU_ASSERT_FATAL(len > 0);
	CU_ASSERT_EQUAL(mac_len, tc_tsig_alg_mac_len(key->alg));
	return len;
}

static void test_sign_and_verify(void)
{
	const uint64_t now = 1796500000;
	for (size_t i = 0; i < ring.count; i++) {
		const struct tc_tsig_key *k = &ring.keys[i];
		uint8_t q[1024];
		size_t len = signed_query(q, sizeof(q), k, now);
		struct tc_tsig_request req;
		CU_ASSERT_EQUAL(tc_tsig_verify(q, len, &ring, now + 10, &req), TC_TSIG_VALID);
		CU_ASSERT_PTR_EQUAL(req.key, k);
		CU_ASSERT_EQUAL(req.original_id, 0x1234);
		CU_ASSERT_EQUAL(req.unsigned_len, 12 + 28);
		CU_ASSERT_EQUAL(tc_dns_get16(q + 10), 1);

		/* Every octet of the question counts. */
		q[20] ^= 0x20;
		CU_ASSERT_EQUAL(tc_tsig_verify(q, len, &ring, now, &req), TC_TSIG_BAD);
		CU_ASSERT_EQUAL(req.error, TC_TSIG_ERR_BADSIG);
		q[20] ^= 0x20;
		/* So does the time signed: a replay with another time is BADSIG... */
		uint8_t *tsig_time = q + req.unsigned_len + k->name_len + 10 + 12;
		tsig_time[5] ^= 1;
		CU_ASSERT_EQUAL(tc_tsig_verify(q, len, &ring, now, &req), TC_TSIG_BAD);
		CU_ASSERT_EQUAL(req.error, TC_TSIG_ERR_BADSIG);
		tsig_time[5] ^= 1;
		/* ... and a true but stale one BADTIME, with the key known. */
		CU_ASSERT_EQUAL(tc_tsig_verify(q, len, &ring, now + 301, &req), TC_TSIG_BAD);
		CU_ASSERT_EQUAL(req.error, TC_TSIG_ERR_BADTIME);
		CU_ASSERT_PTR_EQUAL(req.key, k);
		CU_ASSERT_EQUAL(tc_tsig_verify(q, len, &ring, now - 301, &req), TC_TSIG_BAD);

		/* The answer NOTAUTH for BADTIME is signed: it verifies as a
		 * request would, with our time in other data. */
		uint8_t a[1024];
		memcpy(a, q, req.unsigned_len);
		tc_dns_put16(a + 2, TC_DNS_FLAG_QR);
		tc_dns_put16(a + 10, 0);
		size_t alen = tc_tsig_finish_refusal(a, req.unsigned_len, sizeof(a), &req, now + 301);
		CU_ASSERT(alen > req.unsigned_len);
		CU_ASSERT_EQUAL(TC_DNS_RCODE(tc_dns_get16(a + 2)), TC_DNS_RCODE_NOTAUTH);
		CU_ASSERT_EQUAL(tc_dns_get16(a + alen - 10), TC_TSIG_ERR_BADTIME);
		CU_ASSERT_EQUAL(tc_dns_get16(a + alen - 8), 6);
	}
}

static void test_unknown_key_and_shapes(void)
{
	struct tc_tsig_keyring other;
	char err[128];
	static const char t[] = "key \"stranger\" { algorithm hmac-sha256; secret \"AAAAAAAA\"; };";
	CU_ASSERT_FATAL(tc_tsig_keys_parse(t, sizeof(t) - 1, &other, err, sizeof(err)) == 0);
	uint8_t q[1024];
	size_t len = signed_query(q, sizeof(q), &other.keys[0], 1000);
	struct tc_tsig_request req;
	CU_ASSERT_EQUAL(tc_tsig_verify(q, len, &ring, 1000, &req), TC_TSIG_BAD);
	CU_ASSERT_EQUAL(req.error, TC_TSIG_ERR_BADKEY);
	CU_ASSERT_PTR_NULL(req.key);
	/* BADKEY is answered unsigned: an empty MAC. */
	uint8_t a[1024];
	memcpy(a, q, req.unsigned_len);
	tc_dns_put16(a + 10, 0);
	size_t alen = tc_tsig_finish_refusal(a, req.unsigned_len, sizeof(a), &req, 1000);
	CU_ASSERT(alen > 0);
	CU_ASSERT_EQUAL(tc_dns_get16(a + alen - 4), TC_TSIG_ERR_BADKEY);
	CU_ASSERT_EQUAL(tc_dns_get16(a + alen - 8), 0);   /* MAC size */

	/* Same name, other algorithm: BADKEY too. */
	struct tc_tsig_key k = ring.keys[0];
	k.alg = TC_TSIG_HMAC_SHA512;
	len = signed_query(q, sizeof(q), &k, 1000);
	CU_ASSERT_EQUAL(tc_tsig_verify(q, len, &ring, 1000, &req), TC_TSIG_BAD);
	CU_ASSERT_EQUAL(req.error, TC_TSIG_ERR_BADKEY);

	/* Unsigned messages are not TSIG's business. */
	size_t bare = req.unsigned_len;
	tc_dns_put16(q + 10, 0);
	CU_ASSERT_EQUAL(tc_tsig_verify(q, bare, &ring, 1000, &req), TC_TSIG_UNSIGNED);

	/* A TSIG followed by another record is malformed. */
	len = signed_query(q, sizeof(q), &ring.keys[0], 1000);
	static const uint8_t extra[] = {0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4};
	memcpy(q + len, extra, sizeof(extra));
	tc_dns_put16(q + 10, 2);
	CU_ASSERT_EQUAL(tc_tsig_verify(q, len + sizeof(extra), &ring, 1000, &req), TC_TSIG_MALFORMED);

	/* A MAC cut to 16 of 32 octets (length fields adjusted): BADTRUNC. */
	len = signed_query(q, sizeof(q), &ring.keys[0], 1000);
	CU_ASSERT_EQUAL(tc_tsig_verify(q, len, &ring, 1000, &req), TC_TSIG_VALID);
	size_t rd = req.unsigned_len + ring.keys[0].name_len + 8;   /* RDLENGTH */
	size_t macsize = rd + 2 + 13 + 8;   /* after "hmac-sha256.", time, fudge */
	CU_ASSERT_EQUAL(tc_dns_get16(q + macsize), 32);
	memmove(q + macsize + 2 + 16, q + macsize + 2 + 32, len - (macsize + 2 + 32));
	tc_dns_put16(q + macsize, 16);
	tc_dns_put16(q + rd, (uint16_t)(tc_dns_get16(q + rd) - 16));
	CU_ASSERT_EQUAL(tc_tsig_verify(q, len - 16, &ring, 1000, &req), TC_TSIG_BAD);
	CU_ASSERT_EQUAL(req.error, TC_TSIG_ERR_BADTRUNC);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"key file as tsig-keygen prints it", test_parse_keys},
		{"broken key files named by line", test_bad_key_files},
		{"sign, verify, BADSIG, BADTIME", test_sign_and_verify},
		{"BADKEY, unsigned, malformed, BADTRUNC", test_unknown_key_and_shapes},
		{NULL, NULL},
	};
	return tc_run_suite("tsig", tests, NULL, NULL);
}
