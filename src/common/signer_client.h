/* Client side of the signer IPC, used by transparency, resolver, gateway and
 * trustchainctl. Thread-safe: many threads may call tc_signer_call() at once
 * on one client; requests are pipelined on the socket and a reader thread
 * hands each response to the caller waiting for its id. */
#ifndef TC_COMMON_SIGNER_CLIENT_H
#define TC_COMMON_SIGNER_CLIENT_H

#include "common/ipc_client.h"
#include "internal/signer.pb-c.h"

struct tc_signer_client;

/* Takes ownership of fd (a connected stream socket to the signer). */
struct tc_signer_client *tc_signer_client_new(int fd);
/* Connects to the signer's control socket path (used by trustchainctl). */
struct tc_signer_client *tc_signer_client_connect(const char *path);
void tc_signer_client_free(struct tc_signer_client *c);

/* Sends req (its id is assigned here) and waits up to timeout_ms for the
 * response. Returns the response (free with
 * trustchain__internal__response__free_unpacked(resp, NULL)) or NULL on a
 * transport failure/timeout, with a reason in err. A non-OK status is a
 * returned response, not NULL. */
Trustchain__Internal__Response *tc_signer_call(struct tc_signer_client *c,
					       Trustchain__Internal__Request *req,
					       int timeout_ms, char *err, size_t errlen);

/* tc_signer_call without waiting: done gets the answer (ipc_client.h,
 * tc_ipc_call_async; resp is a Trustchain__Internal__Response). */
int tc_signer_call_async(struct tc_signer_client *c, Trustchain__Internal__Request *req, int timeout_ms,
			 tc_ipc_done_fn done, void *arg, char *err, size_t errlen);

/* 1 while the connection is up. */
int tc_signer_client_alive(struct tc_signer_client *c);

#endif
