/* Classic DNS over UDP: worker threads sharing one socket, each reading and
 * answering batches of datagrams (recvmmsg/sendmmsg) from buffers it owns,
 * so the hot path makes no allocation and takes no lock (the zone is
 * read-only; only forwarded names touch the forwarder's locks).
 * Per-source response rate limiting: see ratelimit.h. */
#ifndef TC_RESOLVER_UDP_SERVER_H
#define TC_RESOLVER_UDP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "resolver/dns_service.h"

struct tc_udp_server;

/* Serves fd (a bound UDP socket; made non-blocking, not closed by stop) with
 * nthreads workers. rate_limit_qps is per source, 0 = off. svc must outlive
 * the server. */
int tc_udp_server_start(int fd, unsigned nthreads, const struct tc_dns_service *svc,
			uint32_t rate_limit_qps, struct tc_udp_server **out, char *err,
			size_t errlen);

/* Stops and joins the workers, logs their counters, frees the server. */
void tc_udp_server_stop(struct tc_udp_server *s);

#endif
