/* One ACME HTTP answer as the handlers build it; acme_http.c turns it into
 * a libmicrohttpd response and adds what every answer carries
 * (Replay-Nonce, Link rel="index", Cache-Control). */
#ifndef TC_ACME_RESP_H
#define TC_ACME_RESP_H

#include <stddef.h>
#include <stdint.h>

#define TC_ACME_URL_MAX 512
#define TC_ACME_MAX_LINKS 4

struct tc_acme_resp {
	unsigned status;
	const char *content_type; /* static string; NULL with no body */
	char *body;               /* malloc'ed */
	size_t body_len;
	char location[TC_ACME_URL_MAX];          /* "" = none */
	char links[TC_ACME_MAX_LINKS][TC_ACME_URL_MAX + 32]; /* whole Link values: <url>;rel="up" */
	size_t n_links;
	unsigned retry_after;     /* seconds; 0 = no Retry-After */
	int no_store;             /* Cache-Control: no-store (newNonce) */
	/* Not 0: the answer acknowledges store writes up to this sequence
	 * (acme_store.h group commit) and leaves only once they are durable. */
	uint64_t durable_seq;
	/* Set instead of an answer: the request calls the CA synchronously
	 * (revokeCert, /v1/validate, /v1/crl); the HTTP front runs it again on
	 * its CA worker threads with the connection suspended. */
	int offload;
	/* kind != 0: no answer yet. The record (kind 'O' order, 'Z'
	 * authorization) is in a transient state: wait for a wake-up of id
	 * after ticket, or deadline_ms, then tc_acme_poll (the HTTP front
	 * suspends the connection meanwhile instead of blocking a thread). */
	struct tc_acme_park {
		char kind;
		char id[64];
		uint64_t ticket;
		uint64_t deadline_ms;
	} park;
};

void tc_acme_resp_free(struct tc_acme_resp *r);

/* body = text (copied), content_type as given. 0 or -1 (out of memory:
 * the response becomes a 500). */
int tc_acme_resp_text(struct tc_acme_resp *r, unsigned status, const char *content_type, const char *text,
		      size_t len);
/* A Link header value "<url>;rel=\"rel\"". */
void tc_acme_resp_link(struct tc_acme_resp *r, const char *url, const char *rel);

#endif
