#include "common/crl_view.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "common/asn1_time.h"
#include "common/cert_der.h"

static const uint8_t OID_CRL_NUMBER[] = {0x55, 0x1d, 0x14};

static int is_time(const struct tc_der_elem *e)
{
	return e->tag == TC_DER_UTCTIME || e->tag == TC_DER_GENERALIZEDTIME;
}

static int fail(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "the CRL does not decode: %s", what);
	return -1;
}

/* One revokedCertificates entry, its serial in *serial. */
static int entry(const struct tc_der_elem *e, struct tc_der_elem *serial)
{
	struct tc_der_cursor c = tc_der_inside(e);
	struct tc_der_elem date, exts;
	if (e->tag != TC_DER_SEQUENCE || tc_der_expect(&c, TC_DER_INTEGER, serial) != TC_DER_OK ||
	    !tc_der_integer_valid(serial) || tc_der_next(&c, &date) != TC_DER_OK || !is_time(&date))
		return -1;
	int rc = tc_der_optional(&c, TC_DER_SEQUENCE, &exts);
	if (rc == TC_DER_MALFORMED || !tc_der_at_end(&c))
		return -1;
	if (rc == TC_DER_OK) {
		struct tc_der_cursor ec = tc_der_inside(&exts);
		struct tc_ext_view x;
		while ((rc = tc_ext_next(&ec, &x)) == TC_DER_OK)
			;
		if (rc != TC_DER_END)
			return -1;
	}
	return 0;
}

int tc_crl_view_next_serial(struct tc_der_cursor *c, struct tc_der_elem *serial)
{
	struct tc_der_elem e;
	int rc = tc_der_next(c, &e);
	if (rc != TC_DER_OK)
		return rc;
	return entry(&e, serial) == 0 ? TC_DER_OK : TC_DER_MALFORMED;
}

/* crlExtensions: well-formed, and the cRLNumber when it fits 64 bits. */
static int extensions(const struct tc_der_elem *wrapper, struct tc_crl_view *v)
{
	struct tc_der_elem seq;
	if (tc_der_whole(wrapper->val, wrapper->val_len, TC_DER_SEQUENCE, &seq) != TC_DER_OK)
		return -1;
	struct tc_der_cursor c = tc_der_inside(&seq);
	struct tc_ext_view x;
	int rc;
	while ((rc = tc_ext_next(&c, &x)) == TC_DER_OK) {
		struct tc_der_elem n;
		if (!TC_DER_OID_IS(&x.oid, OID_CRL_NUMBER))
			continue;
		if (v->has_number ||
		    tc_der_whole(x.value.val, x.value.val_len, TC_DER_INTEGER, &n) != TC_DER_OK ||
		    !tc_der_integer_valid(&n) || (n.val[0] & 0x80))
			return -1;
		uint8_t mag[8];
		size_t len;
		int neg;
		if (tc_der_integer_magnitude(&n, mag, sizeof(mag), &len, &neg) == 0) { /* else over 64 bits */
			v->has_number = 1;
			for (size_t i = 0; i < len; i++)
				v->number = v->number << 8 | mag[i];
		}
	}
	return rc == TC_DER_END ? 0 : -1;
}

/* AlgorithmIdentifier: SEQUENCE { OID, parameters ANY OPTIONAL }. */
static int algorithm(const struct tc_der_elem *alg)
{
	struct tc_der_cursor c = tc_der_inside(alg);
	struct tc_der_elem oid, params;
	if (tc_der_expect(&c, TC_DER_OID, &oid) != TC_DER_OK || !tc_der_oid_valid(&oid))
		return -1;
	int rc = tc_der_next(&c, &params);
	return rc == TC_DER_MALFORMED || !tc_der_at_end(&c) ? -1 : 0;
}

