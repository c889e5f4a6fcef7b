#include "signer/cert_sign.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

/* DER length octets for n. */
static size_t der_len(size_t n, unsigned char *out)
{
	if (n < 0x80) { out[0] = (unsigned char)n; return 1; }
	if (n < 0x100) { out[0] = 0x81; out[1] = (unsigned char)n; return 2; }
	if (n < 0x10000) { out[0] = 0x82; out[1] = (unsigned char)(n >> 8); out[2] = (unsigned char)n; return 3; }
	out[0] = 0x83; out[1] = (unsigned char)(n >> 16); out[2] = (unsigned char)(n >> 8); out[3] = (unsigned char)n;
	return 4;
}

X509 *tc_template_parse(const uint8_t *tbs, size_t len, char *err, size_t errlen)
{
	/* Certificate ::= SEQUENCE { tbs, AlgorithmIdentifier, BIT STRING }: wrap
	 * the template with a placeholder algorithm and empty signature so the
	 * standard X509 decoder can parse and later re-encode it. */
	static const unsigned char alg_and_sig[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
						    0x3d, 0x04, 0x03, 0x02, 0x03, 0x01, 0x00};
	if (len < 2 || len > 64 * 1024 || tbs[0] != 0x30) {
		snprintf(err, errlen, "template is not a DER SEQUENCE of sane size");
		return NULL;
	}
	size_t body = len + sizeof(alg_and_sig);
	unsigned char hdr[5];
	hdr[0] = 0x30;
	size_t hl = 1 + der_len(body, hdr + 1);
	unsigned char *buf = OPENSSL_malloc(hl + body);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memcpy(buf, hdr, hl);
	memcpy(buf + hl, tbs, len);
	memcpy(buf + hl + len, alg_and_sig, sizeof(alg_and_sig));
	const unsigned char *p = buf;
	X509 *x = d2i_X509(NULL, &p, (long)(hl + body));
	int trailing = x && p != buf + hl + body;
	OPENSSL_free(buf);
	if (!x || trailing) {
		X509_free(x);
		snprintf(err, errlen, "template is not a valid TBSCertificate");
		return NULL;
	}
	/* d2i keeps the original encoding cached; drop it so edits re-encode. */
	if (i2d_re_X509_tbs(x, NULL) <= 0) {
		X509_free(x);
		snprintf(err, errlen, "template cannot be re-encoded");
		return NULL;
	}
	return x;
}

const EVP_MD *tc_digest_for_key(EVP_PKEY *key)
{
	return EVP_PKEY_get_bits(key) > 256 ? EVP_sha384() : EVP_sha256();
}

static int replace_ext(X509 *x, int nid, int crit, void *value)
{
	int idx;
	while ((idx = X509_get_ext_by_NID(x, nid, -1)) >= 0)
		X509_EXTENSION_free(X509_delete_ext(x, idx));
	return X509_add1_ext_i2d(x, nid, value, crit, X509V3_ADD_DEFAULT) == 1 ? 0 : -1;
}

