/* Response rate limiting per source for classic DNS over UDP
 * (dns.rate_limit_qps, 0 = off), where a source address can be forged and
 * our answers could be aimed at a victim.
 *
 * A token bucket per source (IPv4 address, or IPv6 /64 since one host
 * usually owns a whole /64), kept in a fixed hashed table: sources that
 * collide share a bucket, which can only make limiting stricter for them,
 * never looser, and memory stays constant whatever the traffic.
 *
 * One table is shared by the UDP worker threads (the kernel hands one
 * source's datagrams to whichever thread reads first, often all to one), so
 * each bucket is updated under one of TC_RATELIMIT_LOCKS striped mutexes;
 * with limiting off no lock is taken.
 *
 * Over the limit (like BIND's RRL "slip 2"): every second limited query
 * gets a truncated empty answer (TC=1) so a real client still gets through
 * by retrying over TCP, where the handshake proves its address; the others
 * are dropped. TCP and DoQ are not rate limited here. */
#ifndef TC_RESOLVER_RATELIMIT_H
#define TC_RESOLVER_RATELIMIT_H

#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>

#define TC_RATELIMIT_BUCKETS 4096
#define TC_RATELIMIT_SLIP 2
#define TC_RATELIMIT_LOCKS 64

enum tc_ratelimit_verdict {
	TC_RL_PASS = 0,
	TC_RL_SLIP,     /* answer with TC=1 and no records */
	TC_RL_DROP,
};

struct tc_ratelimit_bucket {
	uint32_t tokens_milli;   /* tokens x 1000 */
	uint64_t last_ms;
	uint32_t limited;        /* limited queries since the last pass, for the slip */
};

struct tc_ratelimit {
	uint32_t qps;            /* 0 = off */
	uint32_t burst_milli;    /* bucket size: one second of queries */
	pthread_mutex_t locks[TC_RATELIMIT_LOCKS];
	struct tc_ratelimit_bucket b[TC_RATELIMIT_BUCKETS];
};

/* qps per source; 0 = off. */
void tc_ratelimit_init(struct tc_ratelimit *rl, uint32_t qps);
void tc_ratelimit_destroy(struct tc_ratelimit *rl);
enum tc_ratelimit_verdict tc_ratelimit_check(struct tc_ratelimit *rl, const struct sockaddr *src,
					     uint64_t now_ms);

#endif
