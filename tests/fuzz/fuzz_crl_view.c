/* Differential fuzz target: our CRL reader (common/crl_view.c), which the
 * gateway's revocation cache, GetCrl, CRL HTTP listener and the client's
 * local mode use, against OpenSSL's d2i_X509_CRL on the same bytes. Ours is
 * stricter by design (DER only), so the check is one way: a CRL ours
 * accepts (with an issuer Name OpenSSL decodes: ours only locates it),
 * OpenSSL must accept too and read the same issuer, times,
 * cRLNumber, signature and serials (as OpenSSL keeps them: magnitude and
 * sign). A disagreement aborts with the input. The signature check runs on
 * each accepted input too (it must not crash, whatever the bytes). */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/crl_view.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *input;
static size_t input_len;

static void differ(const char *what)
{
	fprintf(stderr, "fuzz_crl_view: ours and OpenSSL's disagree on %s; input (hex):\n", what);
	for (size_t i = 0; i < input_len; i++)
		fprintf(stderr, "%02x%s", input[i], i % 32 == 31 ? "\n" : "");
	fprintf(stderr, "\n");
	abort();
}

static EVP_PKEY *verify_key(void)
{
	static EVP_PKEY *k;
	if (!k)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	return k;
}

static void compare(const struct tc_crl_view *v, X509_CRL *crl)
{
	unsigned char *name = NULL;
	int nl = i2d_X509_NAME(X509_CRL_get_issuer(crl), &name);
	int same = nl > 0 && (size_t)nl == v->issuer.tlv_len && memcmp(name, v->issuer.tlv, (size_t)nl) == 0;
	OPENSSL_free(name);
	if (!same)
		differ("the issuer");
	int64_t t;
	struct tm tm;
	const ASN1_TIME *last = X509_CRL_get0_lastUpdate(crl), *next = X509_CRL_get0_nextUpdate(crl);
	if (!last || !ASN1_TIME_to_tm(last, &tm) || (t = (int64_t)timegm(&tm)) != v->this_update)
		differ("thisUpdate");
	if ((next != NULL) != (v->next_update != 0) ||
	    (next && (!ASN1_TIME_to_tm(next, &tm) || (int64_t)timegm(&tm) != v->next_update)))
		differ("nextUpdate");
	const ASN1_BIT_STRING *sig;
	X509_CRL_get0_signature(crl, &sig, NULL);
	if (!sig || (size_t)sig->length != v->sig_len || (v->sig_len && memcmp(sig->data, v->sig, v->sig_len) != 0))
		differ("the signature");
	if (v->has_number) {
		int crit;
		ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
		uint64_t n = 0;
		int ok = num && ASN1_INTEGER_get_uint64(&n, num) == 1 && n == v->number;
		ASN1_INTEGER_free(num);
		if (!ok)
			differ("the cRLNumber");
	}
	STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
	int nrev = revs ? sk_X509_REVOKED_num(revs) : 0; /* NULL when none */
	if ((size_t)nrev != v->revoked_count)
		differ("the number of entries");
	struct tc_der_cursor c = tc_der_inside(&v->revoked);
	struct tc_der_elem serial;
	for (int i = 0; i < nrev; i++) {
		if (tc_crl_view_next_serial(&c, &serial) != TC_DER_OK)
			differ("an entry");
		const ASN1_INTEGER *want = X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revs, i));
		uint8_t mag[64];
		size_t ml;
		int neg;
		if (tc_der_integer_magnitude(&serial, mag, sizeof(mag), &ml, &neg) != 0)
			continue; /* longer than any serial the cache keeps: it refuses the CRL */
		if (neg != (ASN1_STRING_type(want) == V_ASN1_NEG_INTEGER) || ml != (size_t)ASN1_STRING_length(want) ||
		    memcmp(mag, ASN1_STRING_get0_data(want), ml) != 0)
			differ("a serial");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	input = data;
	input_len = size;
	struct tc_crl_view v;
	char err[200];
	if (tc_crl_view_parse(data, size, &v, err, sizeof(err)) != 0)
		return 0;
	/* The issuer Name ours only locates (the revocation cache decodes it
	 * with d2i_X509_NAME and refuses the CRL when that fails). */
	const unsigned char *p = v.issuer.tlv;
	X509_NAME *name = d2i_X509_NAME(NULL, &p, (long)v.issuer.tlv_len);
	int name_ok = name && p == v.issuer.tlv + v.issuer.tlv_len;
	X509_NAME_free(name);
	if (!name_ok)
		return 0;
	p = data;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)size);
	if (!crl || p != data + size)
		differ("whether it decodes");
	compare(&v, crl);
	(void)tc_crl_view_verify(&v, verify_key());
	X509_CRL_free(crl);
	return 0;
}
