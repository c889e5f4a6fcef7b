#include "support/raw_string_call.h"

#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"

int tc_test_call_with_string(struct tc_client *c, const char *method, ProtobufCMessage *request,
			     uint32_t field_number, const void *bytes, size_t len, struct tc_status *st)
{
	/* protobuf-c packs an unknown field's data as it is: for a
	 * length-delimited one, its length prefix included. */
	uint8_t *value = malloc(len + 10);
	if (!value) {
		memset(st, 0, sizeof(*st));
		st->code = 13; /* INTERNAL */
		return -1;
	}
	size_t n = 0;
	for (size_t v = len; ; v >>= 7) {
		value[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		if (v <= 0x7f)
			break;
	}
	memcpy(value + n, bytes, len);
	ProtobufCMessageUnknownField extra = {
		.tag = field_number,
		.wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
		.len = n + len,
		.data = value,
	};
	unsigned saved_n = request->n_unknown_fields;
	ProtobufCMessageUnknownField *saved = request->unknown_fields;
	request->n_unknown_fields = 1;
	request->unknown_fields = &extra;
	unsigned char *resp = NULL;
	size_t resp_len = 0;
	int rc = tc_unary_call(c, method, request, &resp, &resp_len, st);
	request->n_unknown_fields = saved_n;
	request->unknown_fields = saved;
	free(resp);
	free(value);
	return rc;
}
