/* RFC 6962 3.2/3.3 certificate handling with OpenSSL; see ct_precert.h. */
#include "transparency/ct_precert.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* A whole DER certificate, nothing after it: trailing bytes would let two
 * different inputs log as the same entry. */
static X509 *parse_cert(const unsigned char *der, size_t len)
{
	if (!der || len == 0 || len > (size_t)0x7fffffff)
		return NULL;
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	if (x && p != der + len) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Index of the only extension with nid; -1 when absent, -2 when repeated. */
static int single_ext(X509 *x, int nid)
{
	int loc = X509_get_ext_by_NID(x, nid, -1);
	if (loc >= 0 && X509_get_ext_by_NID(x, nid, loc) >= 0)
		return -2;
	return loc;
}

int tc_ct_precert_tbs_x509(X509 *x, unsigned char **tbs, size_t *tbs_len)
{
	if (!x || !tbs || !tbs_len)
		return TC_CT_ERR_ARG;
	*tbs = NULL;
	*tbs_len = 0;
	int poison = single_ext(x, NID_ct_precert_poison);
	int scts = single_ext(x, NID_ct_precert_scts);
	if (poison < -1 || scts < -1 || (poison >= 0) == (scts >= 0))
		return TC_CT_ERR_CT_EXT;
	X509_EXTENSION *ext = X509_delete_ext(x, poison >= 0 ? poison : scts);
	X509_EXTENSION_free(ext);
	/* i2d_re_X509_tbs forces a fresh encoding of the modified TBS (the plain
	 * i2d would return the cached original bytes). OpenSSL drops the
	 * extensions field entirely when the list became empty, as DER wants. */
	unsigned char *der = NULL;
	int n = ext ? i2d_re_X509_tbs(x, &der) : -1;
	if (n <= 0)
		return TC_CT_ERR_X509;
	int rc = TC_CT_OK;
	*tbs = malloc((size_t)n);
	if (!*tbs) {
		rc = TC_CT_ERR_NOMEM;
	} else {
		memcpy(*tbs, der, (size_t)n);
		*tbs_len = (size_t)n;
	}
	OPENSSL_free(der);
	return rc;
}

int tc_ct_precert_tbs(const unsigned char *cert_der, size_t cert_len, unsigned char **tbs, size_t *tbs_len)
{
	if (!tbs || !tbs_len)
		return TC_CT_ERR_ARG;
	*tbs = NULL;
	*tbs_len = 0;
	X509 *x = parse_cert(cert_der, cert_len);
	if (!x)
		return TC_CT_ERR_X509;
	int rc = tc_ct_precert_tbs_x509(x, tbs, tbs_len);
	X509_free(x);
	return rc;
}

int tc_ct_issuer_key_hash(const unsigned char *issuer_der, size_t issuer_len,
			  unsigned char out[TC_CT_HASH_LEN])
{
	X509 *x = parse_cert(issuer_der, issuer_len);
	if (!x)
		return TC_CT_ERR_X509;
	unsigned char *spki = NULL;
	int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
	int rc = n > 0 && EVP_Digest(spki, (size_t)n, out, NULL, EVP_sha256(), NULL) == 1 ? TC_CT_OK
											   : TC_CT_ERR_X509;
	OPENSSL_free(spki);
	X509_free(x);
	return rc;
}

int tc_ct_cert_sct_list(const unsigned char *cert_der, size_t cert_len, unsigned char **list, size_t *list_len)
{
	if (!list || !list_len)
		return TC_CT_ERR_ARG;
	*list = NULL;
	*list_len = 0;
	X509 *x = parse_cert(cert_der, cert_len);
	if (!x)
		return TC_CT_ERR_X509;
	int rc = TC_CT_OK;
	int loc = single_ext(x, NID_ct_precert_scts);
	if (loc < 0) {
		rc = TC_CT_ERR_CT_EXT;
		goto out;
	}
	/* The outer OCTET STRING is extnValue itself; its content must be
	 * exactly one DER OCTET STRING whose content is the TLS list. */
	const ASN1_OCTET_STRING *value = X509_EXTENSION_get_data(X509_get_ext(x, loc));
	const unsigned char *p = ASN1_STRING_get0_data(value);
	long value_len = ASN1_STRING_length(value);
	ASN1_OCTET_STRING *inner = d2i_ASN1_OCTET_STRING(NULL, &p, value_len);
	if (!inner || p != ASN1_STRING_get0_data(value) + value_len) {
		rc = TC_CT_ERR_X509;
	} else {
		size_t n = (size_t)ASN1_STRING_length(inner);
		*list = malloc(n ? n : 1);
		if (!*list) {
			rc = TC_CT_ERR_NOMEM;
		} else {
			memcpy(*list, ASN1_STRING_get0_data(inner), n);
			*list_len = n;
		}
	}
	ASN1_OCTET_STRING_free(inner);
out:
	X509_free(x);
	return rc;
}
