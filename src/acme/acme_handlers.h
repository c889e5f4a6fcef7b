/* The ACME resources (RFC 8555 section 7), one function each, called by
 * the router (acme_router.c) once a POST's JWS verified. Each fills r and
 * returns 0, or -1 after filling r with a problem. */
#ifndef TC_ACME_HANDLERS_H
#define TC_ACME_HANDLERS_H

#include "acme/acme.h"

/* directory.c */
int tc_acme_h_directory(struct tc_acme *a, struct tc_acme_resp *r);
int tc_acme_h_new_nonce(struct tc_acme *a, const char *method, struct tc_acme_resp *r);

/* account.c */
int tc_acme_h_new_account(struct tc_acme *a, struct tc_acme_call *c, struct tc_acme_resp *r);
int tc_acme_h_account(struct tc_acme *a, struct tc_acme_call *c, struct tc_acme_resp *r);
int tc_acme_h_account_orders(struct tc_acme *a, struct tc_acme_call *c, struct tc_acme_resp *r);
int tc_acme_h_key_change(struct tc_acme *a, struct tc_acme_call *c, struct tc_acme_resp *r);

/* order.c */
int tc_acme_h_new_order(struct tc_acme *a, struct tc_acme_call *c, struct tc_acme_resp *r);
int tc_acme_h_order(struct tc_acme *a, struct tc_acme_call *c, struct tc_acme_resp *r);

/* authz.c */
int tc_acme_h_authz(struct tc_acme *a, struct tc_acme_call *c, struct tc_acme_resp *r);

/* The long-poll halves of h_order / h_authz (the owner already checked):
 * the record now, or r->park until deadline_ms while it is transient. */
int tc_acme_order_poll(struct tc_acme *a, const char *oid, uint64_t deadline_ms, struct tc_acme_resp *r);
int tc_acme_authz_poll(struct tc_acme *a, const char *zid, uint64_t deadline_ms, struct tc_acme_resp *r);
int tc_acme_h_challenge(struct tc_acme *a, struct tc_acme_call *c, struct tc_acme_resp *r);

/* finalize.c */
int tc_acme_h_finalize(struct tc_acme *a, struct tc_acme_call *c, struct tc_acme_resp *r);

/* certificate.c */
int tc_acme_h_certificate(struct tc_acme *a, struct tc_acme_call *c, struct tc_acme_resp *r);

/* revoke.c */
int tc_acme_h_revoke(struct tc_acme *a, struct tc_acme_call *c, struct tc_acme_resp *r);

/* renewal_info.c (RFC 9773: unauthenticated GET) */
int tc_acme_h_renewal_info(struct tc_acme *a, const char *id, struct tc_acme_resp *r);

/* rest_v1.c: the REST face beside ACME */
int tc_acme_h_rest(struct tc_acme *a, const struct tc_acme_req *rq, struct tc_acme_resp *r);

#endif
