/* The signer's check of what the DNS zone key may sign: inputs built by the
 * resolver's own signing code pass; every way of bending one fails with a
 * reason, and so do other structures (CT, certificates, junk). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "resolver/dns_name.h"
#include "resolver/dnssec.h"
#include "signer/dns_sign_input.h"
#include "unit/cunit_main.h"

#define ZONE "trust.hypermesh.online"

static time_t now;

static size_t wire(const char *text, uint8_t *out)
{
	size_t len = 0;
	const char *why;
	static const uint8_t root = 0;
	CU_ASSERT_FATAL(tc_dns_name_from_text(text, strlen(text), &root, 1, out, &len, &why) == 0);
	return len;
}

struct input {
	uint8_t *data;
	size_t len;
	size_t head_len;    /* offset of the first record */
};

/* A valid input: RRSIG over the two A records of owner. */
static struct input build(const char *owner, const char *signer, uint16_t type, uint32_t ttl)
{
	uint8_t sw[TC_DNS_MAX_NAME], ow[TC_DNS_MAX_NAME];
	size_t sl = wire(signer, sw), ol = wire(owner, ow);
	tc_dns_name_lower(ow, ow, ol);
	struct tc_rrsig_fields f = {.type_covered = type, .labels = tc_dnssec_rrsig_labels(ow, ol),
				    .original_ttl = ttl, .expiration = (uint32_t)(now + 7 * 86400),
				    .inception = (uint32_t)(now - 3600), .key_tag = 4242,
				    .signer = sw, .signer_len = sl};
	uint8_t head[300];
	size_t hl = tc_dnssec_rrsig_head(head, sizeof(head), &f);
	static uint8_t a1[4] = {192, 0, 2, 2}, a2[4] = {192, 0, 2, 1};
	struct tc_zone_rr rrs[2] = {{type, 4, ttl, a1}, {type, 4, ttl, a2}};
	struct input in = {NULL, 0, hl};
	in.data = tc_dnssec_signing_input(head, hl, ow, ol, type, ttl, rrs, 2, &in.len);
	CU_ASSERT_FATAL(in.data != NULL);
	return in;
}

static int check(const struct input *in, char *why)
{
	return tc_dns_sign_input_check(in->data, in->len, ZONE, now, why, 256);
}

static void test_valid_inputs(void)
{
	char why[256] = "";
	struct input in = build("www." ZONE ".", ZONE ".", TC_DNS_TYPE_A, 300);
	CU_ASSERT(check(&in, why) == 0);
	free(in.data);
	/* Mixed case in the request's names is lower-cased by the builder. */
	in = build("WWW.Trust.Hypermesh.Online.", "TRUST.hypermesh.online.", TC_DNS_TYPE_A, 300);
	CU_ASSERT(check(&in, why) == 0);
	free(in.data);
	/* The apex itself and a configured zone with a trailing dot / capitals. */
	in = build(ZONE ".", ZONE ".", TC_DNS_TYPE_A, 3600);
	CU_ASSERT(check(&in, why) == 0);
	CU_ASSERT(tc_dns_sign_input_check(in.data, in.len, "Trust.Hypermesh.Online.", now, why,
					  sizeof(why)) == 0);
	free(in.data);
}

static void expect_refused(const struct input *in, const char *reason_part)
{
	char why[256] = "";
	CU_ASSERT(check(in, why) != 0);
	if (reason_part && !strstr(why, reason_part)) {
		fprintf(stderr, "reason '%s' lacks '%s'\n", why, reason_part);
		CU_FAIL("wrong reason");
	}
}

