/* The per-certificate checks of a validation; see validate_internal.h. */
#include <arpa/inet.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/hex.h"
#include "common/asn1_time.h"
#include "common/trust_internal.h"

typedef enum tc_reason Reason;

static const char *utc(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
	return buf;
}

static void window_problem(const char *who, int64_t nb, int64_t na, int64_t at, int *early, int *late,
			   char *why, size_t whylen)
{
	char a[32], b[32];
	/* RFC 5280 4.1.2.5: valid from notBefore through notAfter inclusive. */
	if (nb > at && !*early && !*late)
		snprintf(why, whylen, "%s is not valid before %s (validating at %s)", who, utc(nb, a, sizeof(a)),
			 utc(at, b, sizeof(b)));
	else if (na < at && !*early && !*late)
		snprintf(why, whylen, "%s expired at %s (validating at %s)", who, utc(na, a, sizeof(a)),
			 utc(at, b, sizeof(b)));
	*early |= nb > at;
	*late |= na < at;
}

size_t tc_check_validity(const struct tc_leaf_times *leaf, const struct tc_ca_cert *issuer, int64_t at,
			 Reason out[2], char *why, size_t whylen)
{
	int early = 0, late = 0;
	int64_t nb = leaf->not_before, na = leaf->not_after;
	if (!leaf->ok) {
		snprintf(why, whylen, "the leaf's validity period does not decode");
		out[0] = TC_REASON_EXPIRED;
		return 1;
	}
	window_problem("the leaf", nb, na, at, &early, &late, why, whylen);
	for (const struct tc_ca_cert *e = issuer; e; e = e->issuer)
		window_problem(e->issuer ? "an intermediate of the path" : "the root", e->not_before, e->not_after, at,
			       &early, &late, why, whylen);
	size_t n = 0;
	if (early)
		out[n++] = TC_REASON_NOT_YET_VALID;
	if (late)
		out[n++] = TC_REASON_EXPIRED;
	if (n == 0)
		out[n++] = TC_REASON_OK_VALIDITY;
	return n;
}

Reason tc_check_name(X509 *leaf, const char *name, size_t len, char *why, size_t whylen)
{
	if (!name || len == 0)
		return TC_REASON_NAME_NOT_CHECKED;
	/* Length-delimited: a NUL or a control byte would make the C string
	 * functions below read a different name than the caller gave. */
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (ch < 0x20 || ch == 0x7f) {
			snprintf(why, whylen, "the name holds a control byte at offset %zu: not a DNS name or IP address", i);
			return TC_REASON_NAME_MISMATCH;
		}
	}
	char n[256];
	if (len > 1 && name[len - 1] == '.')
		len--; /* the root label: "a.example." is "a.example" */
	if (len > 253) {
		snprintf(why, whylen, "the name is longer than 253 characters");
		return TC_REASON_NAME_MISMATCH;
	}
	memcpy(n, name, len);
	n[len] = '\0';
	unsigned char ip[16];
	int ok;
	if (inet_pton(AF_INET, n, ip) == 1 || inet_pton(AF_INET6, n, ip) == 1)
		ok = X509_check_ip_asc(leaf, n, 0) == 1;
	else /* subjectAltName only: the subject CN is no name (RFC 6125, CA/B BR) */
		ok = X509_check_host(leaf, n, len, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
							X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
	if (!ok)
		snprintf(why, whylen, "the leaf does not cover the name '%.253s'", n);
	return ok ? TC_REASON_OK_NAME : TC_REASON_NAME_MISMATCH;
}

