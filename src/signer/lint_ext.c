/* Extension lints (RFC 5280 4.2, RFC 6962 3.1/3.3): which extensions each
 * profile may and must carry, their criticality, and each value's DER
 * structure and meaning. */
#include <stdio.h>
#include <string.h>

#include "signer/lint_internal.h"
#include "signer/tbs_template.h"

enum crit { CRIT_NEVER, CRIT_ALWAYS, CRIT_SAN };

#define P_LEAF (1u << TC_LINT_LEAF)
#define P_PRE (1u << TC_LINT_PRECERT)
#define P_SUB (1u << TC_LINT_SUB_CA)
#define P_ROOT (1u << TC_LINT_ROOT)
#define P_CROSS (1u << TC_LINT_CROSS)
#define P_EE (P_LEAF | P_PRE)
#define P_ALL (P_EE | P_SUB | P_ROOT | P_CROSS)

enum ext_id { X_SKI, X_KU, X_SAN, X_BC, X_NC, X_CDP, X_AKI, X_EKU, X_AIA, X_POISON, X_SCTS, X_COUNT };

static const struct known {
	uint8_t oid[10];
	size_t oid_len;
	const char *name;
	unsigned profiles; /* where it may appear */
	unsigned required; /* where it must */
	enum crit crit;
} KNOWN[X_COUNT] = {
	[X_SKI] = {{0x55, 0x1d, 0x0e}, 3, "subjectKeyIdentifier", P_ALL, P_ALL, CRIT_NEVER},
	[X_KU] = {{0x55, 0x1d, 0x0f}, 3, "keyUsage", P_ALL, P_ALL, CRIT_ALWAYS},
	[X_SAN] = {{0x55, 0x1d, 0x11}, 3, "subjectAltName", P_EE, P_EE, CRIT_SAN},
	[X_BC] = {{0x55, 0x1d, 0x13}, 3, "basicConstraints", P_ALL, P_ALL, CRIT_ALWAYS},
	[X_NC] = {{0x55, 0x1d, 0x1e}, 3, "nameConstraints", P_SUB, 0, CRIT_ALWAYS},
	[X_CDP] = {{0x55, 0x1d, 0x1f}, 3, "cRLDistributionPoints", P_EE | P_SUB | P_CROSS, 0, CRIT_NEVER},
	[X_AKI] = {{0x55, 0x1d, 0x23}, 3, "authorityKeyIdentifier", P_ALL, P_EE | P_SUB | P_CROSS, CRIT_NEVER},
	[X_EKU] = {{0x55, 0x1d, 0x25}, 3, "extKeyUsage", P_EE | P_SUB, P_EE, CRIT_NEVER},
	[X_AIA] = {{0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01}, 8, "authorityInfoAccess", P_EE | P_SUB | P_CROSS, 0,
		   CRIT_NEVER},
	[X_POISON] = {{0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03}, 10, "CT poison", P_PRE, P_PRE,
		      CRIT_ALWAYS},
	[X_SCTS] = {{0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02}, 10, "CT SCT list", P_LEAF, 0,
		    CRIT_NEVER},
};

static const char *const MISSING_LINT[X_COUNT] = {
	[X_SKI] = TC_LINT_SKI_MISSING, [X_KU] = TC_LINT_KU_MISSING, [X_SAN] = TC_LINT_SAN_MISSING,
	[X_BC] = TC_LINT_BC_MISSING,   [X_AKI] = TC_LINT_AKI_MISSING, [X_EKU] = TC_LINT_EKU,
	[X_POISON] = TC_LINT_CT_POISON,
};

static int known_index(const struct tc_der_elem *oid)
{
	for (int i = 0; i < X_COUNT; i++)
		if (tc_der_oid_is(oid, KNOWN[i].oid, KNOWN[i].oid_len))
			return i;
	return -1;
}

/* Every lint of one extension's value gets the value and the context. */
struct ctx {
	const struct tc_tbs_view *v;
	enum tc_lint_profile profile;
	enum tc_lint_key key;
	const struct tc_lint_issuer *issuer;
	const struct tc_policy *policy;
	struct tc_lint_result *res;
};

/* The next element of a SEQUENCE OF tag: TC_DER_OK, TC_DER_END after the
 * last, TC_DER_MALFORMED for anything else. */
static int next_of(struct tc_der_cursor *c, uint8_t tag, struct tc_der_elem *out)
{
	int rc = tc_der_next(c, out);
	return rc == TC_DER_OK && out->tag != tag ? TC_DER_MALFORMED : rc;
}

