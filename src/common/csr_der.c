#include "common/csr_der.h"

#include <string.h>

#include "common/errorf.h"

const uint8_t TC_OID_PKCS9_EXT_REQ[9] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e};
const uint8_t TC_OID_MS_EXT_REQ[10] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x01, 0x0e};

/* Every element of c is well-formed DER; 1 when so. */
static int all_elements(struct tc_der_cursor c)
{
	struct tc_der_elem e;
	int rc;
	while ((rc = tc_der_next(&c, &e)) == TC_DER_OK)
		;
	return rc == TC_DER_END;
}

/* AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }. */
static int algorithm_ok(const struct tc_der_elem *alg)
{
	struct tc_der_cursor c = tc_der_inside(alg);
	struct tc_der_elem oid, param;
	if (tc_der_expect(&c, TC_DER_OID, &oid) != TC_DER_OK)
		return 0;
	int rc = tc_der_next(&c, &param);
	return (rc == TC_DER_END || rc == TC_DER_OK) && tc_der_at_end(&c);
}

/* Name ::= SEQUENCE OF RelativeDistinguishedName, each a non-empty SET OF
 * SEQUENCE { type OID, value ANY } (RFC 5280 4.1.2.4). */
static int name_ok(const struct tc_der_elem *name)
{
	struct tc_der_cursor rdns = tc_der_inside(name);
	struct tc_der_elem rdn, atv, oid, value;
	int rc;
	while ((rc = tc_der_next(&rdns, &rdn)) == TC_DER_OK) {
		if (rdn.tag != TC_DER_SET || rdn.val_len == 0)
			return 0;
		struct tc_der_cursor atvs = tc_der_inside(&rdn);
		while ((rc = tc_der_next(&atvs, &atv)) == TC_DER_OK) {
			struct tc_der_cursor f = tc_der_inside(&atv);
			if (atv.tag != TC_DER_SEQUENCE || tc_der_expect(&f, TC_DER_OID, &oid) != TC_DER_OK ||
			    tc_der_next(&f, &value) != TC_DER_OK || !tc_der_at_end(&f))
				return 0;
		}
		if (rc != TC_DER_END)
			return 0;
	}
	return rc == TC_DER_END;
}

/* SubjectPublicKeyInfo ::= SEQUENCE { AlgorithmIdentifier, BIT STRING };
 * the key itself is tc_spki_key's to read. */
static int spki_ok(const struct tc_der_elem *spki)
{
	struct tc_der_cursor c = tc_der_inside(spki);
	struct tc_der_elem alg, key;
	if (tc_der_expect(&c, TC_DER_SEQUENCE, &alg) != TC_DER_OK ||
	    tc_der_expect(&c, TC_DER_BIT_STRING, &key) != TC_DER_OK || !tc_der_at_end(&c))
		return 0;
	return algorithm_ok(&alg) && key.val_len >= 1 && key.val[0] <= 7;
}

/* Attribute ::= SEQUENCE { type OID, values SET OF ANY }. */
static int attribute_parts(const struct tc_der_elem *attr, struct tc_der_elem *type, struct tc_der_elem *values)
{
	if (attr->tag != TC_DER_SEQUENCE)
		return -1;
	struct tc_der_cursor c = tc_der_inside(attr);
	if (tc_der_expect(&c, TC_DER_OID, type) != TC_DER_OK || tc_der_expect(&c, TC_DER_SET, values) != TC_DER_OK ||
	    !tc_der_at_end(&c) || !all_elements(tc_der_inside(values)))
		return -1;
	return 0;
}

static int attributes_ok(const struct tc_der_elem *attrs)
{
	struct tc_der_cursor c = tc_der_inside(attrs);
	struct tc_der_elem attr, type, values;
	int rc;
	while ((rc = tc_der_next(&c, &attr)) == TC_DER_OK)
		if (attribute_parts(&attr, &type, &values) != 0)
			return 0;
	return rc == TC_DER_END;
}

