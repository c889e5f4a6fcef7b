/* The gateway's link to the transparency process (the CT log), over the
 * internal IPC of api/internal/transparency.proto: a pipelined, thread-safe
 * client (ipc_client.h) that connects by path on first use and again after
 * the connection is lost, so a restart of the log costs at most the calls
 * in flight at that moment. */
#ifndef TC_COMMON_CT_CLIENT_H
#define TC_COMMON_CT_CLIENT_H

#include <stddef.h>

#include "common/ipc_client.h"
#include "internal/transparency.pb-c.h"

/* Where the log listens, under server.data_dir. The supervisor creates the
 * socket (and keeps it across restarts of the log, so connections made
 * meanwhile wait in its backlog); a log run by hand binds it itself. */
#define TC_CT_IPC_SOCKET "run/transparency.sock"

struct tc_ct_client;

/* Does not connect yet. NULL when out of memory or path is too long. */
struct tc_ct_client *tc_ct_client_new(const char *path);
void tc_ct_client_free(struct tc_ct_client *c);

/* Sends req (id assigned here), connecting first when needed, and waits up
 * to timeout_ms in all: a log that is restarting (socket missing or
 * refusing) is retried within that time, so a call made in that window
 * waits for the link instead of failing at once. Returns the response (free with
 * trustchain__internal__ct__response__free_unpacked(resp, NULL)), or NULL
 * when the log is unreachable or did not answer, with a reason in err. A
 * refusal is a returned response with a non-OK status. */
Trustchain__Internal__Ct__Response *tc_ct_call(struct tc_ct_client *c, Trustchain__Internal__Ct__Request *req,
					       int timeout_ms, char *err, size_t errlen);

/* One connection attempt now, unless a live link is there (a caller that
 * may block: startup). 1 when a live link is there afterwards, else 0. */
int tc_ct_client_connect_now(struct tc_ct_client *c);

/* tc_ct_call without waiting (ipc_client.h, tc_ipc_call_async; resp is a
 * Trustchain__Internal__Ct__Response): 0 when done will get the answer.
 * -1 with err set when there is no live link (it never connects: it is
 * called on other links' reader threads): the caller then waits for the
 * log with tc_ct_call on a thread of its own, which connects.
 * tc_ct_client_connect_now connects ahead of the first call. */
int tc_ct_call_async(struct tc_ct_client *c, Trustchain__Internal__Ct__Request *req, int timeout_ms,
		     tc_ipc_done_fn done, void *arg, char *err, size_t errlen);

#endif
