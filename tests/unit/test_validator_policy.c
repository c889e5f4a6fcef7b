/* The validator's pure parts: the target address policy (every special
 * range, mapped and NAT64 IPv6 judged by their IPv4 address, the two
 * switches), the wire protocol's bounds (NUL in an identifier, malformed
 * tokens, unknown problem types, oversized fields refused; a round trip
 * keeps every field), the dns-01 digest (RFC 8555 section 8.4 example) and
 * the RFC 8738 reverse names, acme.validation.resolver and resolv.conf. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acme/challenge_dns01.h"
#include "acme/challenge_tls_alpn01.h"
#include "acme/target_policy.h"
#include "acme/validator_dns.h"
#include "acme/validator_proto.h"
#include "internal/acme_validator.pb-c.h"
#include "unit/cunit_main.h"

static int allowed(const char *ip, int loopback, int private_)
{
	struct tc_target_rules r = {.allow_loopback = loopback, .allow_private = private_};
	char why[256];
	return tc_target_check_text(&r, ip, why, sizeof(why)) == 0;
}

static void test_policy_public(void)
{
	CU_ASSERT(allowed("93.184.216.34", 0, 0));
	CU_ASSERT(allowed("2606:2800:220:1:248:1893:25c8:1946", 0, 0));
	CU_ASSERT(allowed("8.8.8.8", 0, 0));
	CU_ASSERT(allowed("::ffff:8.8.8.8", 0, 0));
	CU_ASSERT(allowed("64:ff9b::808:808", 0, 0)); /* NAT64 of 8.8.8.8 */
}

static void test_policy_loopback(void)
{
	CU_ASSERT(!allowed("127.0.0.1", 0, 0));
	CU_ASSERT(!allowed("127.255.0.9", 0, 1)); /* allow_private does not allow loopback */
	CU_ASSERT(!allowed("::1", 0, 0));
	CU_ASSERT(!allowed("::ffff:127.0.0.1", 0, 0));
	CU_ASSERT(allowed("127.0.0.1", 1, 0));
	CU_ASSERT(allowed("::1", 1, 0));
	CU_ASSERT(allowed("::ffff:127.0.0.1", 1, 0));
	struct tc_target_rules r = {0};
	char why[256];
	CU_ASSERT(tc_target_check_text(&r, "127.0.0.1", why, sizeof(why)) != 0);
	CU_ASSERT(strstr(why, "allow_loopback") != NULL);
}

static void test_policy_private(void)
{
	static const char *const priv[] = {"10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
					   "100.64.0.1", "100.127.255.254", "fd00::1", "fc12::1", "fe80::1", "fec0::1",
					   "::ffff:10.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a00:1", "64:ff9b:1::1",
					   "192.0.2.1", "198.51.100.7", "203.0.113.9", "198.18.0.1", "240.0.0.1",
					   "2001:db8::1", "0.1.2.3", "100::1", "::2", "4000::1"};
	for (size_t i = 0; i < sizeof(priv) / sizeof(priv[0]); i++) {
		CU_ASSERT_FALSE(allowed(priv[i], 1, 0));
		CU_ASSERT_TRUE(allowed(priv[i], 0, 1));
		if (allowed(priv[i], 1, 0) || !allowed(priv[i], 0, 1))
			fprintf(stderr, "wrong verdict for %s\n", priv[i]);
	}
	/* Boundaries just outside the ranges are public. */
	CU_ASSERT(allowed("172.32.0.1", 0, 0));
	CU_ASSERT(allowed("100.128.0.1", 0, 0));
	CU_ASSERT(allowed("11.0.0.1", 0, 0));
}

static void test_policy_never(void)
{
	static const char *const never[] = {"0.0.0.0", "255.255.255.255", "224.0.0.1", "239.1.2.3", "::", "ff02::1",
					    "::ffff:224.0.0.1", "::ffff:0.0.0.0"};
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		CU_ASSERT_FALSE(allowed(never[i], 1, 1));
	CU_ASSERT_FALSE(allowed("not-an-ip", 1, 1));
	CU_ASSERT_FALSE(allowed("1.2.3.4\n", 1, 1));
}

static struct tc_vrequest good_request(void)
{
	struct tc_vrequest r = {.id = 7, .type = TC_V_HTTP01};
	strcpy(r.identifier, "www.example.org");
	r.identifier_len = strlen(r.identifier);
	strcpy(r.token, "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA");
	strcpy(r.key_authorization, "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI");
	r.timeout_ms = 5000;
	return r;
}

static int roundtrip(const struct tc_vrequest *in, struct tc_vrequest *out)
{
	uint8_t *buf;
	size_t len;
	char why[160];
	CU_ASSERT_FATAL(tc_vrequest_encode(in, &buf, &len) == 0);
	int rc = tc_vrequest_decode(buf, len, out, why, sizeof(why));
	free(buf);
	return rc;
}

