/* Client side of a framed protobuf-c IPC (the signer's, the transparency
 * log's): any Request/Response pair of messages whose field `id` (uint64)
 * matches an answer to its request. Thread-safe: many threads may call
 * tc_ipc_call() at once on one client; requests are pipelined on the socket
 * and a reader thread hands each response to the caller waiting for its
 * id, so answers may arrive in any order. tc_ipc_call_async is the same
 * call without a waiting thread: the answer is handed to a callback. */
#ifndef TC_COMMON_IPC_CLIENT_H
#define TC_COMMON_IPC_CLIENT_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

struct tc_ipc_client;

/* Takes ownership of fd (a connected stream socket). request and response
 * are the message descriptors of the protocol; both must have a uint64
 * field named "id". peer names the other side in error messages
 * ("signer"). NULL on failure; fd then stays the caller's. */
struct tc_ipc_client *tc_ipc_client_new(int fd, const ProtobufCMessageDescriptor *request,
					const ProtobufCMessageDescriptor *response, const char *peer);
/* The same, taking answers up to max_answer bytes (TC_IPC_MAX_ANSWER_FRAME
 * for the signer's; tc_ipc_client_new takes TC_IPC_MAX_FRAME). */
struct tc_ipc_client *tc_ipc_client_new_max(int fd, const ProtobufCMessageDescriptor *request,
					    const ProtobufCMessageDescriptor *response, const char *peer,
					    size_t max_answer);

/* Connects to an AF_UNIX stream socket at path. NULL with errno set. */
struct tc_ipc_client *tc_ipc_client_connect(const char *path, const ProtobufCMessageDescriptor *request,
					    const ProtobufCMessageDescriptor *response, const char *peer);

void tc_ipc_client_free(struct tc_ipc_client *c);

/* Sends req (its id is assigned here) and waits up to timeout_ms for the
 * response. Returns the response (free with protobuf_c_message_free_unpacked
 * (resp, NULL)) or NULL on a transport failure or timeout, with a reason in
 * err. An error status inside the answer is a returned response, not NULL. */
ProtobufCMessage *tc_ipc_call(struct tc_ipc_client *c, ProtobufCMessage *req, int timeout_ms, char *err,
			      size_t errlen);

/* Called once per tc_ipc_call_async that returned 0: with the response
 * (the callee owns it: protobuf_c_message_free_unpacked(resp, NULL)), or
 * with resp NULL and a reason in err when the connection closed or the
 * answer did not come in time. It runs on the client's reader thread (or
 * the thread freeing the client), so it must not block for long, must not
 * free this client, and must not call tc_ipc_call on it. */
typedef void (*tc_ipc_done_fn)(void *arg, ProtobufCMessage *resp, const char *err);

/* Sends req (id assigned here) without waiting: done(arg, ...) runs later
 * with the answer matched by id. The send never blocks: what the socket
 * does not take at once is queued and pushed out by the reader thread. A
 * timeout is checked at about 50 ms granularity. Returns 0 when done will
 * be called, -1 with a reason in err when req was not sent (done is not
 * called then). */
int tc_ipc_call_async(struct tc_ipc_client *c, ProtobufCMessage *req, int timeout_ms, tc_ipc_done_fn done,
		      void *arg, char *err, size_t errlen);

/* 1 while the connection is up. */
int tc_ipc_client_alive(struct tc_ipc_client *c);

#endif
