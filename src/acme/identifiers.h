/* newOrder identifiers (RFC 8555 7.1.3/7.4, RFC 8738 for ip): syntax,
 * policy (ca.permitted_suffixes, wildcards only where both acme and ca
 * allow them, IP addresses only where the CA issues them) and, for an
 * account bound by EAB, the names its patterns cover. */
#ifndef TC_ACME_IDENTIFIERS_H
#define TC_ACME_IDENTIFIERS_H

#include <jansson.h>

#include "acme/acme.h"

/* Checks idents (the payload's "identifiers") for account rec. On success
 * *out is a new array of {type, value} in canonical form (DNS names lower
 * case without a final dot, IP addresses as inet_ntop writes them),
 * duplicates dropped. -1 with a problem in r otherwise: rejectedIdentifier
 * / unsupportedIdentifier / malformed with one subproblem per identifier
 * at fault. */
int tc_acme_check_identifiers(struct tc_acme *a, const json_t *account, const json_t *idents, json_t **out,
			      struct tc_acme_resp *r);

#endif
