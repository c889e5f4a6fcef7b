#include "signer/policy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/asn1_time.h"
#include "common/config_ca.h"
#include "common/config_schema.h"
#include "common/der_key.h"
#include "common/errorf.h"
#include "signer/tbs_template.h"

/* The config was checked at load (tc_config_ca_check): every item parses;
 * one that does not is skipped rather than trusted. */
static size_t parse_cidrs(const struct tc_string_list *l, struct tc_policy_cidr *out)
{
	size_t n = 0;
	for (size_t i = 0; i < l->count; i++) {
		uint8_t raw[32];
		size_t len = tc_cidr_parse(l->items[i], raw);
		if (len != 8 && len != 32)
			continue;
		out[n].len = (uint8_t)(len / 2);
		memcpy(out[n].addr, raw, out[n].len);
		memcpy(out[n].mask, raw + out[n].len, out[n].len);
		n++;
	}
	return n;
}

void tc_policy_from_config(const struct tc_config *cfg, struct tc_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->max_validity_hours = cfg->ca.cert_validity_hours;
	p->suffixes = cfg->ca.permitted_suffixes;
	p->excluded_suffixes = cfg->ca.excluded_suffixes;
	p->n_ip_permitted = parse_cidrs(&cfg->ca.permitted_ip_ranges, p->ip_permitted);
	p->n_ip_excluded = parse_cidrs(&cfg->ca.excluded_ip_ranges, p->ip_excluded);
	p->allow_wildcards = cfg->ca.allow_wildcards;
	p->allow_ip_sans = cfg->dev;
	p->min_rsa_bits = cfg->ca.min_rsa_bits;
	p->max_backdate_s = 3600;
	p->max_future_s = 300;
}

int tc_name_under_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);
	if (n < s)
		return 0;
	if (strcasecmp(name + n - s, suffix) != 0)
		return 0;
	return n == s || name[n - s - 1] == '.';
}

/* A UTCTime or GeneralizedTime as OpenSSL's ASN1_TIME_to_tm reads it (a
 * view on the DER, nothing decoded or allocated): the accepted forms stay
 * exactly those of the OpenSSL-based policy before it. */
static int time_of(const struct tc_der_elem *e, time_t *out)
{
	int64_t t;
	if (tc_der_time_unix(e, &t) != 0)
		return -1;
	*out = (time_t)t;
	return 0;
}

static int check_validity(const struct tc_policy *p, const struct tc_tbs_view *v, time_t now, const char **reason,
			  char *why, size_t wl)
{
	*reason = TC_REASON_VALIDITY_INVALID;
	time_t b, a;
	if (time_of(&v->not_before, &b) != 0 || time_of(&v->not_after, &a) != 0)
		return tc_errorf(why, wl, "validity: unreadable notBefore/notAfter");
	if (a <= b)
		return tc_errorf(why, wl, "validity: notAfter is not after notBefore");
	if (b < now - (time_t)p->max_backdate_s)
		return tc_errorf(why, wl, "validity: notBefore more than %u s in the past", p->max_backdate_s);
	if (b > now + (time_t)p->max_future_s)
		return tc_errorf(why, wl, "validity: notBefore more than %u s in the future", p->max_future_s);
	*reason = TC_REASON_VALIDITY_EXCEEDS_POLICY;
	if ((uint64_t)(a - b) > (uint64_t)p->max_validity_hours * 3600u)
		return tc_errorf(why, wl, "validity: %lld h exceeds the policy maximum of %u h",
			      (long long)((a - b + 3599) / 3600), p->max_validity_hours);
	return 0;
}

static int oid_is(const struct tc_der_elem *oid, const uint8_t *want, size_t len)
{
	return tc_der_oid_is(oid, want, len);
}
#define OID_IS(oid, arr) oid_is((oid), (arr), sizeof(arr))

/* The value of the template's only extension with this OID: 0, or 1 when
 * absent (duplicates are refused before this is asked). */