static int bad_encoding(struct ctx *x, int id)
{
	return tc_lint_fail(x->res, TC_LINT_EXT_ENCODING, "%s: extnValue is not its DER structure", KNOWN[id].name);
}

static int lint_bc(struct ctx *x, const struct tc_der_elem *value)
{
	struct tc_der_elem seq, ca, pathlen;
	if (tc_der_whole(value->val, value->val_len, TC_DER_SEQUENCE, &seq) != TC_DER_OK)
		return bad_encoding(x, X_BC);
	struct tc_der_cursor c = tc_der_inside(&seq);
	int has_ca = tc_der_optional(&c, TC_DER_BOOLEAN, &ca);
	int has_pl = has_ca == TC_DER_MALFORMED ? TC_DER_MALFORMED : tc_der_optional(&c, TC_DER_INTEGER, &pathlen);
	/* DER: cA DEFAULT FALSE is left out when false; TRUE is 0xff. */
	if (has_ca == TC_DER_MALFORMED || has_pl == TC_DER_MALFORMED || !tc_der_at_end(&c) ||
	    (has_ca == TC_DER_OK && (ca.val_len != 1 || ca.val[0] != 0xff)) ||
	    (has_pl == TC_DER_OK && (!tc_der_integer_valid(&pathlen) || (pathlen.val[0] & 0x80))))
		return bad_encoding(x, X_BC);
	int is_ca = has_ca == TC_DER_OK;
	switch (x->profile) {
	case TC_LINT_LEAF:
	case TC_LINT_PRECERT:
		if (is_ca || has_pl == TC_DER_OK)
			return tc_lint_fail(x->res, TC_LINT_BC_CA, "basicConstraints: cA TRUE or pathLen on a leaf");
		return 0;
	case TC_LINT_SUB_CA:
		/* The issuing intermediate signs leaves only. */
		if (!is_ca || has_pl != TC_DER_OK || pathlen.val_len != 1 || pathlen.val[0] != 0)
			return tc_lint_fail(x->res, TC_LINT_BC_CA, "basicConstraints: the intermediate needs cA TRUE, "
								    "pathLen 0");
		return 0;
	default: /* a root, or a root's cross certificate: any path length */
		if (!is_ca)
			return tc_lint_fail(x->res, TC_LINT_BC_CA, "basicConstraints: a root needs cA TRUE");
		return 0;
	}
}

/* keyUsage bits, numbered as RFC 5280 4.2.1.3 does. */
enum { KU_DIGITAL_SIGNATURE = 0, KU_KEY_ENCIPHERMENT = 2, KU_KEY_AGREEMENT = 4, KU_KEY_CERT_SIGN = 5,
       KU_CRL_SIGN = 6 };

static int lint_ku(struct ctx *x, const struct tc_der_elem *value)
{
	struct tc_der_elem bits;
	if (tc_der_whole(value->val, value->val_len, TC_DER_BIT_STRING, &bits) != TC_DER_OK || bits.val_len < 2 ||
	    bits.val_len > 3 || bits.val[0] > 7)
		return bad_encoding(x, X_KU);
	/* DER named bit list (X.690 11.2.2): no trailing zero bit, so the
	 * last used bit is set and the unused ones are zero. */
	uint8_t last = bits.val[bits.val_len - 1], unused = bits.val[0];
	if (last == 0 || (last & ((1u << unused) - 1)) != 0 || !(last & (1u << unused)))
		return bad_encoding(x, X_KU);
	unsigned set = 0; /* bit n of set = KeyUsage bit n (the first octet's MSB is bit 0) */
	for (unsigned i = 0; i < 9; i++)
		if (1 + i / 8 < bits.val_len && (bits.val[1 + i / 8] & (0x80u >> (i % 8))))
			set |= 1u << i;
	unsigned allowed, needed;
	switch (x->profile) {
	case TC_LINT_LEAF:
	case TC_LINT_PRECERT:
		if (x->key == TC_LINT_KEY_EC) {
			allowed = 1u << KU_DIGITAL_SIGNATURE | 1u << KU_KEY_AGREEMENT;
			needed = 1u << KU_DIGITAL_SIGNATURE;
		} else {
			allowed = 1u << KU_DIGITAL_SIGNATURE | 1u << KU_KEY_ENCIPHERMENT;
			needed = 0;
		}
		break;
	default:
		allowed = 1u << KU_DIGITAL_SIGNATURE | 1u << KU_KEY_CERT_SIGN | 1u << KU_CRL_SIGN;
		needed = 1u << KU_KEY_CERT_SIGN;
		break;
	}
	if ((set & ~allowed) || (set & needed) != needed || set == 0)
		return tc_lint_fail(x->res, TC_LINT_KU_INCONSISTENT, "keyUsage 0x%03x does not fit a %s %s key", set,
				    x->profile <= TC_LINT_PRECERT ? "leaf's" : "CA's",
				    x->key == TC_LINT_KEY_EC ? "EC" : "RSA");
	return 0;
}