static void test_refused_inputs(void)
{
	struct input in;

	in = build("www.example.org.", ZONE ".", TC_DNS_TYPE_A, 300);
	expect_refused(&in, "outside the zone");
	free(in.data);
	in = build("www.other.online.", ZONE ".", TC_DNS_TYPE_A, 300);
	expect_refused(&in, "outside the zone");
	free(in.data);
	in = build("xtrust.hypermesh.online.", ZONE ".", TC_DNS_TYPE_A, 300);
	expect_refused(&in, "outside the zone");
	free(in.data);
	in = build("www.example.org.", "example.org.", TC_DNS_TYPE_A, 300);
	expect_refused(&in, "signer name");
	free(in.data);
	in = build("www." ZONE ".", ZONE ".", TC_DNS_TYPE_RRSIG, 300);
	expect_refused(&in, "type covered");
	free(in.data);
	in = build("www." ZONE ".", ZONE ".", TC_DNS_TYPE_ANY, 300);
	expect_refused(&in, "type covered");
	free(in.data);

	in = build("www." ZONE ".", ZONE ".", TC_DNS_TYPE_A, 300);
	struct input m = {malloc(in.len + 8), in.len, in.head_len};
	CU_ASSERT_FATAL(m.data != NULL);
#define MUTATE(stmt, reason)                   \
	do {                                   \
		memcpy(m.data, in.data, in.len); \
		m.len = in.len;                  \
		stmt;                            \
		expect_refused(&m, reason);      \
	} while (0)
	size_t rr = in.head_len;                       /* first record */
	size_t rr_fixed = rr + wire("www." ZONE ".", (uint8_t[256]){0});  /* its type field */
	size_t second = rr_fixed + 10 + 4;             /* second record */
	MUTATE(m.data[2] = 8, "algorithm");
	MUTATE(m.data[3] = 9, "labels");
	MUTATE(tc_dns_put32(m.data + 8, tc_dns_get32(m.data + 12)), "validity");   /* exp == inc */
	MUTATE(tc_dns_put32(m.data + 8, tc_dns_get32(m.data + 12) - 10), "validity");
	MUTATE(tc_dns_put32(m.data + 8, tc_dns_get32(m.data + 12) + 40 * 86400), "validity");
	MUTATE((tc_dns_put32(m.data + 12, (uint32_t)(now + 20 * 86400)),
		tc_dns_put32(m.data + 8, (uint32_t)(now + 40 * 86400))),
	       "from now");
	MUTATE(m.data[rr + 1] = 'W', "lower-case");
	MUTATE(m.data[rr] = 0xc0, "owner");
	MUTATE(m.data[second + 1] = 'x', "same owner");
	MUTATE(tc_dns_put16(m.data + rr_fixed, TC_DNS_TYPE_AAAA), "type/class/TTL");
	MUTATE(tc_dns_put16(m.data + rr_fixed + 2, 3), "type/class/TTL");
	MUTATE(tc_dns_put32(m.data + rr_fixed + 4, 301), "type/class/TTL");
	MUTATE(tc_dns_put16(m.data + rr_fixed + 8, 200), "RDATA");
	MUTATE(m.len = in.len - 1, "RDATA");
	MUTATE(m.len = in.len - 4 - 10 + 3, "truncated");
	MUTATE((m.data[in.len] = 0, m.len = in.len + 1), NULL);          /* trailing octet */
	MUTATE(m.len = rr, "no record");
	/* Records out of canonical order, and a duplicate. */
	MUTATE(m.data[rr_fixed + 10 + 3] = 3, "canonical order");
	MUTATE(m.data[rr_fixed + 10 + 3] = 2, "canonical order");
#undef MUTATE
	free(m.data);
	free(in.data);

	char why[256];
	/* A CT log structure and a certificate are not RRSIG inputs. */
	uint8_t ct[64] = {0, 0};
	CU_ASSERT(tc_dns_sign_input_check(ct, sizeof(ct), ZONE, now, why, sizeof(why)) != 0);
	uint8_t cert[300] = {0x30, 0x82, 0x01, 0x28};
	CU_ASSERT(tc_dns_sign_input_check(cert, sizeof(cert), ZONE, now, why, sizeof(why)) != 0);
	CU_ASSERT(tc_dns_sign_input_check(cert, 0, ZONE, now, why, sizeof(why)) != 0);
	/* Oversized. */
	uint8_t *big = calloc(1, TC_DNS_SIGN_INPUT_MAX + 1);
	CU_ASSERT(tc_dns_sign_input_check(big, TC_DNS_SIGN_INPUT_MAX + 1, ZONE, now, why,
					  sizeof(why)) != 0);
	free(big);
}

/* Every truncation and every single-octet change of a valid input either
 * passes or is refused; none crashes or reads out of bounds (ASan). */
static void test_mutations_do_not_crash(void)
{
	struct input in = build("a.b." ZONE ".", ZONE ".", TC_DNS_TYPE_A, 60);
	char why[256];
	/* Cut right after the first record it is a valid one-record input. */
	size_t first_end = in.head_len + (in.len - in.head_len) / 2;
	for (size_t cut = 0; cut <= in.len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		memcpy(copy, in.data, cut);
		int rc = tc_dns_sign_input_check(copy, cut, ZONE, now, why, sizeof(why));
		CU_ASSERT(cut == in.len || cut == first_end ? rc == 0 : rc != 0);
		free(copy);
	}
	uint8_t *copy = malloc(in.len);
	for (size_t i = 0; i < in.len; i++) {
		for (unsigned v = 0; v < 256; v += 17) {
			memcpy(copy, in.data, in.len);
			copy[i] = (uint8_t)v;
			(void)tc_dns_sign_input_check(copy, in.len, ZONE, now, why, sizeof(why));
		}
	}
	free(copy);
	free(in.data);
}

int main(void)
{
	now = time(NULL);
	static const struct tc_test tests[] = {
	    {"resolver-built inputs pass", test_valid_inputs},
	    {"bent inputs are refused with a reason", test_refused_inputs},
	    {"truncations and mutations never crash", test_mutations_do_not_crash},
	    {NULL, NULL},
	};
	return tc_run_suite("dns_sign_input", tests, NULL, NULL);
}
