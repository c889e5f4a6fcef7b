/* The DNS zone key through the real signer (SoftHSM token after a dev
 * ceremony): the resolver's RRSIG inputs are signed, and the signature
 * (converted to r || s) verifies with the DNSKEY built from the public key
 * the signer hands out; anything else the key is asked to sign is refused
 * by the signer with a reason, and peers without the capability are
 * denied. */
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/signer_client.h"
#include "resolver/dns_name.h"
#include "resolver/dnssec.h"
#include "support/signer_harness.h"
#include "unit/cunit_main.h"

typedef Trustchain__Internal__Response Response;
typedef Trustchain__Internal__Request Request;

static const char *bindir;
static struct tc_harness h;
static struct tc_signer_client *resolver, *gateway, *transparency;

static int suite_init(void)
{
	if (tc_harness_setup(&h, bindir, NULL) != 0 || tc_harness_start_signer(&h, NULL) != 0)
		return 1;
	resolver = tc_signer_client_new(tc_harness_connect(&h, "resolver"));
	gateway = tc_signer_client_new(tc_harness_connect(&h, "gateway"));
	transparency = tc_signer_client_new(tc_harness_connect(&h, "transparency"));
	return resolver && gateway && transparency ? 0 : 1;
}

static int suite_cleanup(void)
{
	tc_signer_client_free(resolver);
	tc_signer_client_free(gateway);
	tc_signer_client_free(transparency);
	tc_harness_cleanup(&h);
	return 0;
}

