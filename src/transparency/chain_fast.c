/* The fast submission check; see chain_fast.h. Every test below is one
 * OpenSSL's path makes too (or a stricter form of it): failing any of them
 * only means "let OpenSSL decide". */
#include "transparency/chain_fast.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cert_der.h"
#include "common/der_key.h"
#include "common/utf8.h"

enum ext_kind {
	EXT_BASIC_CONSTRAINTS,
	EXT_KEY_USAGE,
	EXT_EXT_KEY_USAGE,
	EXT_SUBJECT_KEY_ID,
	EXT_AUTHORITY_KEY_ID,
	EXT_SUBJECT_ALT_NAME,
	EXT_POISON,
	EXT_SCT_LIST,
	EXT_CRL_DIST_POINTS,
	EXT_AUTHORITY_INFO_ACCESS,
	EXT_UNKNOWN,
};

static const uint8_t OID_BASIC_CONSTRAINTS[] = {0x55, 0x1d, 0x13};
static const uint8_t OID_KEY_USAGE[] = {0x55, 0x1d, 0x0f};
static const uint8_t OID_EXT_KEY_USAGE[] = {0x55, 0x1d, 0x25};
static const uint8_t OID_SUBJECT_KEY_ID[] = {0x55, 0x1d, 0x0e};
static const uint8_t OID_AUTHORITY_KEY_ID[] = {0x55, 0x1d, 0x23};
static const uint8_t OID_SUBJECT_ALT_NAME[] = {0x55, 0x1d, 0x11};
static const uint8_t OID_CRL_DIST_POINTS[] = {0x55, 0x1d, 0x1f};
static const uint8_t OID_AUTHORITY_INFO_ACCESS[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01};

static enum ext_kind ext_kind(const struct tc_der_elem *oid)
{
	if (TC_DER_OID_IS(oid, OID_BASIC_CONSTRAINTS))
		return EXT_BASIC_CONSTRAINTS;
	if (TC_DER_OID_IS(oid, OID_KEY_USAGE))
		return EXT_KEY_USAGE;
	if (TC_DER_OID_IS(oid, OID_EXT_KEY_USAGE))
		return EXT_EXT_KEY_USAGE;
	if (TC_DER_OID_IS(oid, OID_SUBJECT_KEY_ID))
		return EXT_SUBJECT_KEY_ID;
	if (TC_DER_OID_IS(oid, OID_AUTHORITY_KEY_ID))
		return EXT_AUTHORITY_KEY_ID;
	if (TC_DER_OID_IS(oid, OID_SUBJECT_ALT_NAME))
		return EXT_SUBJECT_ALT_NAME;
	if (TC_DER_OID_IS(oid, TC_OID_CT_POISON))
		return EXT_POISON;
	if (TC_DER_OID_IS(oid, TC_OID_CT_SCT_LIST))
		return EXT_SCT_LIST;
	if (TC_DER_OID_IS(oid, OID_CRL_DIST_POINTS))
		return EXT_CRL_DIST_POINTS;
	if (TC_DER_OID_IS(oid, OID_AUTHORITY_INFO_ACCESS))
		return EXT_AUTHORITY_INFO_ACCESS;
	return EXT_UNKNOWN;
}

