#include "gateway/csr.h"

#include <arpa/inet.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cert_der.h"
#include "common/der_key.h"

static int looks_like_pem(const uint8_t *data, size_t len)
{
	size_t i = 0;
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
		i++;
	static const char begin[] = "-----BEGIN ";
	return len - i >= sizeof(begin) - 1 && memcmp(data + i, begin, sizeof(begin) - 1) == 0;
}

/* The DER inside a PEM "CERTIFICATE REQUEST" (or "NEW CERTIFICATE
 * REQUEST") block, skipping other blocks as PEM_read_bio_X509_REQ did;
 * OPENSSL_malloc'ed. */
static unsigned char *pem_to_der(const uint8_t *data, size_t len, size_t *der_len)
{
	BIO *b = BIO_new_mem_buf(data, (int)len);
	unsigned char *der = NULL;
	long n = 0;
	if (!b || PEM_bytes_read_bio(&der, &n, NULL, PEM_STRING_X509_REQ, b, NULL, NULL) != 1 || n <= 0) {
		OPENSSL_free(der);
		der = NULL;
	}
	BIO_free(b);
	ERR_clear_error();
	*der_len = der ? (size_t)n : 0;
	return der;
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

/* The self-signature over the request info: the usual algorithms from the
 * DER directly; any other one (SHA-1, RSA-PSS, ...) through OpenSSL's full
 * X509_REQ path, as the gateway always accepted them. */
static int signature_ok(const struct tc_csr *c)
{
	char err[128];
	const struct tc_csr_view *v = &c->view;
	int rc = tc_der_verify(c->key, &v->sig_alg, v->info.tlv, v->info.tlv_len, v->sig, v->sig_len, err,
			       sizeof(err));
	if (rc >= 0)
		return rc == 1;
	const unsigned char *p = v->whole.tlv;
	X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)v->whole.tlv_len);
	rc = req && X509_REQ_verify(req, c->key) == 1;
	X509_REQ_free(req);
	ERR_clear_error();
	return rc;
}

enum tc_csr_error tc_csr_parse(const uint8_t *data, size_t len, unsigned min_rsa_bits,
			       struct tc_csr *out, char *why, size_t whylen)
{
	memset(out, 0, sizeof(*out));
	if (len > TC_CSR_MAX_LEN) {
		snprintf(why, whylen, "CSR of %zu bytes exceeds the %d byte limit", len, TC_CSR_MAX_LEN);
		return TC_CSR_TOO_LARGE;
	}
	const uint8_t *der = data;
	size_t der_len = len;
	if (len && looks_like_pem(data, len))
		der = out->pem_der = pem_to_der(data, len, &der_len);
	char err[128];
	if (!len || !der || tc_csr_view_parse(der, der_len, &out->view, err, sizeof(err)) != 0) {
		snprintf(why, whylen, len ? "CSR is neither a PEM nor a DER PKCS#10 request" : "no CSR given");
		tc_csr_free(out);
		return TC_CSR_MALFORMED;
	}
	out->key = tc_spki_key(out->view.spki.tlv, out->view.spki.tlv_len, err, sizeof(err));
	if (!out->key) {
		snprintf(why, whylen, "CSR public key does not decode");
		tc_csr_free(out);
		return TC_CSR_MALFORMED;
	}
	/* The key check comes first: verifying with an unsupported key type
	 * would report a bad signature instead of the real problem. */
	enum tc_csr_error e = check_key(out->key, min_rsa_bits, why, whylen);
	if (e == TC_CSR_OK && !signature_ok(out)) {
		snprintf(why, whylen, "CSR signature does not verify with its public key");
		e = TC_CSR_BAD_SIGNATURE;
	}
	if (e != TC_CSR_OK)
		tc_csr_free(out);
	return e;
}