static Response *sign(struct tc_signer_client *c, const uint8_t *data, size_t len)
{
	Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__SignDataRequest sd = TRUSTCHAIN__INTERNAL__SIGN_DATA_REQUEST__INIT;
	sd.key = TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_DNS_ZONE;
	sd.data.data = (uint8_t *)data;
	sd.data.len = len;
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_SIGN_DATA;
	req.sign_data = &sd;
	char err[256];
	Response *r = tc_signer_call(c, &req, 10000, err, sizeof(err));
	if (!r)
		fprintf(stderr, "signer call failed: %s\n", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	return r;
}

static size_t wire(const char *text, uint8_t *out)
{
	size_t len = 0;
	const char *why;
	static const uint8_t root = 0;
	CU_ASSERT_FATAL(tc_dns_name_from_text(text, strlen(text), &root, 1, out, &len, &why) == 0);
	return len;
}

/* An RRSIG signing input for one A record at owner, signer name signer. */
static uint8_t *input_for(const char *owner, const char *signer, uint16_t tag, size_t *len)
{
	uint8_t sw[TC_DNS_MAX_NAME], ow[TC_DNS_MAX_NAME], head[300];
	size_t sl = wire(signer, sw), ol = wire(owner, ow);
	time_t now = time(NULL);
	struct tc_rrsig_fields f = {.type_covered = TC_DNS_TYPE_A, .labels = tc_dnssec_rrsig_labels(ow, ol),
				    .original_ttl = 300, .expiration = (uint32_t)(now + 86400),
				    .inception = (uint32_t)(now - 3600), .key_tag = tag, .signer = sw,
				    .signer_len = sl};
	size_t hl = tc_dnssec_rrsig_head(head, sizeof(head), &f);
	static uint8_t addr[4] = {192, 0, 2, 1};
	struct tc_zone_rr a = {TC_DNS_TYPE_A, 4, 300, addr};
	uint8_t *in = tc_dnssec_signing_input(head, hl, ow, ol, TC_DNS_TYPE_A, 300, &a, 1, len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	return in;
}

static void test_zone_key_signs_rrsig_inputs(void)
{
	/* The public key as the resolver gets it, as a DNSKEY. */
	Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__GetPublicInfoRequest gp = TRUSTCHAIN__INTERNAL__GET_PUBLIC_INFO_REQUEST__INIT;
	gp.key = TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_DNS_ZONE;
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_GET_PUBLIC_INFO;
	req.get_public_info = &gp;
	char err[256];
	Response *r = tc_signer_call(resolver, &req, 10000, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL_FATAL(r->status, TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK);
	uint8_t point[64], dnskey[TC_DNSSEC_DNSKEY_LEN];
	CU_ASSERT_FATAL(tc_dnssec_point_from_spki(r->get_public_info->public_key.data,
						  r->get_public_info->public_key.len, point) == 0);
	const unsigned char *p = r->get_public_info->public_key.data;
	EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, (long)r->get_public_info->public_key.len);
	trustchain__internal__response__free_unpacked(r, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pub);
	tc_dnssec_dnskey_rdata(dnskey, TC_DNSSEC_FLAGS_CSK, point);
	uint16_t tag = tc_dnssec_key_tag(dnskey, sizeof(dnskey));

	size_t len;
	uint8_t *in = input_for("ca.trust.hypermesh.online.", "trust.hypermesh.online.", tag, &len);
	r = sign(resolver, in, len);
	CU_ASSERT_EQUAL_FATAL(r->status, TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK);
	uint8_t raw[64];
	CU_ASSERT_FATAL(tc_dnssec_sig_from_der(r->sign_data->signature.data,
					       r->sign_data->signature.len, raw) == 0);
	trustchain__internal__response__free_unpacked(r, NULL);
	/* Verify from r || s as a validator would (rebuild the DER). */
	ECDSA_SIG *es = ECDSA_SIG_new();
	ECDSA_SIG_set0(es, BN_bin2bn(raw, 32, NULL), BN_bin2bn(raw + 32, 32, NULL));
	unsigned char *der = NULL;
	int dl = i2d_ECDSA_SIG(es, &der);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	CU_ASSERT(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) == 1 &&
		  EVP_DigestVerify(md, der, (size_t)dl, in, len) == 1);
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	EVP_PKEY_free(pub);
	free(in);
}

static void expect_refused(Response *r, Trustchain__Internal__Status st, const char *why)
{
	CU_ASSERT_EQUAL(r->status, st);
	if (why && (!r->error || !strstr(r->error, why))) {
		fprintf(stderr, "expected '%s' in '%s'\n", why, r->error ? r->error : "");
		CU_FAIL("wrong reason");
	}
	trustchain__internal__response__free_unpacked(r, NULL);
}

static void test_zone_key_refuses_other_data(void)
{
	size_t len;
	uint8_t *in = input_for("www.example.org.", "example.org.", 1, &len);
	expect_refused(sign(resolver, in, len), TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY,
		       "signer name");
	free(in);
	in = input_for("www.example.org.", "trust.hypermesh.online.", 1, &len);
	expect_refused(sign(resolver, in, len), TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY,
		       "outside the zone");
	free(in);
	/* What the old length-only check let through: any 18+ octets. */
	uint8_t junk[64];
	memset(junk, 0x41, sizeof(junk));
	expect_refused(sign(resolver, junk, sizeof(junk)), TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY,
		       "may sign");
	uint8_t ct[40] = {0, 1};   /* an RFC 6962 tree_hash shape */
	expect_refused(sign(resolver, ct, sizeof(ct)), TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY,
		       NULL);
	/* Peers without the DNS capability. */
	in = input_for("ca.trust.hypermesh.online.", "trust.hypermesh.online.", 1, &len);
	expect_refused(sign(gateway, in, len), TRUSTCHAIN__INTERNAL__STATUS__STATUS_DENIED, NULL);
	expect_refused(sign(transparency, in, len), TRUSTCHAIN__INTERNAL__STATUS__STATUS_DENIED, NULL);
	free(in);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s BINDIR\n", argv[0]);
		return 2;
	}
	bindir = argv[1];
	static const struct tc_test tests[] = {
	    {"zone key signs RRSIG inputs, signature verifies", test_zone_key_signs_rrsig_inputs},
	    {"zone key refuses other data and other peers", test_zone_key_refuses_other_data},
	    {NULL, NULL},
	};
	return tc_run_suite("dnssec_signer", tests, suite_init, suite_cleanup);
}
