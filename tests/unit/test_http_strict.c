/* common/http_strict: the request-target, Host, Content-Length and framing
 * rules every HTTP listener applies, case by case on raw bytes. */
#include <stdint.h>
#include <string.h>

#include "common/http_strict.h"
#include "unit/cunit_main.h"

#define TARGET(lit) tc_http_target_check(lit, sizeof(lit) - 1)
#define HOST(lit) tc_http_host_check(lit, sizeof(lit) - 1)

static void test_targets(void)
{
	CU_ASSERT_EQUAL(TARGET("/ct/v1/get-sth"), 0);
	CU_ASSERT_EQUAL(TARGET("/ct/v1/get-proof-by-hash?hash=ab%2Bc%2F%3D&tree_size=5"), 0);
	CU_ASSERT_EQUAL(TARGET("*"), 0);
	CU_ASSERT_EQUAL(TARGET("http://ct.example/ct/v1/get-sth"), 0);
	CU_ASSERT_EQUAL(TARGET("/%7e%41"), 0);
	CU_ASSERT_EQUAL(TARGET(""), -1);
	CU_ASSERT_EQUAL(TARGET("/ct/v1/get-sth\0x"), -1);
	CU_ASSERT_EQUAL(TARGET("/ct/v1/get-sth%00x"), -1);
	CU_ASSERT_EQUAL(TARGET("/a?b=%00"), -1);
	CU_ASSERT_EQUAL(TARGET("/a%0d%0aSet-Cookie:x"), -1);
	CU_ASSERT_EQUAL(TARGET("/a%1F"), -1);
	CU_ASSERT_EQUAL(TARGET("/a%7F"), -1);
	CU_ASSERT_EQUAL(TARGET("/a%7f"), -1);
	CU_ASSERT_EQUAL(TARGET("/a\x01"), -1);
	CU_ASSERT_EQUAL(TARGET("/a\x7f"), -1);
	CU_ASSERT_EQUAL(TARGET("/a b"), -1);
	CU_ASSERT_EQUAL(TARGET("/a\tb"), -1);
	CU_ASSERT_EQUAL(TARGET("/\xc3\xa9"), -1);
	CU_ASSERT_EQUAL(TARGET("/a%"), -1);
	CU_ASSERT_EQUAL(TARGET("/a%4"), -1);
	CU_ASSERT_EQUAL(TARGET("/a%zz"), -1);
	CU_ASSERT_EQUAL(TARGET("/a%%41"), -1);
	/* An escape ending exactly at the end of the target. */
	CU_ASSERT_EQUAL(TARGET("/a%41"), 0);
	CU_ASSERT_EQUAL(tc_http_target_check(NULL, 0), -1);
	/* The length rules, not a NUL: only the first 2 bytes are looked at. */
	CU_ASSERT_EQUAL(tc_http_target_check("/a%00", 2), 0);
}

static void test_hosts(void)
{
	CU_ASSERT_EQUAL(HOST("ct.example"), 0);
	CU_ASSERT_EQUAL(HOST("ct.example:6962"), 0);
	CU_ASSERT_EQUAL(HOST("127.0.0.1:6962"), 0);
	CU_ASSERT_EQUAL(HOST("[::1]:6962"), 0);
	CU_ASSERT_EQUAL(HOST(""), 0);
	CU_ASSERT_EQUAL(HOST("user@ct.example"), -1);
	CU_ASSERT_EQUAL(HOST("ct.example/x"), -1);
	CU_ASSERT_EQUAL(HOST("ct.example x"), -1);
	CU_ASSERT_EQUAL(HOST("ct.example\0.evil"), -1);
	CU_ASSERT_EQUAL(HOST("ct.example\r\nX: y"), -1);
	CU_ASSERT_EQUAL(HOST("ct.example#"), -1);
	CU_ASSERT_EQUAL(HOST("ct\\example"), -1);
}

