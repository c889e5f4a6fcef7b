/* The transparency process's internal IPC (api/internal/transparency.proto)
 * for the gateway: the same operations as the HTTP API (ct_ops.c), as
 * protobuf, on a local stream socket. The socket is the supervisor's
 * (TC_FD_CT_IPC, <data_dir>/run/transparency.sock, kept across restarts of
 * this process) or, when run by hand, bound here at the same path. */
#ifndef TC_TRANSPARENCY_CT_IPC_H
#define TC_TRANSPARENCY_CT_IPC_H

#include <stddef.h>
#include <stdint.h>

#include "transparency/ct_ops.h"

/* Threads running requests: submissions wait for a synced write and a
 * signature, and LevelDB groups concurrent synced writes, so many in
 * flight is what makes them cheap. */
#define TC_CT_IPC_WORKERS 32

struct tc_ct_ipc;

/* Serves api on listen_fd (taken over) or, when listen_fd < 0, on a socket
 * bound at path. 0, or -1 with err set. */
int tc_ct_ipc_start(struct tc_ct_api *api, int listen_fd, const char *path, struct tc_ct_ipc **out, char *err,
		    size_t errlen);
void tc_ct_ipc_stop(struct tc_ct_ipc *ipc);

/* One request frame in, one answer frame out (malloc'd); -1 when the frame
 * does not decode (the connection is then closed). */
int tc_ct_ipc_handle(struct tc_ct_api *api, const uint8_t *req, size_t len, uint8_t **out, size_t *out_len);

#endif
