/* RFC 7807 problem documents with the ACME error types of RFC 8555
 * section 6.7 (and RFC 9773's), each with the HTTP status it is sent with.
 * Every refusal of the ACME server is one of these. */
#ifndef TC_ACME_PROBLEM_H
#define TC_ACME_PROBLEM_H

#include <jansson.h>

#include "acme/acme_resp.h"

#define TC_ACME_ERR_PREFIX "urn:ietf:params:acme:error:"

/* HTTP status for an ACME error type (without the prefix). */
unsigned tc_acme_problem_status(const char *type);

/* The problem object {type, detail, status} (+ identifier when id_type is
 * non-NULL); a new reference. */
json_t *tc_acme_problem_json(const char *type, const char *detail, const char *id_type, const char *id_value);

/* Fills r with an application/problem+json answer of type (e.g.
 * "malformed"), the status tc_acme_problem_status gives (or status when
 * non-zero), detail printf-formatted. subproblems (stolen, may be NULL) is
 * a JSON array of problem objects. Returns -1 so handlers can `return
 * tc_acme_problem(...)`. */
int tc_acme_problem(struct tc_acme_resp *r, const char *type, unsigned status, json_t *subproblems,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