static int same_bytes(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* ---- field contents OpenSSL's decoder looks into ---- */

/* An OBJECT IDENTIFIER's contents as c2i_ASN1_OBJECT accepts them. */
static int oid_ok(const struct tc_der_elem *e)
{
	if (e->tag != TC_DER_OID || e->val_len == 0 || (e->val[e->val_len - 1] & 0x80))
		return 0;
	for (size_t i = 0; i < e->val_len; i++)
		if (e->val[i] == 0x80 && (i == 0 || !(e->val[i - 1] & 0x80)))
			return 0; /* a sub-identifier with a leading zero septet */
	return 1;
}

/* An INTEGER in the fewest octets (c2i_ASN1_INTEGER refuses padding). */
static int integer_ok(const struct tc_der_elem *e, int non_negative)
{
	if (e->tag != TC_DER_INTEGER || e->val_len == 0)
		return 0;
	if (non_negative && (e->val[0] & 0x80))
		return 0;
	if (e->val_len > 1 && ((e->val[0] == 0x00 && !(e->val[1] & 0x80)) || (e->val[0] == 0xff && (e->val[1] & 0x80))))
		return 0;
	return 1;
}

/* A Name made of attributes with plain string values: SEQUENCE OF
 * non-empty SET OF SEQUENCE { OID, PrintableString | IA5String |
 * UTF8String }. Other value types are left to OpenSSL's decoder. */
static int name_ok(const struct tc_der_elem *name)
{
	struct tc_der_cursor rdns = tc_der_inside(name);
	struct tc_der_elem rdn;
	int rc;
	while ((rc = tc_der_next(&rdns, &rdn)) == TC_DER_OK) {
		struct tc_der_cursor atvs = tc_der_inside(&rdn);
		struct tc_der_elem atv;
		if (rdn.tag != TC_DER_SET || tc_der_at_end(&atvs))
			return 0;
		while ((rc = tc_der_next(&atvs, &atv)) == TC_DER_OK) {
			struct tc_der_cursor c = tc_der_inside(&atv);
			if (atv.tag != TC_DER_SEQUENCE)
				return 0;
			struct tc_der_elem type, value;
			if (tc_der_expect(&c, TC_DER_OID, &type) != TC_DER_OK || !oid_ok(&type) ||
			    tc_der_next(&c, &value) != TC_DER_OK || !tc_der_at_end(&c))
				return 0;
			if (value.tag == TC_DER_UTF8STRING) {
				if (!tc_utf8_valid(value.val, value.val_len))
					return 0;
			} else if (value.tag != TC_DER_PRINTABLESTRING && value.tag != TC_DER_IA5STRING) {
				return 0;
			}
		}
		if (rc != TC_DER_END)
			return 0;
	}
	return rc == TC_DER_END;
}

/* UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ (RFC 5280
 * 4.1.2.5); the log never judges the dates themselves. */
static int time_ok(const struct tc_der_elem *t)
{
	size_t digits = t->tag == TC_DER_UTCTIME ? 12 : 14;
	if (t->val_len != digits + 1 || t->val[digits] != 'Z')
		return 0;
	for (size_t i = 0; i < digits; i++)
		if (t->val[i] < '0' || t->val[i] > '9')
			return 0;
	return 1;
}

/* ---- extensions ---- */

/* BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLen INTEGER (0..MAX) OPTIONAL } */
static int basic_constraints_ok(const struct tc_der_elem *v)
{
	struct tc_der_elem seq, e;
	if (tc_der_whole(v->val, v->val_len, TC_DER_SEQUENCE, &seq) != TC_DER_OK)
		return 0;
	struct tc_der_cursor c = tc_der_inside(&seq);
	int rc = tc_der_optional(&c, TC_DER_BOOLEAN, &e);
	if (rc == TC_DER_MALFORMED || (rc == TC_DER_OK && (e.val_len != 1 || e.val[0] != 0xff)))
		return 0;
	rc = tc_der_optional(&c, TC_DER_INTEGER, &e);
	if (rc == TC_DER_MALFORMED || (rc == TC_DER_OK && !integer_ok(&e, 1)))
		return 0;
	return tc_der_at_end(&c);
}

/* KeyUsage BIT STRING with at least one of the bits OpenSSL caches set (an
 * empty key usage makes the certificate invalid to OpenSSL). */
static int key_usage_ok(const struct tc_der_elem *v)
{
	struct tc_der_elem bits;
	if (tc_der_whole(v->val, v->val_len, TC_DER_BIT_STRING, &bits) != TC_DER_OK || bits.val_len < 2 ||
	    bits.val[0] > 7)
		return 0;
	size_t n = bits.val_len - 1;
	uint8_t last_mask = (uint8_t)(0xff << bits.val[0]);
	uint8_t b0 = bits.val[1] & (n == 1 ? last_mask : 0xff);
	uint8_t b1 = n >= 2 ? bits.val[2] & (n == 2 ? last_mask : 0xff) : 0;
	return (b0 | b1) != 0;
}

/* ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId */
static int ext_key_usage_ok(const struct tc_der_elem *v)
{
	struct tc_der_elem seq, oid;
	if (tc_der_whole(v->val, v->val_len, TC_DER_SEQUENCE, &seq) != TC_DER_OK || seq.val_len == 0)
		return 0;
	struct tc_der_cursor c = tc_der_inside(&seq);
	int rc;
	while ((rc = tc_der_next(&c, &oid)) == TC_DER_OK)
		if (!oid_ok(&oid))
			return 0;
	return rc == TC_DER_END;
}

/* A GeneralName of the kinds a leaf carries: rfc822Name, dNSName, URI
 * (IA5String) and iPAddress (OCTET STRING), all [n] IMPLICIT primitive. */
static int general_name_ok(const struct tc_der_elem *gn)
{
	return gn->tag == TC_DER_CONTEXT_PRIM(1) || gn->tag == TC_DER_CONTEXT_PRIM(2) ||
	       gn->tag == TC_DER_CONTEXT_PRIM(6) || gn->tag == TC_DER_CONTEXT_PRIM(7);
}

/* GeneralNames (non-empty) inside the element names, of those kinds. */
static int general_names_ok(const struct tc_der_elem *names)
{
	struct tc_der_cursor c = tc_der_inside(names);
	struct tc_der_elem gn;
	int rc;
	if (tc_der_at_end(&c))
		return 0;
	while ((rc = tc_der_next(&c, &gn)) == TC_DER_OK)
		if (!general_name_ok(&gn))
			return 0;
	return rc == TC_DER_END;
}

static int subject_alt_name_ok(const struct tc_der_elem *v)
{
	struct tc_der_elem seq;
	return tc_der_whole(v->val, v->val_len, TC_DER_SEQUENCE, &seq) == TC_DER_OK && general_names_ok(&seq);
}

/* cRLDistributionPoints as our signer writes it (issuer_urls.c): a
 * non-empty SEQUENCE OF DistributionPoint, each exactly
 * SEQUENCE { [0] { fullName [0] GeneralNames } } with no reasons or
 * cRLIssuer. OpenSSL decodes this extension while caching a certificate's
 * extensions and marks the certificate invalid when it cannot: anything
 * else is left to it. */
static int crl_dist_points_ok(const struct tc_der_elem *v)
{
	struct tc_der_elem seq, dp, dpname, full;
	if (tc_der_whole(v->val, v->val_len, TC_DER_SEQUENCE, &seq) != TC_DER_OK || seq.val_len == 0)
		return 0;
	struct tc_der_cursor c = tc_der_inside(&seq);
	int rc;
	while ((rc = tc_der_next(&c, &dp)) == TC_DER_OK) {
		if (dp.tag != TC_DER_SEQUENCE)
			return 0;
		struct tc_der_cursor d = tc_der_inside(&dp);
		if (tc_der_expect(&d, TC_DER_CONTEXT(0), &dpname) != TC_DER_OK || !tc_der_at_end(&d))
			return 0;
		struct tc_der_cursor n = tc_der_inside(&dpname);
		if (tc_der_expect(&n, TC_DER_CONTEXT(0), &full) != TC_DER_OK || !tc_der_at_end(&n) ||
		    !general_names_ok(&full))
			return 0;
	}
	return rc == TC_DER_END;
}

/* authorityInfoAccess: a non-empty SEQUENCE OF
 * SEQUENCE { accessMethod OID, accessLocation GeneralName }. Path
 * validation does not read it; the check keeps the fast path to the
 * shape our signer writes. */
static int authority_info_access_ok(const struct tc_der_elem *v)
{
	struct tc_der_elem seq, ad, method, location;
	if (tc_der_whole(v->val, v->val_len, TC_DER_SEQUENCE, &seq) != TC_DER_OK || seq.val_len == 0)
		return 0;
	struct tc_der_cursor c = tc_der_inside(&seq);
	int rc;
	while ((rc = tc_der_next(&c, &ad)) == TC_DER_OK) {
		if (ad.tag != TC_DER_SEQUENCE)
			return 0;
		struct tc_der_cursor a = tc_der_inside(&ad);
		if (tc_der_expect(&a, TC_DER_OID, &method) != TC_DER_OK || !oid_ok(&method) ||
		    tc_der_next(&a, &location) != TC_DER_OK || !general_name_ok(&location) || !tc_der_at_end(&a))
			return 0;
	}
	return rc == TC_DER_END;
}

/* AuthorityKeyIdentifier with a keyIdentifier only, equal to the
 * intermediate's subjectKeyIdentifier when it has one (X509_check_akid). */
static int authority_key_id_ok(const struct tc_chain_fast *f, const struct tc_der_elem *v)
{
	struct tc_der_elem seq, keyid;
	if (tc_der_whole(v->val, v->val_len, TC_DER_SEQUENCE, &seq) != TC_DER_OK)
		return 0;
	struct tc_der_cursor c = tc_der_inside(&seq);
	if (tc_der_expect(&c, TC_DER_CONTEXT_PRIM(0), &keyid) != TC_DER_OK || !tc_der_at_end(&c))
		return 0;
	return !f->inter_skid || same_bytes(keyid.val, keyid.val_len, f->inter_skid, f->inter_skid_len);
}

static int one_of(const struct tc_der_elem *v, uint8_t tag)
{
	struct tc_der_elem e;
	return tc_der_whole(v->val, v->val_len, tag, &e) == TC_DER_OK;
}

/* Checks every extension of the leaf; *poison is set for a precertificate.
 * 0 when all are understood and acceptable. */
static int extensions_ok(const struct tc_chain_fast *f, const struct tc_tbs_view *t, int precert,
			 struct tc_ext_view *poison)
{
	if (!t->has_extensions)
		return -1;
	unsigned seen = 0;
	struct tc_der_cursor c = tc_der_inside(&t->extensions);
	struct tc_ext_view ext;
	int rc;
	while ((rc = tc_ext_next(&c, &ext)) == TC_DER_OK) {
		enum ext_kind kind = ext_kind(&ext.oid);
		if (kind == EXT_UNKNOWN || (seen & (1u << kind)))
			return -1; /* unknown to this path, or repeated (invalid to OpenSSL) */
		seen |= 1u << kind;
		int ok = 0;
		switch (kind) {
		case EXT_BASIC_CONSTRAINTS:
			ok = basic_constraints_ok(&ext.value);
			break;
		case EXT_KEY_USAGE:
			ok = key_usage_ok(&ext.value);
			break;
		case EXT_EXT_KEY_USAGE:
			ok = ext_key_usage_ok(&ext.value);
			break;
		case EXT_SUBJECT_ALT_NAME:
			ok = subject_alt_name_ok(&ext.value);
			break;
		/* Not among the extensions X509_verify_cert handles: refused
		 * when critical. */
		case EXT_SUBJECT_KEY_ID:
			ok = !ext.critical && one_of(&ext.value, TC_DER_OCTET_STRING);
			break;
		case EXT_AUTHORITY_KEY_ID:
			ok = !ext.critical && authority_key_id_ok(f, &ext.value);
			break;
		case EXT_SCT_LIST:
			ok = !precert && !ext.critical && one_of(&ext.value, TC_DER_OCTET_STRING);
			break;
		case EXT_CRL_DIST_POINTS:
			ok = !ext.critical && crl_dist_points_ok(&ext.value);
			break;
		case EXT_AUTHORITY_INFO_ACCESS:
			ok = !ext.critical && authority_info_access_ok(&ext.value);
			break;
		case EXT_POISON: /* critical by RFC 6962; accepted at a precertificate's leaf */
			ok = precert && ext.value.val_len == 2 && ext.value.val[0] == TC_DER_NULL &&
			     ext.value.val[1] == 0;
			*poison = ext;
			break;
		default:
			break;
		}
		if (!ok)
			return -1;
	}
	if (rc != TC_DER_END)
		return -1;
	return precert == !!(seen & (1u << EXT_POISON)) ? 0 : -1;
}

/* ---- the leaf ---- */

static int tbs_fields_ok(const struct tc_chain_fast *f, const struct tc_tbs_view *t)
{
	/* v3 only; serial in DER; issued by the intermediate by name (its
	 * exact bytes); not self-issued (OpenSSL treats those apart). */
	return t->has_version && t->version.val_len == 1 && t->version.val[0] == 2 && integer_ok(&t->serial, 0) &&
	       same_bytes(t->issuer.tlv, t->issuer.tlv_len, f->inter_subject, f->inter_subject_len) &&
	       !same_bytes(t->subject.tlv, t->subject.tlv_len, t->issuer.tlv, t->issuer.tlv_len) &&
	       name_ok(&t->subject) && time_ok(&t->not_before) && time_ok(&t->not_after);
}

/* ---- name constraints ---- */

/* OpenSSL 3.0 refuses a name check with more names times constraints than
 * this (NAME_CHECK_MAX); the fast path stays well below it. */
#define NC_MAX_NAMES 1024
#define NC_MAX_TREES 1024

static const uint8_t OID_EMAIL_ADDRESS[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01};

/* Whether a dNSName of the leaf falls under base, as OpenSSL's nc_dns has
 * it: an empty base matches everything; otherwise the name ends with the
 * base (ASCII case folded) on a label boundary (or the base starts with a
 * dot). Called only on names of [A-Za-z0-9.*_-]. */
static int dns_under(const unsigned char *name, size_t len, const unsigned char *base, size_t blen)
{
	if (blen == 0)
		return 1;
	if (len < blen)
		return 0;
	const unsigned char *tail = name + len - blen;
	if (len > blen && base[0] != '.' && tail[-1] != '.')
		return 0;
	for (size_t i = 0; i < blen; i++) {
		unsigned char a = tail[i], b = base[i];
		if (a >= 'A' && a <= 'Z')
			a = (unsigned char)(a + 0x20);
		if (b >= 'A' && b <= 'Z')
			b = (unsigned char)(b + 0x20);
		if (a != b)
			return 0;
	}
	return 1;
}

/* An iPAddress (4 or 16 octets) inside base (address and mask), as
 * OpenSSL's nc_ip: never across families. */
static int ip_under(const unsigned char *ip, size_t len, const unsigned char *base, size_t blen)
{
	if (len * 2 != blen)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((ip[i] & base[len + i]) != (base[i] & base[len + i]))
			return 0;
	return 1;
}

static int tree_match(const struct tc_nc_tree *t, int type, const unsigned char *name, size_t len)
{
	return type == GEN_DNS ? dns_under(name, len, t->base, t->len) : ip_under(name, len, t->base, t->len);
}

/* OpenSSL's nc_match for one name and one CA: inside one permitted subtree
 * of its type when there are any, inside no excluded one. */
static int name_allowed(const struct tc_nc_set *s, int type, const unsigned char *name, size_t len)
{
	int have = 0, inside = 0;
	for (size_t i = 0; i < s->n_permitted && !inside; i++)
		if (s->permitted[i].type == type) {
			have = 1;
			inside = tree_match(&s->permitted[i], type, name, len);
		}
	if (have && !inside)
		return 0;
	for (size_t i = 0; i < s->n_excluded; i++)
		if (s->excluded[i].type == type && tree_match(&s->excluded[i], type, name, len))
			return 0;
	return 1;
}

static int dns_chars_ok(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') ||
		      p[i] == '.' || p[i] == '-' || p[i] == '*' || p[i] == '_'))
			return 0;
	return 1;
}

