/* PKCS#10 requests as the gateway accepts them: PEM or DER, self-signature
 * verified (proof of possession), an allowed key type. The signer re-checks
 * the key type on the template; these checks give the caller a precise
 * answer early and keep garbage away from the signer. */
#ifndef TC_GATEWAY_CSR_H
#define TC_GATEWAY_CSR_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "common/csr_der.h"

#define TC_CSR_MAX_LEN (64 * 1024)

enum tc_csr_error {
	TC_CSR_OK = 0,
	TC_CSR_TOO_LARGE,         /* more than TC_CSR_MAX_LEN bytes */
	TC_CSR_MALFORMED,         /* neither PEM nor DER PKCS#10 */
	TC_CSR_BAD_SIGNATURE,     /* the self-signature does not verify */
	TC_CSR_KEY_NOT_ALLOWED,   /* not P-256, P-384 or RSA >= min_rsa_bits */
};

/* A checked request: views into its DER, and its public key. */
struct tc_csr {
	struct tc_csr_view view; /* into the caller's DER, or into pem_der */
	EVP_PKEY *key;
	unsigned char *pem_der;  /* the DER decoded from a PEM input */
};

/* Parses and verifies data (without OpenSSL's X509_REQ decoder on the
 * usual algorithms: see common/csr_der.h); on TC_CSR_OK out is the
 * request, to release with tc_csr_free, and it refers to data, which must
 * outlive it. why gets a human-readable reason otherwise. */
enum tc_csr_error tc_csr_parse(const uint8_t *data, size_t len, unsigned min_rsa_bits,
			       struct tc_csr *out, char *why, size_t whylen);
void tc_csr_free(struct tc_csr *csr);

/* The reason string of ca.proto for err ("csr_malformed", ...). */
const char *tc_csr_error_reason(enum tc_csr_error err);

/* tc_csr_requested_names: a dNSName holding a NUL or longer than 253
 * bytes, or an iPAddress of neither 4 nor 16 bytes. */
#define TC_CSR_NAME_INVALID (-2)

/* Names from the request's subjectAltName extension request: DNS names and
 * IP addresses (textual) as malloc'ed strings appended to dns/ips (arrays of
 * max entries each). Returns 0, TC_CSR_NAME_INVALID, or -1 when there are
 * more than max of a kind or the extension does not decode. */
int tc_csr_requested_names(const struct tc_csr_view *req, char **dns, size_t *n_dns, char **ips, size_t *n_ips,
			   size_t max);

#endif