static int lint_eku(struct ctx *x, const struct tc_der_elem *value)
{
	static const uint8_t server_auth[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01};
	static const uint8_t client_auth[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02};
	struct tc_der_elem seq, oid;
	if (tc_der_whole(value->val, value->val_len, TC_DER_SEQUENCE, &seq) != TC_DER_OK || seq.val_len == 0)
		return bad_encoding(x, X_EKU);
	struct tc_der_cursor c = tc_der_inside(&seq);
	int rc;
	while ((rc = next_of(&c, TC_DER_OID, &oid)) == TC_DER_OK) {
		if (!tc_der_oid_valid(&oid))
			return bad_encoding(x, X_EKU);
		if (!TC_DER_OID_IS(&oid, server_auth) && !TC_DER_OID_IS(&oid, client_auth)) {
			char text[64];
			tc_der_oid_text(&oid, text, sizeof(text));
			return tc_lint_fail(x->res, TC_LINT_EKU, "extKeyUsage: %s is not serverAuth/clientAuth", text);
		}
	}
	return rc == TC_DER_END ? 0 : bad_encoding(x, X_EKU);
}

/* GeneralNames of a leaf: dNSName and iPAddress only. */
static int lint_san(struct ctx *x, const struct tc_der_elem *value)
{
	struct tc_der_elem seq, gn;
	if (tc_der_whole(value->val, value->val_len, TC_DER_SEQUENCE, &seq) != TC_DER_OK)
		return bad_encoding(x, X_SAN);
	if (seq.val_len == 0)
		return tc_lint_fail(x->res, TC_LINT_SAN_MISSING, "subjectAltName: no name");
	struct tc_der_cursor c = tc_der_inside(&seq);
	int rc;
	while ((rc = tc_der_next(&c, &gn)) == TC_DER_OK) {
		if (gn.tag == TC_SAN_DNS) {
			int wildcard;
			if (tc_lint_dns_name(&gn, &wildcard, x->res) != 0)
				return -1;
			if (!x->policy)
				continue;
			/* tc_lint_dns_name checked the syntax; no NUL, at most 253 octets. */
			char name[256], why[384];
			const char *reason;
			memcpy(name, gn.val, gn.val_len);
			name[gn.val_len] = '\0';
			if (tc_policy_check_dns_name(x->policy, name, &reason, why, sizeof(why)) != 0)
				return tc_lint_fail(x->res, TC_LINT_POLICY_NAME, "subjectAltName: %s", why);
		} else if (gn.tag == TC_SAN_IP) {
			if (gn.val_len != 4 && gn.val_len != 16)
				return tc_lint_fail(x->res, TC_LINT_SAN_BAD_IP, "subjectAltName: iPAddress of %zu octets",
						    gn.val_len);
			char why[384];
			const char *reason;
			if (x->policy && tc_policy_check_ip(x->policy, gn.val, gn.val_len, &reason, why, sizeof(why)) != 0)
				return tc_lint_fail(x->res, TC_LINT_POLICY_NAME, "%s", why);
		} else {
			return tc_lint_fail(x->res, TC_LINT_SAN_TYPE, "subjectAltName: GeneralName [%u] in a leaf",
					    gn.tag & 0x1fu);
		}
	}
	return rc == TC_DER_END ? 0 : bad_encoding(x, X_SAN);
}

static int lint_ski(struct ctx *x, const struct tc_der_elem *value)
{
	struct tc_der_elem id;
	if (tc_der_whole(value->val, value->val_len, TC_DER_OCTET_STRING, &id) != TC_DER_OK)
		return bad_encoding(x, X_SKI);
	if (id.val_len == 0 || id.val_len > 64)
		return tc_lint_fail(x->res, TC_LINT_SKI_MISSING, "subjectKeyIdentifier: %zu octets", id.val_len);
	return 0;
}

