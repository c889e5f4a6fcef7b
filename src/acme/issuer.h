/* Background issuance for finalize (RFC 8555 7.4): finalize checks the CSR,
 * stores the order "processing" with its CSR and an "I/<order>" entry in
 * one batch, and once that batch is synced (the store's group commit, what
 * its answer waits for and acknowledges) the order id is handed over here;
 * clients poll the order.
 *
 * The issuer's threads call the gateway's Issue over the one gRPC channel
 * (HTTP/2 multiplexes the concurrent calls on one connection), store the
 * certificate, the order "valid" and the end of its "I/" entry in one
 * synced batch, and wake whoever waits on the order (order reads of a
 * processing order wait a moment for it: fewer polls, wake.h).
 *
 * Exactly one issuance per order in this process: an order is claimed in
 * memory while its call runs, and a job whose order is no longer
 * "processing" does nothing. After a restart (kill -9 included) every
 * "I/" entry is resumed once. What no local record can tell: a kill after
 * the CA signed and before the batch reached LevelDB leaves the order
 * processing, and its resumption issues a second certificate for the same
 * CSR (the CA has no idempotency key to ask by). */
#ifndef TC_ACME_ISSUER_H
#define TC_ACME_ISSUER_H

#include "acme/acme.h"

struct tc_acme_issuer;

/* threads: concurrent Issue calls. NULL when out of memory. */
struct tc_acme_issuer *tc_acme_issuer_new(struct tc_acme *a, unsigned threads);

/* Queues the issuance of order oid (already stored processing). 0 or -1. */
int tc_acme_issuer_submit(struct tc_acme_issuer *is, const char *oid);

/* Queues every order left with an "I/" entry (at start). Returns how many. */
size_t tc_acme_issuer_resume(struct tc_acme_issuer *is);

/* Finishes what is queued (issuances already acknowledged), then stops. */
void tc_acme_issuer_free(struct tc_acme_issuer *is);

/* The Issue idempotency key of order oid (SHA-256 over a label and the
 * order id, base64url; malloc'ed, NULL when out of memory). Stored with the
 * order in the batch that makes it processing, before any Issue call: a
 * resumed finalize (acme killed after the CA got the request, before its
 * answer was stored) sends the same key and gets the same certificate. */
char *tc_acme_issue_key(const char *oid);

#endif
