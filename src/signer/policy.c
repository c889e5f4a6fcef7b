#include "signer/policy.h"

#include <openssl/core_names.h>
#include <openssl/obj_mac.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/config_schema.h"
#include "common/errorf.h"

void tc_policy_from_config(const struct tc_config *cfg, struct tc_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->max_validity_hours = cfg->ca.cert_validity_hours;
	p->suffixes = cfg->ca.permitted_suffixes;
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

static int check_validity(const struct tc_policy *p, X509 *x, time_t now, const char **reason, char *why,
			  size_t wl)
{
	*reason = TC_REASON_VALIDITY_INVALID;
	const ASN1_TIME *nb = X509_get0_notBefore(x), *na = X509_get0_notAfter(x);
	struct tm tnb, tna;
	if (!nb || !na || !ASN1_TIME_to_tm(nb, &tnb) || !ASN1_TIME_to_tm(na, &tna))
		return tc_errorf(why, wl, "validity: unreadable notBefore/notAfter");
	time_t b = timegm(&tnb), a = timegm(&tna);
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

/* Only what a leaf needs; poison and SCT list are added by the signer alone. */
static int check_extensions(X509 *x, char *why, size_t wl)
{
	static const int allowed[] = {NID_subject_alt_name, NID_basic_constraints, NID_key_usage,
				      NID_ext_key_usage, NID_subject_key_identifier,
				      NID_authority_key_identifier};
	for (int i = 0; i < X509_get_ext_count(x); i++) {
		X509_EXTENSION *ext = X509_get_ext(x, i);
		int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
		int ok = 0;
		for (size_t k = 0; k < sizeof(allowed) / sizeof(allowed[0]); k++)
			ok |= nid == allowed[k];
		if (!ok) {
			char oid[80];
			OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(ext), 1);
			return tc_errorf(why, wl, "extension %s is not allowed in a leaf template", oid);
		}
		if (X509_get_ext_by_OBJ(x, X509_EXTENSION_get_object(ext), i) >= 0)
			return tc_errorf(why, wl, "duplicate extension");
	}
	int crit = -1;
	BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	if (!bc && crit != -1)
		return tc_errorf(why, wl, "basicConstraints: undecodable");
	if (bc) {
		int ca = bc->ca, has_pathlen = bc->pathlen != NULL;
		BASIC_CONSTRAINTS_free(bc);
		if (ca)
			return tc_errorf(why, wl, "basicConstraints: CA:TRUE is never issued on this path");
		if (has_pathlen)
			return tc_errorf(why, wl, "basicConstraints: pathLenConstraint on a leaf");
	}
	uint32_t ku = X509_get_key_usage(x);
	if ((X509_get_extension_flags(x) & EXFLAG_KUSAGE) && (ku & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)))
		return tc_errorf(why, wl, "keyUsage: keyCertSign/cRLSign are not allowed on a leaf");
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, &crit, NULL);
	if (!eku && crit != -1)
		return tc_errorf(why, wl, "extKeyUsage: undecodable");
	if (eku) {
		int bad = 0;
		for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
			int nid = OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i));
			if (nid != NID_server_auth && nid != NID_client_auth)
				bad = 1;
		}
		int n = sk_ASN1_OBJECT_num(eku);
		sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
		if (bad || n == 0)
			return tc_errorf(why, wl, "extKeyUsage: only serverAuth and clientAuth may be issued");
	}
	return 0;
}

static int check_dns_name(const struct tc_policy *p, const char *name, const char **reason, char *why,
			  size_t wl)
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
	for (size_t i = 0; i < p->suffixes.count; i++)
		if (tc_name_under_suffix(base, p->suffixes.items[i]))
			return 0;
	return tc_errorf(why, wl, "name %s: outside the permitted suffixes", name);
}

