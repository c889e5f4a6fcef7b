/* CRL lints (RFC 5280 5.1, 5.2): the TBSCertList the issuing key is about
 * to sign. */
#include <string.h>

#include "signer/lint_internal.h"

static const uint8_t OID_CRL_NUMBER[] = {0x55, 0x1d, 0x14};
static const uint8_t OID_AKI[] = {0x55, 0x1d, 0x23};
static const uint8_t OID_REASON[] = {0x55, 0x1d, 0x15};

static int is_time(const struct tc_der_elem *e)
{
	return e->tag == TC_DER_UTCTIME || e->tag == TC_DER_GENERALIZEDTIME;
}

/* crlExtensions: CRL number and AKI (keyIdentifier = the issuer's), both
 * non-critical, each once; nothing critical we do not know. */
static int lint_crl_extensions(const struct tc_der_elem *exts, const struct tc_lint_issuer *issuer,
			       struct tc_lint_result *res)
{
	struct tc_der_elem seq;
	struct tc_der_cursor top = tc_der_inside(exts);
	if (tc_der_expect(&top, TC_DER_SEQUENCE, &seq) != TC_DER_OK || !tc_der_at_end(&top) || seq.val_len == 0)
		return tc_lint_fail(res, TC_LINT_CRL_MALFORMED, "crlExtensions: not a non-empty SEQUENCE");
	struct tc_der_cursor c = tc_der_inside(&seq);
	struct tc_ext_view e;
	int rc, have_number = 0, have_aki = 0;
	while ((rc = tc_ext_next(&c, &e)) == TC_DER_OK) {
		struct tc_der_cursor later = c;
		struct tc_ext_view other;
		while (tc_ext_next(&later, &other) == TC_DER_OK)
			if (other.oid.val_len == e.oid.val_len && memcmp(other.oid.val, e.oid.val, e.oid.val_len) == 0)
				return tc_lint_fail(res, TC_LINT_EXT_DUPLICATE, "crlExtensions: an extension appears twice");
		if (TC_DER_OID_IS(&e.oid, OID_CRL_NUMBER)) {
			struct tc_der_elem n;
			if (e.critical || tc_der_whole(e.value.val, e.value.val_len, TC_DER_INTEGER, &n) != TC_DER_OK ||
			    !tc_der_integer_valid(&n) || (n.val[0] & 0x80) || n.val_len > 20)
				return tc_lint_fail(res, TC_LINT_CRL_NUMBER, "cRLNumber: critical, negative or over 20 octets");
			have_number = 1;
		} else if (TC_DER_OID_IS(&e.oid, OID_AKI)) {
			struct tc_der_elem aki, kid;
			struct tc_der_cursor a;
			if (e.critical || tc_der_whole(e.value.val, e.value.val_len, TC_DER_SEQUENCE, &aki) != TC_DER_OK ||
			    (a = tc_der_inside(&aki), tc_der_optional(&a, TC_DER_CONTEXT_PRIM(0), &kid)) != TC_DER_OK ||
			    kid.val_len == 0 ||
			    (issuer && issuer->key_id &&
			     (kid.val_len != issuer->key_id_len || memcmp(kid.val, issuer->key_id, kid.val_len) != 0)))
				return tc_lint_fail(res, TC_LINT_CRL_AKI, "authorityKeyIdentifier: critical, without "
									  "keyIdentifier or not the issuer's");
			have_aki = 1;
		} else if (e.critical) {
			return tc_lint_fail(res, TC_LINT_EXT_UNKNOWN_CRITICAL, "crlExtensions: unknown critical extension");
		}
	}
	if (rc != TC_DER_END)
		return tc_lint_fail(res, TC_LINT_CRL_MALFORMED, "crlExtensions: malformed extension");
	if (!have_number)
		return tc_lint_fail(res, TC_LINT_CRL_NUMBER, "cRLNumber is missing (RFC 5280 5.2.3: MUST)");
	if (!have_aki)
		return tc_lint_fail(res, TC_LINT_CRL_AKI, "authorityKeyIdentifier is missing (RFC 5280 5.2.1: MUST)");
	return 0;
}

/* One revokedCertificates entry: a positive serial of at most 20 octets,
 * a well-encoded date, and at most a non-critical reasonCode. */
