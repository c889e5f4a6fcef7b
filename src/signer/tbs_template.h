/* A leaf template as a peer sends it: a DER TBSCertificate, read in place
 * (common/cert_der.h) instead of through d2i_X509, whose public-key
 * decoding alone costs ~100 us on OpenSSL 3.0. Parsing checks structure
 * only (every field well-formed DER, OIDs and INTEGERs well-formed, names
 * made of string attributes); what may be issued is policy.c's business
 * and the signer's own fields (serial, issuer, algorithm, AKI) are
 * replaced by cert_sign.c. */
#ifndef TC_SIGNER_TBS_TEMPLATE_H
#define TC_SIGNER_TBS_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include "common/cert_der.h"

#define TC_TEMPLATE_MAX_LEN (64 * 1024)

/* Parses der into v (views into der, which must outlive v). 0, or -1 with
 * err starting "template is not a DER SEQUENCE of sane size" or "template
 * is not a valid TBSCertificate". */
int tc_template_parse(const uint8_t *der, size_t len, struct tc_tbs_view *v, char *err, size_t errlen);

/* Contents octets of the extension OIDs policy and completion look at. */
extern const uint8_t TC_OID_SUBJECT_KEY_ID[3];   /* 2.5.29.14 */
extern const uint8_t TC_OID_KEY_USAGE[3];        /* 2.5.29.15 */
extern const uint8_t TC_OID_SUBJECT_ALT_NAME[3]; /* 2.5.29.17 */
extern const uint8_t TC_OID_BASIC_CONSTRAINTS[3];/* 2.5.29.19 */
extern const uint8_t TC_OID_AUTHORITY_KEY_ID[3]; /* 2.5.29.35 */
extern const uint8_t TC_OID_EXT_KEY_USAGE[3];    /* 2.5.29.37 */

/* GeneralName tags (RFC 5280 4.2.1.6) of the two kinds a leaf may carry. */
#define TC_SAN_DNS 0x82 /* [2] IMPLICIT IA5String */
#define TC_SAN_IP 0x87  /* [7] IMPLICIT OCTET STRING */

/* The GeneralNames of a subjectAltName extension: 0 and a cursor over
 * them, 1 when there is no such extension, -1 when its value is not one
 * SEQUENCE of well-formed GeneralNames. */
int tc_template_sans(const struct tc_tbs_view *v, struct tc_der_cursor *names);

#endif
