/* Shared between the lint files (lint.c, lint_ext.c, lint_names.c,
 * lint_crl.c); not an interface for anyone else. */
#ifndef TC_SIGNER_LINT_INTERNAL_H
#define TC_SIGNER_LINT_INTERNAL_H

#include <stdint.h>
#include <time.h>

#include "common/cert_der.h"
#include "signer/lint.h"

enum tc_lint_key { TC_LINT_KEY_EC, TC_LINT_KEY_RSA };

/* Sets res (lint and printf-style detail) and returns -1. */
int tc_lint_fail(struct tc_lint_result *res, const char *lint, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A Name's attributes: each RDN a non-empty SET of well-formed
 * AttributeTypeAndValue, strings of the types we write (UTF8String,
 * PrintableString, IA5String) holding only their charsets, no control
 * byte. 0, or -1 with TC_LINT_NAME_ENCODING / TC_LINT_TBS_MALFORMED. */
int tc_lint_name(const struct tc_der_elem *name, const char *which, struct tc_lint_result *res);

/* A UTCTime/GeneralizedTime as RFC 5280 4.1.2.5 wants it (UTCTime through
 * 2049, GeneralizedTime from 2050, seconds, "Z"), converted to *out. */
int tc_lint_time(const struct tc_der_elem *t, time_t *out);

/* One dNSName's bytes: 0, or -1 with a SAN lint (empty, NUL or another
 * control byte, not a host name). *wildcard tells a leading "*.". */
int tc_lint_dns_name(const struct tc_der_elem *gn, int *wildcard, struct tc_lint_result *res);

/* Every rule about extensions, for the certificate v with key kind key. */
int tc_lint_extensions(const struct tc_tbs_view *v, enum tc_lint_profile profile, enum tc_lint_key key,
		       const struct tc_lint_issuer *issuer, const struct tc_policy *policy,
		       struct tc_lint_result *res);

#endif
