#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "gateway/rpc.h"

int tc_rpc_fail(struct tc_rpc_result *res, grpc_status_code code, const char *reason,
		const char *fmt, ...)
{
	res->code = code;
	snprintf(res->reason, sizeof(res->reason), "%s", reason ? reason : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
	free(res->body);
	res->body = NULL;
	res->body_len = 0;
	return -1;
}

int tc_rpc_reply(struct tc_rpc_result *res, const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf)
		return tc_rpc_fail(res, GRPC_STATUS_INTERNAL, "internal", "out of memory");
	protobuf_c_message_pack(msg, buf);
	free(res->body);
	res->body = buf;
	res->body_len = len;
	res->code = GRPC_STATUS_OK;
	res->message[0] = '\0';
	res->reason[0] = '\0';
	return 0;
}
