/* tls-alpn-01 (RFC 8737) with OpenSSL: a TLS 1.2+ handshake with each
 * allowed address of the identifier on tls_port, ALPN "acme-tls/1" offered
 * and required, SNI the identifier (for an ip identifier its reverse-DNS
 * name, RFC 8738 section 6); the certificate (not verified otherwise) must
 * carry exactly one subjectAltName entry, equal to the identifier, and a
 * critical id-pe-acmeIdentifier extension whose value is the DER OCTET
 * STRING of SHA-256(key authorization). */
#ifndef TC_ACME_CHALLENGE_TLS_ALPN01_H
#define TC_ACME_CHALLENGE_TLS_ALPN01_H

#include "acme/validator_check.h"

void tc_challenge_tls_alpn01(const struct tc_vcheck_cfg *cfg, const struct tc_vrequest *req, int64_t deadline_ms,
			     struct tc_vresult *res);

/* The reverse-DNS name of an address in text (RFC 8738 section 6:
 * "1.2.0.192.in-addr.arpa", nibbles under ip6.arpa); -1 if not an address. */
int tc_reverse_name(const char *ip, char *out, size_t cap);

#endif
