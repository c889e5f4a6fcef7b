/* Issuance policy the signer enforces on every leaf template, whatever the
 * caller checked before: the signer trusts no caller. */
#ifndef TC_SIGNER_POLICY_H
#define TC_SIGNER_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/cert_der.h"
#include "common/config.h"

/* One iPAddress subtree of ca.permitted_ip_ranges / ca.excluded_ip_ranges,
 * parsed once: len 4 (IPv4) or 16 (IPv6) octets of address and mask. */
struct tc_policy_cidr {
	uint8_t addr[16];
	uint8_t mask[16];
	uint8_t len;
};

struct tc_policy {
	uint32_t max_validity_hours;
	struct tc_string_list suffixes;
	/* The intermediate's nameConstraints, enforced here too: a name it
	 * excludes would make the certificate fail every client's path
	 * validation (and the CT log's), so signing it only wastes HSM work
	 * and lets a caller loop on an error it cannot see. */
	struct tc_string_list excluded_suffixes;
	struct tc_policy_cidr ip_permitted[TC_CFG_MAX_LIST];
	size_t n_ip_permitted;
	struct tc_policy_cidr ip_excluded[TC_CFG_MAX_LIST];
	size_t n_ip_excluded;
	bool allow_wildcards;
	bool allow_ip_sans;          /* dev only: services on loopback */
	uint32_t min_rsa_bits;
	uint32_t max_backdate_s;     /* how far notBefore may lie in the past */
	uint32_t max_future_s;       /* how far notBefore may lie in the future */
};

void tc_policy_from_config(const struct tc_config *cfg, struct tc_policy *p);

/* Machine-readable refusal reasons (the IPC Response's reason field). */
#define TC_REASON_TEMPLATE_INVALID "template_invalid"             /* not a usable v3 TBS */
#define TC_REASON_VALIDITY_INVALID "validity_invalid"             /* window unreadable, reversed, too early/late */
#define TC_REASON_VALIDITY_EXCEEDS_POLICY "validity_exceeds_policy" /* longer than the maximum */
#define TC_REASON_EXTENSION_NOT_ALLOWED "extension_not_allowed"   /* CA:TRUE, keyCertSign, unknown extensions, EKUs */
#define TC_REASON_NAME_INVALID "name_invalid"                     /* malformed SAN or subject */
#define TC_REASON_NAME_NOT_PERMITTED "name_not_permitted"         /* outside suffixes, wildcard, IP, peer's only name */
#define TC_REASON_KEY_TYPE_NOT_ALLOWED "key_type_not_allowed"     /* curve, RSA size, algorithm */
/* RFC 6962 on every link: a leaf is signed as a precertificate, or as the
 * final twin of one this signer signed, carrying an SCT of our log. */
#define TC_REASON_PRECERT_REQUIRED "precertificate_required"     /* a plain final certificate (no SCT list) */
#define TC_REASON_PRECERT_UNKNOWN "precertificate_unknown"       /* no such precertificate signed (or remembered) */
#define TC_REASON_SCT_INVALID "sct_invalid"                       /* no SCT of our log that verifies over it */

/* Returns 0 when the template (tc_template_parse) may be issued, else -1
 * with the reason in why. */
int tc_policy_check_leaf(const struct tc_policy *p, const struct tc_tbs_view *tmpl, time_t now, char *why,
			 size_t whylen);
/* The same, also setting *reason to one of TC_REASON_* on refusal ("" when
 * accepted). */
int tc_policy_check_leaf_reason(const struct tc_policy *p, const struct tc_tbs_view *tmpl, time_t now,
				const char **reason, char *why, size_t whylen);

/* One dNSName (NUL-free text, "*." allowed when the policy does) or one
 * iPAddress (4 or 16 octets) against the permitted and excluded names and
 * ranges: 0 when allowed, else -1 with *reason and why set. The lint uses
 * the same rules, so the two can never disagree. */
int tc_policy_check_dns_name(const struct tc_policy *p, const char *name, const char **reason, char *why, size_t wl);
int tc_policy_check_ip(const struct tc_policy *p, const uint8_t *ip, size_t len, const char **reason, char *why,
		       size_t wl);

/* 1 when name (lower-cased comparison) is suffix or a subdomain of it. */
int tc_name_under_suffix(const char *name, const char *suffix);

#endif