static int lint_aki(struct ctx *x, const struct tc_der_elem *value)
{
	struct tc_der_elem seq, kid;
	if (tc_der_whole(value->val, value->val_len, TC_DER_SEQUENCE, &seq) != TC_DER_OK)
		return bad_encoding(x, X_AKI);
	struct tc_der_cursor c = tc_der_inside(&seq);
	int rc = tc_der_optional(&c, TC_DER_CONTEXT_PRIM(0), &kid);
	if (rc == TC_DER_MALFORMED)
		return bad_encoding(x, X_AKI);
	if (rc != TC_DER_OK || kid.val_len == 0)
		return tc_lint_fail(x->res, TC_LINT_AKI_MISSING, "authorityKeyIdentifier: no keyIdentifier");
	struct tc_der_elem rest;
	while ((rc = tc_der_next(&c, &rest)) == TC_DER_OK)
		if (rest.tag != TC_DER_CONTEXT(1) && rest.tag != TC_DER_CONTEXT_PRIM(2))
			return bad_encoding(x, X_AKI);
	if (rc != TC_DER_END)
		return bad_encoding(x, X_AKI);
	if (x->issuer && x->issuer->key_id &&
	    (kid.val_len != x->issuer->key_id_len || memcmp(kid.val, x->issuer->key_id, kid.val_len) != 0))
		return tc_lint_fail(x->res, TC_LINT_AKI_MISMATCH, "authorityKeyIdentifier: not the issuer's key");
	return 0;
}

/* GeneralSubtree ::= SEQUENCE { base GeneralName, minimum [0] DEFAULT 0,
 * maximum [1] OPTIONAL }; RFC 5280 4.2.1.10: minimum 0 (so absent in DER),
 * maximum absent. Bases: non-empty dNSNames, iPAddress address+mask with a
 * contiguous mask. */
static int lint_subtrees(struct ctx *x, const struct tc_der_elem *trees)
{
	struct tc_der_cursor c = tc_der_inside(trees);
	struct tc_der_elem tree, base;
	int rc, n = 0;
	while ((rc = next_of(&c, TC_DER_SEQUENCE, &tree)) == TC_DER_OK) {
		struct tc_der_cursor tc = tc_der_inside(&tree);
		if (tc_der_next(&tc, &base) != TC_DER_OK || !tc_der_at_end(&tc))
			return tc_lint_fail(x->res, TC_LINT_NAME_CONSTRAINTS, "nameConstraints: subtree with minimum/"
										 "maximum or malformed");
		if (base.tag == TC_SAN_DNS) {
			int wildcard;
			if (tc_lint_dns_name(&base, &wildcard, x->res) != 0 || wildcard)
				return tc_lint_fail(x->res, TC_LINT_NAME_CONSTRAINTS, "nameConstraints: bad dNSName base");
		} else if (base.tag == TC_SAN_IP) {
			if (base.val_len != 8 && base.val_len != 32)
				return tc_lint_fail(x->res, TC_LINT_NAME_CONSTRAINTS,
						    "nameConstraints: iPAddress base is not address and mask");
			const uint8_t *mask = base.val + base.val_len / 2;
			int zero_seen = 0;
			for (size_t i = 0; i < base.val_len / 2; i++)
				for (int b = 7; b >= 0; b--) {
					int bit = (mask[i] >> b) & 1;
					if (bit && zero_seen)
						return tc_lint_fail(x->res, TC_LINT_NAME_CONSTRAINTS,
								    "nameConstraints: non-contiguous mask");
					zero_seen |= !bit;
				}
		} else if (base.tag != TC_DER_CONTEXT(4) && base.tag != TC_DER_CONTEXT_PRIM(1) &&
			   base.tag != TC_DER_CONTEXT_PRIM(6)) {
			return tc_lint_fail(x->res, TC_LINT_NAME_CONSTRAINTS, "nameConstraints: unsupported base [%u]",
					    base.tag & 0x1fu);
		}
		n++;
	}
	if (rc != TC_DER_END || n == 0)
		return tc_lint_fail(x->res, TC_LINT_NAME_CONSTRAINTS, "nameConstraints: empty or malformed subtrees");
	return 0;
}

