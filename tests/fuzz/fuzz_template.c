/* Fuzz target: leaf templates as the signer receives them. Any bytes go
 * through tc_template_parse and, when they parse, the issuance policy, both
 * as in production and in a permissive dev setting. */
#include <openssl/x509.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "signer/cert_sign.h"
#include "signer/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "now" just after the template's own notBefore, so inputs derived from a
 * valid seed get past the validity window into the name and key checks. */
static time_t now_for(X509 *x)
{
	struct tm tm;
	const ASN1_TIME *nb = X509_get0_notBefore(x);
	if (nb && ASN1_TIME_to_tm(nb, &tm))
		return timegm(&tm) + 60;
	return 1700000000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tc_policy prod, dev;
	static int ready;
	if (!ready) {
		struct tc_config cfg;
		tc_config_defaults(&cfg, false);
		tc_policy_from_config(&cfg, &prod);
		tc_config_defaults(&cfg, true);
		tc_policy_from_config(&cfg, &dev);
		dev.allow_wildcards = true;
		ready = 1;
	}
	char err[256] = "";
	X509 *x = tc_template_parse(data, size, err, sizeof(err));
	if (!x) {
		if (!err[0])
			abort(); /* a refusal always says why */
		return 0;
	}
	time_t now = now_for(x);
	char why[256];
	const struct tc_policy *policies[] = {&prod, &dev};
	for (int i = 0; i < 2; i++) {
		why[0] = '\0';
		if (tc_policy_check_leaf(policies[i], x, now, why, sizeof(why)) != 0 && !why[0])
			abort();
	}
	/* The parsed template must re-encode, as the signer will re-encode it. */
	unsigned char *der = NULL;
	int len = i2d_re_X509_tbs(x, &der);
	if (len <= 0)
		abort();
	OPENSSL_free(der);
	X509_free(x);
	return 0;
}