/* Whether the leaf is inside the CAs' nameConstraints the way
 * X509_verify_cert checks them, for the case the fast path models (only
 * dNSName and iPAddress subtrees, see tc_chain_fast_init): every dNSName
 * and iPAddress of its subjectAltName against every CA's constraints, at
 * least one dNSName (without one OpenSSL checks the subject's CN instead),
 * no emailAddress in the subject (OpenSSL checks those as rfc822Names). 1
 * when it is; 0 when it is outside or the case is not modelled (OpenSSL
 * then decides). */
static int names_within(const struct tc_chain_fast *f, const struct tc_tbs_view *t)
{
	if (f->n_nc == 0)
		return 1;
	size_t names = 0;
	struct tc_der_cursor rdns = tc_der_inside(&t->subject);
	struct tc_der_elem rdn, atv, type;
	while (tc_der_next(&rdns, &rdn) == TC_DER_OK) {
		struct tc_der_cursor atvs = tc_der_inside(&rdn);
		while (tc_der_next(&atvs, &atv) == TC_DER_OK) {
			struct tc_der_cursor c = tc_der_inside(&atv);
			if (tc_der_expect(&c, TC_DER_OID, &type) != TC_DER_OK || TC_DER_OID_IS(&type, OID_EMAIL_ADDRESS))
				return 0;
			names++;
		}
	}
	struct tc_ext_view san;
	struct tc_der_elem seq, gn;
	if (tc_tbs_find_ext(t, OID_SUBJECT_ALT_NAME, sizeof(OID_SUBJECT_ALT_NAME), &san) != 0 ||
	    tc_der_whole(san.value.val, san.value.val_len, TC_DER_SEQUENCE, &seq) != TC_DER_OK)
		return 0;
	size_t dns = 0;
	struct tc_der_cursor c = tc_der_inside(&seq);
	int rc;
	while ((rc = tc_der_next(&c, &gn)) == TC_DER_OK) {
		if (++names > NC_MAX_NAMES)
			return 0;
		int gtype;
		if (gn.tag == TC_DER_CONTEXT_PRIM(2)) {
			if (!dns_chars_ok(gn.val, gn.val_len))
				return 0;
			gtype = GEN_DNS;
			dns++;
		} else if (gn.tag == TC_DER_CONTEXT_PRIM(7)) {
			if (gn.val_len != 4 && gn.val_len != 16)
				return 0; /* OpenSSL: unsupported name syntax */
			gtype = GEN_IPADD;
		} else {
			continue; /* no subtrees of the other kinds (tc_chain_fast_init) */
		}
		for (size_t i = 0; i < f->n_nc; i++)
			if (!name_allowed(&f->nc[i], gtype, gn.val, gn.val_len))
				return 0;
	}
	return rc == TC_DER_END && dns > 0;
}

