/* PEM of DER bytes without decoding them: OpenSSL's decoders cost 100-270
 * us a certificate, and a CRL of many entries far more; the callers have
 * the DER from a source they check anyway. */
#ifndef TC_COMMON_DER_PEM_H
#define TC_COMMON_DER_PEM_H

#include <stddef.h>
#include <stdint.h>

/* der as PEM with the label (PEM_STRING_X509, PEM_STRING_X509_CRL, ...):
 * a NUL-terminated malloc'ed string, or NULL when out of memory. */
char *tc_der_to_pem(const char *label, const uint8_t *der, size_t len);

#endif
