/* Fuzz target: CSRs as the gateway's Issue takes them from any caller:
 * the PKCS#10 DER view (common/csr_der.c), the requested extensions and
 * names, the whole check (tc_csr_parse: PEM or DER, key policy, signature)
 * and the leaf template written from the request's key. */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/cert_der.h"
#include "common/csr_der.h"
#include "common/leaf_template.h"
#include "gateway/csr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void free_names(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct tc_csr_view v;
	if (tc_csr_view_parse(data, size, &v, err, sizeof(err)) == 0) {
		struct tc_der_elem exts;
		if (tc_csr_extensions(&v, &exts) == 0) {
			struct tc_der_cursor c = tc_der_inside(&exts);
			struct tc_ext_view e;
			while (tc_ext_next(&c, &e) == TC_DER_OK)
				;
		}
		char *dns[8], *ips[8];
		size_t nd = 0, ni = 0;
		(void)tc_csr_requested_names(&v, dns, &nd, ips, &ni, 8);
		struct tc_leaf_request rq = {.dns_names = (const char *const *)dns, .n_dns = nd,
					     .ips = (const char *const *)ips, .n_ips = ni, .server_auth = 1,
					     .not_before = 0, .not_after = 3600};
		uint8_t *tbs;
		size_t tbs_len;
		if (tc_leaf_tbs_der(&rq, v.spki.tlv, v.spki.tlv_len, &tbs, &tbs_len, err, sizeof(err)) == 0)
			free(tbs);
		free_names(dns, nd);
		free_names(ips, ni);
	}
	struct tc_csr csr;
	if (tc_csr_parse(data, size, 2048, &csr, err, sizeof(err)) == TC_CSR_OK)
		tc_csr_free(&csr);
	return 0;
}