/* OpenSSL must be able to load the leaf's key (X509_verify_cert fails on
 * a certificate whose key it cannot decode). */
static int leaf_key_ok(const struct tc_tbs_view *t)
{
	EVP_PKEY *key = tc_spki_key(t->spki.tlv, t->spki.tlv_len, NULL, 0);
	EVP_PKEY_free(key);
	return key != NULL;
}

static void put24(unsigned char *p, size_t v)
{
	p[0] = (unsigned char)(v >> 16);
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)v;
}

/* The entry and extra_data exactly as chain_check.c's general path
 * encodes them (the verified chain always ends at the root). */
static int fill(const struct tc_chain_fast *f, int precert, const struct tc_tbs_view *t,
		const struct tc_ext_view *poison, const unsigned char *leaf, size_t leaf_len,
		struct tc_checked_chain *out)
{
	size_t lead = precert ? 3 + leaf_len : 0;
	if (!(out->extra = malloc(lead + f->extra_chain_len)))
		return -1;
	if (precert) {
		put24(out->extra, leaf_len);
		memcpy(out->extra + 3, leaf, leaf_len);
	}
	memcpy(out->extra + lead, f->extra_chain, f->extra_chain_len);
	out->extra_len = lead + f->extra_chain_len;
	size_t len = 0;
	if (precert) {
		if (tc_tbs_without_ext(t, poison, &out->owned, &len) != 0)
			return -1;
		out->entry.type = TC_CT_PRECERT_ENTRY;
		memcpy(out->entry.issuer_key_hash, f->issuer_key_hash, TC_CT_HASH_LEN);
	} else {
		if (!(out->owned = malloc(leaf_len)))
			return -1;
		memcpy(out->owned, leaf, leaf_len);
		len = leaf_len;
		out->entry.type = TC_CT_X509_ENTRY;
	}
	out->entry.cert = out->owned;
	out->entry.cert_len = len;
	out->fast = 1;
	return 0;
}