static int ext_value(const struct tc_tbs_view *v, const uint8_t *oid, size_t oid_len, struct tc_der_elem *value)
{
	struct tc_ext_view e;
	int rc = tc_tbs_find_ext(v, oid, oid_len, &e);
	if (rc == 0)
		*value = e.value;
	return rc == 0 ? 0 : 1;
}

/* basicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE,
 * pathLenConstraint INTEGER OPTIONAL }. */
static int check_basic_constraints(const struct tc_der_elem *value, char *why, size_t wl)
{
	struct tc_der_elem seq, ca, pathlen;
	if (tc_der_whole(value->val, value->val_len, TC_DER_SEQUENCE, &seq) != TC_DER_OK)
		return tc_errorf(why, wl, "basicConstraints: undecodable");
	struct tc_der_cursor c = tc_der_inside(&seq);
	int has_ca = tc_der_optional(&c, TC_DER_BOOLEAN, &ca);
	int has_pathlen = has_ca == TC_DER_MALFORMED ? TC_DER_MALFORMED : tc_der_optional(&c, TC_DER_INTEGER, &pathlen);
	if (has_ca == TC_DER_MALFORMED || has_pathlen == TC_DER_MALFORMED || !tc_der_at_end(&c) ||
	    (has_ca == TC_DER_OK && ca.val_len != 1) || (has_pathlen == TC_DER_OK && !tc_der_integer_valid(&pathlen)))
		return tc_errorf(why, wl, "basicConstraints: undecodable");
	if (has_ca == TC_DER_OK && ca.val[0] != 0)
		return tc_errorf(why, wl, "basicConstraints: CA:TRUE is never issued on this path");
	/* An explicit cA FALSE is not DER (DEFAULT values are left out). */
	if (has_ca == TC_DER_OK)
		return tc_errorf(why, wl, "basicConstraints: undecodable");
	if (has_pathlen == TC_DER_OK)
		return tc_errorf(why, wl, "basicConstraints: pathLenConstraint on a leaf");
	return 0;
}

/* keyUsage ::= BIT STRING; keyCertSign is bit 5, cRLSign bit 6. */
static int check_key_usage(const struct tc_der_elem *value, char *why, size_t wl)
{
	struct tc_der_elem bits;
	if (tc_der_whole(value->val, value->val_len, TC_DER_BIT_STRING, &bits) != TC_DER_OK || bits.val_len < 1 ||
	    bits.val[0] > 7 || (bits.val_len == 1 && bits.val[0] != 0) ||
	    (bits.val[bits.val_len - 1] & ((1u << bits.val[0]) - 1)) != 0 /* DER: unused bits are zero */)
		return tc_errorf(why, wl, "keyUsage: undecodable");
	if (bits.val_len > 1 && (bits.val[1] & 0x06))
		return tc_errorf(why, wl, "keyUsage: keyCertSign/cRLSign are not allowed on a leaf");
	return 0;
}

/* extKeyUsage ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId. */
static int check_ext_key_usage(const struct tc_der_elem *value, char *why, size_t wl)
{
	static const uint8_t server_auth[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01};
	static const uint8_t client_auth[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02};
	struct tc_der_elem seq, oid;
	if (tc_der_whole(value->val, value->val_len, TC_DER_SEQUENCE, &seq) != TC_DER_OK)
		return tc_errorf(why, wl, "extKeyUsage: undecodable");
	struct tc_der_cursor c = tc_der_inside(&seq);
	int n = 0, bad = 0, rc;
	while ((rc = tc_der_next(&c, &oid)) == TC_DER_OK) {
		if (!tc_der_oid_valid(&oid))
			return tc_errorf(why, wl, "extKeyUsage: undecodable");
		bad |= !OID_IS(&oid, server_auth) && !OID_IS(&oid, client_auth);
		n++;
	}
	if (rc != TC_DER_END)
		return tc_errorf(why, wl, "extKeyUsage: undecodable");
	if (bad || n == 0)
		return tc_errorf(why, wl, "extKeyUsage: only serverAuth and clientAuth may be issued");
	return 0;
}

