#include "acme/cert_info.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "common/asn1_time.h"
#include "common/cert_der.h"
#include "common/hex.h"

static const uint8_t OID_AKI[3] = {0x55, 0x1d, 0x23}; /* 2.5.29.35 */

int tc_acme_cert_info(const uint8_t *der, size_t len, struct tc_acme_cert_info *out)
{
	struct tc_cert_view v;
	char err[128];
	memset(out, 0, sizeof(*out));
	if (tc_cert_view_parse(der, len, &v, err, sizeof(err)) != 0)
		return -1;
	const struct tc_der_elem *s = &v.tbs.serial;
	if (s->val_len == 0 || 2 * s->val_len > TC_ACME_SERIAL_HEX_MAX)
		return -1;
	tc_hex_encode(s->val, s->val_len, out->serial_hex);
	out->spki = v.tbs.spki.tlv;
	out->spki_len = v.tbs.spki.tlv_len;
	if (tc_der_time_unix(&v.tbs.not_before, &out->not_before) != 0 ||
	    tc_der_time_unix(&v.tbs.not_after, &out->not_after) != 0)
		return -1;
	struct tc_ext_view ext;
	if (v.tbs.has_extensions && tc_tbs_find_ext(&v.tbs, OID_AKI, sizeof(OID_AKI), &ext) == 0) {
		/* AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING OPTIONAL, ... } */
		struct tc_der_elem seq, kid;
		if (tc_der_whole(ext.value.val, ext.value.val_len, TC_DER_SEQUENCE, &seq) == 0) {
			struct tc_der_cursor c = tc_der_inside(&seq);
			if (tc_der_optional(&c, TC_DER_CONTEXT_PRIM(0), &kid) == TC_DER_OK && kid.val_len <= 64)
				tc_hex_encode(kid.val, kid.val_len, out->aki_hex);
		}
	}
	return 0;
}

int tc_acme_pem_first(const char *text, uint8_t **der, size_t *len)
{
	BIO *b = BIO_new_mem_buf(text, -1);
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	long n = 0;
	int ok = b && PEM_read_bio(b, &name, &header, &data, &n) == 1 && n > 0;
	BIO_free(b);
	OPENSSL_free(name);
	OPENSSL_free(header);
	if (!ok) {
		OPENSSL_free(data);
		return -1;
	}
	*der = malloc((size_t)n);
	if (*der)
		memcpy(*der, data, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(data);
	return *der ? 0 : -1;
}