int tc_chain_fast_check(const struct tc_chain_fast *f, int precert, unsigned char *const *certs,
			const size_t *lens, size_t n, struct tc_checked_chain *out)
{
	memset(out, 0, sizeof(*out));
	if (!f->enabled || n < 2 || n > 3 || lens[0] > TC_CT_MAX_CERT_LEN ||
	    !same_bytes(certs[1], lens[1], f->inter_der, f->inter_len) ||
	    (n == 3 && !same_bytes(certs[2], lens[2], f->root_der, f->root_len)))
		return 0;
	struct tc_cert_view v;
	struct tc_ext_view poison;
	memset(&poison, 0, sizeof(poison));
	if (tc_cert_view_parse(certs[0], lens[0], &v, NULL, 0) != 0 || !tbs_fields_ok(f, &v.tbs) ||
	    extensions_ok(f, &v.tbs, precert, &poison) != 0 || !names_within(f, &v.tbs) || !leaf_key_ok(&v.tbs))
		return 0;
	int sig = tc_der_verify(f->issuer_key, &v.sig_alg, v.tbs.whole.tlv, v.tbs.whole.tlv_len, v.sig, v.sig_len,
				NULL, 0);
	if (sig != 1 || fill(f, precert, &v.tbs, &poison, certs[0], lens[0], out) != 0) {
		tc_checked_chain_free(out);
		return 0;
	}
	return 1;
}

