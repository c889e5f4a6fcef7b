#include "gateway/tls_cert.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file_read.h"
#include "common/metrics_proc.h"
#include "common/leaf_template.h"
#include "gateway/secret_file.h"

/* Our certificate starts half an hour in the past (the signer allows up to
 * an hour), so a client behind us, or our own clock stepped back by NTP,
 * still finds it valid without a renewal. */
#define BACKDATE_S 1800
#define MAX_NAMES TC_CFG_MAX_LIST
#define MAX_PEM (256 * 1024)

static int is_ip(const char *s)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* The configured or default names, as pointers into storage. */
static size_t collect_names(const struct tc_config *cfg, char storage[][TC_CFG_STR], size_t max)
{
	size_t n = 0;
	if (cfg->gateway.tls_names.count) {
		for (size_t i = 0; i < cfg->gateway.tls_names.count && n < max; i++)
			snprintf(storage[n++], TC_CFG_STR, "%s", cfg->gateway.tls_names.items[i]);
		return n;
	}
	snprintf(storage[n++], TC_CFG_STR, "ca.%.240s", cfg->bootstrap.domain);
	if (cfg->dev) {
		snprintf(storage[n++], TC_CFG_STR, "localhost");
		snprintf(storage[n++], TC_CFG_STR, "127.0.0.1");
	}
	return n;
}

void tc_tls_default_names(const struct tc_config *cfg, char *out, size_t outlen)
{
	char names[MAX_NAMES][TC_CFG_STR];
	size_t n = collect_names(cfg, names, MAX_NAMES), used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n && used < outlen; i++)
		used += (size_t)snprintf(out + used, outlen - used, "%s%s", i ? ", " : "", names[i]);
}

static char *key_to_pem(EVP_PKEY *key)
{
	BIO *b = BIO_new(BIO_s_secmem());
	char *data, *pem = NULL;
	long n;
	if (b && PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) &&
	    (n = BIO_get_mem_data(b, &data)) > 0 && (pem = malloc((size_t)n + 1))) {
		memcpy(pem, data, (size_t)n);
		pem[n] = '\0';
	}
	BIO_free(b); /* a secure-memory BIO cleanses on free */
	return pem;
}

static int asn1_unix(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;
	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return -1;
	*out = timegm(&tm);
	return 0;
}

/* Leaf PEM from DER, followed by the intermediates. */
static int chain_from_der(const uint8_t *der, size_t len, const char *intermediate_pem,
			  struct tc_tls_identity *out)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	BIO *b = x ? BIO_new(BIO_s_mem()) : NULL;
	char *data;
	long n;
	int ok = b && PEM_write_bio_X509(b, x) && asn1_unix(X509_get0_notBefore(x), &out->not_before) == 0 &&
		 asn1_unix(X509_get0_notAfter(x), &out->not_after) == 0 &&
		 (n = BIO_get_mem_data(b, &data)) > 0 &&
		 (out->chain_pem = malloc((size_t)n + strlen(intermediate_pem) + 1)) != NULL;
	if (ok) {
		tc_pm_cert_expiry("gateway", out->not_after);
		memcpy(out->chain_pem, data, (size_t)n);
		strcpy(out->chain_pem + n, intermediate_pem);
	}
	BIO_free(b);
	X509_free(x);
	return ok ? 0 : -1;
}

/* A DER certificate as PEM (malloc'ed), or NULL. */
static char *der_cert_pem(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	BIO *b = x ? BIO_new(BIO_s_mem()) : NULL;
	char *data, *pem = NULL;
	long n;
	if (b && PEM_write_bio_X509(b, x) && (n = BIO_get_mem_data(b, &data)) > 0 && (pem = malloc((size_t)n + 1))) {
		memcpy(pem, data, (size_t)n);
		pem[n] = '\0';
	}
	BIO_free(b);
	X509_free(x);
	return pem;
}

/* Has the template signed with embedded SCTs; fills out's chain and
 * validity. */
static int sign_template(const struct tc_ct_issuer *iss, X509 *tmpl, const char *intermediate_pem,
			 struct tc_tls_identity *out, char *err, size_t errlen)
{
	unsigned char *tbs = NULL;
	size_t tbs_len = 0;
	if (tc_template_tbs_der(tmpl, &tbs, &tbs_len) != 0) {
		snprintf(err, errlen, "cannot encode the certificate template");
		return -1;
	}
	struct tc_issued_cert ic;
	struct tc_ct_issue_error e;
	int rc = tc_ct_issue(iss, tbs, tbs_len, &ic, &e);
	OPENSSL_free(tbs);
	if (rc != 0) {
		tc_ct_issue_describe(&e, err, errlen);
		return tc_ct_issue_transient(&e) ? -1 : -2;
	}
	/* After a CA key rollover's cut-over the certificate's issuer is the
	 * next intermediate (gateway/ca_rollover.h): chain it with that one. */
	size_t by_len = 0, cross_len = 0;
	const unsigned char *by = iss->issuer_of ? iss->issuer_of(iss->issuer_arg, ic.der, ic.der_len, &by_len) : NULL;
	/* Under a new root, that root's cross certificate follows, so clients
	 * holding only our old root verify the handshake. */
	const unsigned char *cross = by && iss->cross_of ? iss->cross_of(iss->issuer_arg, ic.der, ic.der_len, &cross_len)
							  : NULL;
	char *by_pem = by ? der_cert_pem(by, by_len) : NULL, *cross_pem = cross ? der_cert_pem(cross, cross_len) : NULL;
	char *both = by_pem && cross_pem ? malloc(strlen(by_pem) + strlen(cross_pem) + 1) : NULL;
	if (both)
		strcat(strcpy(both, by_pem), cross_pem);
	rc = chain_from_der(ic.der, ic.der_len, both ? both : by_pem ? by_pem : intermediate_pem, out);
	free(both);
	free(cross_pem);
	free(by_pem);
	if (rc != 0) {
		snprintf(err, errlen, "signer returned an undecodable certificate");
		rc = -1;
	}
	tc_issued_cert_free(&ic);
	return rc;
}

