#include "common/leaf_template.h"

#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, NULL, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	int ok = ext && X509_add_ext(x, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

static int add_sans(X509 *x, const struct tc_leaf_request *rq)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	int ok = gens != NULL;
	for (size_t i = 0; ok && i < rq->n_dns; i++) {
		GENERAL_NAME *gn = GENERAL_NAME_new();
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();
		ok = gn && s && ASN1_STRING_set(s, rq->dns_names[i], (int)strlen(rq->dns_names[i]));
		if (ok) {
			GENERAL_NAME_set0_value(gn, GEN_DNS, s);
			s = NULL;
			ok = sk_GENERAL_NAME_push(gens, gn) > 0;
			if (ok)
				gn = NULL;
		}
		ASN1_IA5STRING_free(s);
		GENERAL_NAME_free(gn);
	}
	for (size_t i = 0; ok && i < rq->n_ips; i++) {
		ASN1_OCTET_STRING *ip = a2i_IPADDRESS(rq->ips[i]);
		GENERAL_NAME *gn = ip ? GENERAL_NAME_new() : NULL;
		ok = gn != NULL;
		if (ok) {
			GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
			ip = NULL;
			ok = sk_GENERAL_NAME_push(gens, gn) > 0;
			if (ok)
				gn = NULL;
		}
		ASN1_OCTET_STRING_free(ip);
		GENERAL_NAME_free(gn);
	}
	/* Critical exactly when the subject is empty (RFC 5280 4.2.1.6). */
	ok = ok && X509_add1_ext_i2d(x, NID_subject_alt_name, gens, rq->n_dns == 0, X509V3_ADD_DEFAULT) == 1;
	GENERAL_NAMES_free(gens);
	return ok ? 0 : -1;
}

/* Copies an EC SubjectPublicKeyInfo field by field (algorithm, named
 * curve, point) into x: no key object is built, so no decoder runs. 0, or
 * -1 when spki is not a named-curve EC key (the caller then sets it the
 * usual way). */
static int copy_ec_spki(X509 *x, const X509_PUBKEY *spki)
{
	ASN1_OBJECT *obj;
	const unsigned char *bits;
	int blen, ptype;
	X509_ALGOR *alg;
	const void *pval;
	if (!spki || !X509_PUBKEY_get0_param(&obj, &bits, &blen, &alg, (X509_PUBKEY *)spki) ||
	    OBJ_obj2nid(obj) != NID_X9_62_id_ecPublicKey)
		return -1;
	X509_ALGOR_get0(NULL, &ptype, &pval, alg);
	if (ptype != V_ASN1_OBJECT || blen <= 0)
		return -1;
	ASN1_OBJECT *curve = OBJ_dup(pval), *algo = OBJ_dup(obj);
	unsigned char *point = OPENSSL_memdup(bits, (size_t)blen);
	X509_PUBKEY *dst = X509_get_X509_PUBKEY(x);
	if (dst && curve && algo && point && X509_PUBKEY_set0_param(dst, algo, V_ASN1_OBJECT, curve, point, blen))
		return 0;
	ASN1_OBJECT_free(curve);
	ASN1_OBJECT_free(algo);
	OPENSSL_free(point);
	return -1;
}

X509 *tc_leaf_template_new(const struct tc_leaf_request *rq, char *err, size_t errlen)
{
	if (!rq->pubkey || rq->n_dns + rq->n_ips == 0) {
		snprintf(err, errlen, "a leaf needs a public key and at least one name");
		return NULL;
	}
	X509 *x = X509_new();
	X509_NAME *subject = X509_NAME_new(), *none = X509_NAME_new();
	ASN1_TIME *nb = ASN1_TIME_set(NULL, rq->not_before), *na = ASN1_TIME_set(NULL, rq->not_after);
	/* An address in the CN would be read as a DNS name by name-constraint
	 * checks (OpenSSL's among them) and fail the intermediate's permitted
	 * DNS subtrees: an IP-only leaf has an empty subject, its names all in
	 * a critical subjectAltName (RFC 5280 4.2.1.6), as public CAs do. The
	 * issuer is a placeholder the signer replaces. */
	const char *cn = rq->n_dns ? rq->dns_names[0] : rq->ips[0];
	int ok = x && subject && none && nb && na && X509_set_version(x, X509_VERSION_3) &&
		 ASN1_INTEGER_set(X509_get_serialNumber(x), 1) && X509_set1_notBefore(x, nb) &&
		 X509_set1_notAfter(x, na) && (copy_ec_spki(x, rq->spki) == 0 || X509_set_pubkey(x, rq->pubkey)) &&
		 X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_UTF8,
					    (const unsigned char *)cn, -1, -1, 0) &&
		 X509_set_subject_name(x, rq->n_dns ? subject : none) && X509_set_issuer_name(x, subject);
	ok = ok && add_ext(x, NID_basic_constraints, "critical,CA:FALSE") == 0;
	int rsa = EVP_PKEY_get_base_id(rq->pubkey) == EVP_PKEY_RSA;
	ok = ok && add_ext(x, NID_key_usage, rsa ? "critical,digitalSignature,keyEncipherment"
						 : "critical,digitalSignature") == 0;
	if (ok && (rq->server_auth || rq->client_auth)) {
		const char *eku = rq->server_auth && rq->client_auth ? "serverAuth,clientAuth"
				  : rq->server_auth ? "serverAuth" : "clientAuth";
		ok = add_ext(x, NID_ext_key_usage, eku) == 0;
	}
	ok = ok && add_sans(x, rq) == 0;
	/* Placeholder algorithm: an unset one would not encode; the signer
	 * replaces it with the issuing key's. */
	ok = ok && X509_ALGOR_set0((X509_ALGOR *)X509_get0_tbs_sigalg(x),
				   OBJ_nid2obj(NID_ecdsa_with_SHA256), V_ASN1_UNDEF, NULL);
	X509_NAME_free(subject);
	X509_NAME_free(none);
	ASN1_TIME_free(nb);
	ASN1_TIME_free(na);
	if (!ok) {
		X509_free(x);
		snprintf(err, errlen, "cannot build the certificate template (bad name or address?)");
		return NULL;
	}
	return x;
}

int tc_template_tbs_der(X509 *x, unsigned char **der, size_t *len)
{
	*der = NULL;
	int n = i2d_re_X509_tbs(x, der);
	if (n <= 0)
		return -1;
	*len = (size_t)n;
	return 0;
}