static int check_names(const struct tc_policy *p, X509 *x, const char **reason, char *why, size_t wl)
{
	*reason = TC_REASON_NAME_INVALID;
	int crit = -1;
	GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	if (!sans)
		return tc_errorf(why, wl, "subjectAltName: missing or undecodable");
	int rc = 0;
	int n = sk_GENERAL_NAME_num(sans);
	if (n == 0)
		rc = tc_errorf(why, wl, "subjectAltName: empty");
	for (int i = 0; i < n && rc == 0; i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
		if (gn->type == GEN_DNS) {
			const ASN1_IA5STRING *s = gn->d.dNSName;
			if (s->length <= 0 || s->length > 253 || memchr(s->data, 0, (size_t)s->length)) {
				*reason = TC_REASON_NAME_INVALID;
				rc = tc_errorf(why, wl, "subjectAltName: malformed dNSName");
				break;
			}
			char name[256];
			memcpy(name, s->data, (size_t)s->length);
			name[s->length] = '\0';
			rc = check_dns_name(p, name, reason, why, wl);
		} else if (gn->type == GEN_IPADD) {
			if (!p->allow_ip_sans) {
				*reason = TC_REASON_NAME_NOT_PERMITTED;
				rc = tc_errorf(why, wl, "subjectAltName: IP addresses are not permitted");
			}
		} else {
			*reason = TC_REASON_NAME_INVALID;
			rc = tc_errorf(why, wl, "subjectAltName: only DNS names and IP addresses are allowed");
		}
	}
	if (rc == 0) {
		/* Subject: at most one CN, which must repeat a SAN entry. */
		X509_NAME *subj = X509_get_subject_name(x);
		int entries = X509_NAME_entry_count(subj);
		for (int i = 0; i < entries && rc == 0; i++) {
			X509_NAME_ENTRY *e = X509_NAME_get_entry(subj, i);
			*reason = TC_REASON_NAME_INVALID;
			if (OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)) != NID_commonName || entries > 1) {
				rc = tc_errorf(why, wl, "subject: only a single commonName is allowed");
				break;
			}
			ASN1_STRING *cn = X509_NAME_ENTRY_get_data(e);
			int found = 0;
			for (int k = 0; k < n && !found; k++) {
				GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, k);
				if (gn->type == GEN_DNS && gn->d.dNSName->length == cn->length &&
				    strncasecmp((const char *)gn->d.dNSName->data, (const char *)cn->data,
						(size_t)cn->length) == 0)
					found = 1;
				if (gn->type == GEN_IPADD) {
					char ip[64];
					ASN1_OCTET_STRING *a = gn->d.iPAddress;
					if (a->length == 4) {
						snprintf(ip, sizeof(ip), "%u.%u.%u.%u", a->data[0], a->data[1], a->data[2], a->data[3]);
						found = (size_t)cn->length == strlen(ip) && memcmp(ip, cn->data, strlen(ip)) == 0;
					}
				}
			}
			if (!found)
				rc = tc_errorf(why, wl, "subject: commonName is not one of the subjectAltNames");
		}
	}
	GENERAL_NAMES_free(sans);
	return rc;
}

static int check_key(const struct tc_policy *p, X509 *x, char *why, size_t wl)
{
	EVP_PKEY *k = X509_get0_pubkey(x);
	if (!k)
		return tc_errorf(why, wl, "public key: missing or undecodable");
	int id = EVP_PKEY_get_base_id(k);
	if (id == EVP_PKEY_EC) {
		char group[64] = "";
		size_t gl = 0;
		if (!EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &gl))
			return tc_errorf(why, wl, "public key: EC key without a named curve");
		if (strcmp(group, "prime256v1") != 0 && strcmp(group, "secp384r1") != 0)
			return tc_errorf(why, wl, "public key: curve %s is not allowed (P-256, P-384)", group);
		return 0;
	}
	if (id == EVP_PKEY_RSA) {
		int bits = EVP_PKEY_get_bits(k);
		if (bits < (int)p->min_rsa_bits || bits > 8192)
			return tc_errorf(why, wl, "public key: RSA-%d is not allowed (%u..8192 bits)", bits,
				      p->min_rsa_bits);
		return 0;
	}
	return tc_errorf(why, wl, "public key: type %s is not allowed", OBJ_nid2sn(id));
}

int tc_policy_check_leaf_reason(const struct tc_policy *p, X509 *tmpl, time_t now, const char **reason,
				char *why, size_t whylen)
{
	*reason = TC_REASON_TEMPLATE_INVALID;
	if (X509_get_version(tmpl) != X509_VERSION_3)
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

int tc_policy_check_leaf(const struct tc_policy *p, X509 *tmpl, time_t now, char *why, size_t whylen)
{
	const char *reason;
	return tc_policy_check_leaf_reason(p, tmpl, now, &reason, why, whylen);
}
