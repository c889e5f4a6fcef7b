/* Forwarding of names outside the bootstrap zone to the configured upstream
 * resolvers (dns.upstreams, "addr", "addr:port" or "[v6]:port") over UDP,
 * for dns.traditional_fallback.
 *
 * - Each upstream has its own connected UDP socket, so the kernel drops
 *   datagrams from any other source; a response must also carry the ID we
 *   chose (random, unique among pending queries) and echo our question.
 * - A query waits TC_FWD_TIMEOUT_MS for an answer, then goes to the next
 *   upstream, up to TC_FWD_ATTEMPTS sends in all; after that the client
 *   gets SERVFAIL. At most TC_FWD_PENDING queries are in flight; beyond that
 *   the client gets SERVFAIL at once (no queue grows without bound).
 * - Positive and negative answers (NOERROR/NXDOMAIN with records) are cached
 *   for the smallest TTL of their answer and authority records, capped at
 *   TC_FWD_CACHE_MAX_TTL; served copies have their TTLs aged. The cache is a
 *   fixed direct-mapped table: a new entry evicts whatever shared its slot.
 * - Completion callbacks run on the forwarder's thread: they must only
 *   copy or send, never block.
 * Upstreams that truncate (TC) are passed through as they are: a client that
 *   retries over TCP is forwarded over UDP again (no TCP upstream yet). */
#ifndef TC_RESOLVER_FORWARDER_H
#define TC_RESOLVER_FORWARDER_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

#define TC_FWD_CTX_MAX 160          /* caller context carried with a forwarded query */
#define TC_FWD_QUERY_MAX 1232       /* larger queries are not forwarded (SERVFAIL) */
#define TC_FWD_PENDING 512
#define TC_FWD_TIMEOUT_MS 800
#define TC_FWD_ATTEMPTS 3
#define TC_FWD_CACHE_SLOTS 1024
#define TC_FWD_CACHE_ENTRY_MAX 1232 /* larger answers are forwarded but not cached */
#define TC_FWD_CACHE_MAX_TTL 3600

/* Delivers the response for a forwarded query: the upstream's answer with
 * the client's ID, or a SERVFAIL built from the query. Never NULL. */
typedef void (*tc_forward_done_fn)(const void *ctx, const uint8_t *resp, size_t len);

struct tc_forwarder;

/* Parses the upstream list, opens one socket per upstream and starts the
 * receiving thread. Returns -1 + err for an empty list or a bad address. */
int tc_forwarder_start(const struct tc_string_list *upstreams, struct tc_forwarder **out,
		       char *err, size_t errlen);
/* Stops the thread: no callback runs after it returns; submits still work
 * but are never answered. Lets listeners whose callbacks point into them
 * shut down before the forwarder's memory goes. */
void tc_forwarder_halt(struct tc_forwarder *f);
/* Halts if needed and frees; pending queries are dropped without callbacks. */
void tc_forwarder_stop(struct tc_forwarder *f);

/* A cached answer for query (validated by the caller) into out with the
 * query's ID, question case and aged TTLs: its length, or 0 on a miss. */
size_t tc_forwarder_cached(struct tc_forwarder *f, const uint8_t *query, size_t qlen,
			   uint8_t *out, size_t outcap);

/* Sends query upstream; done(ctx copy, ...) is called exactly once later.
 * Returns -1 (and never calls done) when the query cannot be forwarded:
 * too large, no free slot, or every send failed. */
int tc_forwarder_submit(struct tc_forwarder *f, const uint8_t *query, size_t qlen,
			const void *ctx, size_t ctxlen, tc_forward_done_fn done);

/* Counters for logs and tests. */
struct tc_forwarder_stats {
	uint64_t forwarded, answered, timeouts, failed, cache_hits;
};
void tc_forwarder_get_stats(struct tc_forwarder *f, struct tc_forwarder_stats *out);

#endif
