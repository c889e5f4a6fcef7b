/* The wire walk of pb_strings.h. Tags, lengths and field lookups are read
 * the way protobuf-c 1.4 reads them (a tag in at most 5 bytes, a length
 * prefix in at most 5, the field found by number in the descriptor), so the
 * bytes looked at here are the bytes protobuf-c copies into each string:
 * reading a tag differently would let a string through unseen. */
#include "common/pb_strings.h"

#include <string.h>

/* TrustChain's messages nest a few levels; the bound keeps a hostile
 * message of nested length prefixes from exhausting the stack. */
#define MAX_DEPTH 32

/* A tag: field number and wire type. Returns the bytes read, 0 when
 * unterminated within 5 bytes (protobuf-c's limit too). */
static size_t read_tag(const uint8_t *p, size_t len, uint32_t *number, unsigned *wire_type)
{
	size_t max = len < 5 ? len : 5;
	uint64_t v = 0;
	for (size_t i = 0; i < max; i++) {
		v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*wire_type = (unsigned)(v & 7);
			*number = (uint32_t)(v >> 3); /* protobuf-c keeps the low 32 bits too */
			return i + 1;
		}
	}
	return 0;
}

/* Bytes of a varint value: at most 10, else 0. */
static size_t varint_size(const uint8_t *p, size_t len)
{
	size_t max = len < 10 ? len : 10;
	for (size_t i = 0; i < max; i++)
		if (!(p[i] & 0x80))
			return i + 1;
	return 0;
}

/* A length prefix (at most 5 bytes) whose data fits in the len bytes after
 * it. Returns the prefix's size, 0 when malformed. */
static size_t read_length(const uint8_t *p, size_t len, size_t *data_len)
{
	size_t max = len < 5 ? len : 5;
	uint64_t v = 0;
	for (size_t i = 0; i < max; i++) {
		v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			if (v > len - (i + 1))
				return 0;
			*data_len = (size_t)v;
			return i + 1;
		}
	}
	return 0;
}

static enum tc_pb_strings_status walk(const ProtobufCMessageDescriptor *desc, const uint8_t *p, size_t len,
				      unsigned depth, struct tc_pb_strings_where *where)
{
	if (depth > MAX_DEPTH)
		return TC_PB_STRINGS_MALFORMED;
	size_t off = 0;
	while (off < len) {
		uint32_t number;
		unsigned wire_type;
		size_t n = read_tag(p + off, len - off, &number, &wire_type);
		if (n == 0)
			return TC_PB_STRINGS_MALFORMED;
		off += n;
		switch (wire_type) {
		case PROTOBUF_C_WIRE_TYPE_VARINT:
			if ((n = varint_size(p + off, len - off)) == 0)
				return TC_PB_STRINGS_MALFORMED;
			off += n;
			break;
		case PROTOBUF_C_WIRE_TYPE_64BIT:
			if (len - off < 8)
				return TC_PB_STRINGS_MALFORMED;
			off += 8;
			break;
		case PROTOBUF_C_WIRE_TYPE_32BIT:
			if (len - off < 4)
				return TC_PB_STRINGS_MALFORMED;
			off += 4;
			break;
		case PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED: {
			size_t data_len;
			if ((n = read_length(p + off, len - off, &data_len)) == 0)
				return TC_PB_STRINGS_MALFORMED;
			const uint8_t *data = p + off + n;
			off += n + data_len;
			/* Unknown numbers are kept by protobuf-c as opaque bytes; a
			 * known field of another wire type fails its unpacking. */
			const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(desc, number);
			if (!f)
				break;
			if (f->type == PROTOBUF_C_TYPE_STRING && data_len && memchr(data, 0, data_len)) {
				if (where) {
					where->message = desc;
					where->field = f;
				}
				return TC_PB_STRINGS_NUL;
			}
			if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
				enum tc_pb_strings_status st = walk(f->descriptor, data, data_len, depth + 1, where);
				if (st != TC_PB_STRINGS_OK)
					return st;
			}
			break;
		}
		default: /* groups (3, 4) and 6, 7: protobuf-c refuses them as well */
			return TC_PB_STRINGS_MALFORMED;
		}
	}
	return TC_PB_STRINGS_OK;
}

enum tc_pb_strings_status tc_pb_strings_check(const ProtobufCMessageDescriptor *desc, const uint8_t *buf,
					      size_t len, struct tc_pb_strings_where *where)
{
	if (where) {
		where->message = NULL;
		where->field = NULL;
	}
	if (len && !buf)
		return TC_PB_STRINGS_MALFORMED;
	return walk(desc, buf, len, 0, where);
}
