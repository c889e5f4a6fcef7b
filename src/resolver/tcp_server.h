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
 *  - at most max_conns connections: one more is accepted and closed at once,
 *    so the listen backlog never fills with clients that will not be served.
 * Memory is per connection (a read buffer grown to the largest message seen
 * and an output buffer), never per query. */
#ifndef TC_RESOLVER_TCP_SERVER_H
#define TC_RESOLVER_TCP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "resolver/dns_service.h"

#define TC_TCP_MAX_OUTPUT (256 * 1024)

struct tc_tcp_server;

/* Serves the listening socket fd (made non-blocking; not closed by stop).
 * svc must outlive the server. */
int tc_tcp_server_start(int fd, const struct tc_dns_service *svc, uint32_t max_conns,
			uint32_t idle_ms, struct tc_tcp_server **out, char *err, size_t errlen);
void tc_tcp_server_stop(struct tc_tcp_server *s);

#endif
