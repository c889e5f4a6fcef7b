/* X.509 side of RFC 6962 (via OpenSSL): what a precert log entry and an
 * embedded-SCT verifier hash, and where the SCT list sits in a certificate. */
#ifndef TC_TRANSPARENCY_CT_PRECERT_H
#define TC_TRANSPARENCY_CT_PRECERT_H

#include <stddef.h>

#include "transparency/ct_encode.h"

/* RFC 6962 3.2 / 3.3: the TBSCertificate of a precertificate (DER with the
 * critical poison extension) or of a final certificate (DER with the
 * embedded SCT list extension), with that one extension removed and the
 * TBS re-encoded: the signed_entry a precert SCT signs. Exactly one of the
 * two extensions must be present once (TC_CT_ERR_CT_EXT otherwise). The
 * issuer is kept as is: this log's CA signs precertificates itself, with no
 * Precertificate Signing Certificate. *tbs is malloc'd; free() it. */
int tc_ct_precert_tbs(const unsigned char *cert_der, size_t cert_len, unsigned char **tbs, size_t *tbs_len);

/* The same from an already parsed certificate, which loses that extension
 * (callers that parsed it anyway save a second decode: in OpenSSL 3.0 the
 * public key decoder makes d2i_X509 the costliest step of a submission). */
struct x509_st;
int tc_ct_precert_tbs_x509(struct x509_st *x, unsigned char **tbs, size_t *tbs_len);

/* issuer_key_hash of a PreCert: SHA-256 of the issuer certificate's DER
 * SubjectPublicKeyInfo. */
int tc_ct_issuer_key_hash(const unsigned char *issuer_der, size_t issuer_len,
			  unsigned char out[TC_CT_HASH_LEN]);

/* The TLS SignedCertificateTimestampList embedded in a certificate's
 * 1.3.6.1.4.1.11129.2.4.2 extension (extnValue is an OCTET STRING holding
 * an OCTET STRING holding the list). *list is malloc'd; free() it.
 * TC_CT_ERR_CT_EXT when the certificate has no (or two) such extension. */
int tc_ct_cert_sct_list(const unsigned char *cert_der, size_t cert_len, unsigned char **list, size_t *list_len);

#endif
