/* The signer protocol on the generic pipelined IPC client (ipc_client.c). */
#include "common/signer_client.h"

#include <stdlib.h>

#include "common/ipc_client.h"
#include "common/ipc_frame.h"

struct tc_signer_client {
	struct tc_ipc_client *ipc;
};

static struct tc_signer_client *wrap(struct tc_ipc_client *ipc)
{
	if (!ipc)
		return NULL;
	struct tc_signer_client *c = malloc(sizeof(*c));
	if (!c) {
		tc_ipc_client_free(ipc);
		return NULL;
	}
	c->ipc = ipc;
	return c;
}

struct tc_signer_client *tc_signer_client_new(int fd)
{
	/* The wrapper first: on any failure the caller still owns fd. */
	struct tc_signer_client *c = malloc(sizeof(*c));
	if (!c)
		return NULL;
	c->ipc = tc_ipc_client_new_max(fd, &trustchain__internal__request__descriptor,
				       &trustchain__internal__response__descriptor, "signer", TC_IPC_MAX_ANSWER_FRAME);
	if (!c->ipc) {
		free(c);
		return NULL;
	}
	return c;
}

struct tc_signer_client *tc_signer_client_connect(const char *path)
{
	return wrap(tc_ipc_client_connect(path, &trustchain__internal__request__descriptor,
					  &trustchain__internal__response__descriptor, "signer"));
}

void tc_signer_client_free(struct tc_signer_client *c)
{
	if (!c)
		return;
	tc_ipc_client_free(c->ipc);
	free(c);
}

int tc_signer_client_alive(struct tc_signer_client *c)
{
	return tc_ipc_client_alive(c->ipc);
}

Trustchain__Internal__Response *tc_signer_call(struct tc_signer_client *c,
					       Trustchain__Internal__Request *req,
					       int timeout_ms, char *err, size_t errlen)
{
	return (Trustchain__Internal__Response *)tc_ipc_call(c->ipc, &req->base, timeout_ms, err, errlen);
}

int tc_signer_call_async(struct tc_signer_client *c, Trustchain__Internal__Request *req, int timeout_ms,
			 tc_ipc_done_fn done, void *arg, char *err, size_t errlen)
{
	return tc_ipc_call_async(c->ipc, &req->base, timeout_ms, done, arg, err, errlen);
}
