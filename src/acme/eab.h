/* External account binding (RFC 8555 7.3.4): the keys operators hand out
 * with `trustchainctl acme eab new`, read from acme.eab_keys_file and read
 * again whenever the file changes (inode, size or mtime), so a new key
 * works at once without a restart.
 *
 * The file (0600, owned by the acme user):
 *   # comment
 *   <kid> <base64url HMAC-SHA256 key> <pattern>[,<pattern>...] [label]
 * kid: 1..64 characters of [A-Za-z0-9_-]; the key 32..64 bytes; patterns as
 * for gateway tokens (common/name_pattern.h). An account bound to a key may
 * order only the names its patterns cover. */
#ifndef TC_ACME_EAB_H
#define TC_ACME_EAB_H

#include <jansson.h>
#include <stddef.h>

#include "acme/jwk.h"

#define TC_EAB_KID_MAX 64
#define TC_EAB_PATTERNS_MAX 1024

struct tc_eab_key {
	char kid[TC_EAB_KID_MAX + 1];
	unsigned char mac[64];
	size_t mac_len;
	char patterns[TC_EAB_PATTERNS_MAX]; /* comma-separated */
};

struct tc_acme_eab;

struct tc_acme_eab *tc_acme_eab_new(const char *path);
void tc_acme_eab_free(struct tc_acme_eab *e);

/* Parses the file's text into keys (n of at most cap); exposed for tests.
 * 0, or -1 with "line N: problem" in err. */
int tc_acme_eab_parse(const char *text, struct tc_eab_key *keys, size_t cap, size_t *n, char *err, size_t errlen);

/* Checks an externalAccountBinding value for a newAccount at url whose
 * account key is account_key: HS256 JWS, kid known, url equal, payload the
 * account key, MAC valid. 0 with *out the key, or -1 with the ACME error
 * type in *type and why. */
int tc_acme_eab_verify(struct tc_acme_eab *e, const json_t *binding, const char *url,
		       const struct tc_jwk *account_key, struct tc_eab_key *out, const char **type, char *why,
		       size_t whylen);

/* The patterns (comma-separated) as a JSON array of strings. */
json_t *tc_acme_eab_patterns_json(const char *patterns);

#endif
