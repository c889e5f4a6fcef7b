/* What the ACME server needs from a certificate it stores or is shown
 * (revokeCert, renewalInfo): its serial and authority key identifier in
 * hex, and its SubjectPublicKeyInfo, read with the project's DER views. */
#ifndef TC_ACME_CERT_INFO_H
#define TC_ACME_CERT_INFO_H

#include <stddef.h>
#include <stdint.h>

#define TC_ACME_SERIAL_HEX_MAX 64 /* 20 bytes and a sign octet fit; more is refused */

struct tc_acme_cert_info {
	char serial_hex[TC_ACME_SERIAL_HEX_MAX + 1]; /* the INTEGER's contents octets */
	char aki_hex[129];                           /* keyIdentifier, "" when absent */
	const uint8_t *spki;                         /* into the DER given */
	size_t spki_len;
	int64_t not_before, not_after;               /* unix seconds */
};

/* 0, or -1 when der is not a certificate. */
int tc_acme_cert_info(const uint8_t *der, size_t len, struct tc_acme_cert_info *out);

/* The first PEM block of text, decoded (malloc'ed). 0 or -1. */
int tc_acme_pem_first(const char *text, uint8_t **der, size_t *len);

#endif
