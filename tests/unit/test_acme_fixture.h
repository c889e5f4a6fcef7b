/* An ACME server for unit tests, without HTTP: the handlers
 * (tc_acme_handle) over a real LevelDB store in a temp directory, dev
 * defaults, a clock of the test's, and requests built and signed as a
 * client would (test_acme_support). Shared by test_acme_server and
 * test_acme_account_cache. */
#ifndef TC_TESTS_ACME_FIXTURE_H
#define TC_TESTS_ACME_FIXTURE_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <time.h>

#include "acme/acme.h"
#include "common/config.h"

struct tst_acme_fx {
	struct tc_config cfg;
	struct tc_acme a;
	char dir[64];        /* the temp directory (store, EAB keys file) */
	char eab_file[256];  /* acme.eab_keys_file, not created */
};

/* Opens the server with base URL base (no trailing slash) and clock now;
 * the account cache too when with_accounts. 0, or 1 when it cannot. */
int tst_acme_fx_open(struct tst_acme_fx *fx, const char *base, time_t (*now)(void), int with_accounts);
/* Closes it and removes its directory. 0, or 1 when the removal failed. */
int tst_acme_fx_close(struct tst_acme_fx *fx);

/* One answer of the server. */
struct tst_acme_reply {
	unsigned status;
	json_t *body;          /* parsed JSON, or NULL */
	char location[512];
	char type[64];         /* problem type without its URN prefix, "" when none */
	unsigned retry_after;
	char *raw;             /* the body as sent */
	size_t raw_len;
	const char *content_type;
};
void tst_acme_reply_free(struct tst_acme_reply *r);

/* A request as it arrives over HTTP (body may be NULL). */
struct tst_acme_reply tst_acme_call(struct tst_acme_fx *fx, const char *method, const char *path,
				    const char *body, const char *ctype);
/* A POST to path signed by key with a fresh nonce (kid NULL: jwk form;
 * payload "" for POST-as-GET). */
struct tst_acme_reply tst_acme_post(struct tst_acme_fx *fx, EVP_PKEY *key, const char *kid, const char *path,
				    const char *payload);
/* A new account for key (terms agreed); its URL (the kid) into kid. */
void tst_acme_new_account(struct tst_acme_fx *fx, EVP_PKEY *key, char *kid, size_t len);

#endif
