/* A PKCS#10 certification request (RFC 2986) as views into its DER, for
 * the gateway's Issue path: d2i_X509_REQ on OpenSSL 3.0 builds the
 * provider decoder chain for the public key (~100 us) and takes global
 * locks, a third of the gateway's CPU per issuance. Here the structure is
 * checked strictly and the caller gets the signed bytes, the key and the
 * signature to check with tc_spki_key and tc_der_verify (der_key.h).
 *
 *   CertificationRequest ::= SEQUENCE {
 *     certificationRequestInfo SEQUENCE {
 *       version       INTEGER (0),
 *       subject       Name,
 *       subjectPKInfo SubjectPublicKeyInfo,
 *       attributes    [0] IMPLICIT SET OF Attribute },
 *     signatureAlgorithm AlgorithmIdentifier,
 *     signature          BIT STRING }
 */
#ifndef TC_COMMON_CSR_DER_H
#define TC_COMMON_CSR_DER_H

#include "common/der.h"

struct tc_csr_view {
	struct tc_der_elem whole;       /* the CertificationRequest SEQUENCE */
	struct tc_der_elem info;        /* CertificationRequestInfo: info.tlv is what is signed */
	struct tc_der_elem subject;     /* Name SEQUENCE */
	struct tc_der_elem spki;        /* SubjectPublicKeyInfo SEQUENCE */
	int has_attributes;
	struct tc_der_elem attributes;  /* the [0] element; its contents are Attribute SEQUENCEs */
	struct tc_der_elem sig_alg;     /* AlgorithmIdentifier SEQUENCE */
	const uint8_t *sig;             /* signature BIT STRING bytes */
	size_t sig_len;
};

/* One whole request, nothing after it: version 0, a well-formed Name,
 * SubjectPublicKeyInfo and attribute list. The key and signature are not
 * checked here. 0, or -1 with a reason in err. */
int tc_csr_view_parse(const uint8_t *der, size_t len, struct tc_csr_view *v, char *err, size_t errlen);

/* The extensions the request asks for: the first value of its PKCS#9
 * extensionRequest attribute (else of Microsoft's older one), as OpenSSL's
 * X509_REQ_get_extensions picks it. 0 and *exts is the SEQUENCE OF
 * Extension (walk it with tc_ext_next, cert_der.h); 1 when there is none;
 * -1 when that value is not a SEQUENCE. */
int tc_csr_extensions(const struct tc_csr_view *v, struct tc_der_elem *exts);

/* Contents octets of the attribute types tc_csr_extensions looks for. */
extern const uint8_t TC_OID_PKCS9_EXT_REQ[9]; /* 1.2.840.113549.1.9.14 */
extern const uint8_t TC_OID_MS_EXT_REQ[10];   /* 1.3.6.1.4.1.311.2.1.14 */

#endif