static int parse_info(struct tc_csr_view *v, char *err, size_t errlen)
{
	struct tc_der_cursor c = tc_der_inside(&v->info);
	struct tc_der_elem version;
	if (tc_der_expect(&c, TC_DER_INTEGER, &version) != TC_DER_OK ||
	    tc_der_expect(&c, TC_DER_SEQUENCE, &v->subject) != TC_DER_OK ||
	    tc_der_expect(&c, TC_DER_SEQUENCE, &v->spki) != TC_DER_OK)
		return tc_errorf(err, errlen, "CSR: version, subject or key missing");
	if (version.val_len != 1 || version.val[0] != 0)
		return tc_errorf(err, errlen, "CSR: version is not 0 (v1)");
	if (!name_ok(&v->subject))
		return tc_errorf(err, errlen, "CSR: malformed subject name");
	if (!spki_ok(&v->spki))
		return tc_errorf(err, errlen, "CSR: malformed SubjectPublicKeyInfo");
	/* RFC 2986 requires the attribute list, even empty; OpenSSL (and so
	 * this gateway before) accepts requests from encoders that omit it. */
	int rc = tc_der_optional(&c, TC_DER_CONTEXT(0), &v->attributes);
	if (rc == TC_DER_MALFORMED)
		return tc_errorf(err, errlen, "CSR: malformed DER");
	v->has_attributes = rc == TC_DER_OK;
	if (v->has_attributes && !attributes_ok(&v->attributes))
		return tc_errorf(err, errlen, "CSR: malformed attributes");
	if (!tc_der_at_end(&c))
		return tc_errorf(err, errlen, "CSR: unexpected fields after the attributes");
	return 0;
}

int tc_csr_view_parse(const uint8_t *der, size_t len, struct tc_csr_view *v, char *err, size_t errlen)
{
	memset(v, 0, sizeof(*v));
	if (tc_der_whole(der, len, TC_DER_SEQUENCE, &v->whole) != TC_DER_OK)
		return tc_errorf(err, errlen, "not one DER CSR");
	struct tc_der_cursor c = tc_der_inside(&v->whole);
	struct tc_der_elem sig;
	if (tc_der_expect(&c, TC_DER_SEQUENCE, &v->info) != TC_DER_OK ||
	    tc_der_expect(&c, TC_DER_SEQUENCE, &v->sig_alg) != TC_DER_OK ||
	    tc_der_expect(&c, TC_DER_BIT_STRING, &sig) != TC_DER_OK || !tc_der_at_end(&c))
		return tc_errorf(err, errlen, "CSR: not request info, algorithm, signature");
	if (tc_der_bit_string_bytes(&sig, &v->sig, &v->sig_len) != TC_DER_OK)
		return tc_errorf(err, errlen, "CSR: bad signature BIT STRING");
	if (!algorithm_ok(&v->sig_alg))
		return tc_errorf(err, errlen, "CSR: malformed signature algorithm");
	return parse_info(v, err, errlen);
}

enum { VALUE_FOUND = 0, NO_ATTRIBUTE = 1, NO_VALUE = 2 };

/* The first value of the first attribute of type oid. */
static int first_value(const struct tc_csr_view *v, const uint8_t *oid, size_t oid_len, struct tc_der_elem *out)
{
	if (!v->has_attributes)
		return NO_ATTRIBUTE;
	struct tc_der_cursor c = tc_der_inside(&v->attributes);
	struct tc_der_elem attr, type, values;
	while (tc_der_next(&c, &attr) == TC_DER_OK) {
		if (attribute_parts(&attr, &type, &values) != 0 || !tc_der_oid_is(&type, oid, oid_len))
			continue;
		struct tc_der_cursor vc = tc_der_inside(&values);
		return tc_der_next(&vc, out) == TC_DER_OK ? VALUE_FOUND : NO_VALUE;
	}
	return NO_ATTRIBUTE;
}

int tc_csr_extensions(const struct tc_csr_view *v, struct tc_der_elem *exts)
{
	/* Microsoft's attribute counts only when there is no PKCS#9 one at
	 * all, as in OpenSSL. */
	int rc = first_value(v, TC_OID_PKCS9_EXT_REQ, sizeof(TC_OID_PKCS9_EXT_REQ), exts);
	if (rc == NO_ATTRIBUTE)
		rc = first_value(v, TC_OID_MS_EXT_REQ, sizeof(TC_OID_MS_EXT_REQ), exts);
	if (rc != VALUE_FOUND)
		return 1;
	return exts->tag == TC_DER_SEQUENCE ? 0 : -1;
}
