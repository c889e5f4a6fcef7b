/* Certificate times as unix seconds, so validity windows can be cached and
 * compared with the time a caller validates at without OpenSSL calls. */
#ifndef TC_COMMON_ASN1_TIME_H
#define TC_COMMON_ASN1_TIME_H

#include <openssl/asn1.h>
#include <stdint.h>

/* 0 with *out set, or -1 when t is missing or not a valid time. */
int tc_asn1_time_unix(const ASN1_TIME *t, int64_t *out);

struct tc_der_elem;
/* The same for a UTCTime or GeneralizedTime element of our DER readers
 * (a tbs view's not_before / not_after), without a decoder's allocation. */
int tc_der_time_unix(const struct tc_der_elem *e, int64_t *out);

#endif
