/* Fuzz target: leaf templates as the signer receives them. Any bytes go
 * through tc_template_parse and, when they parse, the issuance policy, both
 * as in production and in a permissive dev setting; a template the policy
 * accepts is completed and its TBSCertificate must read back as one. */
#include <openssl/asn1.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "signer/cert_sign.h"
#include "signer/policy.h"
#include "signer/tbs_template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "now" just after the template's own notBefore, so inputs derived from a
 * valid seed get past the validity window into the name and key checks. */
static time_t now_for(const struct tc_tbs_view *v)
{
	struct tm tm;
	ASN1_TIME t = {.length = (int)v->not_before.val_len,
		       .type = v->not_before.tag == 0x17 ? V_ASN1_UTCTIME : V_ASN1_GENERALIZEDTIME,
		       .data = (unsigned char *)v->not_before.val};
	if (v->not_before.val_len < 64 && ASN1_TIME_to_tm(&t, &tm))
		return timegm(&tm) + 60;
	return 1700000000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tc_policy prod, dev;
	static struct tc_issuer issuer;
	static uint8_t issuer_name[] = {0x30, 0x0f, 0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x04,
					0x03, 0x0c, 0x04, 0x54, 0x65, 0x73, 0x74};
	static uint8_t aki[] = {0x30, 0x0d, 0x06, 0x03, 0x55, 0x1d, 0x23, 0x04, 0x06, 0x30, 0x04, 0x80, 0x02, 0x01, 0x02};
	static int ready;
	if (!ready) {
		struct tc_config cfg;
		tc_config_defaults(&cfg, false);
		tc_policy_from_config(&cfg, &prod);
		tc_config_defaults(&cfg, true);
		tc_policy_from_config(&cfg, &dev);
		dev.allow_wildcards = true;
		/* Completion needs no key: a stand-in issuer name and AKI. */
		issuer.name = issuer_name;
		issuer.name_len = sizeof(issuer_name);
		issuer.aki = aki;
		issuer.aki_len = sizeof(aki);
		memcpy(issuer.alg, "\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02", 12);
		issuer.alg_len = 12;
		ready = 1;
	}
	char err[256] = "";
	struct tc_tbs_view v;
	if (tc_template_parse(data, size, &v, err, sizeof(err)) != 0) {
		if (!err[0])
			abort(); /* a refusal always says why */
		return 0;
	}
	time_t now = now_for(&v);
	char why[256];
	const struct tc_policy *policies[] = {&prod, &dev};
	int accepted = 0;
	for (int i = 0; i < 2; i++) {
		why[0] = '\0';
		if (tc_policy_check_leaf(policies[i], &v, now, why, sizeof(why)) != 0) {
			if (!why[0])
				abort();
		} else {
			accepted = 1;
		}
	}
	if (!accepted)
		return 0;
	/* What the signer would sign is one well-formed TBSCertificate. */
	static const unsigned char serial[TC_SERIAL_LEN] = {0x40, 1, 2, 3};
	struct tc_leaf leaf;
	unsigned char fp[32];
	if (tc_leaf_complete(&v, &issuer, serial, &leaf, fp, err, sizeof(err)) != 0)
		abort();
	for (int precert = 0; precert < 2; precert++) {
		uint8_t *tbs;
		size_t len;
		struct tc_tbs_view out;
		if (tc_leaf_tbs(&leaf, precert, (const uint8_t *)"\0\2ab", 4, &tbs, &len) != 0 ||
		    tc_tbs_view_parse(tbs, len, &out, err, sizeof(err)) != 0)
			abort();
		free(tbs);
	}
	tc_leaf_free(&leaf);
	return 0;
}