static void test_proto_request(void)
{
	struct tc_vrequest r = good_request(), out;
	CU_ASSERT(roundtrip(&r, &out) == 0);
	CU_ASSERT(out.id == 7 && out.type == TC_V_HTTP01 && !out.is_ip && out.timeout_ms == 5000);
	CU_ASSERT(out.identifier_len == r.identifier_len && strcmp(out.identifier, r.identifier) == 0);
	CU_ASSERT(strcmp(out.key_authorization, r.key_authorization) == 0);

	struct tc_vrequest bad = r;
	memcpy(bad.identifier, "www.example.org\0.evil.com", 25); /* a NUL is refused, never cut */
	bad.identifier_len = 25;
	CU_ASSERT(roundtrip(&bad, &out) != 0);
	bad = r;
	strcpy(bad.identifier, "*.example.org");
	bad.identifier_len = strlen(bad.identifier);
	CU_ASSERT(roundtrip(&bad, &out) != 0);
	bad = r;
	strcpy(bad.identifier, "-a.example.org");
	bad.identifier_len = strlen(bad.identifier);
	CU_ASSERT(roundtrip(&bad, &out) != 0);
	bad = r;
	bad.is_ip = 1; /* a name is not an ip identifier */
	CU_ASSERT(roundtrip(&bad, &out) != 0);
	strcpy(bad.identifier, "2001:db8::1");
	bad.identifier_len = strlen(bad.identifier);
	CU_ASSERT(roundtrip(&bad, &out) == 0 && out.is_ip);
	bad = r;
	strcpy(bad.token, "short");
	CU_ASSERT(roundtrip(&bad, &out) != 0);
	bad = r;
	bad.key_authorization[3] ^= 1; /* not token.thumbprint */
	CU_ASSERT(roundtrip(&bad, &out) != 0);
	bad = r;
	strcat(bad.key_authorization, "/");
	CU_ASSERT(roundtrip(&bad, &out) != 0);
	bad = r;
	bad.id = 0;
	CU_ASSERT(roundtrip(&bad, &out) != 0);
	bad = r;
	bad.type = 9;
	CU_ASSERT(roundtrip(&bad, &out) != 0);

	/* A token over 128 characters, made by hand (the encoder has no room). */
	Trustchain__Internal__Acme__ValidationRequest m = TRUSTCHAIN__INTERNAL__ACME__VALIDATION_REQUEST__INIT;
	char longtok[300];
	memset(longtok, 'a', 299);
	longtok[299] = 0;
	m.id = 1;
	m.type = TRUSTCHAIN__INTERNAL__ACME__CHALLENGE_TYPE__CHALLENGE_TYPE_DNS_01;
	m.identifier_type = TRUSTCHAIN__INTERNAL__ACME__IDENTIFIER_TYPE__IDENTIFIER_TYPE_DNS;
	m.identifier.data = (uint8_t *)"a.example";
	m.identifier.len = 9;
	m.token = longtok;
	m.key_authorization = longtok;
	uint8_t buf[1024];
	size_t n = trustchain__internal__acme__validation_request__pack(&m, buf);
	char why[160];
	CU_ASSERT(tc_vrequest_decode(buf, n, &out, why, sizeof(why)) != 0);
	CU_ASSERT(tc_vrequest_decode(buf, 0, &out, why, sizeof(why)) != 0);
	CU_ASSERT(tc_vrequest_decode((const uint8_t *)"\xff\xff\xff", 3, &out, why, sizeof(why)) != 0);
}

static void test_proto_response(void)
{
	struct tc_vresult r = {0}, out;
	tc_vresult_fail(&r, "incorrectResponse", "got \"%s\"", "x\x01y");
	snprintf(r.address_used, sizeof(r.address_used), "[::1]");
	snprintf(r.url, sizeof(r.url), "http://a.example/.well-known/acme-challenge/t");
	uint8_t *buf;
	size_t len;
	uint64_t id;
	char why[160];
	CU_ASSERT_FATAL(tc_vresponse_encode(42, &r, &buf, &len) == 0);
	CU_ASSERT(tc_vresponse_decode(buf, len, &id, &out, why, sizeof(why)) == 0);
	free(buf);
	CU_ASSERT(id == 42 && !out.valid && strcmp(out.problem_type, "incorrectResponse") == 0);
	CU_ASSERT(strcmp(out.detail, "got \"x?y\"") == 0); /* control bytes made printable */
	CU_ASSERT(strcmp(out.address_used, "[::1]") == 0);

	/* An unknown problem type, or an oversized detail, is a violation. */
	Trustchain__Internal__Acme__ValidationResponse m = TRUSTCHAIN__INTERNAL__ACME__VALIDATION_RESPONSE__INIT;
	m.id = 1;
	m.problem_type = "badNonce";
	uint8_t small[2048];
	size_t n = trustchain__internal__acme__validation_response__pack(&m, small);
	CU_ASSERT(tc_vresponse_decode(small, n, &id, &out, why, sizeof(why)) != 0);
	char detail[600];
	memset(detail, 'd', sizeof(detail) - 1);
	detail[sizeof(detail) - 1] = 0;
	m.problem_type = "dns";
	m.detail = detail;
	n = trustchain__internal__acme__validation_response__pack(&m, small);
	CU_ASSERT(tc_vresponse_decode(small, n, &id, &out, why, sizeof(why)) != 0);
	m.detail = "ok";
	n = trustchain__internal__acme__validation_response__pack(&m, small);
	CU_ASSERT(tc_vresponse_decode(small, n, &id, &out, why, sizeof(why)) == 0);
	m.id = 0;
	n = trustchain__internal__acme__validation_response__pack(&m, small);
	CU_ASSERT(tc_vresponse_decode(small, n, &id, &out, why, sizeof(why)) != 0);
	/* valid with a problem type is contradictory */
	m.id = 3;
	m.valid = 1;
	n = trustchain__internal__acme__validation_response__pack(&m, small);
	CU_ASSERT(tc_vresponse_decode(small, n, &id, &out, why, sizeof(why)) != 0);
}