int tc_crl_view_parse(const uint8_t *der, size_t len, struct tc_crl_view *v, char *err, size_t errlen)
{
	memset(v, 0, sizeof(*v));
	struct tc_der_elem whole, bits, version, inner_alg, this_update, next_update, exts;
	if (tc_der_whole(der, len, TC_DER_SEQUENCE, &whole) != TC_DER_OK)
		return fail(err, errlen, "not one DER SEQUENCE");
	struct tc_der_cursor c = tc_der_inside(&whole);
	if (tc_der_expect(&c, TC_DER_SEQUENCE, &v->tbs) != TC_DER_OK ||
	    tc_der_expect(&c, TC_DER_SEQUENCE, &v->sig_alg) != TC_DER_OK ||
	    tc_der_expect(&c, TC_DER_BIT_STRING, &bits) != TC_DER_OK || !tc_der_at_end(&c) ||
	    tc_der_bit_string_bytes(&bits, &v->sig, &v->sig_len) != 0 || algorithm(&v->sig_alg) != 0)
		return fail(err, errlen, "not a CertificateList");
	struct tc_der_cursor t = tc_der_inside(&v->tbs);
	int rc = tc_der_optional(&t, TC_DER_INTEGER, &version);
	if (rc == TC_DER_MALFORMED || (rc == TC_DER_OK && (version.val_len != 1 || version.val[0] != 1)))
		return fail(err, errlen, "version is not v2");
	if (tc_der_expect(&t, TC_DER_SEQUENCE, &inner_alg) != TC_DER_OK ||
	    inner_alg.tlv_len != v->sig_alg.tlv_len || memcmp(inner_alg.tlv, v->sig_alg.tlv, inner_alg.tlv_len) != 0)
		return fail(err, errlen, "the two signature algorithms differ");
	if (tc_der_expect(&t, TC_DER_SEQUENCE, &v->issuer) != TC_DER_OK)
		return fail(err, errlen, "no issuer");
	if (tc_der_next(&t, &this_update) != TC_DER_OK || tc_der_time_unix(&this_update, &v->this_update) != 0)
		return fail(err, errlen, "bad thisUpdate");
	struct tc_der_cursor after = t;
	if (tc_der_next(&after, &next_update) == TC_DER_OK && is_time(&next_update)) {
		if (tc_der_time_unix(&next_update, &v->next_update) != 0)
			return fail(err, errlen, "bad nextUpdate");
		t = after;
	}
	rc = tc_der_optional(&t, TC_DER_SEQUENCE, &v->revoked);
	if (rc == TC_DER_MALFORMED)
		return fail(err, errlen, "bad revokedCertificates");
	if (rc == TC_DER_OK) {
		struct tc_der_cursor r = tc_der_inside(&v->revoked);
		struct tc_der_elem serial;
		while ((rc = tc_crl_view_next_serial(&r, &serial)) == TC_DER_OK)
			v->revoked_count++;
		if (rc != TC_DER_END)
			return fail(err, errlen, "bad revokedCertificates entry");
	}
	rc = tc_der_optional(&t, TC_DER_CONTEXT(0), &exts);
	if (rc == TC_DER_MALFORMED || (rc == TC_DER_OK && extensions(&exts, v) != 0))
		return fail(err, errlen, "bad crlExtensions");
	if (!tc_der_at_end(&t))
		return fail(err, errlen, "trailing fields in the TBSCertList");
	return 0;
}

int tc_der_integer_magnitude(const struct tc_der_elem *e, uint8_t *out, size_t cap, size_t *len, int *neg)
{
	const uint8_t *p = e->val;
	size_t n = e->val_len;
	if (n == 0)
		return -1;
	*neg = (p[0] & 0x80) != 0;
	if (*neg) {
		/* The magnitude is the two's complement; of a minimal encoding it
		 * has at most one leading zero octet, which goes. */
		uint8_t mag[64];
		if (n > sizeof(mag))
			return -1;
		unsigned carry = 1;
		for (size_t i = n; i-- > 0;) {
			unsigned v = (uint8_t)~p[i] + carry;
			mag[i] = (uint8_t)v;
			carry = v >> 8;
		}
		size_t skip = 0;
		while (skip < n - 1 && mag[skip] == 0)
			skip++;
		if (n - skip > cap)
			return -1;
		memcpy(out, mag + skip, n - skip);
		*len = n - skip;
		return 0;
	}
	if (n > 1 && p[0] == 0) { /* the sign octet */
		p++;
		n--;
	}
	if (n > cap)
		return -1;
	memcpy(out, p, n);
	*len = n;
	return 0;
}

/* The digest of a signatureAlgorithm we accept, by its whole encoding,
 * and the type of key that signs with it; *key_type EVP_PKEY_NONE for any
 * other. */
static const EVP_MD *digest_of(const struct tc_der_elem *alg, int *key_type)
{
	static const struct {
		uint8_t der[15];
		size_t len;
		int md;       /* 256, 384, 512; 0 for Ed25519 (no separate digest) */
		int key_type; /* the key the algorithm signs with */
	} algs[] = {
	    {{0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02}, 12, 256, EVP_PKEY_EC},
	    {{0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03}, 12, 384, EVP_PKEY_EC},
	    {{0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04}, 12, 512, EVP_PKEY_EC},
	    {{0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00}, 15, 256,
	     EVP_PKEY_RSA},
	    {{0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c, 0x05, 0x00}, 15, 384,
	     EVP_PKEY_RSA},
	    {{0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d, 0x05, 0x00}, 15, 512,
	     EVP_PKEY_RSA},
	    {{0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70}, 7, 0, EVP_PKEY_ED25519},
	};
	*key_type = EVP_PKEY_NONE;
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		if (alg->tlv_len == algs[i].len && memcmp(alg->tlv, algs[i].der, algs[i].len) == 0) {
			*key_type = algs[i].key_type;
			return algs[i].md == 256 ? EVP_sha256() : algs[i].md == 384 ? EVP_sha384()
				 : algs[i].md == 512 ? EVP_sha512() : NULL;
		}
	}
	return NULL;
}

int tc_crl_view_verify(const struct tc_crl_view *v, EVP_PKEY *issuer_key)
{
	int key_type;
	const EVP_MD *md = digest_of(&v->sig_alg, &key_type);
	/* The algorithm must be the key's: with no digest named, OpenSSL
	 * would pick one for an EC key under an Ed25519 label. */
	if (key_type == EVP_PKEY_NONE || !issuer_key || EVP_PKEY_get_base_id(issuer_key) != key_type)
		return 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, issuer_key) == 1 &&
		 EVP_DigestVerify(ctx, v->sig, v->sig_len, v->tbs.tlv, v->tbs.tlv_len) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}
