#include "acme/eab.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "acme/b64url.h"
#include "acme/jws.h"
#include "common/errorf.h"
#include "common/file_read.h"
#include "common/log.h"

#define EAB_MAX_KEYS 10000
#define EAB_FILE_MAX (4 * 1024 * 1024)

struct tc_acme_eab {
	char path[4096];
	pthread_mutex_t lock;
	struct stat seen; /* of the file last read; st_ino 0 = never read */
	struct tc_eab_key *keys;
	size_t n;
};

struct tc_acme_eab *tc_acme_eab_new(const char *path)
{
	struct tc_acme_eab *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	snprintf(e->path, sizeof(e->path), "%s", path);
	pthread_mutex_init(&e->lock, NULL);
	return e;
}

void tc_acme_eab_free(struct tc_acme_eab *e)
{
	if (!e)
		return;
	if (e->keys)
		OPENSSL_cleanse(e->keys, e->n * sizeof(*e->keys));
	free(e->keys);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

static int kid_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static int parse_line(char *line, struct tc_eab_key *k, char *why, size_t wl)
{
	char *save = NULL;
	char *kid = strtok_r(line, " \t", &save), *key = strtok_r(NULL, " \t", &save),
	     *pats = strtok_r(NULL, " \t", &save);
	if (!kid || !key || !pats)
		return tc_errorf(why, wl, "expected: kid key patterns [label]");
	size_t kl = strlen(kid);
	if (kl == 0 || kl > TC_EAB_KID_MAX)
		return tc_errorf(why, wl, "kid must be 1..%d characters", TC_EAB_KID_MAX);
	for (size_t i = 0; i < kl; i++)
		if (!kid_char(kid[i]))
			return tc_errorf(why, wl, "kid holds a character outside [A-Za-z0-9_-]");
	unsigned char *mac = NULL;
	size_t ml = 0;
	if (tc_b64url_decode(key, strlen(key), &mac, &ml) != 0 || ml < 32 || ml > sizeof(k->mac)) {
		free(mac);
		return tc_errorf(why, wl, "key must be 32..64 bytes of base64url");
	}
	if (strlen(pats) >= sizeof(k->patterns)) {
		OPENSSL_cleanse(mac, ml);
		free(mac);
		return tc_errorf(why, wl, "patterns too long");
	}
	memcpy(k->kid, kid, kl + 1);
	memcpy(k->mac, mac, ml);
	k->mac_len = ml;
	snprintf(k->patterns, sizeof(k->patterns), "%s", pats);
	OPENSSL_cleanse(mac, ml);
	free(mac);
	return 0;
}

int tc_acme_eab_parse(const char *text, struct tc_eab_key *keys, size_t cap, size_t *n, char *err, size_t errlen)
{
	*n = 0;
	size_t lineno = 0;
	const char *p = text;
	while (*p) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		lineno++;
		char line[2048];
		if (len >= sizeof(line))
			return tc_errorf(err, errlen, "line %zu: too long", lineno);
		memcpy(line, p, len);
		line[len] = 0;
		p += len + (end ? 1 : 0);
		char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == 0 || *s == '#')
			continue;
		if (*n == cap)
			return tc_errorf(err, errlen, "line %zu: more than %zu keys", lineno, cap);
		char why[128];
		if (parse_line(s, &keys[*n], why, sizeof(why)) != 0)
			return tc_errorf(err, errlen, "line %zu: %s", lineno, why);
		for (size_t i = 0; i < *n; i++)
			if (strcmp(keys[i].kid, keys[*n].kid) == 0)
				return tc_errorf(err, errlen, "line %zu: kid %s repeated", lineno, keys[*n].kid);
		(*n)++;
	}
	return 0;
}

/* Reads the file again when it changed since the last read. A file that
 * does not parse keeps the previous keys (and says so in the log). Called
 * with the lock held. */