static void test_digest_and_reverse(void)
{
	char d[44];
	/* A key authorization in the form of RFC 8555's examples. */
	CU_ASSERT(tc_dns01_digest("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI", d) == 0);
	/* base64url(SHA-256) computed independently (Python hashlib). */
	CU_ASSERT_STRING_EQUAL(d, "lCM7cZyQXcVHK2nnW3jjAhNT3Fvm18UN-kWZZknKoYM");
	char name[128];
	CU_ASSERT(tc_reverse_name("192.0.2.1", name, sizeof(name)) == 0);
	CU_ASSERT_STRING_EQUAL(name, "1.2.0.192.in-addr.arpa");
	CU_ASSERT(tc_reverse_name("2001:db8::1", name, sizeof(name)) == 0);
	CU_ASSERT_STRING_EQUAL(name, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
	CU_ASSERT(tc_reverse_name("example.org", name, sizeof(name)) != 0);
}

static void test_resolver_setting(void)
{
	struct tc_vdns_servers sv;
	char why[256];
	CU_ASSERT(tc_vdns_servers_init("127.0.0.1:5300", NULL, &sv, why, sizeof(why)) == 0 && sv.n == 1);
	CU_ASSERT(sv.addr[0].ss_family == AF_INET && ntohs(((struct sockaddr_in *)&sv.addr[0])->sin_port) == 5300);
	CU_ASSERT(tc_vdns_servers_init("[2001:db8::53]:53", NULL, &sv, why, sizeof(why)) == 0 && sv.n == 1);
	CU_ASSERT(sv.addr[0].ss_family == AF_INET6);
	static const char *const bad[] = {"localhost:53", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "[::1]53",
					  "2001:db8::53", "127.0.0.1:53x", ":53"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT(tc_vdns_servers_init(bad[i], NULL, &sv, why, sizeof(why)) != 0);

	/* "system": the first three usable nameservers of resolv.conf. */
	char path[] = "/tmp/tc_resolv.XXXXXX";
	int fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	static const char conf[] = "# comment\nsearch example.org\nnameserver 192.0.2.53\nnameserver bogus\n"
				   "nameserver fe80::1%eth0\nnameserver 198.51.100.53\nnameserver 203.0.113.53\n";
	CU_ASSERT(write(fd, conf, sizeof(conf) - 1) == (ssize_t)(sizeof(conf) - 1));
	close(fd);
	CU_ASSERT(tc_vdns_servers_init("system", path, &sv, why, sizeof(why)) == 0);
	CU_ASSERT(sv.n == 3);
	CU_ASSERT(sv.addr[0].ss_family == AF_INET && sv.addr[1].ss_family == AF_INET6 && sv.addr[2].ss_family == AF_INET);
	CU_ASSERT(ntohs(((struct sockaddr_in *)&sv.addr[0])->sin_port) == 53);
	fd = open(path, O_WRONLY | O_TRUNC);
	CU_ASSERT(write(fd, "search x\n", 9) == 9);
	close(fd);
	CU_ASSERT(tc_vdns_servers_init("system", path, &sv, why, sizeof(why)) != 0); /* none: an error, said at start */
	unlink(path);
	CU_ASSERT(tc_vdns_servers_init("system", "/nonexistent/resolv.conf", &sv, why, sizeof(why)) != 0);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"policy: public addresses", test_policy_public},
		{"policy: loopback", test_policy_loopback},
		{"policy: private and reserved", test_policy_private},
		{"policy: never", test_policy_never},
		{"proto: request bounds", test_proto_request},
		{"proto: response bounds", test_proto_response},
		{"dns-01 digest, reverse names", test_digest_and_reverse},
		{"resolver setting, resolv.conf", test_resolver_setting},
		{NULL, NULL},
	};
	return tc_run_suite("validator_policy", tests, NULL, NULL);
}
