/* Throwaway certificate authorities built in-process with OpenSSL, for
 * tests that need certificates the TrustChain CA would never issue: foreign
 * roots, expired intermediates, leaves without EKU, precertificates, CRLs.
 * Keys are P-256. Nothing here touches the HSM. */
#ifndef TC_TESTS_TEST_CA_H
#define TC_TESTS_TEST_CA_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

struct tc_test_ca {
	EVP_PKEY *key;
	X509 *cert;
};

/* A self-signed root CA "CN=cn", valid from nb to na (unix seconds; 0, 0
 * means one hour ago to one year ahead). 0 or -1. */
int tc_test_ca_root(struct tc_test_ca *ca, const char *cn, int64_t nb, int64_t na);
/* An intermediate CA "CN=cn" signed by parent. */
int tc_test_ca_sub(struct tc_test_ca *ca, const struct tc_test_ca *parent, const char *cn, int64_t nb, int64_t na);
void tc_test_ca_free(struct tc_test_ca *ca);

struct tc_test_leaf {
	const char *dns;          /* subjectAltName DNS (NULL: none) */
	const char *ip;           /* subjectAltName IP (NULL: none) */
	const char *cn;           /* subject CN (NULL: "leaf") */
	int server, client;       /* EKU serverAuth / clientAuth */
	int any_eku;              /* EKU anyExtendedKeyUsage only */
	int no_eku, no_ku;        /* leave the extension out */
	int ca;                   /* basicConstraints CA:TRUE */
	int poison;               /* RFC 6962 precertificate poison (critical) */
	uint64_t serial;          /* 0: random */
	int64_t nb, na;           /* 0, 0: one hour ago to one day ahead */
	const unsigned char *sct_list; /* TLS SCT list for the 1.3.6.1.4.1.11129.2.4.2 extension */
	size_t sct_list_len;
};

/* A leaf for key signed by ca (ca NULL: self-signed by key). */
X509 *tc_test_leaf_new(const struct tc_test_ca *ca, EVP_PKEY *key, const struct tc_test_leaf *o);

/* A CRL signed by ca listing serials, with crlNumber number. */
X509_CRL *tc_test_crl_new(const struct tc_test_ca *ca, const uint64_t *serials, size_t n, uint64_t number);

/* DER (OPENSSL_malloc'ed) and PEM (malloc'ed) encodings. */
unsigned char *tc_test_der(X509 *x, size_t *len);
char *tc_test_pem(X509 *x);

#endif