/* ---- set-up ---- */

static int disable(struct tc_chain_fast *f, char *why, size_t whylen, const char *reason)
{
	f->enabled = 0;
	snprintf(why, whylen, "%s", reason);
	return 0;
}

/* Whether OpenSSL's path treats a leaf under inter (and root) only through
 * what the fast path reproduces: a plain CA intermediate allowed to sign
 * certificates, no RFC 3779 resources (name constraints: nc_load), no unhandled
 * critical extension, and the two verifying as a chain on their own. */
static const char *ca_unsupported(X509 *root, X509 *inter)
{
	X509 *both[2] = {root, inter};
	for (int i = 0; i < 2; i++) {
		uint32_t flags = X509_get_extension_flags(both[i]);
		if (flags & (EXFLAG_INVALID | EXFLAG_CRITICAL | EXFLAG_PROXY))
			return "a CA certificate has an invalid or unhandled critical extension";
		if (X509_get_ext_by_NID(both[i], NID_sbgp_ipAddrBlock, -1) >= 0 ||
		    X509_get_ext_by_NID(both[i], NID_sbgp_autonomousSysNum, -1) >= 0)
			return "a CA certificate has RFC 3779 resources";
	}
	if (X509_check_ca(inter) != 1)
		return "the intermediate is not a CA by its basicConstraints";
	if ((X509_get_extension_flags(inter) & EXFLAG_KUSAGE) && !(X509_get_key_usage(inter) & KU_KEY_CERT_SIGN))
		return "the intermediate's key usage does not allow certificate signing";
	long root_pathlen = X509_get_pathlen(root);
	if (root_pathlen != -1 && root_pathlen < 1)
		return "the root's path length does not allow a leaf under the intermediate";
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok = store && ctx && X509_STORE_add_cert(store, root) && X509_STORE_CTX_init(ctx, store, inter, NULL);
	if (ok) {
		X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME);
		ok = X509_verify_cert(ctx) == 1;
	}
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	ERR_clear_error();
	return ok ? NULL : "the intermediate does not verify under the root on its own";
}

