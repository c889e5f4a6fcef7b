/* The validator's side of the link to trustchain-acme: one reader (the
 * caller's thread) decodes requests into a bounded queue, acme.validation.
 * concurrency worker threads run the checks (each check is blocking code
 * with one deadline: libcurl easy handles, OpenSSL, our DNS stub) and write
 * the answers back in completion order. A request that does not decode or
 * breaks a bound is a protocol violation: the link is dropped. */
#ifndef TC_ACME_VALIDATOR_SERVER_H
#define TC_ACME_VALIDATOR_SERVER_H

#include <stddef.h>

#include "acme/validator_check.h"

struct tc_vserver;

/* Starts cfg->concurrency workers; cfg is copied. NULL with why. */
struct tc_vserver *tc_vserver_new(const struct tc_vcheck_cfg *cfg, char *why, size_t whylen);

/* Serves the link fd (taken) on the calling thread until the peer closes
 * it or tc_vserver_interrupt (0), or a protocol violation (-1, why). Checks
 * of that link still queued are dropped, running ones finish unanswered. */
int tc_vserver_serve(struct tc_vserver *s, int fd, char *why, size_t whylen);

/* Ends the tc_vserver_serve in progress (a fresh link replaces it). */
void tc_vserver_interrupt(struct tc_vserver *s);

/* Checks answered since the start (for logs and tests). */
unsigned long tc_vserver_answered(struct tc_vserver *s);

/* Stops the workers (after their running checks). No serve may be running. */
void tc_vserver_free(struct tc_vserver *s);

#endif
