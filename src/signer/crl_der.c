#include "signer/crl_der.h"

#include "common/der.h"

/* 2.5.29.21 and 2.5.29.20 (RFC 5280 5.3.1, 5.2.3). */
static const uint8_t OID_CRL_REASON[] = {0x55, 0x1d, 0x15};
static const uint8_t OID_CRL_NUMBER[] = {0x55, 0x1d, 0x14};
#define DER_ENUMERATED 0x0a
#define MAX_SERIAL_OCTETS 20

int tc_crl_serial_number(const unsigned char **serial, size_t *len)
{
	while (*len > 0 && (*serial)[0] == 0) {
		(*serial)++;
		(*len)--;
	}
	int pad = *len > 0 && ((*serial)[0] & 0x80);
	return *len == 0 || *len + (size_t)pad > MAX_SERIAL_OCTETS ? -1 : 0;
}

int tc_crl_entry_append(struct tc_der_writer *entries, const unsigned char *serial, size_t len, time_t when,
			int reason)
{
	struct tm tm;
	if (tc_crl_serial_number(&serial, &len) != 0 || !gmtime_r(&when, &tm) || tm.tm_year < 0 - 1900 ||
	    tm.tm_year > 9999 - 1900)
		return 1;
	tc_der_open(entries, TC_DER_SEQUENCE);
	tc_der_put_unsigned(entries, serial, len);
	tc_der_put_time(entries, when);
	if (reason != 0) {
		uint8_t value = (uint8_t)reason;
		tc_der_open(entries, TC_DER_SEQUENCE); /* crlEntryExtensions */
		tc_der_open(entries, TC_DER_SEQUENCE);
		tc_der_put_tlv(entries, TC_DER_OID, OID_CRL_REASON, sizeof(OID_CRL_REASON));
		tc_der_open(entries, TC_DER_OCTET_STRING);
		tc_der_put_tlv(entries, DER_ENUMERATED, &value, 1);
		tc_der_close(entries);
		tc_der_close(entries);
		tc_der_close(entries);
	}
	tc_der_close(entries);
	return entries->failed ? -1 : 0;
}

int tc_crl_tbs(const struct tc_issuer *is, time_t this_update, time_t next_update, uint64_t number,
	       const uint8_t *entries, size_t entries_len, uint8_t **tbs, size_t *tbs_len)
{
	static const uint8_t v2 = 1;
	uint8_t num[8]; /* big-endian */
	for (int i = 7; i >= 0; i--, number >>= 8)
		num[i] = (uint8_t)number;
	struct tc_der_writer w;
	tc_der_writer_init(&w);
	tc_der_open(&w, TC_DER_SEQUENCE);
	tc_der_put_tlv(&w, TC_DER_INTEGER, &v2, 1);
	tc_der_put(&w, is->alg, is->alg_len);
	tc_der_put(&w, is->name, is->name_len);
	tc_der_put_time(&w, this_update);
	tc_der_put_time(&w, next_update);
	if (entries_len > 0) { /* absent when empty (5.1.2.6) */
		tc_der_open(&w, TC_DER_SEQUENCE);
		tc_der_put(&w, entries, entries_len);
		tc_der_close(&w);
	}
	tc_der_open(&w, TC_DER_CONTEXT(0)); /* crlExtensions */
	tc_der_open(&w, TC_DER_SEQUENCE);
	tc_der_open(&w, TC_DER_SEQUENCE);
	tc_der_put_tlv(&w, TC_DER_OID, OID_CRL_NUMBER, sizeof(OID_CRL_NUMBER));
	tc_der_open(&w, TC_DER_OCTET_STRING);
	tc_der_put_unsigned(&w, num, sizeof(num));
	tc_der_close(&w);
	tc_der_close(&w);
	if (is->aki)
		tc_der_put(&w, is->aki, is->aki_len);
	tc_der_close(&w);
	tc_der_close(&w);
	tc_der_close(&w);
	*tbs = tc_der_writer_take(&w, tbs_len);
	return *tbs ? 0 : -1;
}
