/* Names: the attributes of issuer and subject (RFC 5280 4.1.2.4, X.520
 * string types), and dNSNames (RFC 5280 4.2.1.6: "preferred name syntax",
 * no empty name, no NUL). */
#include <string.h>

#include "common/config_schema.h"
#include "common/utf8.h"
#include "signer/lint_internal.h"

/* X.680 PrintableString: A-Z a-z 0-9 space ' ( ) + , - . / : = ? */
static int printable(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       strchr(" '()+,-./:=?", c) != NULL;
}

static int value_ok(const struct tc_der_elem *e)
{
	if (e->val_len == 0)
		return 0;
	for (size_t i = 0; i < e->val_len; i++)
		if (e->val[i] < 0x20 || e->val[i] == 0x7f) /* NUL and the other controls: never in a name */
			return 0;
	switch (e->tag) {
	case TC_DER_UTF8STRING:
		return tc_utf8_valid(e->val, e->val_len);
	case TC_DER_PRINTABLESTRING:
		for (size_t i = 0; i < e->val_len; i++)
			if (!printable(e->val[i]))
				return 0;
		return 1;
	case TC_DER_IA5STRING:
		for (size_t i = 0; i < e->val_len; i++)
			if (e->val[i] > 0x7f)
				return 0;
		return 1;
	default:
		return 0; /* Teletex, BMP, Universal: we never write them */
	}
}

int tc_lint_name(const struct tc_der_elem *name, const char *which, struct tc_lint_result *res)
{
	static const uint8_t cn_oid[] = {0x55, 0x04, 0x03};
	struct tc_der_cursor rdns = tc_der_inside(name);
	struct tc_der_elem rdn;
	int rc;
	while ((rc = tc_der_next(&rdns, &rdn)) == TC_DER_OK) {
		if (rdn.tag != TC_DER_SET || rdn.val_len == 0)
			return tc_lint_fail(res, TC_LINT_NAME_ENCODING, "%s: an RDN is not a non-empty SET", which);
		struct tc_der_cursor avas = tc_der_inside(&rdn);
		struct tc_der_elem ava;
		int arc;
		while ((arc = tc_der_next(&avas, &ava)) == TC_DER_OK) {
			struct tc_der_cursor c = tc_der_inside(&ava);
			struct tc_der_elem type, value;
			if (ava.tag != TC_DER_SEQUENCE || tc_der_expect(&c, TC_DER_OID, &type) != TC_DER_OK ||
			    !tc_der_oid_valid(&type) || tc_der_next(&c, &value) != TC_DER_OK || !tc_der_at_end(&c))
				return tc_lint_fail(res, TC_LINT_NAME_ENCODING, "%s: malformed attribute", which);
			if (!value_ok(&value))
				return tc_lint_fail(res, TC_LINT_NAME_ENCODING,
						    "%s: an attribute value is empty, holds a control byte or "
						    "bytes outside its string type",
						    which);
			if (TC_DER_OID_IS(&type, cn_oid) && value.val_len > 64)
				return tc_lint_fail(res, TC_LINT_NAME_ENCODING, "%s: commonName over 64 octets", which);
		}
		if (arc != TC_DER_END)
			return tc_lint_fail(res, TC_LINT_NAME_ENCODING, "%s: malformed RDN", which);
	}
	if (rc != TC_DER_END)
		return tc_lint_fail(res, TC_LINT_NAME_ENCODING, "%s: malformed Name", which);
	return 0;
}

int tc_lint_dns_name(const struct tc_der_elem *gn, int *wildcard, struct tc_lint_result *res)
{
	*wildcard = 0;
	if (gn->val_len == 0)
		return tc_lint_fail(res, TC_LINT_SAN_EMPTY_NAME, "subjectAltName: empty dNSName");
	if (gn->val_len > 253)
		return tc_lint_fail(res, TC_LINT_SAN_BAD_DNS, "subjectAltName: dNSName over 253 octets");
	for (size_t i = 0; i < gn->val_len; i++)
		if (gn->val[i] < 0x21 || gn->val[i] > 0x7e)
			return tc_lint_fail(res, TC_LINT_SAN_BAD_DNS,
					    "subjectAltName: dNSName holds a NUL, a control byte, a space or non-ASCII");
	char name[256];
	memcpy(name, gn->val, gn->val_len);
	name[gn->val_len] = '\0';
	const char *base = name;
	if (strncmp(name, "*.", 2) == 0) {
		*wildcard = 1;
		base += 2;
	}
	/* A name is absolute in a certificate: no trailing dot. */
	if (strchr(base, '*') || name[gn->val_len - 1] == '.' || !tc_valid_dns_name(base))
		return tc_lint_fail(res, TC_LINT_SAN_BAD_DNS, "subjectAltName: dNSName %s is not a host name", name);
	return 0;
}