void tc_csr_free(struct tc_csr *csr)
{
	EVP_PKEY_free(csr->key);
	OPENSSL_free(csr->pem_der);
	memset(csr, 0, sizeof(*csr));
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

static const uint8_t OID_SUBJECT_ALT_NAME[] = {0x55, 0x1d, 0x11};

/* The subjectAltName the request asks for: 0 and *gens is its
 * GeneralNames SEQUENCE, 1 when none is requested. As with OpenSSL's
 * X509_REQ_get_extensions before, an extension list that does not decode
 * counts as none (the caller then finds no names). */
static int requested_san(const struct tc_csr_view *req, struct tc_der_elem *gens)
{
	struct tc_der_elem exts;
	if (tc_csr_extensions(req, &exts) != 0)
		return 1;
	struct tc_der_cursor c = tc_der_inside(&exts);
	struct tc_ext_view ext, san = {0};
	int found = 0, rc;
	while ((rc = tc_ext_next(&c, &ext)) == TC_DER_OK)
		if (!found && TC_DER_OID_IS(&ext.oid, OID_SUBJECT_ALT_NAME)) {
			san = ext;
			found = 1;
		}
	if (rc != TC_DER_END || !found)
		return 1;
	if (tc_der_whole(san.value.val, san.value.val_len, TC_DER_SEQUENCE, gens) != TC_DER_OK)
		return -1;
	return 0;
}

/* GeneralName tags (RFC 5280 4.2.1.6), IMPLICIT except directoryName. */
#define GN_OTHER TC_DER_CONTEXT(0)
#define GN_RFC822 TC_DER_CONTEXT_PRIM(1)
#define GN_DNS TC_DER_CONTEXT_PRIM(2)
#define GN_X400 TC_DER_CONTEXT(3)
#define GN_DIRECTORY TC_DER_CONTEXT(4)
#define GN_EDI_PARTY TC_DER_CONTEXT(5)
#define GN_URI TC_DER_CONTEXT_PRIM(6)
#define GN_IP TC_DER_CONTEXT_PRIM(7)
#define GN_REGISTERED_ID TC_DER_CONTEXT_PRIM(8)

static int add_general_name(const struct tc_der_elem *g, char **dns, size_t *n_dns, char **ips, size_t *n_ips,
			    size_t max)
{
	switch (g->tag) {
	case GN_DNS: {
		/* An embedded NUL would make the name mean two things: the
		 * name is refused, never cut at the NUL. */
		if (g->val_len > 253 || memchr(g->val, 0, g->val_len))
			return TC_CSR_NAME_INVALID;
		char name[254];
		memcpy(name, g->val, g->val_len);
		name[g->val_len] = '\0';
		return add_name(dns, n_dns, max, name);
	}
	case GN_IP: {
		char text[INET6_ADDRSTRLEN];
		int af = g->val_len == 4 ? AF_INET : g->val_len == 16 ? AF_INET6 : -1;
		if (af < 0 || !inet_ntop(af, g->val, text, sizeof(text)))
			return TC_CSR_NAME_INVALID;
		return add_name(ips, n_ips, max, text);
	}
	case GN_OTHER:
	case GN_RFC822:
	case GN_X400:
	case GN_DIRECTORY:
	case GN_EDI_PARTY:
	case GN_URI:
	case GN_REGISTERED_ID:
		return 0; /* not issued; ignored here */
	}
	return -1; /* not a GeneralName */
}

int tc_csr_requested_names(const struct tc_csr_view *req, char **dns, size_t *n_dns, char **ips, size_t *n_ips,
			   size_t max)
{
	struct tc_der_elem gens, g;
	int rc = requested_san(req, &gens);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	struct tc_der_cursor c = tc_der_inside(&gens);
	while ((rc = tc_der_next(&c, &g)) == TC_DER_OK) {
		int added = add_general_name(&g, dns, n_dns, ips, n_ips, max);
		if (added != 0)
			return added;
	}
	return rc == TC_DER_END ? 0 : -1;
}
