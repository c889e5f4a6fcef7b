#include "common/asn1_time.h"

#include <time.h>

#include "common/der.h"

int tc_asn1_time_unix(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;
	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

int tc_der_time_unix(const struct tc_der_elem *e, int64_t *out)
{
	if ((e->tag != TC_DER_UTCTIME && e->tag != TC_DER_GENERALIZEDTIME) || e->val_len > 64)
		return -1;
	ASN1_TIME t = {.length = (int)e->val_len,
		       .type = e->tag == TC_DER_UTCTIME ? V_ASN1_UTCTIME : V_ASN1_GENERALIZEDTIME,
		       .data = (unsigned char *)e->val};
	return tc_asn1_time_unix(&t, out);
}