Reason tc_check_usage(X509 *leaf, enum tc_purpose purpose, char *why, size_t whylen)
{
	uint32_t need;
	const char *what;
	switch ((int)purpose) {
	case 0: /* unspecified: a server, as in validation.proto */
	case TC_PURPOSE_SERVER_AUTH:
		need = XKU_SSL_SERVER;
		what = "serverAuth";
		break;
	case TC_PURPOSE_CLIENT_AUTH:
		need = XKU_SSL_CLIENT;
		what = "clientAuth";
		break;
	default:
		snprintf(why, whylen, "unknown purpose %d", (int)purpose);
		return TC_REASON_KEY_USAGE_MISMATCH;
	}
	uint32_t flags = X509_get_extension_flags(leaf);
	/* TrustChain writes both extensions into every leaf; a leaf without
	 * them is not ours to allow everything. anyExtendedKeyUsage is not
	 * the purpose either. */
	if (X509_check_ca(leaf) != 0)
		snprintf(why, whylen, "the leaf is a CA certificate");
	else if (!(flags & EXFLAG_XKUSAGE) || !(X509_get_extended_key_usage(leaf) & need))
		snprintf(why, whylen, "the leaf's extended key usage does not list %s", what);
	else if (!(flags & EXFLAG_KUSAGE) || !(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE))
		snprintf(why, whylen, "the leaf's key usage does not allow digitalSignature");
	else
		return TC_REASON_OK_KEY_USAGE;
	return TC_REASON_KEY_USAGE_MISMATCH;
}

Reason tc_check_sct(const struct tc_trust *v, const unsigned char *leaf_der, size_t leaf_len,
		    const struct tc_ca_cert *issuer, char *why, size_t whylen)
{
	if (v->n_logs == 0) {
		snprintf(why, whylen, "no CT log key is configured, so no SCT can be verified");
		return TC_REASON_SCT_MISSING;
	}
	switch (tc_sct_verify_embedded(leaf_der, leaf_len, issuer->spki_hash, v->logs, v->n_logs, why, whylen)) {
	case TC_SCT_VERIFIED:
		return TC_REASON_OK_SCT;
	case TC_SCT_NONE:
		return TC_REASON_SCT_MISSING;
	default:
		return TC_REASON_SCT_INVALID;
	}
}

static void describe_serial(X509 *x, char *out, size_t outlen)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	int len = ASN1_STRING_length(sn);
	if (len <= 0 || len > 32 || outlen < 65) {
		snprintf(out, outlen, "?");
		return;
	}
	tc_hex_encode(ASN1_STRING_get0_data(sn), (size_t)len, out);
}

Reason tc_check_revocation(struct tc_trust *v, X509 *leaf, const struct tc_ca_cert *issuer, char *why,
			   size_t whylen)
{
	struct tc_crl_cache *crl = tc_trust_crl_for(v, leaf);
	if (!crl) {
		snprintf(why, whylen, "revocation status unavailable: no issuing intermediate is configured");
		return TC_REASON_REVOCATION_UNKNOWN;
	}
	struct tc_crl_set *set = tc_crl_cache_acquire(crl, why, whylen);
	if (!set)
		return TC_REASON_REVOCATION_UNKNOWN;
	Reason r = TC_REASON_OK_NOT_REVOKED;
	char serial[65];
	int rc = tc_crl_set_check(set, leaf);
	if (rc < 0) {
		snprintf(why, whylen, "revocation status unavailable: the leaf's issuer is not the CRL issuer");
		r = TC_REASON_REVOCATION_UNKNOWN;
	} else if (rc > 0) {
		describe_serial(leaf, serial, sizeof(serial));
		snprintf(why, whylen, "the leaf (serial %s) is revoked (CRL %llu)", serial,
			 (unsigned long long)tc_crl_set_number(set));
		r = TC_REASON_REVOKED;
	}
	/* CAs of the path issued by the CRL's issuer too (none in a root ->
	 * intermediate -> leaf hierarchy, where the root's CAs are revoked by
	 * replacing the data directory's intermediate). */
	for (const struct tc_ca_cert *e = issuer; e && e->issuer && r == TC_REASON_OK_NOT_REVOKED;
	     e = e->issuer) {
		if (tc_crl_set_check(set, e->cert) > 0) {
			describe_serial(e->cert, serial, sizeof(serial));
			snprintf(why, whylen, "an intermediate of the path (serial %s) is revoked", serial);
			r = TC_REASON_REVOKED;
		}
	}
	tc_crl_set_release(set);
	return r;
}
