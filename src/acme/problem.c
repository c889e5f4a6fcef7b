#include "acme/problem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct type_status {
	const char *type;
	unsigned status;
};

/* RFC 8555 6.7 does not fix statuses; these follow its examples and what
 * clients expect (429 for rateLimited, 403 for authorization failures). */
static const struct type_status STATUSES[] = {
	{"accountDoesNotExist", 400}, {"alreadyRevoked", 400}, {"badCSR", 400}, {"badNonce", 400},
	{"badPublicKey", 400}, {"badRevocationReason", 400}, {"badSignatureAlgorithm", 400}, {"caa", 403},
	{"compound", 400}, {"connection", 400}, {"dns", 400}, {"externalAccountRequired", 403},
	{"incorrectResponse", 400}, {"invalidContact", 400}, {"malformed", 400}, {"orderNotReady", 403},
	{"rateLimited", 429}, {"rejectedIdentifier", 400}, {"serverInternal", 500}, {"tls", 400},
	{"unauthorized", 403}, {"unsupportedContact", 400}, {"unsupportedIdentifier", 400},
	{"userActionRequired", 403},
};

unsigned tc_acme_problem_status(const char *type)
{
	for (size_t i = 0; i < sizeof(STATUSES) / sizeof(STATUSES[0]); i++)
		if (strcmp(STATUSES[i].type, type) == 0)
			return STATUSES[i].status;
	return 400;
}

json_t *tc_acme_problem_json(const char *type, const char *detail, const char *id_type, const char *id_value)
{
	char full[128];
	snprintf(full, sizeof(full), TC_ACME_ERR_PREFIX "%s", type);
	json_t *p = json_pack("{s:s, s:s, s:i}", "type", full, "detail", detail ? detail : "", "status",
			      (int)tc_acme_problem_status(type));
	if (p && id_type)
		json_object_set_new(p, "identifier", json_pack("{s:s, s:s}", "type", id_type, "value", id_value));
	return p;
}

int tc_acme_problem(struct tc_acme_resp *r, const char *type, unsigned status, json_t *subproblems,
		    const char *fmt, ...)
{
	char detail[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	json_t *p = tc_acme_problem_json(type, detail, NULL, NULL);
	if (p && status)
		json_object_set_new(p, "status", json_integer(status));
	if (p && subproblems)
		json_object_set(p, "subproblems", subproblems);
	json_decref(subproblems);
	char *text = p ? json_dumps(p, JSON_COMPACT) : NULL;
	json_decref(p);
	free(r->body);
	r->body = NULL;
	r->body_len = 0;
	r->status = status ? status : tc_acme_problem_status(type);
	r->content_type = "application/problem+json";
	if (text) {
		r->body = text;
		r->body_len = strlen(text);
	} else {
		r->status = 500;
	}
	return -1;
}
