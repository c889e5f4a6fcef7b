/* Shared main() for CUnit suites: CU_basic_run_tests() returns 0 even when
 * assertions fail, so the exit status is the number of failures. */
#ifndef TC_TESTS_CUNIT_MAIN_H
#define TC_TESTS_CUNIT_MAIN_H
#include <CUnit/Basic.h>
#include <stdio.h>

struct tc_test { const char *name; void (*fn)(void); };

static inline int tc_run_suite(const char *suite_name, const struct tc_test *tests,
			       int (*init)(void), int (*cleanup)(void))
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite suite = CU_add_suite(suite_name, init, cleanup);
	if (!suite)
		return 1;
	for (const struct tc_test *t = tests; t->name; t++)
		if (!CU_add_test(suite, t->name, t->fn))
			return 1;
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failures = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	unsigned ran = CU_get_number_of_tests_run();
	CU_cleanup_registry();
	if (ran == 0) {
		fprintf(stderr, "no test ran\n");
		return 1;
	}
	return failures ? 1 : 0;
}
#endif