/* Only what a leaf needs; poison and SCT list are added by the signer alone. */
static int check_extensions(const struct tc_tbs_view *v, char *why, size_t wl)
{
	static const uint8_t *const allowed[] = {TC_OID_SUBJECT_ALT_NAME, TC_OID_BASIC_CONSTRAINTS, TC_OID_KEY_USAGE,
						 TC_OID_EXT_KEY_USAGE, TC_OID_SUBJECT_KEY_ID, TC_OID_AUTHORITY_KEY_ID};
	if (v->has_extensions) {
		struct tc_der_cursor c = tc_der_inside(&v->extensions);
		struct tc_ext_view e;
		while (tc_ext_next(&c, &e) == TC_DER_OK) {
			int ok = 0;
			for (size_t k = 0; k < sizeof(allowed) / sizeof(allowed[0]); k++)
				ok |= oid_is(&e.oid, allowed[k], 3);
			if (!ok) {
				char oid[80];
				tc_der_oid_text(&e.oid, oid, sizeof(oid));
				return tc_errorf(why, wl, "extension %s is not allowed in a leaf template", oid);
			}
			struct tc_der_cursor later = c;
			struct tc_ext_view other;
			while (tc_ext_next(&later, &other) == TC_DER_OK)
				if (other.oid.val_len == e.oid.val_len && memcmp(other.oid.val, e.oid.val, e.oid.val_len) == 0)
					return tc_errorf(why, wl, "duplicate extension");
		}
	}
	struct tc_der_elem value;
	if (ext_value(v, TC_OID_BASIC_CONSTRAINTS, 3, &value) == 0 && check_basic_constraints(&value, why, wl) != 0)
		return -1;
	if (ext_value(v, TC_OID_KEY_USAGE, 3, &value) == 0 && check_key_usage(&value, why, wl) != 0)
		return -1;
	if (ext_value(v, TC_OID_EXT_KEY_USAGE, 3, &value) == 0 && check_ext_key_usage(&value, why, wl) != 0)
		return -1;
	/* The signer keeps a subjectKeyIdentifier it is given: it must be one. */
	struct tc_der_elem ski;
	if (ext_value(v, TC_OID_SUBJECT_KEY_ID, 3, &value) == 0 &&
	    tc_der_whole(value.val, value.val_len, TC_DER_OCTET_STRING, &ski) != TC_DER_OK)
		return tc_errorf(why, wl, "subjectKeyIdentifier: undecodable");
	return 0;
}

int tc_policy_check_dns_name(const struct tc_policy *p, const char *name, const char **reason, char *why, size_t wl)
{
	const char *base = name;
	*reason = TC_REASON_NAME_NOT_PERMITTED;
	if (strncmp(name, "*.", 2) == 0) {
		if (!p->allow_wildcards)
			return tc_errorf(why, wl, "name %s: wildcards are not permitted", name);
		base = name + 2;
		if (!strchr(base, '.'))
			return tc_errorf(why, wl, "name %s: wildcard too broad", name);
	}
	if (strchr(base, '*') || !tc_valid_dns_name(base)) {
		*reason = TC_REASON_NAME_INVALID;
		return tc_errorf(why, wl, "name %s: not a valid DNS name", name);
	}
	for (size_t i = 0; i < p->excluded_suffixes.count; i++)
		if (tc_name_under_suffix(base, p->excluded_suffixes.items[i]))
			return tc_errorf(why, wl, "name %s: under the excluded suffix %s", name,
					 p->excluded_suffixes.items[i]);
	for (size_t i = 0; i < p->suffixes.count; i++)
		if (tc_name_under_suffix(base, p->suffixes.items[i]))
			return 0;
	return tc_errorf(why, wl, "name %s: outside the permitted suffixes", name);
}