static int lint_entry(const struct tc_der_elem *entry, struct tc_lint_result *res)
{
	struct tc_der_cursor c = tc_der_inside(entry);
	struct tc_der_elem serial, date, exts;
	time_t t;
	if (entry->tag != TC_DER_SEQUENCE || tc_der_expect(&c, TC_DER_INTEGER, &serial) != TC_DER_OK ||
	    tc_der_next(&c, &date) != TC_DER_OK)
		return tc_lint_fail(res, TC_LINT_CRL_MALFORMED, "revokedCertificates: malformed entry");
	if (!tc_der_integer_valid(&serial) || (serial.val[0] & 0x80) || (serial.val_len == 1 && serial.val[0] == 0) ||
	    serial.val_len > 20)
		return tc_lint_fail(res, TC_LINT_CRL_SERIAL, "revokedCertificates: serial not positive or over 20 octets");
	if (!is_time(&date) || tc_lint_time(&date, &t) != 0)
		return tc_lint_fail(res, TC_LINT_TIME_ENCODING, "revocationDate: badly encoded time");
	int rc = tc_der_optional(&c, TC_DER_SEQUENCE, &exts);
	if (rc == TC_DER_OK) {
		struct tc_der_cursor ec = tc_der_inside(&exts);
		struct tc_ext_view e;
		int n = 0;
		while ((rc = tc_ext_next(&ec, &e)) == TC_DER_OK) {
			struct tc_der_elem reason;
			if (!TC_DER_OID_IS(&e.oid, OID_REASON) || e.critical || n++ ||
			    tc_der_whole(e.value.val, e.value.val_len, 0x0a /* ENUMERATED */, &reason) != TC_DER_OK ||
			    reason.val_len != 1 || reason.val[0] > 10 || reason.val[0] == 7)
				return tc_lint_fail(res, TC_LINT_CRL_MALFORMED, "crlEntryExtensions: only one reasonCode");
		}
		if (rc != TC_DER_END || n == 0)
			return tc_lint_fail(res, TC_LINT_CRL_MALFORMED, "crlEntryExtensions: malformed or empty");
	} else if (rc != TC_DER_END) {
		return tc_lint_fail(res, TC_LINT_CRL_MALFORMED, "revokedCertificates: malformed entry");
	}
	if (!tc_der_at_end(&c))
		return tc_lint_fail(res, TC_LINT_CRL_MALFORMED, "revokedCertificates: trailing fields in an entry");
	return 0;
}

int tc_lint_crl_tbs(const uint8_t *tbs, size_t len, const struct tc_lint_issuer *issuer, struct tc_lint_result *res)
{
	memset(res, 0, sizeof(*res));
	struct tc_der_elem whole, version, alg, name, this_update, next_update, revoked, exts;
	if (tc_der_whole(tbs, len, TC_DER_SEQUENCE, &whole) != TC_DER_OK)
		return tc_lint_fail(res, TC_LINT_CRL_MALFORMED, "not one DER SEQUENCE");
	struct tc_der_cursor c = tc_der_inside(&whole);
	if (tc_der_optional(&c, TC_DER_INTEGER, &version) != TC_DER_OK || version.val_len != 1 || version.val[0] != 1)
		return tc_lint_fail(res, TC_LINT_CRL_VERSION, "not a v2 CRL (extensions need v2)");
	if (tc_der_expect(&c, TC_DER_SEQUENCE, &alg) != TC_DER_OK || tc_der_expect(&c, TC_DER_SEQUENCE, &name) != TC_DER_OK ||
	    tc_der_next(&c, &this_update) != TC_DER_OK)
		return tc_lint_fail(res, TC_LINT_CRL_MALFORMED, "no signature, issuer or thisUpdate");
	if (issuer && issuer->sig_alg &&
	    (alg.tlv_len != issuer->sig_alg_len || memcmp(alg.tlv, issuer->sig_alg, alg.tlv_len) != 0))
		return tc_lint_fail(res, TC_LINT_SIG_ALG, "signature: not the issuing key's algorithm");
	if (name.val_len == 0)
		return tc_lint_fail(res, TC_LINT_ISSUER_EMPTY, "issuer: empty Name");
	if (issuer && issuer->name &&
	    (name.tlv_len != issuer->name_len || memcmp(name.tlv, issuer->name, name.tlv_len) != 0))
		return tc_lint_fail(res, TC_LINT_ISSUER_MISMATCH, "issuer: not the issuing certificate's subject");
	time_t tu, nu;
	if (!is_time(&this_update) || tc_lint_time(&this_update, &tu) != 0)
		return tc_lint_fail(res, TC_LINT_TIME_ENCODING, "thisUpdate: badly encoded time");
	/* RFC 5280 5.1.2.5: conforming CRL issuers MUST include nextUpdate. */
	if (tc_der_next(&c, &next_update) != TC_DER_OK || !is_time(&next_update))
		return tc_lint_fail(res, TC_LINT_CRL_UPDATE_ORDER, "nextUpdate is missing");
	if (tc_lint_time(&next_update, &nu) != 0)
		return tc_lint_fail(res, TC_LINT_TIME_ENCODING, "nextUpdate: badly encoded time");
	if (nu <= tu)
		return tc_lint_fail(res, TC_LINT_CRL_UPDATE_ORDER, "nextUpdate is not after thisUpdate");
	int rc = tc_der_optional(&c, TC_DER_SEQUENCE, &revoked);
	if (rc == TC_DER_OK) {
		if (revoked.val_len == 0) /* absent when empty (5.1.2.6) */
			return tc_lint_fail(res, TC_LINT_CRL_MALFORMED, "revokedCertificates: empty list present");
		struct tc_der_cursor rcur = tc_der_inside(&revoked);
		struct tc_der_elem entry;
		int erc;
		while ((erc = tc_der_next(&rcur, &entry)) == TC_DER_OK)
			if (lint_entry(&entry, res) != 0)
				return -1;
		if (erc != TC_DER_END)
			return tc_lint_fail(res, TC_LINT_CRL_MALFORMED, "revokedCertificates: malformed");
	} else if (rc != TC_DER_END) {
		return tc_lint_fail(res, TC_LINT_CRL_MALFORMED, "revokedCertificates: malformed");
	}
	if (tc_der_expect(&c, TC_DER_CONTEXT(0), &exts) != TC_DER_OK || !tc_der_at_end(&c))
		return tc_lint_fail(res, TC_LINT_CRL_MALFORMED, "crlExtensions missing or trailing fields");
	return lint_crl_extensions(&exts, issuer, res);
}