/* Copies one GeneralSubtrees list; 0, 1 when it holds something the fast
 * path does not model (another name type, a minimum or maximum, a base of
 * a size OpenSSL refuses), -1 when out of memory. */
static int nc_copy(const STACK_OF(GENERAL_SUBTREE) *in, struct tc_nc_tree **out, size_t *n)
{
	int count = sk_GENERAL_SUBTREE_num(in);
	if (count <= 0)
		return 0;
	if (count > NC_MAX_TREES)
		return 1;
	if (!(*out = calloc((size_t)count, sizeof(**out))))
		return -1;
	for (int i = 0; i < count; i++) {
		const GENERAL_SUBTREE *st = sk_GENERAL_SUBTREE_value(in, i);
		const ASN1_STRING *b;
		if (st->maximum || (st->minimum && ASN1_INTEGER_get(st->minimum) != 0))
			return 1;
		if (st->base->type == GEN_DNS)
			b = st->base->d.dNSName;
		else if (st->base->type == GEN_IPADD)
			b = st->base->d.iPAddress;
		else
			return 1;
		size_t len = (size_t)ASN1_STRING_length(b);
		if (st->base->type == GEN_IPADD ? len != 8 && len != 32
						: !dns_chars_ok(ASN1_STRING_get0_data(b), len))
			return 1;
		struct tc_nc_tree *t = &(*out)[(*n)++];
		t->type = st->base->type;
		t->len = len;
		if (!(t->base = malloc(len ? len : 1)))
			return -1;
		memcpy(t->base, ASN1_STRING_get0_data(b), len);
	}
	return 0;
}

/* The nameConstraints of root and intermediate in the form names_within
 * checks. 0, 1 when they hold something it does not model, -1 when out of
 * memory. */
