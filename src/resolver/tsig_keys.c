/* BIND key clauses -> keyring: see tsig_keys.h. */
#include "resolver/tsig_keys.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/base64.h"
#include "resolver/dns_name.h"

#define MAX_FILE (1024 * 1024)

static const uint8_t root_name[1] = {0};   /* key names are absolute: relative to the root */
#define TOKEN_MAX 512

static const uint8_t sha256_name[] = "\x0bhmac-sha256";
static const uint8_t sha512_name[] = "\x0bhmac-sha512";

const uint8_t *tc_tsig_alg_name(enum tc_tsig_alg alg, size_t *len)
{
	*len = sizeof(sha256_name);   /* the terminating NUL is the root label */
	return alg == TC_TSIG_HMAC_SHA512 ? sha512_name : sha256_name;
}

size_t tc_tsig_alg_mac_len(enum tc_tsig_alg alg)
{
	return alg == TC_TSIG_HMAC_SHA512 ? 64 : 32;
}

int tc_tsig_alg_from_text(const char *s, enum tc_tsig_alg *alg)
{
	if (strcasecmp(s, "hmac-sha256") == 0 || strcasecmp(s, "hmac-sha256.") == 0) {
		*alg = TC_TSIG_HMAC_SHA256;
		return 0;
	}
	if (strcasecmp(s, "hmac-sha512") == 0 || strcasecmp(s, "hmac-sha512.") == 0) {
		*alg = TC_TSIG_HMAC_SHA512;
		return 0;
	}
	return -1;
}

struct lexer {
	const char *p, *end;
	unsigned line;
	char tok[TOKEN_MAX];
	bool quoted;
	char *err;
	size_t errlen;
};

static int lex_fail(struct lexer *lx, const char *what)
{
	snprintf(lx->err, lx->errlen, "line %u: %s", lx->line, what);
	return -1;
}

/* Skips blanks and comments. -1 on an unterminated comment. */
static int skip_space(struct lexer *lx)
{
	while (lx->p < lx->end) {
		char c = *lx->p;
		if (c == '\n') {
			lx->line++;
			lx->p++;
		} else if (c == ' ' || c == '\t' || c == '\r') {
			lx->p++;
		} else if (c == '#' || (c == '/' && lx->p + 1 < lx->end && lx->p[1] == '/')) {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
		} else if (c == '/' && lx->p + 1 < lx->end && lx->p[1] == '*') {
			lx->p += 2;
			while (lx->p + 1 < lx->end && !(lx->p[0] == '*' && lx->p[1] == '/')) {
				lx->line += *lx->p == '\n';
				lx->p++;
			}
			if (lx->p + 1 >= lx->end)
				return lex_fail(lx, "unterminated comment");
			lx->p += 2;
		} else {
			break;
		}
	}
	return 0;
}

/* Next token into lx->tok: "{", "}", ";", a quoted string (quotes removed)
 * or a bare word. 1 token, 0 end of input, -1 error. */
static int next_token(struct lexer *lx)
{
	if (skip_space(lx) != 0)
		return -1;
	if (lx->p >= lx->end)
		return 0;
	size_t n = 0;
	lx->quoted = false;
	char c = *lx->p;
	if (c == '{' || c == '}' || c == ';') {
		lx->tok[0] = c;
		lx->tok[1] = '\0';
		lx->p++;
		return 1;
	}
	if (c == '"') {
		lx->quoted = true;
		lx->p++;
		while (lx->p < lx->end && *lx->p != '"') {
			if (*lx->p == '\n' || *lx->p == '\\')
				return lex_fail(lx, "line break or escape inside a quoted string");
			if (n + 1 >= sizeof(lx->tok))
				return lex_fail(lx, "string too long");
			lx->tok[n++] = *lx->p++;
		}
		if (lx->p >= lx->end)
			return lex_fail(lx, "unterminated string");
		lx->p++;
	} else {
		while (lx->p < lx->end && !strchr(" \t\r\n{};\"#", *lx->p)) {
			if (n + 1 >= sizeof(lx->tok))
				return lex_fail(lx, "word too long");
			lx->tok[n++] = *lx->p++;
		}
	}
	lx->tok[n] = '\0';
	return 1;
}

static int expect(struct lexer *lx, const char *what)
{
	int r = next_token(lx);
	if (r < 0)
		return -1;
	if (r == 0 || lx->quoted || strcmp(lx->tok, what) != 0) {
		char m[64];
		snprintf(m, sizeof(m), "expected '%s'", what);
		return lex_fail(lx, m);
	}
	return 0;
}

