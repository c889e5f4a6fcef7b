/* One unary RPC over the C core: a call on a private completion queue, one
 * batch with every op, then pluck its completion. A queue per call keeps the
 * client thread-safe without any locking of our own. */
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/support/time.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"

#define REASON_KEY "trustchain-reason"

static void copy_slice(char *out, size_t outlen, grpc_slice s)
{
	size_t n = GRPC_SLICE_LENGTH(s);
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, GRPC_SLICE_START_PTR(s), n);
	out[n] = '\0';
}

static void find_reason(const grpc_metadata_array *md, struct tc_status *st)
{
	for (size_t i = 0; i < md->count; i++)
		if (grpc_slice_str_cmp(md->metadata[i].key, REASON_KEY) == 0)
			copy_slice(st->reason, sizeof(st->reason), md->metadata[i].value);
}

static int read_message(grpc_byte_buffer *bb, unsigned char **out, size_t *len)
{
	grpc_byte_buffer_reader reader;
	if (!grpc_byte_buffer_reader_init(&reader, bb))
		return -1;
	grpc_slice all = grpc_byte_buffer_reader_readall(&reader);
	grpc_byte_buffer_reader_destroy(&reader);
	*len = GRPC_SLICE_LENGTH(all);
	*out = malloc(*len ? *len : 1);
	if (*out)
		memcpy(*out, GRPC_SLICE_START_PTR(all), *len);
	grpc_slice_unref(all);
	return *out ? 0 : -1;
}

int tc_unary_call(struct tc_client *c, const char *method, const ProtobufCMessage *request,
		  unsigned char **resp_buf, size_t *resp_len, struct tc_status *st)
{
	memset(st, 0, sizeof(*st));
	*resp_buf = NULL;
	*resp_len = 0;
	size_t req_len = protobuf_c_message_get_packed_size(request);
	grpc_slice req_slice = grpc_slice_malloc(req_len);
	protobuf_c_message_pack(request, GRPC_SLICE_START_PTR(req_slice));
	grpc_byte_buffer *send = grpc_raw_byte_buffer_create(&req_slice, 1);
	grpc_slice_unref(req_slice);

	grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
	gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
					     gpr_time_from_millis(c->timeout_ms, GPR_TIMESPAN));
	grpc_slice method_slice = grpc_slice_from_static_string(method);
	grpc_call *call = grpc_channel_create_call(c->channel, NULL, GRPC_PROPAGATE_DEFAULTS, cq,
						   method_slice, NULL, deadline, NULL);

	grpc_metadata_array initial_md, trailing_md;
	grpc_metadata_array_init(&initial_md);
	grpc_metadata_array_init(&trailing_md);
	grpc_byte_buffer *recv = NULL;
	grpc_status_code code = GRPC_STATUS_UNKNOWN;
	grpc_slice details = grpc_empty_slice();
	grpc_op ops[6];
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	grpc_metadata auth;
	if (c->authorization) {
		/* Static slices: they point into c, which outlives the call. */
		auth.key = grpc_slice_from_static_string("authorization");
		auth.value = grpc_slice_from_static_string(c->authorization);
		ops[0].data.send_initial_metadata.metadata = &auth;
		ops[0].data.send_initial_metadata.count = 1;
	}
	ops[1].op = GRPC_OP_SEND_MESSAGE;
	ops[1].data.send_message.send_message = send;
	ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial_md;
	ops[4].op = GRPC_OP_RECV_MESSAGE;
	ops[4].data.recv_message.recv_message = &recv;
	ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[5].data.recv_status_on_client.trailing_metadata = &trailing_md;
	ops[5].data.recv_status_on_client.status = &code;
	ops[5].data.recv_status_on_client.status_details = &details;

	int rc = -1;
	grpc_call_error ce = call ? grpc_call_start_batch(call, ops, 6, call, NULL) : GRPC_CALL_ERROR;
	if (ce != GRPC_CALL_OK) {
		tc_status_set(st, GRPC_STATUS_INTERNAL, "client_error", "cannot start the call: %s",
			      grpc_call_error_to_string(ce));
	} else {
		/* The batch always completes (at the latest at the deadline). */
		grpc_completion_queue_pluck(cq, call, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
		st->code = code;
		copy_slice(st->message, sizeof(st->message), details);
		find_reason(&trailing_md, st);
		if (code != GRPC_STATUS_OK) {
			rc = -1;
		} else if (!recv) {
			tc_status_set(st, GRPC_STATUS_INTERNAL, "malformed_response", "OK without a response message");
		} else if (read_message(recv, resp_buf, resp_len) != 0) {
			tc_status_set(st, GRPC_STATUS_INTERNAL, "client_error", "cannot read the response");
		} else {
			rc = 0;
		}
	}
	if (recv)
		grpc_byte_buffer_destroy(recv);
	grpc_byte_buffer_destroy(send);
	grpc_slice_unref(details);
	grpc_metadata_array_destroy(&initial_md);
	grpc_metadata_array_destroy(&trailing_md);
	if (call)
		grpc_call_unref(call);
	grpc_completion_queue_shutdown(cq);
	while (grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
	       GRPC_QUEUE_SHUTDOWN)
		;
	grpc_completion_queue_destroy(cq);
	return rc;
}
