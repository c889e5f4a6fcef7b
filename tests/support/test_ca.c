/* In-process test CAs; see test_ca.h. */
#include "support/test_ca.h"

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static X509_NAME *name_cn(const char *cn)
{
	X509_NAME *n = X509_NAME_new();
	if (n && !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0)) {
		X509_NAME_free(n);
		n = NULL;
	}
	return n;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	int ok = e && X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : -1;
}

static X509 *base_cert(const char *cn, EVP_PKEY *key, X509 *issuer, uint64_t serial, int64_t nb, int64_t na)
{
	X509 *x = X509_new();
	X509_NAME *subject = name_cn(cn);
	if (!serial) {
		unsigned char r[8];
		RAND_bytes(r, sizeof(r));
		for (int i = 0; i < 8; i++)
			serial = (serial << 8) | r[i];
		serial = (serial >> 1) | 1;
	}
	int ok = x && subject && X509_set_version(x, X509_VERSION_3) &&
		 ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial) && X509_set_subject_name(x, subject) &&
		 X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : subject) &&
		 ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb) && ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na) &&
		 X509_set_pubkey(x, key);
	X509_NAME_free(subject);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static int ca_cert(struct tc_test_ca *ca, const struct tc_test_ca *parent, const char *cn, int64_t nb, int64_t na)
{
	memset(ca, 0, sizeof(*ca));
	if (!nb && !na) {
		nb = (int64_t)time(NULL) - 3600;
		na = (int64_t)time(NULL) + 365 * 86400;
	}
	ca->key = EVP_EC_gen("P-256");
	X509 *issuer = parent ? parent->cert : NULL;
	ca->cert = ca->key ? base_cert(cn, ca->key, issuer, 0, nb, na) : NULL;
	if (!ca->cert || add_ext(ca->cert, issuer, NID_basic_constraints, "critical,CA:TRUE") ||
	    add_ext(ca->cert, issuer, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    add_ext(ca->cert, issuer, NID_subject_key_identifier, "hash") ||
	    (parent && add_ext(ca->cert, issuer, NID_authority_key_identifier, "keyid:always")) ||
	    !X509_sign(ca->cert, parent ? parent->key : ca->key, EVP_sha256())) {
		tc_test_ca_free(ca);
		return -1;
	}
	return 0;
}

int tc_test_ca_root(struct tc_test_ca *ca, const char *cn, int64_t nb, int64_t na)
{
	return ca_cert(ca, NULL, cn, nb, na);
}

int tc_test_ca_sub(struct tc_test_ca *ca, const struct tc_test_ca *parent, const char *cn, int64_t nb, int64_t na)
{
	return ca_cert(ca, parent, cn, nb, na);
}

void tc_test_ca_free(struct tc_test_ca *ca)
{
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	memset(ca, 0, sizeof(*ca));
}

/* The SCT list extension: extnValue = OCTET STRING { TLS list }. */
static int add_sct_ext(X509 *x, const unsigned char *list, size_t len)
{
	ASN1_OCTET_STRING *inner = ASN1_OCTET_STRING_new();
	unsigned char *der = NULL;
	int n = -1;
	if (inner && ASN1_OCTET_STRING_set(inner, list, (int)len))
		n = i2d_ASN1_OCTET_STRING(inner, &der);
	ASN1_OCTET_STRING *value = n > 0 ? ASN1_OCTET_STRING_new() : NULL;
	X509_EXTENSION *e = NULL;
	int ok = value && ASN1_OCTET_STRING_set(value, der, n) &&
		 (e = X509_EXTENSION_create_by_NID(NULL, NID_ct_precert_scts, 0, value)) && X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(value);
	ASN1_OCTET_STRING_free(inner);
	OPENSSL_free(der);
	return ok ? 0 : -1;
}

X509 *tc_test_leaf_new(const struct tc_test_ca *ca, EVP_PKEY *key, const struct tc_test_leaf *o)
{
	int64_t nb = o->nb, na = o->na;
	if (!nb && !na) {
		nb = (int64_t)time(NULL) - 3600;
		na = (int64_t)time(NULL) + 86400;
	}
	X509 *issuer = ca ? ca->cert : NULL;
	X509 *x = base_cert(o->cn ? o->cn : "leaf", key, issuer, o->serial, nb, na);
	if (!x)
		return NULL;
	char san[600] = "", eku[64] = "";
	if (o->dns)
		snprintf(san, sizeof(san), "DNS:%s", o->dns);
	if (o->ip)
		snprintf(san + strlen(san), sizeof(san) - strlen(san), "%sIP:%s", san[0] ? "," : "", o->ip);
	if (o->server)
		strcat(eku, "serverAuth");
	if (o->client)
		strcat(strcat(eku, eku[0] ? "," : ""), "clientAuth");
	if (o->any_eku)
		strcpy(eku, "anyExtendedKeyUsage");
	int bad = add_ext(x, issuer, NID_basic_constraints, o->ca ? "critical,CA:TRUE" : "critical,CA:FALSE") ||
		  (!o->no_ku && add_ext(x, issuer, NID_key_usage, o->ca ? "critical,digitalSignature,keyCertSign"
									 : "critical,digitalSignature")) ||
		  (!o->no_eku && eku[0] && add_ext(x, issuer, NID_ext_key_usage, eku)) ||
		  (san[0] && add_ext(x, issuer, NID_subject_alt_name, san)) ||
		  (ca && add_ext(x, issuer, NID_authority_key_identifier, "keyid:always")) ||
		  (o->poison && add_ext(x, issuer, NID_ct_precert_poison, "critical,NULL")) ||
		  (o->sct_list && add_sct_ext(x, o->sct_list, o->sct_list_len)) ||
		  !X509_sign(x, ca ? ca->key : key, EVP_sha256());
	if (bad) {
		X509_free(x);
		return NULL;
	}
	return x;
}

X509_CRL *tc_test_crl_new(const struct tc_test_ca *ca, const uint64_t *serials, size_t n, uint64_t number)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *now = ASN1_TIME_set(NULL, time(NULL)), *next = ASN1_TIME_set(NULL, time(NULL) + 86400);
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	int ok = crl && now && next && num && X509_CRL_set_version(crl, X509_CRL_VERSION_2) &&
		 X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert)) && X509_CRL_set1_lastUpdate(crl, now) &&
		 X509_CRL_set1_nextUpdate(crl, next) && ASN1_INTEGER_set_uint64(num, number) &&
		 X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) == 1;
	for (size_t i = 0; ok && i < n; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *sn = ASN1_INTEGER_new();
		ok = r && sn && ASN1_INTEGER_set_uint64(sn, serials[i]) && X509_REVOKED_set_serialNumber(r, sn) &&
		     X509_REVOKED_set_revocationDate(r, now) && X509_CRL_add0_revoked(crl, r);
		if (!ok)
			X509_REVOKED_free(r);
		ASN1_INTEGER_free(sn);
	}
	ok = ok && X509_CRL_sort(crl) && X509_CRL_sign(crl, ca->key, EVP_sha256()) > 0;
	ASN1_TIME_free(now);
	ASN1_TIME_free(next);
	ASN1_INTEGER_free(num);
	if (!ok) {
		X509_CRL_free(crl);
		return NULL;
	}
	return crl;
}

unsigned char *tc_test_der(X509 *x, size_t *len)
{
	unsigned char *der = NULL;
	int n = x ? i2d_X509(x, &der) : -1;
	*len = n > 0 ? (size_t)n : 0;
	return n > 0 ? der : NULL;
}

char *tc_test_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *pem = NULL;
	long n;
	if (b && PEM_write_bio_X509(b, x) && (n = BIO_get_mem_data(b, &data)) > 0)
		pem = strndup(data, (size_t)n);
	BIO_free(b);
	return pem;
}
