/* The transparency process's internal IPC (api/internal/transparency.proto)
 * for the gateway: the same operations as the HTTP API (ct_ops.c), as
 * protobuf, on a local stream socket. The socket is the supervisor's
 * (TC_FD_CT_IPC, <data_dir>/run/transparency.sock, kept across restarts of
 * this process) or, when run by hand, bound here at the same path. The
 * transport is ct_ipc_server.h: requests are started as they are read and
 * answered when ready, so a client pipelines as many as it likes. */
#ifndef TC_TRANSPARENCY_CT_IPC_H
#define TC_TRANSPARENCY_CT_IPC_H

#include <stddef.h>
#include <stdint.h>

#include "transparency/ct_ops.h"

struct tc_ct_ipc;

/* Serves api on listen_fd (taken over) or, when listen_fd < 0, on a socket
 * bound at path. 0, or -1 with err set. */
int tc_ct_ipc_start(struct tc_ct_api *api, int listen_fd, const char *path, struct tc_ct_ipc **out, char *err,
		    size_t errlen);
void tc_ct_ipc_stop(struct tc_ct_ipc *ipc);

/* Gets a request's packed answer frame (malloc'd, the receiver's), or NULL
 * when the request did not decode or no answer could be made. */
typedef void (*tc_ct_ipc_answer_fn)(void *arg, uint8_t *frame, size_t len);

/* Runs one request frame: reads are answered at once, a submission once its
 * entry is durable and its SCT signed (on a sequencer or signer-link
 * thread; no thread waits for it). done is called exactly once. */
void tc_ct_ipc_handle_async(struct tc_ct_api *api, const uint8_t *req, size_t len, tc_ct_ipc_answer_fn done,
			    void *arg);

/* The same, waiting for the answer: one request frame in, one answer frame
 * out (malloc'd); -1 when the frame does not decode. */
int tc_ct_ipc_handle(struct tc_ct_api *api, const uint8_t *req, size_t len, uint8_t **out, size_t *out_len);

#endif
