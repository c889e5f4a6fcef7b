/* Differential fuzz target: our DER readers (common/cert_der.c, der_key.c)
 * against OpenSSL's on the same bytes. Ours are stricter by design (DER
 * only, what the CT log and signer need), so the check is one way: what
 * ours accepts, OpenSSL must accept too and see the same thing.
 *   - a certificate view: d2i_X509 takes the whole input, and the serial,
 *     issuer, subject, SubjectPublicKeyInfo and signature bytes are the
 *     ones OpenSSL re-encodes;
 *   - a key from an SPKI: d2i_PUBKEY gives an equal key.
 * A disagreement is a reader bug (ours accepting what is not DER, or
 * locating a field wrong) and aborts with both views. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/cert_der.h"
#include "common/der_key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *input;
static size_t input_len;

static void differ(const char *what)
{
	fprintf(stderr, "fuzz_der_diff: ours and OpenSSL's disagree on %s; input (hex):\n", what);
	for (size_t i = 0; i < input_len; i++)
		fprintf(stderr, "%02x%s", input[i], i % 32 == 31 ? "\n" : "");
	fprintf(stderr, "\n");
	abort();
}

/* i2d of an OpenSSL object must equal the element our view located. */
static void same(const char *what, const struct tc_der_elem *e, unsigned char *der, int n)
{
	if (n < 0 || (size_t)n != e->tlv_len || memcmp(der, e->tlv, (size_t)n) != 0)
		differ(what);
	OPENSSL_free(der);
}

/* OpenSSL's reading of the parts ours only locates: 1 when each parses
 * on its own, taking all of its bytes. */
static int inner_ok(const struct tc_tbs_view *t)
{
	const unsigned char *p = t->issuer.tlv;
	X509_NAME *n = d2i_X509_NAME(NULL, &p, (long)t->issuer.tlv_len);
	int ok = n && p == t->issuer.tlv + t->issuer.tlv_len;
	X509_NAME_free(n);
	p = t->subject.tlv;
	n = d2i_X509_NAME(NULL, &p, (long)t->subject.tlv_len);
	ok = ok && n && p == t->subject.tlv + t->subject.tlv_len;
	X509_NAME_free(n);
	p = t->spki.tlv;
	X509_PUBKEY *k = d2i_X509_PUBKEY(NULL, &p, (long)t->spki.tlv_len);
	ok = ok && k && p == t->spki.tlv + t->spki.tlv_len;
	X509_PUBKEY_free(k);
	p = t->not_before.tlv;
	ASN1_TIME *tm = d2i_ASN1_TIME(NULL, &p, (long)t->not_before.tlv_len);
	ok = ok && tm;
	ASN1_TIME_free(tm);
	p = t->not_after.tlv;
	tm = d2i_ASN1_TIME(NULL, &p, (long)t->not_after.tlv_len);
	ok = ok && tm;
	ASN1_TIME_free(tm);
	p = t->sig_alg.tlv;
	X509_ALGOR *a = d2i_X509_ALGOR(NULL, &p, (long)t->sig_alg.tlv_len);
	ok = ok && a && p == t->sig_alg.tlv + t->sig_alg.tlv_len;
	X509_ALGOR_free(a);
	return ok;
}

static void certificate(const uint8_t *data, size_t size)
{
	char err[128];
	struct tc_cert_view v;
	if (tc_cert_view_parse(data, size, &v, err, sizeof(err)) != 0)
		return;
	const unsigned char *p = data;
	X509 *x = d2i_X509(NULL, &p, (long)size);
	if (!x || p != data + size) {
		/* Ours leaves the insides of names and the key to their readers
		 * (cert_der.h): a refusal for those is no disagreement. */
		if (!inner_ok(&v.tbs))
			return;
		differ("whether this is a certificate");
	}
	unsigned char *der = NULL;
	int n = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &der);
	same("the serial", &v.tbs.serial, der, n);
	der = NULL;
	n = i2d_X509_NAME(X509_get_issuer_name(x), &der);
	same("the issuer", &v.tbs.issuer, der, n);
	der = NULL;
	n = i2d_X509_NAME(X509_get_subject_name(x), &der);
	same("the subject", &v.tbs.subject, der, n);
	/* The key ours located is the one OpenSSL decoded (OpenSSL may
	 * re-encode a key differently, so keys are compared, not bytes). */
	const unsigned char *k = v.tbs.spki.tlv;
	EVP_PKEY *located = d2i_PUBKEY(NULL, &k, (long)v.tbs.spki.tlv_len);
	EVP_PKEY *decoded = X509_get0_pubkey(x);
	if ((located || decoded) && (!located || !decoded || EVP_PKEY_eq(located, decoded) != 1))
		differ("the public key");
	EVP_PKEY_free(located);
	const ASN1_BIT_STRING *sig;
	const X509_ALGOR *alg;
	X509_get0_signature(&sig, &alg, x);
	/* Ours gives the BIT STRING's bytes after the unused-bits octet. */
	if (!sig || (size_t)ASN1_STRING_length(sig) != v.sig_len ||
	    memcmp(ASN1_STRING_get0_data(sig), v.sig, v.sig_len) != 0)
		differ("the signature");
	X509_free(x);
}

static void public_key(const uint8_t *data, size_t size)
{
	char err[128];
	EVP_PKEY *ours = tc_spki_key(data, size, err, sizeof(err));
	if (!ours)
		return;
	const unsigned char *p = data;
	EVP_PKEY *theirs = d2i_PUBKEY(NULL, &p, (long)size);
	if (!theirs || p != data + size || EVP_PKEY_eq(ours, theirs) != 1)
		differ("a SubjectPublicKeyInfo");
	EVP_PKEY_free(theirs);
	EVP_PKEY_free(ours);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	input = data;
	input_len = size;
	certificate(data, size);
	public_key(data, size);
	return 0;
}
