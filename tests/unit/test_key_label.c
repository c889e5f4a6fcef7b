/* tc_key_label_ok: the one rule for HSM key labels that name files and
 * fields (issuers' schedule, ceremonies, the revocation store). */
#include <string.h>

#include "common/key_label.h"
#include "unit/cunit_main.h"

static int ok(const char *s)
{
	return tc_key_label_ok(s, strlen(s));
}

static void test_labels(void)
{
	CU_ASSERT_EQUAL(ok("issuing-2"), 1);
	CU_ASSERT_EQUAL(ok("tc_intermediate.v2"), 1);
	CU_ASSERT_EQUAL(ok("A"), 1);
	char max[TC_KEY_LABEL_MAX + 2];
	memset(max, 'k', sizeof(max));
	max[TC_KEY_LABEL_MAX] = '\0';
	CU_ASSERT_EQUAL(ok(max), 1);
	max[TC_KEY_LABEL_MAX] = 'k';
	max[TC_KEY_LABEL_MAX + 1] = '\0';
	CU_ASSERT_EQUAL(ok(max), 0); /* 49 */
	CU_ASSERT_EQUAL(ok(""), 0);
	CU_ASSERT_EQUAL(ok(".hidden"), 0);
	CU_ASSERT_EQUAL(ok(".."), 0);
	CU_ASSERT_EQUAL(ok("a/b"), 0);
	CU_ASSERT_EQUAL(ok("a b"), 0); /* a field of a space-separated record */
	CU_ASSERT_EQUAL(ok("a\nb"), 0);
	CU_ASSERT_EQUAL(ok("caf\xc3\xa9"), 0);
	/* Length-delimited: a NUL inside is refused, never cut. */
	CU_ASSERT_EQUAL(tc_key_label_ok("ab\0cd", 5), 0);
	CU_ASSERT_EQUAL(tc_key_label_ok("abcd", 2), 1);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"labels: allowed bytes, length, no leading dot, NUL refused", test_labels},
		{NULL, NULL},
	};
	return tc_run_suite("key_label", tests, NULL, NULL);
}
