/* Long polls without lost wake-ups: a reader that finds a record in a
 * transient state (an order processing, an authorization with a check
 * running) takes a ticket, reads, and waits for the writer's notify of the
 * same id. Clients poll such records every few milliseconds to a second;
 * holding the answer until the state moves (for a bounded time) answers
 * each poll with news instead of spending a JWS verification, a LevelDB
 * read and a TLS record on "still processing".
 *
 * Ids hash onto striped condition variables: a notify of another id on the
 * same stripe wakes a waiter early, who reads again and waits on. */
#ifndef TC_ACME_WAKE_H
#define TC_ACME_WAKE_H

#include <stdint.h>

#include "acme/acme_resp.h"

struct tc_acme_wake;

struct tc_acme_wake *tc_acme_wake_new(void);
void tc_acme_wake_free(struct tc_acme_wake *w);

/* Taken before reading the record. */
uint64_t tc_acme_wake_ticket(struct tc_acme_wake *w, const char *id);

/* Waits until a notify on id's stripe after the ticket, or until the
 * monotonic time deadline_ms. Returns 0 when notified, -1 at the deadline. */
int tc_acme_wake_wait(struct tc_acme_wake *w, const char *id, uint64_t ticket, uint64_t deadline_ms);

/* The event-driven form of a wait (a suspended HTTP connection instead of
 * a blocked thread): fire(arg) runs exactly once, on the notifier's thread
 * after a notify on id's stripe, or on the wake's timer thread at
 * deadline_ms (a ~20 ms tick), never under a wake lock. Returns 0 when
 * parked, 1 when the stripe moved since the ticket (nothing parked: read
 * again now), -1 out of memory (nothing parked). */
int tc_acme_wake_park(struct tc_acme_wake *w, const char *id, uint64_t ticket, uint64_t deadline_ms,
		      void (*fire)(void *), void *arg);

/* The park step of a long poll that read its record (kind 'O' order or 'Z'
 * authorization) in a transient state after taking ticket: fills park
 * and returns 1 when the answer should wait, or 0 when it must be given
 * now (no wake, the deadline passed, or an id too long to park by). */
int tc_acme_wake_park_at(struct tc_acme_wake *w, struct tc_acme_park *park, char kind, const char *id,
			 uint64_t ticket, uint64_t deadline_ms);

/* Fires every parked waiter now (their server is stopping). */
void tc_acme_wake_fire_all(struct tc_acme_wake *w);

/* After the record's new state is stored. */
void tc_acme_wake_notify(struct tc_acme_wake *w, const char *id);

/* The monotonic clock in milliseconds (for deadlines). */
uint64_t tc_acme_wake_now_ms(void);

#endif
