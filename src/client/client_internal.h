/* What the client's files share: the client itself and one unary call. */
#ifndef TC_CLIENT_INTERNAL_H
#define TC_CLIENT_INTERNAL_H

#include <grpc/grpc.h>
#include <protobuf-c/protobuf-c.h>

#include "trustchain/client.h"

struct tc_client {
	grpc_channel *channel;
	int timeout_ms;
	char *authorization;   /* "Bearer <token>" or NULL; wiped on close */
};

/* Sets st to a failure with the given code and printf-style message. */
void tc_status_set(struct tc_status *st, int code, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Sends request (packed here) to method ("/package.Service/Method") and
 * waits for the reply. On OK, *resp_buf (malloc'ed) holds the serialized
 * response; the caller unpacks it. Returns 0, or -1 with st filled. */
int tc_unary_call(struct tc_client *c, const char *method, const ProtobufCMessage *request,
		  unsigned char **resp_buf, size_t *resp_len, struct tc_status *st);

#endif