int tc_leaf_complete(X509 *x, const struct tc_hsm_key *issuer,
		     const unsigned char serial[TC_SERIAL_LEN], unsigned char fingerprint[32],
		     char *err, size_t errlen)
{
	if (!issuer->cert) {
		snprintf(err, errlen, "issuing certificate not provisioned");
		return -1;
	}
	BIGNUM *bn = BN_bin2bn(serial, TC_SERIAL_LEN, NULL);
	ASN1_INTEGER *sn = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	BN_free(bn);
	int ok = sn && X509_set_serialNumber(x, sn);
	ASN1_INTEGER_free(sn);
	ok = ok && X509_set_issuer_name(x, X509_get_subject_name(issuer->cert));

	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
	const ASN1_OCTET_STRING *iski = X509_get0_subject_key_id(issuer->cert);
	if (ok && akid && iski) {
		akid->keyid = ASN1_OCTET_STRING_dup(iski);
		ok = akid->keyid && replace_ext(x, NID_authority_key_identifier, 0, akid) == 0;
	} else {
		ok = 0;
	}
	AUTHORITY_KEYID_free(akid);

	if (ok && X509_get_ext_by_NID(x, NID_subject_key_identifier, -1) < 0) {
		unsigned char md[20];
		unsigned int mdl = 0;
		ASN1_OCTET_STRING *ski = ASN1_OCTET_STRING_new();
		ok = ski && X509_pubkey_digest(x, EVP_sha1(), md, &mdl) && ASN1_OCTET_STRING_set(ski, md, (int)mdl) &&
		     X509_add1_ext_i2d(x, NID_subject_key_identifier, ski, 0, X509V3_ADD_DEFAULT) == 1;
		ASN1_OCTET_STRING_free(ski);
	}
	if (ok && X509_get_ext_by_NID(x, NID_basic_constraints, -1) < 0) {
		BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
		ok = bc && X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, X509V3_ADD_DEFAULT) == 1;
		BASIC_CONSTRAINTS_free(bc);
	}
	/* The tbs signature algorithm must match what we sign with. */
	if (ok) {
		X509_ALGOR *alg = (X509_ALGOR *)X509_get0_tbs_sigalg(x);
		int nid = tc_digest_for_key(issuer->priv) == EVP_sha384() ? NID_ecdsa_with_SHA384
									   : NID_ecdsa_with_SHA256;
		X509_ALGOR_set0(alg, OBJ_nid2obj(nid), V_ASN1_UNDEF, NULL);
	}
	unsigned char *tbs = NULL;
	int tl = ok ? i2d_re_X509_tbs(x, &tbs) : -1;
	if (tl <= 0) {
		snprintf(err, errlen, "cannot complete the certificate");
		return -1;
	}
	SHA256(tbs, (size_t)tl, fingerprint);
	OPENSSL_free(tbs);
	return 0;
}

int tc_leaf_sign(X509 *x, const struct tc_hsm_key *issuer, int precert, const uint8_t *sct_list,
		 size_t sct_len, unsigned char **der, size_t *der_len_out, char *err, size_t errlen)
{
	int ok = 1;
	if (precert) {
		/* RFC 6962 3.1: critical poison extension whose value is ASN.1 NULL. */
		ASN1_NULL *null = ASN1_NULL_new();
		ok = null && X509_add1_ext_i2d(x, NID_ct_precert_poison, null, 1, X509V3_ADD_DEFAULT) == 1;
		ASN1_NULL_free(null);
	} else if (sct_list && sct_len) {
		/* RFC 6962 3.3: extnValue is an OCTET STRING wrapping the TLS-encoded
		 * list; built by hand because OpenSSL's method for this NID wants
		 * parsed SCT objects. */
		ASN1_OCTET_STRING *inner = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING *outer = ASN1_OCTET_STRING_new();
		unsigned char *inner_der = NULL;
		int il = -1;
		ok = inner && outer && ASN1_OCTET_STRING_set(inner, sct_list, (int)sct_len);
		if (ok)
			il = i2d_ASN1_OCTET_STRING(inner, &inner_der);
		ok = ok && il > 0 && ASN1_OCTET_STRING_set(outer, inner_der, il);
		X509_EXTENSION *ext = ok ? X509_EXTENSION_create_by_NID(NULL, NID_ct_precert_scts, 0, outer) : NULL;
		ok = ext && X509_add_ext(x, ext, -1) == 1;
		X509_EXTENSION_free(ext);
		OPENSSL_free(inner_der);
		ASN1_OCTET_STRING_free(inner);
		ASN1_OCTET_STRING_free(outer);
	}
	if (!ok || X509_sign(x, issuer->priv, tc_digest_for_key(issuer->priv)) <= 0) {
		unsigned long e = ERR_get_error();
		snprintf(err, errlen, "signing failed: %s", e ? ERR_reason_error_string(e) : "HSM error");
		return -1;
	}
	unsigned char *out = NULL;
	int n = i2d_X509(x, &out);
	if (n <= 0) {
		snprintf(err, errlen, "cannot encode the certificate");
		return -1;
	}
	*der = out;
	*der_len_out = (size_t)n;
	return 0;
}
