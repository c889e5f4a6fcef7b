/* A gRPC call carrying a string field that holds a NUL, the way a caller in
 * another language sends one (Python: "a.example\x00.evil.com"). protobuf-c
 * packs a string with strlen, so the field is added to the request as an
 * unknown field of the string's number: on the wire it is exactly that
 * string field. */
#ifndef TC_TESTS_RAW_STRING_CALL_H
#define TC_TESTS_RAW_STRING_CALL_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "trustchain/client.h"

/* Calls method ("/package.Service/Method") with request plus the field
 * field_number = bytes[len] (length-delimited) after request's own fields:
 * a repeated string gets one more element, a singular one left empty in
 * request gets this value. Returns 0 on OK (the response is dropped), or -1
 * with st filled. */
int tc_test_call_with_string(struct tc_client *c, const char *method, ProtobufCMessage *request,
			     uint32_t field_number, const void *bytes, size_t len, struct tc_status *st);

#endif
