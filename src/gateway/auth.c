/* The principal tables and the two questions asked of them on every call:
 * who is this, and may they have that name. */
#include "gateway/auth.h"

#include "common/name_pattern.h"
#include "common/proc_env.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>

#include "gateway/auth_table.h"
#include "gateway/secret_file.h"

#define MAX_AUTH_FILE (4 * 1024 * 1024)
/* Longest bearer token accepted; ours are 40-odd characters. */
#define MAX_TOKEN 1024

struct tc_auth *tc_auth_new(void)
{
	return calloc(1, sizeof(struct tc_auth));
}

static void free_entries(struct tc_auth_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].principal.patterns);
	OPENSSL_cleanse(e, n * sizeof(*e));
	free(e);
}

void tc_auth_free(struct tc_auth *a)
{
	if (!a)
		return;
	free_entries(a->tokens, a->n_tokens);
	free_entries(a->clients, a->n_clients);
	free(a);
}

static int load_file(struct tc_auth *a, int tokens, const char *key, const char *path, char *err, size_t errlen)
{
	char *text;
	size_t len;
	if (tc_read_secret_file(key, path, MAX_AUTH_FILE, &text, &len, err, errlen) != 0)
		return -1;
	if (strlen(text) != len) {
		tc_secret_free(text, len);
		snprintf(err, errlen, "%s %s: contains a NUL byte", key, path);
		return -1;
	}
	int rc = tc_auth_parse(a, tokens, path, text, err, errlen);
	tc_secret_free(text, len);
	return rc;
}

/* trustchain-acme's credential: the supervisor draws a token at every start
 * and hands us its tokens-file line ("SHA256 trustchain-acme * revoke") in a
 * sealed memfd (server/children_token.c), so nothing of it is on disk. */
static int load_acme_principal(struct tc_auth *a, char *err, size_t errlen)
{
	int fd = tc_inherited_fd("ACME_TOKEN");
	if (fd < 0)
		return 0;
	char line[256];
	ssize_t n = pread(fd, line, sizeof(line) - 1, 0);
	if (n <= 0) {
		snprintf(err, errlen, "cannot read the acme credential from the supervisor");
		return -1;
	}
	line[n] = '\0';
	return tc_auth_parse(a, 1, "supervisor (trustchain-acme)", line, err, errlen);
}

struct tc_auth *tc_auth_load(const struct tc_config *cfg, char *err, size_t errlen)
{
	if (cfg->gateway.clients_file[0] && !cfg->gateway.client_ca_file[0]) {
		snprintf(err, errlen, "gateway.clients_file needs gateway.client_ca_file (the CA bundle that "
			 "verifies those client certificates)");
		return NULL;
	}
	struct tc_auth *a = tc_auth_new();
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((cfg->gateway.tokens_file[0] &&
	     load_file(a, 1, "gateway.tokens_file", cfg->gateway.tokens_file, err, errlen) != 0) ||
	    (cfg->gateway.clients_file[0] &&
	     load_file(a, 0, "gateway.clients_file", cfg->gateway.clients_file, err, errlen) != 0)) {
		tc_auth_free(a);
		return NULL;
	}
	if (load_acme_principal(a, err, errlen) != 0) {
		tc_auth_free(a);
		return NULL;
	}
	return a;
}

size_t tc_auth_token_count(const struct tc_auth *a) { return a ? a->n_tokens : 0; }
size_t tc_auth_client_count(const struct tc_auth *a) { return a ? a->n_clients : 0; }

/* The token of "Bearer <token>" (scheme case-insensitive, RFC 6750), or
 * NULL when the value is not one. */
static const char *bearer_token(const char *v, size_t len, size_t *tlen)
{
	if (len < 7 || strncasecmp(v, "Bearer ", 7) != 0)
		return NULL;
	size_t i = 7;
	while (i < len && v[i] == ' ')
		i++;
	*tlen = len - i;
	if (*tlen == 0 || *tlen > MAX_TOKEN)
		return NULL;
	for (size_t k = i; k < len; k++)
		if (!isgraph((unsigned char)v[k]))
			return NULL;
	return v + i;
}

static void set_principal(struct tc_rpc_caller *caller, const char *kind, const struct tc_auth_principal *p)
{
	caller->principal = p;
	caller->authenticated = 1;
	snprintf(caller->identity, sizeof(caller->identity), "%s:%s", kind, p->name);
}

enum tc_auth_outcome tc_auth_authenticate(const struct tc_auth *a, const char *authorization, size_t auth_len,
					  const char *const *cert_ids, size_t n_cert_ids,
					  struct tc_rpc_caller *caller)
{
	caller->principal = NULL;
	caller->authenticated = 0;
	snprintf(caller->identity, sizeof(caller->identity), "anonymous");
	if (authorization) {
		size_t tlen;
		const char *token = bearer_token(authorization, auth_len, &tlen);
		if (!token || !a)
			return TC_AUTH_INVALID_TOKEN;
		unsigned char h[SHA256_DIGEST_LENGTH];
		SHA256((const unsigned char *)token, tlen, h);
		/* Every entry is compared, in constant time each, so timing tells
		 * nothing about how close a guess came. */
		const struct tc_auth_principal *found = NULL;
		for (size_t i = 0; i < a->n_tokens; i++) {
			int same = CRYPTO_memcmp(h, a->tokens[i].token_hash, sizeof(h)) == 0;
			found = same ? &a->tokens[i].principal : found;
		}
		OPENSSL_cleanse(h, sizeof(h));
		if (!found)
			return TC_AUTH_INVALID_TOKEN;
		set_principal(caller, "token", found);
		return TC_AUTH_AUTHENTICATED;
	}
	for (size_t k = 0; a && k < n_cert_ids; k++)
		for (size_t i = 0; i < a->n_clients; i++)
			if (strcasecmp(cert_ids[k], a->clients[i].identity) == 0) {
				set_principal(caller, "cert", &a->clients[i].principal);
				return TC_AUTH_AUTHENTICATED;
			}
	return TC_AUTH_ANONYMOUS;
}

int tc_auth_name_allowed(const struct tc_auth_principal *p, const char *name, int is_ip)
{
	if (!p)
		return 0;
	for (size_t i = 0; i < p->n_patterns; i++)
		if (tc_name_pattern_match(p->patterns[i], name, is_ip))
			return 1;
	return 0;
}
