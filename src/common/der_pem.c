#include "common/der_pem.h"

#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

char *tc_der_to_pem(const char *label, const uint8_t *der, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *pem = NULL;
	long n;
	if (b && len <= (size_t)0x7fffffff && PEM_write_bio(b, label, "", der, (long)len) > 0 &&
	    (n = BIO_get_mem_data(b, &data)) > 0 && (pem = malloc((size_t)n + 1))) {
		memcpy(pem, data, (size_t)n);
		pem[n] = '\0';
	}
	BIO_free(b);
	return pem;
}
