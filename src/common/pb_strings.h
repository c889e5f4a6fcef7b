/* Strings of a protobuf message checked on the wire, before protobuf-c
 * unpacks them. protobuf-c hands a `string` field over as a NUL-terminated
 * char * and drops its length, so "a.example\0.evil.com" arrives as
 * "a.example" and nothing after unpacking can tell. Names are
 * length-delimited everywhere (DESIGN.md section 5): a string holding a NUL
 * is refused, never truncated, so every message that carries strings is
 * walked here first, field by field alongside its descriptor (sub-messages
 * included), exactly as protobuf-c will read it. */
#ifndef TC_COMMON_PB_STRINGS_H
#define TC_COMMON_PB_STRINGS_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

enum tc_pb_strings_status {
	TC_PB_STRINGS_OK = 0,     /* no string field holds a NUL */
	TC_PB_STRINGS_NUL,        /* a string field holds a NUL byte */
	TC_PB_STRINGS_MALFORMED,  /* not a protobuf message protobuf-c could unpack */
};

/* Where a string with a NUL was found: the message type declaring the
 * field, and the field. Both NULL unless TC_PB_STRINGS_NUL. */
struct tc_pb_strings_where {
	const ProtobufCMessageDescriptor *message;
	const ProtobufCFieldDescriptor *field;
};

/* Walks the serialized message buf[len] of type desc. where may be NULL.
 * Bytes fields and unknown fields are not strings and are not looked at. */
enum tc_pb_strings_status tc_pb_strings_check(const ProtobufCMessageDescriptor *desc, const uint8_t *buf,
					      size_t len, struct tc_pb_strings_where *where);

#endif
