/* The HTTPS listener of trustchain-acme (libmicrohttpd with GnuTLS, strict
 * HTTP from common/http_strict_mhd.h): ACME under /acme/ and the REST face
 * under /v1/. The certificate and key live in memory only; a renewed
 * certificate is put in place by quiescing the running daemon (it keeps
 * serving the connections it has) and starting a new one on the same
 * listening socket. */
#ifndef TC_ACME_HTTP_H
#define TC_ACME_HTTP_H

#include <stddef.h>

#include "acme/acme.h"

struct tc_acme_http;

/* Serves a on listen_fd (or, when it is -1, on a socket bound to
 * listen_addr) on an epoll thread pool (long polls suspend their
 * connection), at most max_connections at once (libmicrohttpd splits the
 * total evenly over the pool's threads).
 * addr_out gets "host:port". 0, or -1 with err. */
int tc_acme_http_start(struct tc_acme *a, int listen_fd, const char *listen_addr, const char *key_pem,
		       const char *cert_pem, unsigned max_connections, struct tc_acme_http **out, char *addr_out,
		       size_t addr_len, char *err, size_t errlen);

/* Switches to a new certificate (see above). The previous daemon is
 * stopped at the next switch or at tc_acme_http_stop. 0 or -1 with err
 * (the old certificate stays in service then). */
int tc_acme_http_renew(struct tc_acme_http *h, const char *key_pem, const char *cert_pem, char *err,
		       size_t errlen);

void tc_acme_http_stop(struct tc_acme_http *h);

#endif
