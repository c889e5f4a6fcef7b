/* Classic DNS over TCP (RFC 1035 §4.2.2, RFC 7766): one epoll thread serving
 * the listening socket and every connection.
 *  - each message is preceded by a 2-octet length; several queries may be
 *    sent on one connection and pipelined, and answers may come back out of
 *    order (forwarded names answer later than zone names, §6.2.1.1);
 *  - partial reads and writes are carried over per connection; a connection
 *    whose unsent output passes TC_TCP_MAX_OUTPUT stops being read until the
 *    client catches up (no unbounded buffering);
 *  - a length under 12 (no DNS header) or a message we must drop (e.g. a
 *    response) closes that connection only;
 *  - idle_ms without a complete query or a write closes the connection;
 *  - at most max_conns connections, and at most per_source from one source
 *    (an IPv4 address or an IPv6 /64). A new connection over either limit
 *    makes room by closing the least recently active connection that is
 *    owed nothing (of that source for the per-source limit, of anyone for
 *    the global one), as RFC 7766 §6.2.3 and §10 ask: one client holding
 *    idle connections cannot lock others out, it only displaces its own.
 *    Only when every connection is busy is the new one closed at once, so
 *    the listen backlog never fills with clients that will not be served.
 * Memory is per connection (a read buffer grown to the largest message seen
 * and an output buffer), never per query. */
#ifndef TC_RESOLVER_TCP_SERVER_H
#define TC_RESOLVER_TCP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "resolver/dns_service.h"

#define TC_TCP_MAX_OUTPUT (256 * 1024)

struct tc_tcp_server;

struct tc_tcp_limits {
	uint32_t max_conns;    /* open connections in all */
	uint32_t per_source;   /* from one source; 0: max_conns */
	uint32_t idle_ms;      /* closed after this long without a query or a write */
};

/* The per-source limit for a given total: a sixteenth, at least 8. */
uint32_t tc_tcp_per_source_default(uint32_t max_conns);

/* Serves the listening socket fd (made non-blocking; not closed by stop).
 * svc must outlive the server. */
int tc_tcp_server_start(int fd, const struct tc_dns_service *svc,
			const struct tc_tcp_limits *lim, struct tc_tcp_server **out, char *err,
			size_t errlen);
void tc_tcp_server_stop(struct tc_tcp_server *s);

#endif
