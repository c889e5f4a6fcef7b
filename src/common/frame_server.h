/* Server side of a framed IPC on local stream sockets (ipc_frame.h): one
 * reader thread per connection decodes frames, a pool of workers runs the
 * requests through a handler, so a client can pipeline many requests and
 * slow ones (a synced write, a signature) overlap. Answers go back in
 * completion order; the protocol's ids match them up (ipc_client.h).
 *
 * Connections come from a listening socket (accept thread) or are handed
 * over already connected. The listening socket may be shared with the
 * supervisor: it is never shut down here, only our descriptor is closed. */
#ifndef TC_COMMON_FRAME_SERVER_H
#define TC_COMMON_FRAME_SERVER_H

#include <stddef.h>
#include <stdint.h>

/* Handles one request frame: *out gets a malloc'd answer frame (0 bytes:
 * no answer). Returning -1 closes the connection (undecodable request). */
typedef int (*tc_frame_handler)(void *ctx, const uint8_t *req, size_t len, uint8_t **out, size_t *out_len);

struct tc_frame_server;

/* name labels the service in logs ("transparency IPC"). */
struct tc_frame_server *tc_frame_server_start(const char *name, tc_frame_handler fn, void *ctx, unsigned workers,
					      char *err, size_t errlen);

/* Accepts connections on listen_fd (a listening AF_UNIX/TCP stream socket)
 * until the server stops; takes ownership of the descriptor. */
int tc_frame_server_listen(struct tc_frame_server *srv, int listen_fd, char *err, size_t errlen);

/* Serves one connected socket (takes ownership of fd). */
int tc_frame_server_add(struct tc_frame_server *srv, int fd);

/* Stops accepting, disconnects every client, lets running requests finish
 * and joins the threads. */
void tc_frame_server_stop(struct tc_frame_server *srv);

#endif
