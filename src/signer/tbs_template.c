#include "signer/tbs_template.h"

#include <string.h>

#include "common/errorf.h"
#include "common/utf8.h"

const uint8_t TC_OID_SUBJECT_KEY_ID[3] = {0x55, 0x1d, 0x0e};
const uint8_t TC_OID_KEY_USAGE[3] = {0x55, 0x1d, 0x0f};
const uint8_t TC_OID_SUBJECT_ALT_NAME[3] = {0x55, 0x1d, 0x11};
const uint8_t TC_OID_BASIC_CONSTRAINTS[3] = {0x55, 0x1d, 0x13};
const uint8_t TC_OID_AUTHORITY_KEY_ID[3] = {0x55, 0x1d, 0x23};
const uint8_t TC_OID_EXT_KEY_USAGE[3] = {0x55, 0x1d, 0x25};

/* Fixed-width strings of code points (BMPString: 2 octets, UniversalString:
 * 4), which must be Unicode scalar values. */
static int wide_valid(const uint8_t *s, size_t n, size_t width)
{
	if (n % width)
		return 0;
	for (size_t i = 0; i < n; i += width) {
		uint32_t v = 0;
		for (size_t k = 0; k < width; k++)
			v = (v << 8) | s[i + k];
		if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
			return 0;
	}
	return 1;
}

/* An attribute value: one of the directory string types (the ones
 * OpenSSL's name decoder takes, less the exotic ones), with contents
 * that can be read as text (OpenSSL refuses the name otherwise). */
static int attribute_value_ok(const struct tc_der_elem *e)
{
	switch (e->tag) {
	case TC_DER_UTF8STRING:
		return tc_utf8_valid(e->val, e->val_len);
	case 0x1e: /* BMPString */
		return wide_valid(e->val, e->val_len, 2);
	case 0x1c: /* UniversalString */
		return wide_valid(e->val, e->val_len, 4);
	case 0x12: /* NumericString */
	case TC_DER_PRINTABLESTRING:
	case 0x14: /* TeletexString */
	case TC_DER_IA5STRING:
		return 1;
	default:
		return 0;
	}
}

/* Name ::= SEQUENCE OF SET SIZE (1..MAX) OF SEQUENCE { type OID, value }. */
static int name_ok(const struct tc_der_elem *name)
{
	struct tc_der_cursor rdns = tc_der_inside(name);
	struct tc_der_elem rdn;
	int rc;
	while ((rc = tc_der_next(&rdns, &rdn)) == TC_DER_OK) {
		if (rdn.tag != TC_DER_SET || rdn.val_len == 0)
			return 0;
		struct tc_der_cursor avas = tc_der_inside(&rdn);
		struct tc_der_elem ava;
		int arc;
		while ((arc = tc_der_next(&avas, &ava)) == TC_DER_OK) {
			struct tc_der_cursor c = tc_der_inside(&ava);
			struct tc_der_elem type, value;
			if (ava.tag != TC_DER_SEQUENCE || tc_der_expect(&c, TC_DER_OID, &type) != TC_DER_OK ||
			    !tc_der_oid_valid(&type) || tc_der_next(&c, &value) != TC_DER_OK || !tc_der_at_end(&c) ||
			    !attribute_value_ok(&value))
				return 0;
		}
		if (arc != TC_DER_END)
			return 0;
	}
	return rc == TC_DER_END;
}

/* AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }. */
static int algorithm_ok(const struct tc_der_elem *alg)
{
	struct tc_der_cursor c = tc_der_inside(alg);
	struct tc_der_elem oid, param;
	if (tc_der_expect(&c, TC_DER_OID, &oid) != TC_DER_OK || !tc_der_oid_valid(&oid))
		return 0;
	if (tc_der_at_end(&c))
		return 1;
	if (tc_der_next(&c, &param) != TC_DER_OK || !tc_der_at_end(&c))
		return 0;
	/* The parameter shapes keys and signatures use, as OpenSSL decodes them. */
	switch (param.tag) {
	case TC_DER_OID: return tc_der_oid_valid(&param);
	case TC_DER_NULL: return param.val_len == 0;
	case TC_DER_BOOLEAN: return param.val_len == 1;
	case TC_DER_INTEGER: return tc_der_integer_valid(&param);
	default: return 1;
	}
}

