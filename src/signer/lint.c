/* The TBSCertificate's own fields (RFC 5280 4.1.2): version, serial,
 * algorithm, names, validity, key; extensions are lint_ext.c's. */
#include "signer/lint.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "signer/lint_internal.h"

int tc_lint_fail(struct tc_lint_result *res, const char *lint, const char *fmt, ...)
{
	res->lint = lint;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
	va_end(ap);
	return -1;
}

static const uint8_t OID_EC_PUBLIC_KEY[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t OID_P256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t OID_P384[] = {0x2b, 0x81, 0x04, 0x00, 0x22};
static const uint8_t OID_RSA[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
static const uint8_t OID_ECDSA_SHA256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const uint8_t OID_ECDSA_SHA384[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};

/* Days since 1970-01-01 of a proleptic Gregorian date (civil_from_days'
 * inverse, valid for every year we can meet). */
static long days_from_civil(long y, unsigned m, unsigned d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

static int digits(const uint8_t *p, size_t n, unsigned *out)
{
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	*out = v;
	return 0;
}

int tc_lint_time(const struct tc_der_elem *t, time_t *out)
{
	static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const uint8_t *p = t->val;
	unsigned year, mon, day, hour, min, sec;
	if (t->tag == TC_DER_UTCTIME) {
		if (t->val_len != 13 || p[12] != 'Z' || digits(p, 2, &year) != 0)
			return -1;
		year += year >= 50 ? 1900 : 2000;
		p += 2;
	} else if (t->tag == TC_DER_GENERALIZEDTIME) {
		/* GeneralizedTime only where UTCTime cannot say the year. */
		if (t->val_len != 15 || p[14] != 'Z' || digits(p, 4, &year) != 0 || year < 2050)
			return -1;
		p += 4;
	} else {
		return -1;
	}
	if (digits(p, 2, &mon) != 0 || digits(p + 2, 2, &day) != 0 || digits(p + 4, 2, &hour) != 0 ||
	    digits(p + 6, 2, &min) != 0 || digits(p + 8, 2, &sec) != 0)
		return -1;
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	if (mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] || (mon == 2 && day == 29 && !leap) ||
	    hour > 23 || min > 59 || sec > 59)
		return -1;
	*out = (time_t)(days_from_civil((long)year, mon, day) * 86400L + hour * 3600L + min * 60L + sec);
	return 0;
}

/* The subject key: an EC point of P-256/P-384's size (policy.c checked
 * it is on the curve) or an RSA key (a SEQUENCE of two positive INTEGERs). */
static int lint_key(const struct tc_der_elem *spki, enum tc_lint_key *kind, struct tc_lint_result *res)
{
	struct tc_der_cursor c = tc_der_inside(spki), ac;
	struct tc_der_elem alg, key, oid, param;
	const uint8_t *bits;
	size_t n;
	if (tc_der_expect(&c, TC_DER_SEQUENCE, &alg) != TC_DER_OK ||
	    tc_der_expect(&c, TC_DER_BIT_STRING, &key) != TC_DER_OK || !tc_der_at_end(&c) ||
	    tc_der_bit_string_bytes(&key, &bits, &n) != TC_DER_OK)
		return tc_lint_fail(res, TC_LINT_KEY, "subjectPublicKeyInfo: undecodable");
	ac = tc_der_inside(&alg);
	if (tc_der_expect(&ac, TC_DER_OID, &oid) != TC_DER_OK || tc_der_next(&ac, &param) != TC_DER_OK ||
	    !tc_der_at_end(&ac))
		return tc_lint_fail(res, TC_LINT_KEY, "subjectPublicKeyInfo: algorithm without parameters");
	if (TC_DER_OID_IS(&oid, OID_EC_PUBLIC_KEY)) {
		/* The point's size for its curve: X alone (compressed, 0x02/0x03)
		 * or X and Y (0x04). */
		size_t field = TC_DER_OID_IS(&param, OID_P256) ? 32 : TC_DER_OID_IS(&param, OID_P384) ? 48 : 0;
		if (!field || !((n == 1 + 2 * field && bits[0] == 0x04) ||
				(n == 1 + field && (bits[0] == 0x02 || bits[0] == 0x03))))
			return tc_lint_fail(res, TC_LINT_KEY, "EC key: not a P-256/P-384 point");
		*kind = TC_LINT_KEY_EC;
		return 0;
	}
	if (TC_DER_OID_IS(&oid, OID_RSA) && param.tag == TC_DER_NULL && param.val_len == 0) {
		struct tc_der_elem seq, mod, exp;
		struct tc_der_cursor rc;
		if (tc_der_whole(bits, n, TC_DER_SEQUENCE, &seq) != TC_DER_OK || (rc = tc_der_inside(&seq), 0) ||
		    tc_der_expect(&rc, TC_DER_INTEGER, &mod) != TC_DER_OK ||
		    tc_der_expect(&rc, TC_DER_INTEGER, &exp) != TC_DER_OK || !tc_der_at_end(&rc) ||
		    !tc_der_integer_valid(&mod) || !tc_der_integer_valid(&exp) || (mod.val[0] & 0x80) ||
		    (exp.val[0] & 0x80))
			return tc_lint_fail(res, TC_LINT_KEY, "RSA key: undecodable");
		*kind = TC_LINT_KEY_RSA;
		return 0;
	}
	return tc_lint_fail(res, TC_LINT_KEY, "subject key: neither EC P-256/P-384 nor RSA");
}

/* ecdsa-with-SHA256/384 without parameters (RFC 5758 3.2): what our EC
 * CA keys sign with. */
static int sig_alg_ok(const struct tc_der_elem *alg)
{
	struct tc_der_cursor c = tc_der_inside(alg);
	struct tc_der_elem oid;
	return tc_der_expect(&c, TC_DER_OID, &oid) == TC_DER_OK && tc_der_at_end(&c) &&
	       (TC_DER_OID_IS(&oid, OID_ECDSA_SHA256) || TC_DER_OID_IS(&oid, OID_ECDSA_SHA384));
}

static int same_bytes(const struct tc_der_elem *e, const uint8_t *p, size_t n)
{
	return e->tlv_len == n && memcmp(e->tlv, p, n) == 0;
}

static int lint_serial(const struct tc_der_elem *serial, struct tc_lint_result *res)
{
	if (!tc_der_integer_valid(serial))
		return tc_lint_fail(res, TC_LINT_TBS_MALFORMED, "serialNumber: not a DER INTEGER");
	if (serial->val[0] & 0x80)
		return tc_lint_fail(res, TC_LINT_SERIAL_NOT_POSITIVE, "serialNumber is negative");
	if (serial->val_len == 1 && serial->val[0] == 0)
		return tc_lint_fail(res, TC_LINT_SERIAL_NOT_POSITIVE, "serialNumber is zero");
	if (serial->val_len > 20)
		return tc_lint_fail(res, TC_LINT_SERIAL_TOO_LONG, "serialNumber takes %zu octets (RFC 5280: at most 20)",
				    serial->val_len);
	return 0;
}

int tc_lint_tbs(const uint8_t *tbs, size_t len, enum tc_lint_profile profile, const struct tc_lint_issuer *issuer,
		const struct tc_policy *policy, struct tc_lint_result *res)
{
	memset(res, 0, sizeof(*res));
	struct tc_tbs_view v;
	char why[160];
	if (tc_tbs_view_parse(tbs, len, &v, why, sizeof(why)) != 0)
		return tc_lint_fail(res, TC_LINT_TBS_MALFORMED, "%s", why);
	if (!v.has_version || v.version.val_len != 1 || v.version.val[0] != 2)
		return tc_lint_fail(res, TC_LINT_VERSION, "not an X.509 v3 certificate");
	if (lint_serial(&v.serial, res) != 0)
		return -1;
	if (issuer && issuer->sig_alg ? !same_bytes(&v.sig_alg, issuer->sig_alg, issuer->sig_alg_len)
				      : !sig_alg_ok(&v.sig_alg))
		return tc_lint_fail(res, TC_LINT_SIG_ALG, "signature: not the issuing key's ecdsa-with-SHA256/384");
	if (v.issuer.val_len == 0)
		return tc_lint_fail(res, TC_LINT_ISSUER_EMPTY, "issuer: empty Name");
	if (profile == TC_LINT_ROOT ? !same_bytes(&v.issuer, v.subject.tlv, v.subject.tlv_len)
				    : issuer && issuer->name && !same_bytes(&v.issuer, issuer->name, issuer->name_len))
		return tc_lint_fail(res, TC_LINT_ISSUER_MISMATCH, "issuer: not the issuing certificate's subject");
	if (tc_lint_name(&v.issuer, "issuer", res) != 0 || tc_lint_name(&v.subject, "subject", res) != 0)
		return -1;
	time_t nb, na;
	if (tc_lint_time(&v.not_before, &nb) != 0 || tc_lint_time(&v.not_after, &na) != 0)
		return tc_lint_fail(res, TC_LINT_TIME_ENCODING,
				    "validity: not UTCTime YYMMDDHHMMSSZ (to 2049) / GeneralizedTime (from 2050)");
	if (na <= nb)
		return tc_lint_fail(res, TC_LINT_VALIDITY_ORDER, "validity: notAfter is not after notBefore");
	if (v.subject.val_len == 0 && profile >= TC_LINT_SUB_CA)
		return tc_lint_fail(res, TC_LINT_SUBJECT_EMPTY, "subject: a CA certificate needs a subject");
	enum tc_lint_key key;
	if (lint_key(&v.spki, &key, res) != 0)
		return -1;
	if (!v.has_extensions)
		return tc_lint_fail(res, TC_LINT_EXT_MISSING, "no extensions");
	if (policy && (profile == TC_LINT_LEAF || profile == TC_LINT_PRECERT) &&
	    (uint64_t)(na - nb) > (uint64_t)policy->max_validity_hours * 3600u)
		return tc_lint_fail(res, TC_LINT_POLICY_VALIDITY, "validity: %lld s exceeds ca.cert_validity_hours %u",
				    (long long)(na - nb), policy->max_validity_hours);
	return tc_lint_extensions(&v, profile, key, issuer, policy, res);
}
