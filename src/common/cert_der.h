/* The parts of an X.509 certificate as views into its DER (no copies, no
 * OpenSSL objects), for the paths that only need to locate fields, compare
 * bytes and check one signature: the CT log's submission check, the
 * signer's template. Structure is checked down to the TBS fields and the
 * extension list (RFC 5280 4.1); the contents of names, times and
 * extension values are the caller's to read. */
#ifndef TC_COMMON_CERT_DER_H
#define TC_COMMON_CERT_DER_H

#include "common/der.h"

struct tc_tbs_view {
	struct tc_der_elem whole;       /* the TBSCertificate SEQUENCE */
	int has_version;                /* [0] EXPLICIT present */
	struct tc_der_elem version;     /* the INTEGER inside [0] */
	struct tc_der_elem serial;      /* INTEGER */
	struct tc_der_elem sig_alg;     /* AlgorithmIdentifier SEQUENCE */
	struct tc_der_elem issuer;      /* Name SEQUENCE */
	struct tc_der_elem validity;    /* SEQUENCE */
	struct tc_der_elem not_before;  /* UTCTime or GeneralizedTime */
	struct tc_der_elem not_after;
	struct tc_der_elem subject;     /* Name SEQUENCE */
	struct tc_der_elem spki;        /* SubjectPublicKeyInfo SEQUENCE */
	int has_extensions;
	struct tc_der_elem extensions_tagged; /* the [3] element */
	struct tc_der_elem extensions;  /* the SEQUENCE OF Extension inside [3] */
};

struct tc_cert_view {
	struct tc_der_elem whole;
	struct tc_tbs_view tbs;
	struct tc_der_elem sig_alg;     /* outer AlgorithmIdentifier */
	const uint8_t *sig;             /* signature BIT STRING bytes */
	size_t sig_len;
};

/* One Extension: its whole encoding, OID, criticality and extnValue contents. */
struct tc_ext_view {
	struct tc_der_elem whole;
	struct tc_der_elem oid;
	int critical;
	struct tc_der_elem value; /* the OCTET STRING; value.val/val_len is the DER inside */
};

/* A whole certificate, nothing after it. 0, or -1 with a reason in err. */
int tc_cert_view_parse(const uint8_t *der, size_t len, struct tc_cert_view *v, char *err, size_t errlen);
/* A TBSCertificate on its own (the signer's templates). */
int tc_tbs_view_parse(const uint8_t *der, size_t len, struct tc_tbs_view *v, char *err, size_t errlen);

/* Iterates over the extensions: start with tc_der_inside(&v->extensions). */
int tc_ext_next(struct tc_der_cursor *c, struct tc_ext_view *out);
/* The only extension with this OID: 0 and out filled, 1 when absent, -1
 * when repeated or malformed. */
int tc_tbs_find_ext(const struct tc_tbs_view *v, const uint8_t *oid, size_t oid_len, struct tc_ext_view *out);

/* The TBSCertificate of v with one of its extensions (ext, found by
 * tc_ext_next / tc_tbs_find_ext on v) cut out, still DER: the lengths of
 * the extensions SEQUENCE, its [3] wrapper and the TBS are re-encoded, and
 * [3] is dropped when ext was the only extension (DER has no empty
 * extensions field). Everything else is copied byte for byte. *out is
 * malloc'd. 0, or -1 when ext is not inside v's extensions or out of
 * memory. */
int tc_tbs_without_ext(const struct tc_tbs_view *v, const struct tc_ext_view *ext, uint8_t **out, size_t *len);

/* Contents octets of OIDs these paths look for. */
extern const uint8_t TC_OID_CT_POISON[10];   /* 1.3.6.1.4.1.11129.2.4.3 */
extern const uint8_t TC_OID_CT_SCT_LIST[10]; /* 1.3.6.1.4.1.11129.2.4.2 */

#endif
