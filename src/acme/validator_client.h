/* How trustchain-acme reaches trustchain-validator (docs: the lead's ACME
 * contract). Checks are sent over the current link (a socketpair the
 * supervisor hands over, replaced whenever either side restarts) and
 * answered in any order; a reader thread of the client matches answers to
 * checks and runs the callbacks. Checks in flight when a link is replaced
 * are sent again on the new one; a check not answered within its timeout
 * plus a grace period gets a serverInternal result. An answer that breaks
 * the protocol (validator_proto.h) drops the link: the validator is the
 * less trusted side. */
#ifndef TC_ACME_VALIDATOR_CLIENT_H
#define TC_ACME_VALIDATOR_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "acme/validator_proto.h" /* struct tc_vresult */

struct tc_vclient;

struct tc_vcheck {
	const char *type;              /* "http-01" | "tls-alpn-01" | "dns-01" */
	int identifier_is_ip;          /* RFC 8738 ip identifier */
	const char *identifier;        /* as in the authorization (no "*." prefix) */
	size_t identifier_len;
	const char *token;             /* challenge token (base64url) */
	const char *key_authorization; /* token "." base64url(JWK thumbprint) */
};

/* Runs on the client's reader thread; r is valid during the call only. */
typedef void (*tc_vclient_done)(void *arg, const struct tc_vresult *r);

/* Waited for beyond a check's timeout_ms before it is failed: the
 * validator's own deadline plus time in its queue. */
#define TC_VCLIENT_GRACE_MS 3000

struct tc_vclient *tc_vclient_new(void);

/* Takes fd (a connected stream socket to the validator); checks in flight
 * are sent again on it. The previous link is closed. */
void tc_vclient_set_link(struct tc_vclient *v, int fd);

/* Sends one check (timeout_ms bounds the validator's work; 0: the
 * validator's acme.validation.timeout_ms). cb runs exactly once, unless the
 * client is freed first. 0, or -1 when there is no link, TC_V_MAX_IN_FLIGHT
 * checks are in flight, or the check is malformed (bad type, identifier,
 * token or key authorization). */
int tc_vclient_submit(struct tc_vclient *v, const struct tc_vcheck *c, uint32_t timeout_ms, tc_vclient_done cb,
		      void *arg);

/* Checks in flight (tests, status). */
unsigned tc_vclient_in_flight(struct tc_vclient *v);

/* Stops the reader thread and closes the link; callbacks of checks still
 * in flight are not called. */
void tc_vclient_free(struct tc_vclient *v);

#endif