static int nc_load(struct tc_chain_fast *f, X509 *root, X509 *inter)
{
	X509 *both[2] = {root, inter};
	for (int i = 0; i < 2; i++) {
		int crit = 0;
		NAME_CONSTRAINTS *nc = X509_get_ext_d2i(both[i], NID_name_constraints, &crit, NULL);
		if (!nc) {
			if (crit != -1)
				return 1; /* present but undecodable, or repeated */
			continue;
		}
		struct tc_nc_set *s = &f->nc[f->n_nc++];
		int rc = nc_copy(nc->permittedSubtrees, &s->permitted, &s->n_permitted);
		if (rc == 0)
			rc = nc_copy(nc->excludedSubtrees, &s->excluded, &s->n_excluded);
		NAME_CONSTRAINTS_free(nc);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static void nc_free(struct tc_chain_fast *f)
{
	for (size_t i = 0; i < f->n_nc; i++) {
		struct tc_nc_set *s = &f->nc[i];
		for (size_t k = 0; k < s->n_permitted; k++)
			free(s->permitted[k].base);
		for (size_t k = 0; k < s->n_excluded; k++)
			free(s->excluded[k].base);
		free(s->permitted);
		free(s->excluded);
	}
	f->n_nc = 0;
}

int tc_chain_fast_init(struct tc_chain_fast *f, X509 *root, X509 *inter, const unsigned char *root_der,
		       size_t root_len, const unsigned char *inter_der, size_t inter_len,
		       const unsigned char issuer_key_hash[TC_CT_HASH_LEN], char *why, size_t whylen)
{
	memset(f, 0, sizeof(*f));
	f->inter_der = inter_der;
	f->inter_len = inter_len;
	f->root_der = root_der;
	f->root_len = root_len;
	memcpy(f->issuer_key_hash, issuer_key_hash, TC_CT_HASH_LEN);
	struct tc_cert_view v;
	if (tc_cert_view_parse(inter_der, inter_len, &v, NULL, 0) != 0)
		return disable(f, why, whylen, "the intermediate is not plain DER");
	const char *reason = ca_unsupported(root, inter);
	if (reason)
		return disable(f, why, whylen, reason);
	f->inter_subject = v.tbs.subject.tlv;
	f->inter_subject_len = v.tbs.subject.tlv_len;
	struct tc_ext_view skid;
	int found = tc_tbs_find_ext(&v.tbs, OID_SUBJECT_KEY_ID, sizeof(OID_SUBJECT_KEY_ID), &skid);
	struct tc_der_elem keyid;
	if (found < 0 || (found == 0 && tc_der_whole(skid.value.val, skid.value.val_len, TC_DER_OCTET_STRING,
						      &keyid) != TC_DER_OK))
		return disable(f, why, whylen, "the intermediate's subjectKeyIdentifier is malformed");
	if (found == 0) {
		f->inter_skid = keyid.val;
		f->inter_skid_len = keyid.val_len;
	}
	int nc = nc_load(f, root, inter);
	if (nc < 0)
		return -1;
	if (nc > 0)
		return disable(f, why, whylen, "a CA certificate has name constraints other than plain dNSName / "
					       "iPAddress subtrees");
	if (!(f->issuer_key = tc_spki_key(v.tbs.spki.tlv, v.tbs.spki.tlv_len, NULL, 0)))
		return disable(f, why, whylen, "the intermediate's key is not readable");
	size_t chain = 3 + inter_len + 3 + root_len;
	if (chain > TC_CT_MAX_CERT_LEN)
		return disable(f, why, whylen, "CA certificates too large");
	if (!(f->extra_chain = malloc(3 + chain)))
		return -1;
	unsigned char *p = f->extra_chain;
	put24(p, chain);
	put24(p + 3, inter_len);
	memcpy(p + 6, inter_der, inter_len);
	put24(p + 6 + inter_len, root_len);
	memcpy(p + 9 + inter_len, root_der, root_len);
	f->extra_chain_len = 3 + chain;
	f->enabled = 1;
	return 0;
}

void tc_chain_fast_free(struct tc_chain_fast *f)
{
	nc_free(f);
	EVP_PKEY_free(f->issuer_key);
	free(f->extra_chain);
	memset(f, 0, sizeof(*f));
}
