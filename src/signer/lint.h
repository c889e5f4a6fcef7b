/* Lint before signing: every TBSCertificate (and TBSCertList) the CA is
 * about to sign is read back from the exact bytes that go to the HSM and
 * checked against RFC 5280 and our profiles. The template checks in
 * policy.c look at what a caller sent; the lints look at what the signer
 * itself assembled, so a bug in completion (cert_sign.c), in a ceremony or
 * in the CRL builder is refused instead of signed.
 *
 * A refusal names one lint (TC_LINT_* below, "lint_" + what is wrong):
 * that name is the signer's machine-readable reason, journaled with the
 * refusal and returned by the gateway. tests/data/lint/ holds one TBS per
 * lint that fails it and no other. */
#ifndef TC_SIGNER_LINT_H
#define TC_SIGNER_LINT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "signer/policy.h"

/* What the certificate is for: each profile has its own extension rules. */
enum tc_lint_profile {
	TC_LINT_LEAF,     /* end entity, final certificate (optional SCT list) */
	TC_LINT_PRECERT,  /* end entity with the RFC 6962 poison */
	TC_LINT_SUB_CA,   /* the issuing intermediate */
	TC_LINT_ROOT,     /* a self-signed root */
	TC_LINT_CROSS,    /* a new root's key and subject certified by the old root (rollover) */
};

/* Structure (RFC 5280 4.1) */
#define TC_LINT_TBS_MALFORMED "lint_tbs_malformed"             /* not a TBSCertificate / not DER */
#define TC_LINT_VERSION "lint_version_not_v3"
#define TC_LINT_SERIAL_NOT_POSITIVE "lint_serial_not_positive" /* zero or negative */
#define TC_LINT_SERIAL_TOO_LONG "lint_serial_too_long"         /* more than 20 octets */
#define TC_LINT_SIG_ALG "lint_signature_algorithm"             /* not the issuer key's algorithm */
#define TC_LINT_ISSUER_EMPTY "lint_issuer_empty"
#define TC_LINT_ISSUER_MISMATCH "lint_issuer_name_mismatch"    /* not the issuing certificate's subject */
#define TC_LINT_NAME_ENCODING "lint_name_encoding"             /* attribute string not of its type's charset */
#define TC_LINT_TIME_ENCODING "lint_time_encoding"             /* UTCTime before 2050, GeneralizedTime after, Z */
#define TC_LINT_VALIDITY_ORDER "lint_validity_order"           /* notAfter not after notBefore */
#define TC_LINT_SUBJECT_EMPTY "lint_subject_empty"             /* empty subject without critical SAN, or a CA */
#define TC_LINT_KEY "lint_public_key"                          /* not a P-256/P-384 or RSA key we issue for */
/* Extensions (RFC 5280 4.2) */
#define TC_LINT_EXT_MISSING "lint_extensions_missing"          /* a v3 certificate of ours always has some */
#define TC_LINT_EXT_DUPLICATE "lint_extension_duplicate"
#define TC_LINT_EXT_UNKNOWN_CRITICAL "lint_extension_unknown_critical"
#define TC_LINT_EXT_NOT_ALLOWED "lint_extension_not_allowed"   /* known, but not in this profile */
#define TC_LINT_EXT_CRITICALITY "lint_extension_criticality"   /* critical where it must not be, or not where it must */
#define TC_LINT_EXT_ENCODING "lint_extension_encoding"         /* extnValue not its DER structure */
#define TC_LINT_BC_MISSING "lint_basic_constraints_missing"
#define TC_LINT_BC_CA "lint_basic_constraints_ca"              /* cA / pathLen wrong for the profile */
#define TC_LINT_KU_MISSING "lint_key_usage_missing"
#define TC_LINT_KU_INCONSISTENT "lint_key_usage_inconsistent"  /* with the key type or the profile */
#define TC_LINT_EKU "lint_ext_key_usage"                       /* missing on a leaf, or a purpose we do not issue */
#define TC_LINT_SAN_MISSING "lint_san_missing"
#define TC_LINT_SAN_EMPTY_NAME "lint_san_empty_name"
#define TC_LINT_SAN_BAD_DNS "lint_san_bad_dns_name"            /* NUL, control byte, not a host name */
#define TC_LINT_SAN_BAD_IP "lint_san_bad_ip_length"            /* iPAddress not 4 or 16 octets */
#define TC_LINT_SAN_TYPE "lint_san_name_type"                  /* a GeneralName kind a leaf of ours never has */
#define TC_LINT_AKI_MISSING "lint_aki_missing"                 /* or without keyIdentifier */
#define TC_LINT_AKI_MISMATCH "lint_aki_mismatch"               /* not the issuer's subjectKeyIdentifier */
#define TC_LINT_SKI_MISSING "lint_ski_missing"
#define TC_LINT_CT_POISON "lint_ct_poison"                     /* poison where none belongs, or missing */
#define TC_LINT_NAME_CONSTRAINTS "lint_name_constraints"       /* malformed or empty subtrees */
#define TC_LINT_URL "lint_distribution_url"                    /* CDP / AIA not an http URI */
/* Policy (policy.c's rules, applied to the completed certificate) */
#define TC_LINT_POLICY_VALIDITY "lint_policy_validity"         /* longer than ca.cert_validity_hours */
#define TC_LINT_POLICY_NAME "lint_policy_name"                 /* outside ca.permitted_suffixes */
/* CRLs (RFC 5280 5.1) */
#define TC_LINT_CRL_MALFORMED "lint_crl_malformed"
#define TC_LINT_CRL_VERSION "lint_crl_version"
#define TC_LINT_CRL_UPDATE_ORDER "lint_crl_update_order"       /* nextUpdate missing or not after thisUpdate */
#define TC_LINT_CRL_NUMBER "lint_crl_number"                   /* missing, negative or longer than 20 octets */
#define TC_LINT_CRL_AKI "lint_crl_aki_missing"
#define TC_LINT_CRL_SERIAL "lint_crl_serial"                   /* revoked serial not positive or too long */

/* What a refusal says: the lint and a sentence for the operator. */
struct tc_lint_result {
	const char *lint; /* one of TC_LINT_*, NULL when clean */
	char detail[200];
};

/* The issuer side of a certificate to lint. */
struct tc_lint_issuer {
	const uint8_t *sig_alg;  /* the AlgorithmIdentifier the issuer signs with (whole DER) */
	size_t sig_alg_len;
	const uint8_t *name;     /* its subject Name, whole DER (the TBS's issuer must equal it) */
	size_t name_len;
	const uint8_t *key_id;   /* its subjectKeyIdentifier (AKI must carry it); NULL: not checked */
	size_t key_id_len;
};

/* Lints tbs (a whole TBSCertificate DER) for profile. policy (NULL for CA
 * profiles) adds the issuance policy's lints; now is only used by them.
 * 0 when clean, else -1 with res->lint set. Never reads past len. */
int tc_lint_tbs(const uint8_t *tbs, size_t len, enum tc_lint_profile profile, const struct tc_lint_issuer *issuer,
		const struct tc_policy *policy, struct tc_lint_result *res);

/* Lints a TBSCertList (RFC 5280 5.1) the issuer is about to sign. */
int tc_lint_crl_tbs(const uint8_t *tbs, size_t len, const struct tc_lint_issuer *issuer, struct tc_lint_result *res);

#endif
