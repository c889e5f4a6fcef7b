/* Threads that run dynamic updates off the listeners' threads. An UPDATE
 * waits for its group commit (zone_keeper.c: journal sync, signing by the
 * HSM) for milliseconds; run on a listener's thread it would stall every
 * query of that thread (the TCP and DoQ loops are one thread each) and let
 * at most one update per listener thread wait at a time, so batches stay
 * small. Here each update holds a pool thread while it waits, the listener
 * answers on, and the answer goes back through the same completion
 * callback as a forwarded query's (dns_service.h). */
#ifndef TC_RESOLVER_UPDATE_POOL_H
#define TC_RESOLVER_UPDATE_POOL_H

#include <stdbool.h>

struct tc_update_pool;

/* threads run jobs; at most max_queued wait for a thread. NULL on failure. */
struct tc_update_pool *tc_update_pool_start(unsigned threads, unsigned max_queued);
/* Queues fn(arg); false when the queue is full or the pool stopping (the
 * caller answers itself, e.g. SERVFAIL). */
bool tc_update_pool_submit(struct tc_update_pool *p, void (*fn)(void *), void *arg);
/* Runs every queued job, then joins the threads and frees the pool: call
 * before the listeners whose callbacks the jobs use are stopped. */
void tc_update_pool_stop(struct tc_update_pool *p);

#endif
