/* Who may call the gateway and for what. A principal is a bearer token
 * (gateway.tokens_file holds SHA-256 hashes of tokens, never tokens) or a
 * client certificate identity (gateway.clients_file, certificates verified
 * against gateway.client_ca_file by TLS); each maps to the names it may
 * request and whether it may revoke.
 *
 * Name patterns: "*" (any name), "*.suffix" (any name strictly under
 * suffix, wildcard requests included), an exact DNS name, or an exact IP
 * address. Revocation takes the revoke right: the gateway stores no
 * certificates, so it cannot tell whose a serial is, and a right on the
 * principal is the rule it can enforce soundly. */
#ifndef TC_GATEWAY_AUTH_H
#define TC_GATEWAY_AUTH_H

#include <stddef.h>

#include "common/config.h"
#include "gateway/rpc.h"

#define TC_AUTH_NAME_MAX 64
#define TC_AUTH_PATTERN_MAX 256

struct tc_auth_principal {
	char name[TC_AUTH_NAME_MAX];   /* for logs: never a token */
	char (*patterns)[TC_AUTH_PATTERN_MAX];
	size_t n_patterns;
	int can_revoke;
};

struct tc_auth;

/* Loads gateway.tokens_file and gateway.clients_file (each optional, mode
 * 0600 or stricter). Returns NULL with "file:line: problem" in err. */
struct tc_auth *tc_auth_load(const struct tc_config *cfg, char *err, size_t errlen);
void tc_auth_free(struct tc_auth *a);

/* Parses one file's text (exposed for tests and fuzzing). tokens selects
 * the token format (first field a SHA-256 hex) over the client identity
 * format. file names the source in errors. Returns 0 or -1. */
int tc_auth_parse(struct tc_auth *a, int tokens, const char *file, const char *text, char *err,
		  size_t errlen);
struct tc_auth *tc_auth_new(void);

enum tc_auth_outcome {
	TC_AUTH_ANONYMOUS,      /* no credential presented (or an unmapped certificate) */
	TC_AUTH_AUTHENTICATED,  /* caller->principal is set */
	TC_AUTH_INVALID_TOKEN,  /* a bearer token that is malformed or unknown */
};

/* Authenticates a call: authorization is the request's `authorization`
 * metadata value (NULL when absent), cert_ids the verified client
 * certificate's identities (DNS subjectAltNames, or its CN), first mapped
 * one wins. A token, when present, decides. Fills caller's identity,
 * authenticated and principal. */
enum tc_auth_outcome tc_auth_authenticate(const struct tc_auth *a, const char *authorization, size_t auth_len,
					  const char *const *cert_ids, size_t n_cert_ids,
					  struct tc_rpc_caller *caller);

/* 1 when p may request name: a lower-case DNS name (possibly "*.x") or,
 * with is_ip, a textual IP address. */
int tc_auth_name_allowed(const struct tc_auth_principal *p, const char *name, int is_ip);

/* Counts, for start-up logs. */
size_t tc_auth_token_count(const struct tc_auth *a);
size_t tc_auth_client_count(const struct tc_auth *a);

#endif