static void refresh(struct tc_acme_eab *e)
{
	struct stat st;
	if (stat(e->path, &st) != 0) {
		if (e->seen.st_ino && errno == ENOENT) {
			free(e->keys);
			e->keys = NULL;
			e->n = 0;
			memset(&e->seen, 0, sizeof(e->seen));
		}
		return;
	}
	if (e->seen.st_ino == st.st_ino && e->seen.st_size == st.st_size &&
	    e->seen.st_mtim.tv_sec == st.st_mtim.tv_sec && e->seen.st_mtim.tv_nsec == st.st_mtim.tv_nsec)
		return;
	char *text = NULL;
	size_t len = 0;
	char err[256];
	if (tc_read_file(e->path, EAB_FILE_MAX, &text, &len, err, sizeof(err)) != 0) {
		tc_warn("acme.eab_keys_file: %s", err);
		return;
	}
	struct tc_eab_key *keys = calloc(EAB_MAX_KEYS, sizeof(*keys));
	size_t n = 0;
	if (!keys || strlen(text) != len ||
	    tc_acme_eab_parse(text, keys, EAB_MAX_KEYS, &n, err, sizeof(err)) != 0) {
		tc_warn("acme.eab_keys_file %s: %s (previous keys kept)", e->path, keys ? err : "out of memory");
		free(keys);
	} else {
		if (e->keys)
			OPENSSL_cleanse(e->keys, e->n * sizeof(*e->keys));
		free(e->keys);
		e->keys = keys;
		e->n = n;
		tc_info("acme.eab_keys_file: %zu keys", n);
	}
	e->seen = st;
	OPENSSL_cleanse(text, len);
	free(text);
}

static int find(struct tc_acme_eab *e, const char *kid, struct tc_eab_key *out)
{
	int found = 0;
	pthread_mutex_lock(&e->lock);
	refresh(e);
	for (size_t i = 0; i < e->n && !found; i++)
		if (strcmp(e->keys[i].kid, kid) == 0) {
			*out = e->keys[i];
			found = 1;
		}
	pthread_mutex_unlock(&e->lock);
	return found ? 0 : -1;
}

int tc_acme_eab_verify(struct tc_acme_eab *e, const json_t *binding, const char *url,
		       const struct tc_jwk *account_key, struct tc_eab_key *out, const char **type, char *why,
		       size_t whylen)
{
	struct tc_jws j;
	if (tc_jws_parse_json(binding, TC_JWS_EAB, &j, type, why, whylen) != 0) {
		*type = "malformed";
		return -1;
	}
	int rc = -1;
	*type = "unauthorized";
	if (strcmp(j.url, url) != 0) {
		tc_errorf(why, whylen, "externalAccountBinding url is not the newAccount URL");
		goto out;
	}
	if (!e || find(e, j.kid, out) != 0) {
		tc_errorf(why, whylen, "externalAccountBinding: unknown key id");
		goto out;
	}
	unsigned char mac[32];
	unsigned int ml = sizeof(mac);
	if (!HMAC(EVP_sha256(), out->mac, (int)out->mac_len, (const unsigned char *)j.signing_input,
		  j.signing_input_len, mac, &ml) ||
	    j.sig_len != ml || CRYPTO_memcmp(mac, j.sig, ml) != 0) {
		tc_errorf(why, whylen, "externalAccountBinding: MAC does not verify");
		goto out;
	}
	/* The payload is the account's own key (7.3.4): compare thumbprints. */
	json_t *inner = json_loadb((const char *)j.payload, j.payload_len, JSON_REJECT_DUPLICATES, NULL);
	struct tc_jwk k;
	char kwhy[128];
	if (!inner || tc_jwk_parse(inner, &k, kwhy, sizeof(kwhy)) != 0) {
		*type = "malformed";
		tc_errorf(why, whylen, "externalAccountBinding payload is not a JWK");
	} else {
		if (strcmp(k.thumbprint, account_key->thumbprint) != 0)
			tc_errorf(why, whylen, "externalAccountBinding binds another key");
		else
			rc = 0;
		tc_jwk_free(&k);
	}
	json_decref(inner);
out:
	tc_jws_free(&j);
	if (rc != 0)
		OPENSSL_cleanse(out, sizeof(*out));
	return rc;
}

json_t *tc_acme_eab_patterns_json(const char *patterns)
{
	json_t *arr = json_array();
	const char *p = patterns;
	while (arr && *p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len)
			json_array_append_new(arr, json_stringn(p, len));
		p += len + (comma ? 1 : 0);
	}
	return arr;
}