/* key "NAME" { algorithm A; secret "S"; }; (after the word "key"). */
static int parse_key(struct lexer *lx, struct tc_tsig_keyring *ring)
{
	if (ring->count == TC_TSIG_MAX_KEYS)
		return lex_fail(lx, "too many keys");
	struct tc_tsig_key *k = &ring->keys[ring->count];
	memset(k, 0, sizeof(*k));
	int r = next_token(lx);
	if (r < 0)
		return -1;
	if (r == 0 || (!lx->quoted && strchr("{};", lx->tok[0])))
		return lex_fail(lx, "expected a key name");
	const char *why;
	uint8_t wire[TC_DNS_MAX_NAME];
	if (tc_dns_name_from_text(lx->tok, strlen(lx->tok), root_name, 1, wire, &k->name_len, &why) != 0 ||
	    k->name_len <= 1)
		return lex_fail(lx, "the key name is not a DNS name");
	tc_dns_name_lower(k->name, wire, k->name_len);
	if (tc_tsig_key_find(ring, k->name, k->name_len))
		return lex_fail(lx, "a key of this name is already defined");
	if (expect(lx, "{") != 0)
		return -1;
	bool have_alg = false, have_secret = false;
	for (;;) {
		r = next_token(lx);
		if (r < 0)
			return -1;
		if (r == 0)
			return lex_fail(lx, "unterminated key clause");
		if (!lx->quoted && strcmp(lx->tok, "}") == 0)
			break;
		if (!lx->quoted && strcmp(lx->tok, "algorithm") == 0) {
			if ((r = next_token(lx)) < 0)
				return -1;
			if (r == 0 || tc_tsig_alg_from_text(lx->tok, &k->alg) != 0)
				return lex_fail(lx, "algorithm: hmac-sha256 or hmac-sha512 expected");
			have_alg = true;
		} else if (!lx->quoted && strcmp(lx->tok, "secret") == 0) {
			unsigned char *sec = NULL;
			size_t slen = 0;
			if ((r = next_token(lx)) < 0)
				return -1;
			if (r == 0 || !lx->quoted)
				return lex_fail(lx, "secret: a quoted base64 string expected");
			if (tc_base64_decode(lx->tok, &sec, &slen) != 0 || slen == 0 ||
			    slen > TC_TSIG_MAX_SECRET) {
				free(sec);
				return lex_fail(lx, "secret: not base64 of 1 to 128 octets");
			}
			memcpy(k->secret, sec, slen);
			k->secret_len = slen;
			free(sec);
			have_secret = true;
		} else {
			return lex_fail(lx, "unknown statement in a key clause (algorithm, secret)");
		}
		if (expect(lx, ";") != 0)
			return -1;
	}
	if (expect(lx, ";") != 0)
		return -1;
	if (!have_alg || !have_secret)
		return lex_fail(lx, "a key needs both algorithm and secret");
	ring->count++;
	return 0;
}

int tc_tsig_keys_parse(const char *text, size_t len, struct tc_tsig_keyring *ring, char *err,
		       size_t errlen)
{
	struct lexer lx = {.p = text, .end = text + len, .line = 1, .err = err, .errlen = errlen};
	ring->count = 0;
	if (memchr(text, '\0', len))
		return lex_fail(&lx, "NUL byte in the file");
	for (;;) {
		int r = next_token(&lx);
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		if (lx.quoted || strcmp(lx.tok, "key") != 0)
			return lex_fail(&lx, "expected a key clause");
		if (parse_key(&lx, ring) != 0)
			return -1;
	}
}

int tc_tsig_keys_load(const char *path, struct tc_tsig_keyring *ring, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char *buf = malloc(MAX_FILE);
	size_t n = buf ? fread(buf, 1, MAX_FILE, f) : 0;
	bool too_big = buf && n == MAX_FILE;
	fclose(f);
	if (!buf || too_big) {
		free(buf);
		snprintf(err, errlen, "%s: %s", path, buf ? "larger than 1 MiB" : "out of memory");
		return -1;
	}
	char why[256];
	int rc = tc_tsig_keys_parse(buf, n, ring, why, sizeof(why));
	free(buf);
	if (rc != 0)
		snprintf(err, errlen, "%s: %s", path, why);
	return rc;
}

const struct tc_tsig_key *tc_tsig_key_find(const struct tc_tsig_keyring *ring,
					   const uint8_t *name, size_t len)
{
	for (size_t i = 0; i < ring->count; i++)
		if (tc_dns_name_equal(ring->keys[i].name, ring->keys[i].name_len, name, len))
			return &ring->keys[i];
	return NULL;
}

const struct tc_tsig_key *tc_tsig_key_find_text(const struct tc_tsig_keyring *ring,
						const char *name)
{
	uint8_t wire[TC_DNS_MAX_NAME];
	size_t len;
	const char *why;
	if (tc_dns_name_from_text(name, strlen(name), root_name, 1, wire, &len, &why) != 0)
		return NULL;
	return tc_tsig_key_find(ring, wire, len);
}
