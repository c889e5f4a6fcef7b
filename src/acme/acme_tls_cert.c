#include "acme/acme_tls_cert.h"

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/name_pattern.h"
#include "trustchain/client.h"

#define MAX_NAMES 16

/* A PKCS#10 request for names, signed with key; DER malloc'ed. */
static unsigned char *make_csr(EVP_PKEY *key, const struct tc_string_list *names, int *len)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *subj = X509_NAME_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	unsigned char *der = NULL;
	int ok = req && subj && exts && gens && X509_REQ_set_version(req, 0) &&
		 X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8, (const unsigned char *)names->items[0], -1, -1,
					    0) &&
		 X509_REQ_set_subject_name(req, subj) && X509_REQ_set_pubkey(req, key);
	for (size_t i = 0; ok && i < names->count; i++) {
		GENERAL_NAME *g = a2i_GENERAL_NAME(NULL, NULL, NULL, tc_name_is_ip(names->items[i]) ? GEN_IPADD : GEN_DNS,
						   names->items[i], 0);
		ok = g && sk_GENERAL_NAME_push(gens, g);
	}
	X509_EXTENSION *san = ok ? X509V3_EXT_i2d(NID_subject_alt_name, 0, gens) : NULL;
	ok = ok && san && sk_X509_EXTENSION_push(exts, san) && X509_REQ_add_extensions(req, exts) &&
	     X509_REQ_sign(req, key, EVP_sha256()) > 0;
	if (!ok && san)
		X509_EXTENSION_free(san);
	if (ok)
		*len = i2d_X509_REQ(req, &der);
	if (ok)
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	else
		sk_X509_EXTENSION_free(exts);
	GENERAL_NAMES_free(gens);
	X509_NAME_free(subj);
	X509_REQ_free(req);
	return *len > 0 ? der : NULL;
}

static char *key_pem(EVP_PKEY *key)
{
	BIO *b = BIO_new(BIO_s_secmem());
	char *out = NULL;
	if (b && PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL)) {
		char *p;
		long n = BIO_get_mem_data(b, &p);
		if (n > 0 && (out = malloc((size_t)n + 1))) {
			memcpy(out, p, (size_t)n);
			out[n] = 0;
		}
	}
	BIO_free(b);
	return out;
}

int tc_acme_tls_issue(struct tc_client *ca, const struct tc_string_list *names, struct tc_acme_tls *out, char *err,
		      size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (names->count == 0 || names->count > MAX_NAMES) {
		snprintf(err, errlen, "acme.tls_names: 1..%d names", MAX_NAMES);
		return -1;
	}
	EVP_PKEY *key = EVP_EC_gen("P-256");
	int dl = 0;
	unsigned char *der = key ? make_csr(key, names, &dl) : NULL;
	const char *dns[MAX_NAMES], *ips[MAX_NAMES];
	size_t n_dns = 0, n_ips = 0;
	for (size_t i = 0; i < names->count; i++) {
		if (tc_name_is_ip(names->items[i]))
			ips[n_ips++] = names->items[i];
		else
			dns[n_dns++] = names->items[i];
	}
	struct tc_issue_request rq = {.csr = der, .csr_len = (size_t)dl, .dns_names = dns, .n_dns = n_dns,
				      .ip_addresses = ips, .n_ips = n_ips, .profile = TC_PROFILE_SERVER};
	struct tc_issue_result *res = NULL;
	struct tc_status st = {0};
	int rc = -1;
	if (!der) {
		snprintf(err, errlen, "cannot build the key and request");
	} else if (tc_issue(ca, &rq, &res, &st) != 0) {
		snprintf(err, errlen, "Issue: %s (%s) %s", tc_status_code_name(st.code), st.reason, st.message);
	} else {
		size_t ll = strlen(res->certificate_pem), cl = res->chain_pem ? strlen(res->chain_pem) : 0;
		out->cert_pem = malloc(ll + cl + 2);
		out->key_pem = key_pem(key);
		if (out->cert_pem && out->key_pem) {
			memcpy(out->cert_pem, res->certificate_pem, ll);
			if (ll && out->cert_pem[ll - 1] != '\n')
				out->cert_pem[ll++] = '\n';
			memcpy(out->cert_pem + ll, res->chain_pem ? res->chain_pem : "", cl + 1);
			out->not_before = res->not_before;
			out->not_after = res->not_after;
			rc = 0;
		} else {
			snprintf(err, errlen, "out of memory");
			tc_acme_tls_free(out);
		}
		tc_issue_result_free(res);
	}
	OPENSSL_free(der);
	EVP_PKEY_free(key);
	return rc;
}

time_t tc_acme_tls_renew_at(const struct tc_acme_tls *t)
{
	return t->not_before + (t->not_after - t->not_before) * 2 / 3;
}

void tc_acme_tls_free(struct tc_acme_tls *t)
{
	if (t->key_pem) {
		OPENSSL_cleanse(t->key_pem, strlen(t->key_pem));
		free(t->key_pem);
	}
	free(t->cert_pem);
	memset(t, 0, sizeof(*t));
}
