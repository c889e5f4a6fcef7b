/* trustchain-acme's request side: the server context shared by every
 * handler, one HTTP request as the handlers see it, and the entry point the
 * HTTP front (acme_http.c) calls. The handlers (acme_handlers.h) run on the
 * HTTP server's threads concurrently; what they share is the LevelDB store
 * (with per-record locks), the nonce window, the EAB keys and the rate
 * counters, each with its own short lock, and the gRPC client, which is
 * thread-safe: no lock is held across a call to the CA or the validator. */
#ifndef TC_ACME_ACME_H
#define TC_ACME_ACME_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "acme/acme_resp.h"
#include "acme/jwk.h"
#include "acme/jws.h"
#include "common/config.h"

struct tc_acme_store;
struct tc_nonces;
struct tc_client;
struct tc_vclient;
struct tc_acme_eab;
struct tc_acme_rate;
struct tc_acme_workq;
struct tc_key_cache;
struct tc_acct_cache;
struct tc_acme_issuer;
struct tc_acme_wake;

#define TC_ACME_BASE_MAX 256

struct tc_acme {
	const struct tc_config *cfg;
	char base[TC_ACME_BASE_MAX]; /* "https://host:port", no trailing slash */
	struct tc_acme_store *store;
	struct tc_nonces *nonces;
	struct tc_client *ca;        /* the gateway (NULL in tests that never issue) */
	struct tc_vclient *vc;       /* the validator (NULL: challenges cannot start) */
	struct tc_acme_eab *eab;     /* EAB keys (NULL: none configured) */
	struct tc_acme_rate *rate;
	struct tc_acme_workq *wq;    /* stores validation verdicts (NULL: on the caller's thread) */
	struct tc_key_cache *keys;   /* parsed account keys (NULL: parse each time) */
	struct tc_acct_cache *accounts; /* parsed account records (NULL: read each time) */
	struct tc_acme_issuer *issuer; /* background finalize (NULL: finalize answers 503) */
	struct tc_acme_wake *wake;   /* long polls of transient states (NULL: answer at once) */
	char root_pem_path[TC_CFG_STR + 32];
	char inter_pem_path[TC_CFG_STR + 32];
	time_t (*now)(void);         /* the clock (tests move it) */
};

struct tc_acme_req {
	const char *method;
	const char *path;            /* without the query string */
	const char *body;
	size_t body_len;
	const char *content_type;    /* NULL when absent */
	const char *client_ip;       /* textual, for per-IP limits */
	int can_park;                /* the caller takes r->park, r->durable_seq and r->offload
				      * (else tc_acme_handle blocks for them) */
};

/* Answers one request into r (r zeroed by the caller). Every answer gets
 * Replay-Nonce and Link rel="index" from the HTTP front. */
void tc_acme_handle(struct tc_acme *a, const struct tc_acme_req *rq, struct tc_acme_resp *r);

/* r (whose store writes up to r->durable_seq could not be made durable)
 * becomes a serverInternal problem: nothing unsaved is acknowledged. */
void tc_acme_resp_not_durable(struct tc_acme_resp *r);

/* Answers a parked request (r zeroed by the caller) after its wake-up or
 * deadline: the record as it is now, or r->park again before the
 * deadline when it is still transient. */
void tc_acme_poll(struct tc_acme *a, const struct tc_acme_park *p, struct tc_acme_resp *r);

/* A verified POST. */
struct tc_acme_call {
	const struct tc_acme_req *rq;
	struct tc_jws jws;
	struct tc_jwk key;         /* the key that signed (the account's, or the jwk) */
	char account_id[32];       /* "" in the jwk form */
	json_t *account;           /* the account record (kid form), else NULL; shared
				    * with the account cache: read only */
	json_t *payload;           /* the payload object; NULL for POST-as-GET */
	const char *id;            /* the path part after the resource prefix */
};

/* "<base><path printf>" into out. */
void tc_acme_url(const struct tc_acme *a, char *out, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* RFC 3339 UTC time. */
void tc_acme_time(time_t t, char out[32]);

/* Serializes obj (stolen) as application/json into r with status. */
int tc_acme_json(struct tc_acme_resp *r, unsigned status, json_t *obj);

#endif
