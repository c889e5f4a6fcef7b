/* The transport of the transparency IPC (ct_ipc.h): local stream sockets
 * carrying frames (common/ipc_frame.h), one reader thread per connection
 * that reads whatever the socket holds in one call and hands each frame to
 * the handler at once. The handler does not answer on that thread: it
 * starts the request and calls tc_ct_ipc_server_answer when the answer is
 * ready, from whatever thread has it (a submission's answer comes after its
 * synced write and its SCT signature). Answers go back in completion order;
 * the protocol's ids match them up. No thread waits for a request. */
#ifndef TC_TRANSPARENCY_CT_IPC_SERVER_H
#define TC_TRANSPARENCY_CT_IPC_SERVER_H

#include <stddef.h>
#include <stdint.h>

struct tc_ct_ipc_server;
struct tc_ct_ipc_conn;

/* Starts a request: req is valid during the call only. Must lead to
 * exactly one tc_ct_ipc_server_answer(conn, ...) for it, now or later. */
typedef void (*tc_ct_ipc_serve_fn)(void *ctx, struct tc_ct_ipc_conn *conn, const uint8_t *req, size_t len);

/* Accepts connections on listen_fd (taken over; never shut down here: it
 * may be the supervisor's). NULL with err set. */
struct tc_ct_ipc_server *tc_ct_ipc_server_start(int listen_fd, tc_ct_ipc_serve_fn fn, void *ctx, char *err,
						size_t errlen);

/* Sends one request's answer frame (taken over, freed here) and releases
 * the request's hold on conn. frame NULL: the request did not decode or no
 * answer could be made; the connection is closed. */
void tc_ct_ipc_server_answer(struct tc_ct_ipc_conn *conn, uint8_t *frame, size_t len);

/* Stops accepting and reading, waits for every started request's answer,
 * closes the connections. */
void tc_ct_ipc_server_stop(struct tc_ct_ipc_server *srv);

#endif