static void test_content_length(void)
{
	uint64_t v = 7;
	CU_ASSERT_EQUAL(tc_http_content_length_parse("0", 1, &v), TC_HTTP_LENGTH_OK);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(tc_http_content_length_parse("1048576", 7, &v), TC_HTTP_LENGTH_OK);
	CU_ASSERT_EQUAL(v, 1048576);
	CU_ASSERT_EQUAL(tc_http_content_length_parse("18446744073709551615", 20, &v), TC_HTTP_LENGTH_OK);
	CU_ASSERT_EQUAL(v, UINT64_MAX);
	CU_ASSERT_EQUAL(tc_http_content_length_parse("18446744073709551616", 20, &v), TC_HTTP_LENGTH_OVERFLOW);
	CU_ASSERT_EQUAL(tc_http_content_length_parse("99999999999999999999999", 23, &v), TC_HTTP_LENGTH_OVERFLOW);
	CU_ASSERT_EQUAL(tc_http_content_length_parse("99999999999999999999999x", 24, &v), TC_HTTP_LENGTH_INVALID);
	CU_ASSERT_EQUAL(tc_http_content_length_parse("", 0, &v), TC_HTTP_LENGTH_INVALID);
	CU_ASSERT_EQUAL(tc_http_content_length_parse("+5", 2, &v), TC_HTTP_LENGTH_INVALID);
	CU_ASSERT_EQUAL(tc_http_content_length_parse("-1", 2, &v), TC_HTTP_LENGTH_INVALID);
	CU_ASSERT_EQUAL(tc_http_content_length_parse("5, 5", 4, &v), TC_HTTP_LENGTH_INVALID);
	CU_ASSERT_EQUAL(tc_http_content_length_parse("0x10", 4, &v), TC_HTTP_LENGTH_INVALID);
	CU_ASSERT_EQUAL(tc_http_content_length_parse("5 ", 2, &v), TC_HTTP_LENGTH_INVALID);
}

static unsigned verdict(struct tc_http_head h) { return tc_http_head_check(&h, 1024).status; }

static void test_heads(void)
{
	CU_ASSERT_EQUAL(verdict((struct tc_http_head){.http_1_1 = 1, .host_count = 1, .host = "a", .host_len = 1}), 0);
	CU_ASSERT_EQUAL(verdict((struct tc_http_head){.http_1_1 = 0}), 0);
	CU_ASSERT_EQUAL(verdict((struct tc_http_head){.http_1_1 = 1}), 400);
	CU_ASSERT_EQUAL(verdict((struct tc_http_head){.http_1_1 = 1, .host_count = 2, .host = "a", .host_len = 1}), 400);
	CU_ASSERT_EQUAL(verdict((struct tc_http_head){.http_1_1 = 0, .host_count = 2, .host = "a", .host_len = 1}), 400);
	CU_ASSERT_EQUAL(verdict((struct tc_http_head){.http_1_1 = 1, .host_count = 1, .host = "a b", .host_len = 3}),
			400);
	struct tc_http_head ok = {.http_1_1 = 1, .host_count = 1, .host = "a", .host_len = 1};
	struct tc_http_head h = ok;
	h.length_count = 1, h.length = "1024", h.length_len = 4;
	CU_ASSERT_EQUAL(verdict(h), 0);
	h.length = "1025";
	CU_ASSERT_EQUAL(verdict(h), 413);
	h.length = "1000000000000000000", h.length_len = 19;
	CU_ASSERT_EQUAL(verdict(h), 413);
	h.length = "100000000000000000000000", h.length_len = 24;
	CU_ASSERT_EQUAL(verdict(h), 413);
	h.length = "12a", h.length_len = 3;
	CU_ASSERT_EQUAL(verdict(h), 400);
	h.length = "10", h.length_len = 2, h.length_count = 2;
	CU_ASSERT_EQUAL(verdict(h), 400);
	h.length_count = 1, h.transfer_encodings = 1;
	CU_ASSERT_EQUAL(verdict(h), 400);
	h = ok;
	h.transfer_encodings = 1;
	CU_ASSERT_EQUAL(verdict(h), 0); /* chunked alone: the size is checked while reading */
	struct tc_http_verdict v = tc_http_head_check(&(struct tc_http_head){.http_1_1 = 1}, 0);
	CU_ASSERT_PTR_NOT_NULL(v.reason);
}

int main(void)
{
	struct tc_test tests[] = {
		{"request targets", test_targets},
		{"Host values", test_hosts},
		{"Content-Length values", test_content_length},
		{"framing header sets", test_heads},
		{NULL, NULL},
	};
	return tc_run_suite("http_strict", tests, NULL, NULL);
}
