/* Orders and authorizations as records (shared by order.c, authz.c,
 * finalize.c).
 *
 * Order record: {account, status, expires, identifiers[], authzs[ids],
 * created, error?, serial? (certificate, once valid), replaces?}. Its
 * pending/ready/invalid state follows from its authorizations and is
 * derived when read; processing, valid and invalid-after-finalize are
 * stored.
 *
 * Authorization record: {account, identifier{type,value}, wildcard,
 * status, expires, challenges[{type, token, status, validated?, error?}]}. */
#ifndef TC_ACME_ORDER_H
#define TC_ACME_ORDER_H

#include <jansson.h>

#include "acme/acme.h"

/* Brings rec's status up to date (pending -> ready / invalid from its
 * authorizations, expiry) in memory; returns the status. */
const char *tc_acme_order_derive(struct tc_acme *a, json_t *rec);

/* The order object clients see. */
json_t *tc_acme_order_view(struct tc_acme *a, const char *id, const json_t *rec);

/* The authorization status as clients see it (pending past expiry ->
 * expired). */
const char *tc_acme_authz_status(struct tc_acme *a, const json_t *rec);

/* Answers an order (status code, Location, Retry-After while processing). */
int tc_acme_order_answer(struct tc_acme *a, const char *id, json_t *rec, unsigned status, struct tc_acme_resp *r);

#endif