static int lint_nc(struct ctx *x, const struct tc_der_elem *value)
{
	struct tc_der_elem seq, trees;
	if (tc_der_whole(value->val, value->val_len, TC_DER_SEQUENCE, &seq) != TC_DER_OK)
		return bad_encoding(x, X_NC);
	struct tc_der_cursor c = tc_der_inside(&seq);
	int n = 0, rc;
	if ((rc = tc_der_optional(&c, TC_DER_CONTEXT(0), &trees)) == TC_DER_OK && ++n && lint_subtrees(x, &trees) != 0)
		return -1;
	if (rc == TC_DER_MALFORMED)
		return bad_encoding(x, X_NC);
	if ((rc = tc_der_optional(&c, TC_DER_CONTEXT(1), &trees)) == TC_DER_OK && ++n && lint_subtrees(x, &trees) != 0)
		return -1;
	if (rc == TC_DER_MALFORMED || !tc_der_at_end(&c))
		return bad_encoding(x, X_NC);
	if (n == 0) /* RFC 5280 4.2.1.10: MUST NOT be an empty sequence */
		return tc_lint_fail(x->res, TC_LINT_NAME_CONSTRAINTS, "nameConstraints: no subtrees");
	return 0;
}

/* A uniformResourceIdentifier a relying party fetches over plain HTTP
 * (RFC 5280 4.2.1.13 / 4.2.2.1: CRLs and certificates are signed, so no
 * TLS is needed, and TLS would need them first). */
static int lint_uri(struct ctx *x, const struct tc_der_elem *gn, const char *what)
{
	if (gn->tag != TC_DER_CONTEXT_PRIM(6) || gn->val_len <= 7 || memcmp(gn->val, "http://", 7) != 0)
		return tc_lint_fail(x->res, TC_LINT_URL, "%s: not an http:// URI", what);
	for (size_t i = 0; i < gn->val_len; i++)
		if (gn->val[i] <= 0x20 || gn->val[i] >= 0x7f)
			return tc_lint_fail(x->res, TC_LINT_URL, "%s: URI with a space, control byte or non-ASCII", what);
	return 0;
}

/* CRLDistributionPoints ::= SEQUENCE OF SEQUENCE { distributionPoint [0]
 * { fullName [0] GeneralNames } }: what we write, nothing else. */
static int lint_cdp(struct ctx *x, const struct tc_der_elem *value)
{
	struct tc_der_elem seq, dp, dpn, full, gn;
	if (tc_der_whole(value->val, value->val_len, TC_DER_SEQUENCE, &seq) != TC_DER_OK || seq.val_len == 0)
		return bad_encoding(x, X_CDP);
	struct tc_der_cursor c = tc_der_inside(&seq);
	int rc;
	while ((rc = next_of(&c, TC_DER_SEQUENCE, &dp)) == TC_DER_OK) {
		struct tc_der_cursor d = tc_der_inside(&dp);
		if (tc_der_expect(&d, TC_DER_CONTEXT(0), &dpn) != TC_DER_OK || !tc_der_at_end(&d))
			return bad_encoding(x, X_CDP);
		struct tc_der_cursor n = tc_der_inside(&dpn);
		if (tc_der_expect(&n, TC_DER_CONTEXT(0), &full) != TC_DER_OK || !tc_der_at_end(&n) || full.val_len == 0)
			return bad_encoding(x, X_CDP);
		struct tc_der_cursor g = tc_der_inside(&full);
		int grc;
		while ((grc = tc_der_next(&g, &gn)) == TC_DER_OK)
			if (lint_uri(x, &gn, "cRLDistributionPoints") != 0)
				return -1;
		if (grc != TC_DER_END)
			return bad_encoding(x, X_CDP);
	}
	return rc == TC_DER_END ? 0 : bad_encoding(x, X_CDP);
}

/* AuthorityInfoAccessSyntax ::= SEQUENCE OF SEQUENCE { accessMethod OID,
 * accessLocation GeneralName }. */
static int lint_aia(struct ctx *x, const struct tc_der_elem *value)
{
	struct tc_der_elem seq, ad, method, loc;
	if (tc_der_whole(value->val, value->val_len, TC_DER_SEQUENCE, &seq) != TC_DER_OK || seq.val_len == 0)
		return bad_encoding(x, X_AIA);
	struct tc_der_cursor c = tc_der_inside(&seq);
	int rc;
	while ((rc = next_of(&c, TC_DER_SEQUENCE, &ad)) == TC_DER_OK) {
		struct tc_der_cursor a = tc_der_inside(&ad);
		if (tc_der_expect(&a, TC_DER_OID, &method) != TC_DER_OK || !tc_der_oid_valid(&method) ||
		    tc_der_next(&a, &loc) != TC_DER_OK || !tc_der_at_end(&a))
			return bad_encoding(x, X_AIA);
		if (lint_uri(x, &loc, "authorityInfoAccess") != 0)
			return -1;
	}
	return rc == TC_DER_END ? 0 : bad_encoding(x, X_AIA);
}

