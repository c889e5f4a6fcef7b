#include "gateway/csr.h"

#include <arpa/inet.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int looks_like_pem(const uint8_t *data, size_t len)
{
	size_t i = 0;
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
		i++;
	static const char begin[] = "-----BEGIN ";
	return len - i >= sizeof(begin) - 1 && memcmp(data + i, begin, sizeof(begin) - 1) == 0;
}

static X509_REQ *parse_any(const uint8_t *data, size_t len)
{
	if (looks_like_pem(data, len)) {
		BIO *b = BIO_new_mem_buf(data, (int)len);
		X509_REQ *r = b ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;
		BIO_free(b);
		return r;
	}
	const unsigned char *p = data;
	X509_REQ *r = d2i_X509_REQ(NULL, &p, (long)len);
	if (r && p != data + len) { /* trailing bytes: not one DER request */
		X509_REQ_free(r);
		return NULL;
	}
	return r;
}

static enum tc_csr_error check_key(EVP_PKEY *key, unsigned min_rsa_bits, char *why, size_t whylen)
{
	int id = EVP_PKEY_get_base_id(key);
	if (id == EVP_PKEY_EC) {
		char group[64] = "";
		size_t glen = 0;
		if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &glen)) {
			snprintf(why, whylen, "EC key without a named curve");
			return TC_CSR_KEY_NOT_ALLOWED;
		}
		if (strcmp(group, "prime256v1") == 0 || strcmp(group, "secp384r1") == 0)
			return TC_CSR_OK;
		snprintf(why, whylen, "EC curve %s is not allowed (P-256, P-384)", group);
		return TC_CSR_KEY_NOT_ALLOWED;
	}
	if (id == EVP_PKEY_RSA) {
		int bits = EVP_PKEY_get_bits(key);
		unsigned min = min_rsa_bits > 2048 ? min_rsa_bits : 2048;
		if (bits >= (int)min && bits <= 8192)
			return TC_CSR_OK;
		snprintf(why, whylen, "RSA-%d is not allowed (%u..8192 bits)", bits, min);
		return TC_CSR_KEY_NOT_ALLOWED;
	}
	snprintf(why, whylen, "key type %s is not allowed (P-256, P-384, RSA)",
		 id == EVP_PKEY_NONE ? "unknown" : OBJ_nid2sn(id));
	return TC_CSR_KEY_NOT_ALLOWED;
}

enum tc_csr_error tc_csr_parse(const uint8_t *data, size_t len, unsigned min_rsa_bits,
			       X509_REQ **out, char *why, size_t whylen)
{
	*out = NULL;
	if (len > TC_CSR_MAX_LEN) {
		snprintf(why, whylen, "CSR of %zu bytes exceeds the %d byte limit", len, TC_CSR_MAX_LEN);
		return TC_CSR_TOO_LARGE;
	}
	X509_REQ *req = len ? parse_any(data, len) : NULL;
	if (!req) {
		snprintf(why, whylen, len ? "CSR is neither a PEM nor a DER PKCS#10 request" : "no CSR given");
		return TC_CSR_MALFORMED;
	}
	EVP_PKEY *key = X509_REQ_get0_pubkey(req);
	if (!key) {
		snprintf(why, whylen, "CSR public key does not decode");
		X509_REQ_free(req);
		return TC_CSR_MALFORMED;
	}
	/* The key check comes first: verifying with an unsupported key type
	 * would report a bad signature instead of the real problem. */
	enum tc_csr_error e = check_key(key, min_rsa_bits, why, whylen);
	if (e != TC_CSR_OK) {
		X509_REQ_free(req);
		return e;
	}
	if (X509_REQ_verify(req, key) != 1) {
		snprintf(why, whylen, "CSR signature does not verify with its public key");
		X509_REQ_free(req);
		return TC_CSR_BAD_SIGNATURE;
	}
	*out = req;
	return TC_CSR_OK;
}

const char *tc_csr_error_reason(enum tc_csr_error err)
{
	switch (err) {
	case TC_CSR_OK: return "";
	case TC_CSR_TOO_LARGE: return "csr_too_large";
	case TC_CSR_MALFORMED: return "csr_malformed";
	case TC_CSR_BAD_SIGNATURE: return "csr_signature_invalid";
	case TC_CSR_KEY_NOT_ALLOWED: return "key_type_not_allowed";
	}
	return "csr_malformed";
}

static int add_name(char **list, size_t *n, size_t max, const char *s)
{
	if (*n >= max)
		return -1;
	if (!(list[*n] = strdup(s)))
		return -1;
	(*n)++;
	return 0;
}

int tc_csr_requested_names(X509_REQ *req, char **dns, size_t *n_dns, char **ips, size_t *n_ips,
			   size_t max)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
	if (!exts)
		return 0;
	int rc = 0;
	int idx = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);
	GENERAL_NAMES *gens = idx >= 0 ? X509V3_EXT_d2i(sk_X509_EXTENSION_value(exts, idx)) : NULL;
	if (idx >= 0 && !gens)
		rc = -1;
	for (int i = 0; gens && rc == 0 && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		if (g->type == GEN_DNS) {
			const ASN1_IA5STRING *s = g->d.dNSName;
			/* Embedded NULs would make the name mean two things. */
			if ((size_t)s->length != strnlen((const char *)s->data, (size_t)s->length) || s->length > 253)
				rc = -1;
			else {
				char name[254];
				memcpy(name, s->data, (size_t)s->length);
				name[s->length] = '\0';
				rc = add_name(dns, n_dns, max, name);
			}
		} else if (g->type == GEN_IPADD) {
			char text[INET6_ADDRSTRLEN];
			const ASN1_OCTET_STRING *a = g->d.iPAddress;
			int af = a->length == 4 ? AF_INET : a->length == 16 ? AF_INET6 : -1;
			if (af < 0 || !inet_ntop(af, a->data, text, sizeof(text)))
				rc = -1;
			else
				rc = add_name(ips, n_ips, max, text);
		}
		/* Other name types (email, URI) are not issued; ignored here. */
	}
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return rc;
}
