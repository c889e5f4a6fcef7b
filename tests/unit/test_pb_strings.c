/* The wire check of string fields (common/pb_strings.h) on messages packed
 * by protobuf-c itself: a NUL inside a string, at any depth, is found and
 * named; the same bytes in a bytes field or an unknown field are not a
 * string; and what protobuf-c cannot unpack is malformed here too. Strings
 * holding a NUL are put on the wire as unknown fields of the string's
 * number, which protobuf-c packs verbatim. */
#include <stdlib.h>
#include <string.h>

#include "common/pb_strings.h"
#include "internal/signer.pb-c.h"
#include "trustchain/v1/ca.pb-c.h"
#include "trustchain/v1/validation.pb-c.h"
#include "unit/cunit_main.h"

static const char NUL_NAME[] = "a.hypermesh.online\0.evil.com";
#define NUL_NAME_LEN (sizeof(NUL_NAME) - 1)

/* msg packed, with an extra length-delimited field number = bytes[len]
 * (len < 128) when bytes is given. malloc'ed. */
static uint8_t *pack_with(ProtobufCMessage *msg, uint32_t number, const void *bytes, size_t len, size_t *out_len)
{
	/* protobuf-c packs an unknown field's data as it is: for a
	 * length-delimited one, its length prefix included. */
	uint8_t value[129];
	CU_ASSERT_FATAL(len < 128);
	value[0] = (uint8_t)len;
	if (len)
		memcpy(value + 1, bytes, len);
	ProtobufCMessageUnknownField extra = {.tag = number, .wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
					      .len = len + 1, .data = value};
	if (bytes) {
		msg->n_unknown_fields = 1;
		msg->unknown_fields = &extra;
	}
	*out_len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(*out_len ? *out_len : 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	CU_ASSERT_EQUAL_FATAL(protobuf_c_message_pack(msg, buf), *out_len);
	msg->n_unknown_fields = 0;
	msg->unknown_fields = NULL;
	return buf;
}

static enum tc_pb_strings_status check(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
				       const char *want_field)
{
	struct tc_pb_strings_where where;
	enum tc_pb_strings_status st = tc_pb_strings_check(d, buf, len, &where);
	if (want_field) {
		CU_ASSERT_EQUAL_FATAL(st, TC_PB_STRINGS_NUL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(where.field);
		CU_ASSERT_STRING_EQUAL(where.field->name, want_field);
	} else {
		CU_ASSERT_PTR_NULL(where.field);
	}
	return st;
}

/* Sanity of the construction: what the check calls a NUL is what
 * protobuf-c silently cuts short. */
static void test_protobuf_c_truncates(void)
{
	Trustchain__V1__ValidateRequest rq = TRUSTCHAIN__V1__VALIDATE_REQUEST__INIT;
	size_t len;
	uint8_t *buf = pack_with(&rq.base, 2, NUL_NAME, NUL_NAME_LEN, &len);
	Trustchain__V1__ValidateRequest *got = trustchain__v1__validate_request__unpack(NULL, len, buf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_STRING_EQUAL(got->name, "a.hypermesh.online");
	trustchain__v1__validate_request__free_unpacked(got, NULL);
	CU_ASSERT_EQUAL(check(&trustchain__v1__validate_request__descriptor, buf, len, "name"), TC_PB_STRINGS_NUL);
	free(buf);
}

static void test_clean_messages(void)
{
	char *names[] = {"a.hypermesh.online", "b.hypermesh.online"};
	char *ips[] = {"127.0.0.1"};
	/* A CSR is bytes: NULs and every other byte are its business. */
	static const uint8_t csr[] = {0x30, 0x00, 0x00, 0x01, 0xff};
	Trustchain__V1__IssueRequest rq = TRUSTCHAIN__V1__ISSUE_REQUEST__INIT;
	rq.csr = (ProtobufCBinaryData){.data = (uint8_t *)csr, .len = sizeof(csr)};
	rq.dns_names = names;
	rq.n_dns_names = 2;
	rq.ip_addresses = ips;
	rq.n_ip_addresses = 1;
	rq.validity_seconds = 3600;
	rq.profile = TRUSTCHAIN__V1__PROFILE__PROFILE_CLIENT;
	size_t len;
	uint8_t *buf = pack_with(&rq.base, 0, NULL, 0, &len);
	CU_ASSERT_EQUAL(check(&trustchain__v1__issue_request__descriptor, buf, len, NULL), TC_PB_STRINGS_OK);
	free(buf);
	/* The empty message, and an empty string. */
	CU_ASSERT_EQUAL(check(&trustchain__v1__issue_request__descriptor, NULL, 0, NULL), TC_PB_STRINGS_OK);
	static const uint8_t empty_name[] = {0x12, 0x00};
	CU_ASSERT_EQUAL(check(&trustchain__v1__validate_request__descriptor, empty_name, sizeof(empty_name), NULL),
			TC_PB_STRINGS_OK);
	/* A NUL in an unknown field is no string of this message. */
	Trustchain__V1__ValidateRequest vr = TRUSTCHAIN__V1__VALIDATE_REQUEST__INIT;
	vr.name = "svc.hypermesh.online";
	buf = pack_with(&vr.base, 99, NUL_NAME, NUL_NAME_LEN, &len);
	CU_ASSERT_EQUAL(check(&trustchain__v1__validate_request__descriptor, buf, len, NULL), TC_PB_STRINGS_OK);
	free(buf);
}

/* Each string field of the requests, wherever the NUL sits. */
static void test_nul_in_request_strings(void)
{
	static const char *const bad[] = {"\0", "a\0", "\0a", "127.0.0.1\0junk", NUL_NAME};
	static const size_t bad_len[] = {1, 2, 2, 14, NUL_NAME_LEN};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *names[] = {"ok.hypermesh.online"};
		Trustchain__V1__IssueRequest rq = TRUSTCHAIN__V1__ISSUE_REQUEST__INIT;
		rq.dns_names = names;
		rq.n_dns_names = 1;
		size_t len;
		uint8_t *buf = pack_with(&rq.base, 2, bad[i], bad_len[i], &len);
		check(&trustchain__v1__issue_request__descriptor, buf, len, "dns_names");
		free(buf);
		buf = pack_with(&rq.base, 3, bad[i], bad_len[i], &len);
		check(&trustchain__v1__issue_request__descriptor, buf, len, "ip_addresses");
		free(buf);
		Trustchain__V1__RevokeRequest rv = TRUSTCHAIN__V1__REVOKE_REQUEST__INIT;
		buf = pack_with(&rv.base, 1, bad[i], bad_len[i], &len);
		check(&trustchain__v1__revoke_request__descriptor, buf, len, "serial");
		free(buf);
	}
}

/* A string inside a sub-message (here inside a oneof) is found too. */
static void test_nested(void)
{
	Trustchain__Internal__PingResponse ping = TRUSTCHAIN__INTERNAL__PING_RESPONSE__INIT;
	size_t inner_len;
	uint8_t *inner = pack_with(&ping.base, 1, "gate\0way", 8, &inner_len);
	/* The sub-message goes in as field 15 (result.ping) of a Response. */
	Trustchain__Internal__Response resp = TRUSTCHAIN__INTERNAL__RESPONSE__INIT;
	resp.id = 7;
	resp.error = "fine";
	size_t len;
	uint8_t *buf = pack_with(&resp.base, 15, inner, inner_len, &len);
	Trustchain__Internal__Response *got = trustchain__internal__response__unpack(NULL, len, buf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got); /* a message protobuf-c takes, cut at the NUL */
	CU_ASSERT_EQUAL(got->result_case, TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_PING);
	CU_ASSERT_STRING_EQUAL(got->ping->peer, "gate");
	trustchain__internal__response__free_unpacked(got, NULL);
	struct tc_pb_strings_where where;
	CU_ASSERT_EQUAL(tc_pb_strings_check(&trustchain__internal__response__descriptor, buf, len, &where),
			TC_PB_STRINGS_NUL);
	CU_ASSERT_PTR_EQUAL(where.message, &trustchain__internal__ping_response__descriptor);
	CU_ASSERT_STRING_EQUAL(where.field->name, "peer");
	free(buf);
	free(inner);
}

/* A tag written in more bytes than needed is still the same field to
 * protobuf-c, and so here. */
static void test_long_tag_encoding(void)
{
	/* Field 2, wire type 2 as 0x92 0x80 0x00, then "a\0b". */
	static const uint8_t msg[] = {0x92, 0x80, 0x00, 0x03, 'a', 0x00, 'b'};
	Trustchain__V1__ValidateRequest *got = trustchain__v1__validate_request__unpack(NULL, sizeof(msg), msg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_STRING_EQUAL(got->name, "a");
	trustchain__v1__validate_request__free_unpacked(got, NULL);
	check(&trustchain__v1__validate_request__descriptor, msg, sizeof(msg), "name");
	/* The same for the length prefix. */
	static const uint8_t msg2[] = {0x12, 0x83, 0x80, 0x00, 'a', 0x00, 'b'};
	check(&trustchain__v1__validate_request__descriptor, msg2, sizeof(msg2), "name");
}

/* What protobuf-c refuses to unpack is malformed here as well. */
static void test_malformed(void)
{
	static const struct {
		const char *what;
		uint8_t bytes[16];
		size_t len;
	} cases[] = {
		{"length beyond the end", {0x12, 0x05, 'a', 'b'}, 4},
		{"unterminated length", {0x12, 0x80}, 2},
		{"unterminated tag", {0x92}, 1},
		{"tag over 5 bytes", {0x92, 0x80, 0x80, 0x80, 0x80, 0x00}, 6},
		{"unterminated varint", {0x18, 0x80, 0x80}, 3},
		{"varint over 10 bytes", {0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 12},
		{"short fixed64", {0x19, 1, 2, 3}, 4},
		{"short fixed32", {0x1d, 1, 2}, 3},
		{"start group", {0x1b, 0x1c}, 2},
		{"wire type 6", {0x1e, 0x00}, 2},
		{"wire type 7", {0x1f, 0x00}, 2},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Trustchain__V1__ValidateRequest *got =
			trustchain__v1__validate_request__unpack(NULL, cases[i].len, cases[i].bytes);
		if (got)
			fprintf(stderr, "\n  protobuf-c unpacked '%s'\n", cases[i].what);
		CU_ASSERT_PTR_NULL(got);
		trustchain__v1__validate_request__free_unpacked(got, NULL);
		enum tc_pb_strings_status st =
			tc_pb_strings_check(&trustchain__v1__validate_request__descriptor, cases[i].bytes, cases[i].len, NULL);
		if (st != TC_PB_STRINGS_MALFORMED)
			fprintf(stderr, "\n  '%s' not malformed\n", cases[i].what);
		CU_ASSERT_EQUAL(st, TC_PB_STRINGS_MALFORMED);
	}
	/* A sub-message that does not parse spoils its parent. */
	static const uint8_t bad_inner[] = {0x7a, 0x02, 0x0a, 0x05};
	CU_ASSERT_EQUAL(tc_pb_strings_check(&trustchain__internal__response__descriptor, bad_inner, sizeof(bad_inner),
					    NULL),
			TC_PB_STRINGS_MALFORMED);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"protobuf-c cuts a string at its NUL; the check sees it", test_protobuf_c_truncates},
		{"clean messages, bytes and unknown fields pass", test_clean_messages},
		{"a NUL in each request string is named", test_nul_in_request_strings},
		{"nested messages are walked", test_nested},
		{"long tag and length encodings", test_long_tag_encoding},
		{"malformed wire data", test_malformed},
		{NULL, NULL},
	};
	return tc_run_suite("pb_strings", tests, NULL, NULL);
}