int tc_tls_issue_own(const struct tc_ct_issuer *iss, const struct tc_config *cfg, const char *intermediate_pem,
		     struct tc_tls_identity *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	char names[MAX_NAMES][TC_CFG_STR];
	size_t n = collect_names(cfg, names, MAX_NAMES);
	const char *dns[MAX_NAMES], *ips[MAX_NAMES];
	size_t n_dns = 0, n_ips = 0;
	for (size_t i = 0; i < n; i++) {
		if (is_ip(names[i]))
			ips[n_ips++] = names[i];
		else
			dns[n_dns++] = names[i];
	}
	tc_tls_default_names(cfg, out->names, sizeof(out->names));
	EVP_PKEY *key = EVP_EC_gen("P-256");
	if (!key) {
		snprintf(err, errlen, "cannot generate a P-256 key");
		return -1;
	}
	struct tc_leaf_request rq = {.pubkey = key, .dns_names = dns, .n_dns = n_dns, .ips = ips, .n_ips = n_ips,
				     .server_auth = 1};
	rq.not_before = time(NULL) - BACKDATE_S;
	rq.not_after = rq.not_before + (time_t)cfg->ca.cert_validity_hours * 3600;
	char why[256];
	X509 *tmpl = tc_leaf_template_new(&rq, why, sizeof(why));
	int rc = -2;
	if (!tmpl)
		snprintf(err, errlen, "gateway.tls_names: %s", why);
	else if ((rc = sign_template(iss, tmpl, intermediate_pem, out, err, errlen)) == 0 &&
		 !(out->key_pem = key_to_pem(key))) {
		snprintf(err, errlen, "cannot encode the gateway's key");
		rc = -1;
	}
	X509_free(tmpl);
	EVP_PKEY_free(key);
	if (rc != 0)
		tc_tls_identity_free(out);
	return rc;
}

static int load_key(const char *path, EVP_PKEY **key, char **pem, char *err, size_t errlen)
{
	char *data;
	size_t len;
	if (tc_read_secret_file("gateway.tls_key_file", path, MAX_PEM, &data, &len, err, errlen) != 0)
		return -1;
	BIO *b = BIO_new_mem_buf(data, (int)len);
	*key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (!*key) {
		tc_secret_free(data, len);
		snprintf(err, errlen, "gateway.tls_key_file %s: no PEM private key", path);
		return -1;
	}
	*pem = data;
	return 0;
}

int tc_tls_load_files(const struct tc_config *cfg, struct tc_tls_identity *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!cfg->gateway.tls_key_file[0]) {
		snprintf(err, errlen, "gateway.tls_cert_file is set but gateway.tls_key_file is not");
		return -1;
	}
	size_t len;
	if (tc_read_file(cfg->gateway.tls_cert_file, MAX_PEM, &out->chain_pem, &len, err, errlen) != 0)
		return -1;
	BIO *b = BIO_new_mem_buf(out->chain_pem, (int)len);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	EVP_PKEY *key = NULL;
	int rc = -1;
	if (!x)
		snprintf(err, errlen, "gateway.tls_cert_file %s: no PEM certificate", cfg->gateway.tls_cert_file);
	else if (load_key(cfg->gateway.tls_key_file, &key, &out->key_pem, err, errlen) != 0)
		;
	else if (X509_check_private_key(x, key) != 1)
		snprintf(err, errlen, "gateway.tls_key_file does not match the first certificate of %s",
			 cfg->gateway.tls_cert_file);
	else if (asn1_unix(X509_get0_notBefore(x), &out->not_before) != 0 ||
		 asn1_unix(X509_get0_notAfter(x), &out->not_after) != 0)
		snprintf(err, errlen, "gateway.tls_cert_file: unreadable validity");
	else if (out->not_after <= time(NULL))
		snprintf(err, errlen, "gateway.tls_cert_file %s: expired", cfg->gateway.tls_cert_file);
	else
		rc = 0;
	if (rc == 0)
		tc_pm_cert_expiry("gateway", out->not_after);
	if (x)
		X509_NAME_oneline(X509_get_subject_name(x), out->names, sizeof(out->names));
	X509_free(x);
	EVP_PKEY_free(key);
	if (rc != 0)
		tc_tls_identity_free(out);
	return rc;
}

time_t tc_tls_renew_at(const struct tc_tls_identity *id)
{
	return id->not_before + (id->not_after - id->not_before) * 2 / 3;
}

void tc_tls_identity_free(struct tc_tls_identity *id)
{
	if (id->key_pem)
		tc_secret_free(id->key_pem, strlen(id->key_pem));
	free(id->chain_pem);
	id->key_pem = id->chain_pem = NULL;
}
