/* The CT log's HTTP server (libmicrohttpd, a thread pool): admits requests
 * through common/http_strict_mhd (raw target, Host, framing, announced
 * size, timeouts), collects their bodies and hands them to ct_api; the
 * static-ct-api names (/checkpoint, /tile/..., /issuer/...) are answered
 * from api->tiles_dir by tile_http. */
#ifndef TC_TRANSPARENCY_HTTP_API_H
#define TC_TRANSPARENCY_HTTP_API_H

#include <stddef.h>

#include "common/config.h"
#include "transparency/ct_api.h"

#define TC_HTTP_MAX_BODY (1024 * 1024) /* larger submissions get 413 */
#define TC_HTTP_HEAD_MEMORY (32 * 1024) /* per connection; longer heads get 414 / 431 */

struct tc_http_api;

/* cfg->ct.http_threads: worker threads, each with its own epoll and
 * connections. A submission does not hold its thread: the connection is
 * suspended until the entry is durable and its SCT signed, then resumed
 * with the reply. cfg->ct.http_max_*,
 * http_head_timeout_s: the connection limits (common/http_strict_mhd.h).
 * Serves on listen_fd when >= 0 (inherited, already listening), else binds
 * listen_addr ("host:port", "[v6]:port") itself. addr_out (may be NULL)
 * receives the address actually served. */
int tc_http_api_start(struct tc_ct_api *api, int listen_fd, const char *listen_addr, const struct tc_config *cfg,
		      struct tc_http_api **out, char *addr_out, size_t addr_len, char *err, size_t errlen);
/* Stops accepting and waits for requests in flight. */
void tc_http_api_stop(struct tc_http_api *h);

#endif
