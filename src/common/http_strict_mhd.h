/* http_strict.h applied inside libmicrohttpd, for every HTTP listener
 * (the CT log's RFC 6962 API now; ACME and metrics when they come).
 *
 * A server using it:
 *   - starts its daemon with MHD_OPTION_ARRAY, tc_http_strict_options(...)
 *     (per-request record started from the raw target, MHD's strict mode,
 *     idle timeout, header memory) and MHD_OPTION_NOTIFY_COMPLETED calling
 *     tc_http_strict_request_free();
 *   - in its access handler, while tc_http_strict_admitted() is false, calls
 *     tc_http_strict_admit() and answers a non-zero verdict at once (before
 *     any body byte is read: MHD then closes the connection);
 *   - passes each body chunk to tc_http_strict_body() and returns MHD_NO
 *     when it refuses (libmicrohttpd 0.9 cannot answer mid-body);
 *   - reads the complete body from the record (body, body_len). */
#ifndef TC_COMMON_HTTP_STRICT_MHD_H
#define TC_COMMON_HTTP_STRICT_MHD_H

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/http_strict.h"

struct tc_http_limits {
	uint64_t max_body;	     /* larger announced bodies get 413 */
	unsigned idle_timeout_s;     /* TC_HTTP_IDLE_TIMEOUT_S */
	unsigned request_deadline_s; /* TC_HTTP_REQUEST_DEADLINE_S */
	size_t head_memory;	     /* per connection: request head + buffers */
	/* 0 in any of these: the default. */
	unsigned head_deadline_s;    /* TC_HTTP_HEAD_DEADLINE_S */
	unsigned per_source;	     /* connections per source address, TC_HTTP_PER_SOURCE */
	unsigned max_connections;    /* all connections (0: the listener's own option) */
};

/* One connection, in libmicrohttpd's per-connection pointer
 * (socket_context): when its current request head started. */
struct tc_http_conn;

/* One request, in libmicrohttpd's per-request pointer (*con_cls). */
struct tc_http_request {
	int target_ok;		/* the raw target passed tc_http_target_check */
	const char *target_end; /* where the raw target ended (never read) */
	struct timespec started;
	int admitted;
	struct tc_http_conn *conn; /* its connection (NULL if untracked) */
	char *body; /* NUL-terminated for convenience; body_len is the length */
	size_t body_len;
	void *app; /* the listener's own per-request state, freed by it before tc_http_strict_request_free */
};

/* Fills items (cap >= 8) with the daemon options, MHD_OPTION_END last;
 * lim must outlive the daemon. Returns the number of items used. Besides
 * MHD's strict mode, idle timeout and head memory: a per-source connection
 * limit, the total one when lim->max_connections is set (a listener's own
 * MHD_OPTION_CONNECTION_LIMIT after the array takes precedence), and the
 * head deadline: a process-wide watcher thread shuts down the socket of a
 * connection whose request head is not complete in time, and
 * libmicrohttpd then closes it as closed by the client. */
size_t tc_http_strict_options(const struct tc_http_limits *lim, struct MHD_OptionItem *items, size_t cap);

/* True once the first call of the access handler has admitted it. */
int tc_http_strict_admitted(void *const *con_cls);

/* The first call of the access handler (head received, no body read):
 * checks target, Host and framing headers and the announced size. A zero
 * status admits the request. */
struct tc_http_verdict tc_http_strict_admit(const struct tc_http_limits *lim, struct MHD_Connection *conn,
					    const char *version, void **con_cls);

/* Takes one body chunk: 0, or -1 when the body outgrows max_body (a
 * chunked body announces nothing), runs past the request deadline or
 * memory runs out. */
int tc_http_strict_body(const struct tc_http_limits *lim, void **con_cls, const char *data, size_t len);

/* The admitted request's record (NULL before admission). */
struct tc_http_request *tc_http_strict_request(void *const *con_cls);

/* For MHD_OPTION_NOTIFY_COMPLETED: frees the record. */
void tc_http_strict_request_free(void **con_cls);

#endif
