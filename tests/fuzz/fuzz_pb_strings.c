/* Fuzz target: the wire check of string fields (common/pb_strings.h)
 * against protobuf-c's own unpacking of the same bytes. The first input
 * byte picks a message type, the rest is the message. Two properties:
 *  - whenever the check says no string holds a NUL and protobuf-c unpacks
 *    the message, every string protobuf-c produced is exactly as long as
 *    the bytes it copied (its allocation, seen through our allocator, is
 *    strlen + 1): no string was cut at a NUL;
 *  - a message protobuf-c unpacks is never called malformed: the check
 *    reads tags, lengths and fields as protobuf-c does. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/pb_strings.h"
#include "internal/signer.pb-c.h"
#include "trustchain/v1/ca.pb-c.h"
#include "trustchain/v1/health.pb-c.h"
#include "trustchain/v1/validation.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ProtobufCMessageDescriptor *const types[] = {
	&trustchain__v1__validate_request__descriptor,  &trustchain__v1__issue_request__descriptor,
	&trustchain__v1__revoke_request__descriptor,    &trustchain__v1__health_check_request__descriptor,
	&trustchain__v1__issue_response__descriptor,    &trustchain__v1__validate_response__descriptor,
	&trustchain__internal__request__descriptor,     &trustchain__internal__response__descriptor,
};

/* Every block carries its size in front, so a string's allocation can be
 * read back from its pointer. */
#define HEADER 16

static void *sized_alloc(void *data, size_t size)
{
	(void)data;
	unsigned char *p = malloc(HEADER + size);
	if (!p)
		return NULL;
	memcpy(p, &size, sizeof(size));
	return p + HEADER;
}

static void sized_free(void *data, void *ptr)
{
	(void)data;
	if (ptr)
		free((unsigned char *)ptr - HEADER);
}

static ProtobufCAllocator allocator = {.alloc = sized_alloc, .free = sized_free};

static void string_is_whole(const ProtobufCFieldDescriptor *f, const char *s)
{
	/* Unset singular strings point at the static default. */
	if (!s || s == protobuf_c_empty_string || s == f->default_value)
		return;
	size_t allocated;
	memcpy(&allocated, s - HEADER, sizeof(allocated));
	if (strlen(s) + 1 != allocated)
		abort(); /* a string cut at a NUL the check did not see */
}

static void verify(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)(const void *)(base + f->quantifier_offset) != f->id)
			continue;
		/* A singular field is the value; a repeated one points at its
		 * array, counted at quantifier_offset. */
		const void *field = base + f->offset;
		size_t n = 1;
		void *const *values = field;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(const size_t *)(const void *)(base + f->quantifier_offset);
			values = *(void *const *const *)field;
		}
		for (size_t k = 0; k < n; k++) {
			if (f->type == PROTOBUF_C_TYPE_STRING)
				string_is_whole(f, values[k]);
			else if (values[k])
				verify(values[k]);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const ProtobufCMessageDescriptor *type = types[data[0] % (sizeof(types) / sizeof(types[0]))];
	data++;
	size--;
	struct tc_pb_strings_where where;
	enum tc_pb_strings_status st = tc_pb_strings_check(type, data, size, &where);
	if ((st == TC_PB_STRINGS_NUL) != (where.field != NULL))
		abort(); /* a NUL is always placed, and only a NUL */
	if (st == TC_PB_STRINGS_NUL && where.field->type != PROTOBUF_C_TYPE_STRING)
		abort();
	ProtobufCMessage *m = protobuf_c_message_unpack(type, &allocator, size, data);
	if (!m)
		return 0;
	if (st == TC_PB_STRINGS_MALFORMED)
		abort(); /* protobuf-c read a message the check could not */
	if (st == TC_PB_STRINGS_OK)
		verify(m);
	protobuf_c_message_free_unpacked(m, &allocator);
	return 0;
}
