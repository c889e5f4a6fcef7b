/* tc_utf8_valid against the RFC 3629 boundaries: the shortest and longest
 * form of every length, and each way a sequence can be ill-formed. */
#include <string.h>

#include "common/utf8.h"
#include "unit/cunit_main.h"

static int valid(const char *s)
{
	return tc_utf8_valid((const uint8_t *)s, strlen(s));
}

static void test_well_formed(void)
{
	CU_ASSERT_EQUAL(tc_utf8_valid((const uint8_t *)"", 0), 1);
	CU_ASSERT_EQUAL(valid("plain ascii"), 1);
	CU_ASSERT_EQUAL(valid("\xc2\x80"), 1);          /* U+0080, shortest 2-byte */
	CU_ASSERT_EQUAL(valid("\xdf\xbf"), 1);          /* U+07FF */
	CU_ASSERT_EQUAL(valid("\xe0\xa0\x80"), 1);      /* U+0800 */
	CU_ASSERT_EQUAL(valid("\xed\x9f\xbf"), 1);      /* U+D7FF, just below the surrogates */
	CU_ASSERT_EQUAL(valid("\xee\x80\x80"), 1);      /* U+E000, just above */
	CU_ASSERT_EQUAL(valid("\xf0\x90\x80\x80"), 1);  /* U+10000 */
	CU_ASSERT_EQUAL(valid("\xf4\x8f\xbf\xbf"), 1);  /* U+10FFFF, the last */
	CU_ASSERT_EQUAL(valid("caf\xc3\xa9 \xe2\x80\x94 ok"), 1);
	/* A NUL is well-formed UTF-8: callers refuse controls themselves. */
	CU_ASSERT_EQUAL(tc_utf8_valid((const uint8_t *)"a\0b", 3), 1);
}

static void test_ill_formed(void)
{
	CU_ASSERT_EQUAL(valid("\x80"), 0);              /* lone continuation */
	CU_ASSERT_EQUAL(valid("\xc0\x80"), 0);          /* overlong NUL */
	CU_ASSERT_EQUAL(valid("\xc1\xbf"), 0);          /* overlong */
	CU_ASSERT_EQUAL(valid("\xe0\x9f\xbf"), 0);      /* overlong 3-byte */
	CU_ASSERT_EQUAL(valid("\xf0\x8f\xbf\xbf"), 0);  /* overlong 4-byte */
	CU_ASSERT_EQUAL(valid("\xed\xa0\x80"), 0);      /* U+D800 surrogate */
	CU_ASSERT_EQUAL(valid("\xed\xbf\xbf"), 0);      /* U+DFFF surrogate */
	CU_ASSERT_EQUAL(valid("\xf4\x90\x80\x80"), 0);  /* U+110000 */
	CU_ASSERT_EQUAL(valid("\xf5\x80\x80\x80"), 0);
	CU_ASSERT_EQUAL(valid("\xff"), 0);
	CU_ASSERT_EQUAL(valid("\xc3"), 0);              /* truncated at the end */
	CU_ASSERT_EQUAL(valid("\xe2\x80"), 0);
	CU_ASSERT_EQUAL(valid("\xf0\x90\x80"), 0);
	CU_ASSERT_EQUAL(valid("\xc3("), 0);             /* bad continuation */
	CU_ASSERT_EQUAL(valid("ok\xe2\x28\xa1"), 0);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"well-formed, every length at its bounds", test_well_formed},
		{"ill-formed", test_ill_formed},
		{NULL, NULL},
	};
	return tc_run_suite("utf8", tests, NULL, NULL);
}
