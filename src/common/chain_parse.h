/* The certificates of a Validate request, as presented: each chain element
 * is one DER certificate, or PEM text ("-----BEGIN CERTIFICATE-----") that
 * may hold several. Sizes are bounded before anything is decoded, and every
 * DER certificate must be exactly one definite-length SEQUENCE filling its
 * element: a trailing byte or a BER length makes the chain malformed.
 *
 * Splitting does not run the X.509 decoder: the leaf is always decoded by
 * the caller, intermediates only when the verified-CA cache does not know
 * their bytes already (tc_chain_parse_cert). */
#ifndef TC_COMMON_CHAIN_PARSE_H
#define TC_COMMON_CHAIN_PARSE_H

#include <openssl/x509.h>
#include <stddef.h>

#define TC_CHAIN_MAX_CERTS 10
#define TC_CHAIN_MAX_CERT_BYTES (64 * 1024)

struct tc_chain_cert {
	const unsigned char *der;  /* into the request, or into owned */
	size_t len;
	unsigned char *owned;      /* DER decoded from PEM (OPENSSL_malloc) */
};

struct tc_chain {
	size_t n;
	struct tc_chain_cert certs[TC_CHAIN_MAX_CERTS];
};

enum tc_chain_status {
	TC_CHAIN_OK = 0,
	TC_CHAIN_EMPTY = 1,      /* no element, or only empty ones */
	TC_CHAIN_MALFORMED = 2,  /* why says which element and what */
};

/* Splits elems (n of them, lens[i] bytes each) into chain. On any status
 * chain must be released with tc_chain_release. */
enum tc_chain_status tc_chain_split(const unsigned char *const *elems, const size_t *lens, size_t n,
				    struct tc_chain *chain, char *why, size_t whylen);
void tc_chain_release(struct tc_chain *chain);

/* Decodes one certificate of the chain; NULL when OpenSSL rejects it or it
 * does not consume exactly its bytes. */
X509 *tc_chain_parse_cert(const struct tc_chain_cert *c);

#endif
