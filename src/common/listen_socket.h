/* Listening sockets, opened one way by every process that listens: the
 * supervisor (which hands them to its children), and each child when it
 * runs by hand without one (CT HTTP, ACME HTTPS, the gateway's CRL HTTP,
 * the resolver's DNS ports). */
#ifndef TC_COMMON_LISTEN_SOCKET_H
#define TC_COMMON_LISTEN_SOCKET_H

#include <stddef.h>
#include <stdint.h>

/* A socket of type SOCK_STREAM (listening, with backlog) or SOCK_DGRAM
 * bound to host:port. host is a numeric address (config keys that take
 * an address alone are checked as such); SO_REUSEADDR so a restarted
 * process binds while its predecessor's connections linger. The fd
 * (close-on-exec), or -1 with err. */
int tc_listen_open(const char *host, uint16_t port, int type, int backlog, char *err, size_t errlen);

/* The same for a config value "host:port" / "[v6]:port" of the key
 * `key` (named in errors); host may be a name ("localhost"). TCP. */
int tc_listen_open_hostport(const char *key, const char *addr, int backlog, char *err, size_t errlen);

/* "ADDR:PORT" ("[ADDR]:PORT" for IPv6) of the socket's local address,
 * e.g. the port the kernel chose for port 0; "?:0" when unknown. */
void tc_listen_describe(int fd, char *out, size_t len);

#endif
