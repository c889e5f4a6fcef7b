/* Fuzz target: the DER certificate view, extension lookup and the SPKI key
 * reader, as the CT log and signer run them on what peers send. */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/cert_der.h"
#include "common/der_key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[128];
	struct tc_cert_view v;
	struct tc_tbs_view t;
	struct tc_ext_view e;
	if (tc_cert_view_parse(data, size, &v, err, sizeof(err)) == 0) {
		(void)tc_tbs_find_ext(&v.tbs, TC_OID_CT_POISON, sizeof(TC_OID_CT_POISON), &e);
		EVP_PKEY *k = tc_spki_key(v.tbs.spki.tlv, v.tbs.spki.tlv_len, err, sizeof(err));
		if (k)
			(void)tc_der_verify(k, &v.sig_alg, v.tbs.whole.tlv, v.tbs.whole.tlv_len, v.sig, v.sig_len, err,
					    sizeof(err));
		EVP_PKEY_free(k);
	}
	if (tc_tbs_view_parse(data, size, &t, err, sizeof(err)) == 0)
		(void)tc_tbs_find_ext(&t, TC_OID_CT_SCT_LIST, sizeof(TC_OID_CT_SCT_LIST), &e);
	EVP_PKEY_free(tc_spki_key(data, size, err, sizeof(err)));
	return 0;
}
