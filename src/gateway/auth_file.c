/* gateway.tokens_file and gateway.clients_file: one principal per line,
 *   CREDENTIAL  NAME  PATTERN[,PATTERN...]  [revoke]
 * CREDENTIAL being the SHA-256 (hex) of a bearer token, or a client
 * certificate identity; '#' starts a comment. Anything else is an error
 * naming the file and line: a typo must not silently grant or deny. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/config_schema.h"
#include "common/hex.h"
#include "gateway/auth_table.h"

#define MAX_FIELDS 4
#define MAX_PATTERNS 1024

static int fail(char *err, size_t errlen, const char *file, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int fail(char *err, size_t errlen, const char *file, unsigned line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s:%u: %s", file, line, msg);
	return -1;
}

static int is_ip(const char *s)
{
	unsigned char b[16];
	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static int valid_pattern(const char *p)
{
	if (strcmp(p, "*") == 0 || is_ip(p))
		return 1;
	const char *base = strncmp(p, "*.", 2) == 0 ? p + 2 : p;
	return !strchr(base, '*') && tc_valid_dns_name(base) && base[strlen(base) - 1] != '.';
}

static int valid_principal_name(const char *s)
{
	if (!*s || strlen(s) >= TC_AUTH_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-@", *s))
			return 0;
	return 1;
}

/* Splits field (a comma list) into p's patterns. */
static int parse_patterns(struct tc_auth_principal *p, char *field, const char *file, unsigned line, char *err,
			  size_t errlen)
{
	size_t n = 1;
	for (const char *s = field; *s; s++)
		n += *s == ',';
	if (n > MAX_PATTERNS)
		return fail(err, errlen, file, line, "more than %d patterns", MAX_PATTERNS);
	p->patterns = calloc(n, sizeof(*p->patterns));
	if (!p->patterns)
		return fail(err, errlen, file, line, "out of memory");
	char *save = NULL;
	for (char *tok = strtok_r(field, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		lower(tok);
		if (strlen(tok) >= TC_AUTH_PATTERN_MAX || !valid_pattern(tok))
			return fail(err, errlen, file, line, "'%.80s' is not a name pattern (*, *.suffix, a DNS name or an IP)", tok);
		snprintf(p->patterns[p->n_patterns++], TC_AUTH_PATTERN_MAX, "%s", tok);
	}
	if (p->n_patterns == 0)
		return fail(err, errlen, file, line, "no name pattern");
	return 0;
}

static struct tc_auth_entry *append(struct tc_auth *a, int tokens)
{
	struct tc_auth_entry **v = tokens ? &a->tokens : &a->clients;
	size_t *n = tokens ? &a->n_tokens : &a->n_clients, *cap = tokens ? &a->cap_tokens : &a->cap_clients;
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct tc_auth_entry *nv = realloc(*v, nc * sizeof(**v));
		if (!nv)
			return NULL;
		*v = nv;
		*cap = nc;
	}
	struct tc_auth_entry *e = &(*v)[(*n)++];
	memset(e, 0, sizeof(*e));
	return e;
}

static int duplicate(const struct tc_auth *a, int tokens, const struct tc_auth_entry *e)
{
	size_t n = tokens ? a->n_tokens : a->n_clients;
	for (size_t i = 0; i + 1 < n; i++) {
		const struct tc_auth_entry *o = tokens ? &a->tokens[i] : &a->clients[i];
		if (tokens ? memcmp(o->token_hash, e->token_hash, 32) == 0 : strcasecmp(o->identity, e->identity) == 0)
			return 1;
	}
	return 0;
}

static int parse_line(struct tc_auth *a, int tokens, char *text, const char *file, unsigned line, char *err,
		      size_t errlen)
{
	char *hash = strchr(text, '#');
	if (hash)
		*hash = '\0';
	char *f[MAX_FIELDS + 1];
	size_t n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(text, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
		if (n == MAX_FIELDS)
			return fail(err, errlen, file, line, "too many fields");
		f[n++] = tok;
	}
	if (n == 0)
		return 0;
	if (n < 3)
		return fail(err, errlen, file, line, "expected %s NAME PATTERNS [revoke]",
			    tokens ? "SHA256-OF-TOKEN" : "IDENTITY");
	struct tc_auth_entry *e = append(a, tokens);
	if (!e)
		return fail(err, errlen, file, line, "out of memory");
	if (tokens) {
		if (strlen(f[0]) != 64 || tc_hex_decode(f[0], e->token_hash, 32) != 0)
			return fail(err, errlen, file, line,
				    "the first field must be the SHA-256 of the token in 64 hex digits (never the token)");
	} else {
		if (strlen(f[0]) >= sizeof(e->identity))
			return fail(err, errlen, file, line, "identity too long");
		for (const char *s = f[0]; *s; s++)
			if (!isgraph((unsigned char)*s))
				return fail(err, errlen, file, line, "identity with a control character");
		snprintf(e->identity, sizeof(e->identity), "%s", f[0]);
	}
	if (duplicate(a, tokens, e))
		return fail(err, errlen, file, line, "%s listed twice", tokens ? "token" : "identity");
	if (!valid_principal_name(f[1]))
		return fail(err, errlen, file, line, "'%.80s' is not a principal name (letters, digits, ._-@)", f[1]);
	snprintf(e->principal.name, sizeof(e->principal.name), "%s", f[1]);
	if (parse_patterns(&e->principal, f[2], file, line, err, errlen) != 0)
		return -1;
	if (n == 4) {
		if (strcmp(f[3], "revoke") != 0)
			return fail(err, errlen, file, line, "unknown right '%.40s' (only: revoke)", f[3]);
		e->principal.can_revoke = 1;
	}
	return 0;
}

int tc_auth_parse(struct tc_auth *a, int tokens, const char *file, const char *text, char *err, size_t errlen)
{
	char *copy = strdup(text);
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	unsigned line = 0;
	int rc = 0;
	/* Line by line by hand: strtok would skip empty lines and miscount. */
	for (char *p = copy; rc == 0 && p;) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		line++;
		rc = parse_line(a, tokens, p, file, line, err, errlen);
		p = nl ? nl + 1 : NULL;
	}
	free(copy);
	return rc;
}