static int cidr_holds(const struct tc_policy_cidr *c, const uint8_t *ip, size_t len)
{
	if (c->len != len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((ip[i] & c->mask[i]) != c->addr[i])
			return 0;
	return 1;
}

/* RFC 5280 4.2.1.10 as path validation applies it: an address in an
 * excluded range is refused; when permitted ranges exist, an address in
 * none of them (of either family) is refused. */
int tc_policy_check_ip(const struct tc_policy *p, const uint8_t *ip, size_t len, const char **reason, char *why,
		       size_t wl)
{
	char text[INET6_ADDRSTRLEN] = "?";
	inet_ntop(len == 4 ? AF_INET : AF_INET6, ip, text, sizeof(text));
	*reason = TC_REASON_NAME_NOT_PERMITTED;
	if (!p->allow_ip_sans)
		return tc_errorf(why, wl, "subjectAltName: IP addresses are not permitted");
	for (size_t i = 0; i < p->n_ip_excluded; i++)
		if (cidr_holds(&p->ip_excluded[i], ip, len))
			return tc_errorf(why, wl, "subjectAltName: IP address %s is in ca.excluded_ip_ranges", text);
	if (p->n_ip_permitted == 0)
		return 0;
	for (size_t i = 0; i < p->n_ip_permitted; i++)
		if (cidr_holds(&p->ip_permitted[i], ip, len))
			return 0;
	return tc_errorf(why, wl, "subjectAltName: IP address %s is outside ca.permitted_ip_ranges", text);
}

/* Case-insensitive equality of a CN and a dNSName (which holds no NUL). */
static int same_text(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	if (al != bl)
		return 0;
	for (size_t i = 0; i < al; i++)
		if (tolower(a[i]) != tolower(b[i]))
			return 0;
	return 1;
}

/* 1 when a SAN entry repeats the subject CN (the text of an IPv4 address
 * counts for an iPAddress). */
static int cn_in_sans(struct tc_der_cursor sans, const uint8_t *cn, size_t cn_len)
{
	struct tc_der_elem gn;
	while (tc_der_next(&sans, &gn) == TC_DER_OK) {
		if (gn.tag == TC_SAN_DNS && same_text(gn.val, gn.val_len, cn, cn_len))
			return 1;
		if (gn.tag == TC_SAN_IP && gn.val_len == 4) {
			char ip[64];
			snprintf(ip, sizeof(ip), "%u.%u.%u.%u", gn.val[0], gn.val[1], gn.val[2], gn.val[3]);
			if (cn_len == strlen(ip) && memcmp(ip, cn, cn_len) == 0)
				return 1;
		}
	}
	return 0;
}

/* 1 when a name's bytes hold a C0 control byte (NUL included) or DEL:
 * names are length-delimited, and one that C string functions or a log
 * line would read differently is refused, never truncated. */
static int has_control_byte(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return 1;
	return 0;
}

/* Subject: at most one attribute, a CN, which must repeat a SAN entry. */
static int check_subject(const struct tc_tbs_view *v, struct tc_der_cursor sans, const char **reason, char *why,
			 size_t wl)
{
	static const uint8_t common_name[] = {0x55, 0x04, 0x03};
	*reason = TC_REASON_NAME_INVALID;
	size_t count = 0;
	struct tc_der_elem first_type = {0}, first_value = {0};
	struct tc_der_cursor rdns = tc_der_inside(&v->subject);
	struct tc_der_elem rdn, ava;
	while (tc_der_next(&rdns, &rdn) == TC_DER_OK) {
		struct tc_der_cursor avas = tc_der_inside(&rdn);
		while (tc_der_next(&avas, &ava) == TC_DER_OK) {
			if (count++ == 0) {
				struct tc_der_cursor c = tc_der_inside(&ava);
				tc_der_next(&c, &first_type);
				tc_der_next(&c, &first_value);
			}
		}
	}
	if (count == 0)
		return 0;
	if (count > 1 || !OID_IS(&first_type, common_name))
		return tc_errorf(why, wl, "subject: only a single commonName is allowed");
	/* Named for what it is, before the comparison with the SANs would
	 * call it merely different. */
	if (has_control_byte(first_value.val, first_value.val_len))
		return tc_errorf(why, wl, "subject: commonName holds a NUL or another control byte");
	if (!cn_in_sans(sans, first_value.val, first_value.val_len))
		return tc_errorf(why, wl, "subject: commonName is not one of the subjectAltNames");
	return 0;
}

static int check_names(const struct tc_policy *p, const struct tc_tbs_view *v, const char **reason, char *why,
		       size_t wl)
{
	*reason = TC_REASON_NAME_INVALID;
	struct tc_der_cursor sans;
	if (tc_template_sans(v, &sans) != 0)
		return tc_errorf(why, wl, "subjectAltName: missing or undecodable");
	if (tc_der_at_end(&sans))
		return tc_errorf(why, wl, "subjectAltName: empty");
	struct tc_der_cursor c = sans;
	struct tc_der_elem gn;
	while (tc_der_next(&c, &gn) == TC_DER_OK) {
		if (gn.tag == TC_SAN_DNS) {
			if (gn.val_len == 0 || gn.val_len > 253 || has_control_byte(gn.val, gn.val_len)) {
				*reason = TC_REASON_NAME_INVALID;
				return tc_errorf(why, wl, "subjectAltName: malformed dNSName (empty, over 253 "
						 "bytes, or a NUL or another control byte)");
			}
			char name[256];
			memcpy(name, gn.val, gn.val_len);
			name[gn.val_len] = '\0';
			if (tc_policy_check_dns_name(p, name, reason, why, wl) != 0)
				return -1;
		} else if (gn.tag == TC_SAN_IP) {
			/* An address is 4 or 16 bytes; 8 and 32 are name
			 * constraints' address/mask pairs, never a leaf's name. */
			if (gn.val_len != 4 && gn.val_len != 16) {
				*reason = TC_REASON_NAME_INVALID;
				return tc_errorf(why, wl, "subjectAltName: malformed iPAddress (%zu bytes, not 4 or 16)",
						 gn.val_len);
			}
			if (tc_policy_check_ip(p, gn.val, gn.val_len, reason, why, wl) != 0)
				return -1;
		} else {
			*reason = TC_REASON_NAME_INVALID;
			return tc_errorf(why, wl, "subjectAltName: only DNS names and IP addresses are allowed");
		}
	}
	return check_subject(v, sans, reason, why, wl);
}

/* The key as OpenSSL decodes it, for the shapes not read directly below
 * (a refusal, or rare): the checks of the OpenSSL-based policy. */
static int check_decoded_key(const struct tc_policy *p, const struct tc_der_elem *spki, char *why, size_t wl)
{
	const unsigned char *in = spki->tlv;
	EVP_PKEY *k = d2i_PUBKEY(NULL, &in, (long)spki->tlv_len);
	ERR_clear_error();
	if (!k)
		return tc_errorf(why, wl, "public key: missing or undecodable");
	int id = EVP_PKEY_get_base_id(k), rc = 0;
	if (id == EVP_PKEY_EC) {
		char group[64] = "";
		size_t gl = 0;
		if (!EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &gl))
			rc = tc_errorf(why, wl, "public key: EC key without a named curve");
		else if (strcmp(group, "prime256v1") != 0 && strcmp(group, "secp384r1") != 0)
			rc = tc_errorf(why, wl, "public key: curve %s is not allowed (P-256, P-384)", group);
	} else if (id == EVP_PKEY_RSA) {
		int bits = EVP_PKEY_get_bits(k);
		if (bits < (int)p->min_rsa_bits || bits > 8192)
			rc = tc_errorf(why, wl, "public key: RSA-%d is not allowed (%u..8192 bits)", bits, p->min_rsa_bits);
	} else {
		rc = tc_errorf(why, wl, "public key: type %s is not allowed", OBJ_nid2sn(id));
	}
	EVP_PKEY_free(k);
	ERR_clear_error();
	return rc;
}

