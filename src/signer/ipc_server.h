/* The signer's side of the IPC: one reader thread per peer connection that
 * decodes frames, and a pool of workers that run the requests, so a peer can
 * pipeline many requests and slow HSM operations overlap. Responses go back
 * in completion order, tagged with the request id. */
#ifndef TC_SIGNER_IPC_SERVER_H
#define TC_SIGNER_IPC_SERVER_H

#include "signer/signer.h"

struct tc_ipc_server;

struct tc_ipc_server *tc_ipc_server_start(struct tc_signer *s, unsigned workers, char *err,
					  size_t errlen);

/* Serves peer `name` on fd (taking ownership of fd). An unknown name is
 * refused and the fd closed. */
int tc_ipc_server_add_peer(struct tc_ipc_server *srv, const char *name, int fd);

/* Disconnects every peer, lets in-flight requests finish, joins the threads. */
void tc_ipc_server_stop(struct tc_ipc_server *srv);

#endif