static int lint_value(struct ctx *x, int id, const struct tc_der_elem *value)
{
	struct tc_der_elem inner;
	switch (id) {
	case X_BC: return lint_bc(x, value);
	case X_KU: return lint_ku(x, value);
	case X_EKU: return lint_eku(x, value);
	case X_SAN: return lint_san(x, value);
	case X_SKI: return lint_ski(x, value);
	case X_AKI: return lint_aki(x, value);
	case X_NC: return lint_nc(x, value);
	case X_CDP: return lint_cdp(x, value);
	case X_AIA: return lint_aia(x, value);
	case X_POISON:
		if (value->val_len != 2 || value->val[0] != TC_DER_NULL || value->val[1] != 0)
			return tc_lint_fail(x->res, TC_LINT_CT_POISON, "CT poison: extnValue is not NULL");
		return 0;
	case X_SCTS:
		return tc_der_whole(value->val, value->val_len, TC_DER_OCTET_STRING, &inner) == TC_DER_OK &&
				       inner.val_len > 0
			       ? 0
			       : bad_encoding(x, X_SCTS);
	default: return 0;
	}
}

int tc_lint_extensions(const struct tc_tbs_view *v, enum tc_lint_profile profile, enum tc_lint_key key,
		       const struct tc_lint_issuer *issuer, const struct tc_policy *policy,
		       struct tc_lint_result *res)
{
	struct ctx x = {.v = v, .profile = profile, .key = key, .issuer = issuer, .policy = policy, .res = res};
	unsigned seen = 0, me = 1u << profile;
	struct tc_der_cursor c = tc_der_inside(&v->extensions);
	struct tc_ext_view e;
	int rc;
	if (tc_der_at_end(&c)) /* DER has no empty extensions field */
		return tc_lint_fail(res, TC_LINT_EXT_MISSING, "empty extensions");
	while ((rc = tc_ext_next(&c, &e)) == TC_DER_OK) {
		char oid[80];
		tc_der_oid_text(&e.oid, oid, sizeof(oid));
		struct tc_der_cursor later = c;
		struct tc_ext_view other;
		while (tc_ext_next(&later, &other) == TC_DER_OK)
			if (other.oid.val_len == e.oid.val_len && memcmp(other.oid.val, e.oid.val, e.oid.val_len) == 0)
				return tc_lint_fail(res, TC_LINT_EXT_DUPLICATE, "extension %s appears twice", oid);
		int id = known_index(&e.oid);
		if (id < 0)
			return tc_lint_fail(res, e.critical ? TC_LINT_EXT_UNKNOWN_CRITICAL : TC_LINT_EXT_NOT_ALLOWED,
					    "extension %s%s is not one we issue", oid, e.critical ? " (critical)" : "");
		if (!(KNOWN[id].profiles & me))
			return tc_lint_fail(res, id == X_POISON ? TC_LINT_CT_POISON : TC_LINT_EXT_NOT_ALLOWED,
					    "%s does not belong in this certificate", KNOWN[id].name);
		/* RFC 5280 4.2.1.6: SAN critical exactly when the subject is empty. */
		int want = KNOWN[id].crit == CRIT_ALWAYS ? 1 : KNOWN[id].crit == CRIT_SAN ? v->subject.val_len == 0 : 0;
		if (e.critical != want)
			return tc_lint_fail(res, TC_LINT_EXT_CRITICALITY, "%s must %sbe critical", KNOWN[id].name,
					    want ? "" : "not ");
		if (lint_value(&x, id, &e.value) != 0)
			return -1;
		seen |= 1u << id;
	}
	if (rc != TC_DER_END)
		return tc_lint_fail(res, TC_LINT_TBS_MALFORMED, "malformed extension");
	for (int id = 0; id < X_COUNT; id++)
		if ((KNOWN[id].required & me) && !(seen & (1u << id)))
			return tc_lint_fail(res, MISSING_LINT[id], "%s is missing", KNOWN[id].name);
	return 0;
}
