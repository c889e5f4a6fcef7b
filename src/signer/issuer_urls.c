/* Where relying parties find revocation and the issuing certificate: the
 * cRLDistributionPoints and authorityInfoAccess extensions the signer puts
 * in every leaf, written once as DER when the issuer is set up. */
#include <stdlib.h>
#include <string.h>

#include "common/der_writer.h"
#include "common/errorf.h"
#include "signer/cert_sign.h"

static const uint8_t OID_CDP[] = {0x55, 0x1d, 0x1f};
static const uint8_t OID_AIA[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01};
static const uint8_t OID_CA_ISSUERS[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02};

/* http://host[:port]/path, printable ASCII without spaces: what lint.c's
 * lint_distribution_url accepts, checked here so a bad config fails at
 * start instead of refusing every issuance. */
static int url_ok(const char *u)
{
	size_t n = strlen(u);
	if (n <= 7 || n > 1024 || strncmp(u, "http://", 7) != 0 || u[7] == '/')
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f)
			return 0;
	return 1;
}

int tc_issuer_set_urls(struct tc_issuer *is, const char *crl_url, const char *issuer_url, char *err, size_t errlen)
{
	if (crl_url[0] && !url_ok(crl_url))
		return tc_errorf(err, errlen, "ca.crl_url '%s' is not an http:// URL", crl_url);
	if (issuer_url[0] && !url_ok(issuer_url))
		return tc_errorf(err, errlen, "ca.issuer_url '%s' is not an http:// URL", issuer_url);
	struct tc_der_writer w;
	tc_der_writer_init(&w);
	if (crl_url[0]) {
		/* SEQUENCE { extnID, extnValue OCTET STRING { SEQUENCE OF
		 * DistributionPoint { [0] { [0] fullName { [6] URI } } } } } */
		tc_der_open(&w, TC_DER_SEQUENCE);
		tc_der_put_tlv(&w, TC_DER_OID, OID_CDP, sizeof(OID_CDP));
		tc_der_open(&w, TC_DER_OCTET_STRING);
		tc_der_open(&w, TC_DER_SEQUENCE);
		tc_der_open(&w, TC_DER_SEQUENCE);
		tc_der_open(&w, TC_DER_CONTEXT(0));
		tc_der_open(&w, TC_DER_CONTEXT(0));
		tc_der_put_tlv(&w, TC_DER_CONTEXT_PRIM(6), crl_url, strlen(crl_url));
		for (int i = 0; i < 6; i++)
			tc_der_close(&w);
	}
	if (issuer_url[0]) {
		/* SEQUENCE { extnID, extnValue OCTET STRING { SEQUENCE OF
		 * AccessDescription { caIssuers, [6] URI } } } */
		tc_der_open(&w, TC_DER_SEQUENCE);
		tc_der_put_tlv(&w, TC_DER_OID, OID_AIA, sizeof(OID_AIA));
		tc_der_open(&w, TC_DER_OCTET_STRING);
		tc_der_open(&w, TC_DER_SEQUENCE);
		tc_der_open(&w, TC_DER_SEQUENCE);
		tc_der_put_tlv(&w, TC_DER_OID, OID_CA_ISSUERS, sizeof(OID_CA_ISSUERS));
		tc_der_put_tlv(&w, TC_DER_CONTEXT_PRIM(6), issuer_url, strlen(issuer_url));
		for (int i = 0; i < 4; i++)
			tc_der_close(&w);
	}
	size_t len = 0;
	uint8_t *urls = tc_der_writer_take(&w, &len);
	if (!urls && (crl_url[0] || issuer_url[0]))
		return tc_errorf(err, errlen, "out of memory");
	free(is->urls);
	is->urls = len ? urls : NULL;
	is->urls_len = len;
	if (!len)
		free(urls);
	return 0;
}