/* Bits of a positive INTEGER in the fewest octets. */
static int integer_bits(const struct tc_der_elem *e)
{
	const uint8_t *b = e->val;
	size_t n = e->val_len;
	if (!tc_der_integer_valid(e) || (b[0] & 0x80))
		return -1;
	while (n > 1 && b[0] == 0)
		b++, n--;
	int bits = (int)(8 * (n - 1));
	for (uint8_t top = b[0]; top; top >>= 1)
		bits++;
	return bits;
}

static int check_key(const struct tc_policy *p, const struct tc_tbs_view *v, char *why, size_t wl)
{
	static const uint8_t ec_public_key[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
	static const uint8_t p256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
	static const uint8_t p384[] = {0x2b, 0x81, 0x04, 0x00, 0x22};
	static const uint8_t rsa_encryption[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
	struct tc_der_cursor c = tc_der_inside(&v->spki);
	struct tc_der_elem alg, key, oid, param;
	tc_der_next(&c, &alg);
	tc_der_next(&c, &key);
	struct tc_der_cursor ac = tc_der_inside(&alg);
	tc_der_next(&ac, &oid);
	int has_param = tc_der_next(&ac, &param) == TC_DER_OK;
	if (OID_IS(&oid, ec_public_key) && has_param && (OID_IS(&param, p256) || OID_IS(&param, p384))) {
		/* The allowed curves: the point must be on the curve (~16 us,
		 * against ~100 us for OpenSSL 3.0's decoder). */
		char err[128];
		EVP_PKEY *k = tc_spki_key(v->spki.tlv, v->spki.tlv_len, err, sizeof(err));
		if (!k)
			return tc_errorf(why, wl, "public key: missing or undecodable");
		EVP_PKEY_free(k);
		return 0;
	}
	if (OID_IS(&oid, rsa_encryption) && has_param && param.tag == TC_DER_NULL && param.val_len == 0) {
		/* RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } */
		const uint8_t *bytes;
		size_t len;
		struct tc_der_elem rsa, n, e;
		struct tc_der_cursor rc;
		int bits = -1;
		if (tc_der_bit_string_bytes(&key, &bytes, &len) == TC_DER_OK &&
		    tc_der_whole(bytes, len, TC_DER_SEQUENCE, &rsa) == TC_DER_OK && (rc = tc_der_inside(&rsa), 1) &&
		    tc_der_expect(&rc, TC_DER_INTEGER, &n) == TC_DER_OK &&
		    tc_der_expect(&rc, TC_DER_INTEGER, &e) == TC_DER_OK && tc_der_at_end(&rc) && integer_bits(&e) > 0)
			bits = integer_bits(&n);
		if (bits > 0) {
			if (bits < (int)p->min_rsa_bits || bits > 8192)
				return tc_errorf(why, wl, "public key: RSA-%d is not allowed (%u..8192 bits)", bits,
						 p->min_rsa_bits);
			return 0;
		}
	}
	return check_decoded_key(p, &v->spki, why, wl);
}

int tc_policy_check_leaf_reason(const struct tc_policy *p, const struct tc_tbs_view *tmpl, time_t now,
				const char **reason, char *why, size_t whylen)
{
	*reason = TC_REASON_TEMPLATE_INVALID;
	if (!tmpl->has_version || tmpl->version.val_len != 1 || tmpl->version.val[0] != 2)
		return tc_errorf(why, whylen, "template is not an X.509 v3 certificate");
	if (check_validity(p, tmpl, now, reason, why, whylen) != 0)
		return -1;
	*reason = TC_REASON_EXTENSION_NOT_ALLOWED;
	if (check_extensions(tmpl, why, whylen) != 0)
		return -1;
	if (check_names(p, tmpl, reason, why, whylen) != 0)
		return -1;
	*reason = TC_REASON_KEY_TYPE_NOT_ALLOWED;
	if (check_key(p, tmpl, why, whylen) != 0)
		return -1;
	*reason = "";
	return 0;
}

int tc_policy_check_leaf(const struct tc_policy *p, const struct tc_tbs_view *tmpl, time_t now, char *why,
			 size_t whylen)
{
	const char *reason;
	return tc_policy_check_leaf_reason(p, tmpl, now, &reason, why, whylen);
}