/* SubjectPublicKeyInfo ::= SEQUENCE { AlgorithmIdentifier, BIT STRING }.
 * Keys are whole octets; the key itself is policy.c's to read. */
static int spki_ok(const struct tc_der_elem *spki)
{
	struct tc_der_cursor c = tc_der_inside(spki);
	struct tc_der_elem alg, key;
	const uint8_t *bytes;
	size_t len;
	return tc_der_expect(&c, TC_DER_SEQUENCE, &alg) == TC_DER_OK && algorithm_ok(&alg) &&
	       tc_der_expect(&c, TC_DER_BIT_STRING, &key) == TC_DER_OK && tc_der_at_end(&c) &&
	       tc_der_bit_string_bytes(&key, &bytes, &len) == TC_DER_OK;
}

static int extensions_ok(const struct tc_tbs_view *v)
{
	if (!v->has_extensions)
		return 1;
	struct tc_der_cursor c = tc_der_inside(&v->extensions);
	struct tc_ext_view e;
	int rc;
	while ((rc = tc_ext_next(&c, &e)) == TC_DER_OK)
		if (!tc_der_oid_valid(&e.oid))
			return 0;
	return rc == TC_DER_END;
}

int tc_template_parse(const uint8_t *der, size_t len, struct tc_tbs_view *v, char *err, size_t errlen)
{
	if (len < 2 || len > TC_TEMPLATE_MAX_LEN || der[0] != TC_DER_SEQUENCE)
		return tc_errorf(err, errlen, "template is not a DER SEQUENCE of sane size");
	char why[200];
	if (tc_tbs_view_parse(der, len, v, why, sizeof(why)) != 0)
		return tc_errorf(err, errlen, "template is not a valid TBSCertificate (%s)", why);
	const char *bad = NULL;
	if (v->has_version && !tc_der_integer_valid(&v->version))
		bad = "version";
	else if (!tc_der_integer_valid(&v->serial))
		bad = "serial number";
	else if (!algorithm_ok(&v->sig_alg))
		bad = "signature algorithm";
	else if (!name_ok(&v->issuer))
		bad = "issuer name";
	else if (!name_ok(&v->subject))
		bad = "subject name";
	else if (!spki_ok(&v->spki))
		bad = "subject public key info";
	else if (!extensions_ok(v))
		bad = "extension identifier";
	if (bad)
		return tc_errorf(err, errlen, "template is not a valid TBSCertificate (malformed %s)", bad);
	return 0;
}

/* GeneralName tags: otherName [0], x400Address [3], directoryName [4] and
 * ediPartyName [5] are constructed, the others primitive. */
static int general_name_tag_ok(uint8_t tag)
{
	switch (tag) {
	case 0xa0: case 0x81: case 0x82: case 0xa3: case 0xa4: case 0xa5: case 0x86: case 0x87: case 0x88:
		return 1;
	default:
		return 0;
	}
}

int tc_template_sans(const struct tc_tbs_view *v, struct tc_der_cursor *names)
{
	struct tc_ext_view ext;
	int rc = tc_tbs_find_ext(v, TC_OID_SUBJECT_ALT_NAME, sizeof(TC_OID_SUBJECT_ALT_NAME), &ext);
	if (rc != 0)
		return rc;
	struct tc_der_elem seq, gn;
	if (tc_der_whole(ext.value.val, ext.value.val_len, TC_DER_SEQUENCE, &seq) != TC_DER_OK)
		return -1;
	struct tc_der_cursor c = tc_der_inside(&seq);
	while ((rc = tc_der_next(&c, &gn)) == TC_DER_OK)
		if (!general_name_tag_ok(gn.tag))
			return -1;
	if (rc != TC_DER_END)
		return -1;
	*names = tc_der_inside(&seq);
	return 0;
}
