/* The zone currently served, replaceable at run time (re-signing, new
 * TLSA data) while any number of threads answer from it.
 *
 * Hazard pointers: a reader publishes the zone it is about to use in a
 * slot of its own (one cache line per thread, claimed on first use and
 * released when the thread exits), re-checks that it is still current,
 * and clears the slot when done. A swap publishes the new zone first and
 * frees the old one once no slot holds it. Readers never wait and never
 * write a shared cache line; a swap waits only for answers in progress,
 * since a reader that starts after it publishes sees the new zone. */
#ifndef TC_RESOLVER_ZONE_LIVE_H
#define TC_RESOLVER_ZONE_LIVE_H

#include "resolver/zone.h"

struct tc_zone_live;

/* Takes ownership of first (may be NULL until a zone is set). */
struct tc_zone_live *tc_zone_live_new(struct tc_zone *first);
/* Frees the live set and its zone; no reader may be inside. */
void tc_zone_live_free(struct tc_zone_live *live);

/* The zone to answer from until the matching leave; *token is the
 * caller's for leave. May return NULL when no zone was set. */
const struct tc_zone *tc_zone_live_enter(struct tc_zone_live *live, unsigned *token);
void tc_zone_live_leave(struct tc_zone_live *live, unsigned token);

/* Publishes next (ownership taken) and frees the previous zone once no
 * reader can use it. One swapper at a time (the caller serialises). */
void tc_zone_live_swap(struct tc_zone_live *live, struct tc_zone *next);

/* The current zone, for the swapper's own reads (never freed under it). */
const struct tc_zone *tc_zone_live_peek(struct tc_zone_live *live);

#endif
