/* The zone serial's floor file (resolver/serial_floor.h): what is written
 * reads back, a missing file is "no floor", and every malformed file is an
 * error rather than a number (a half-parsed floor could send the serial
 * backwards). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "resolver/serial_floor.h"
#include "unit/cunit_main.h"

static char dir[] = "/tmp/tc-serial-floor-XXXXXX";
static char path[256];

static int setup(void)
{
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/zone.serial", dir);
	return 0;
}

static int teardown(void)
{
	unlink(path);
	return rmdir(dir) == 0 ? 0 : 1;
}

static void put(const char *text)
{
	FILE *f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs(text, f);
	fclose(f);
}

static void test_missing_is_zero(void)
{
	uint32_t v = 7;
	char err[256];
	unlink(path);
	CU_ASSERT_EQUAL(tc_serial_floor_read(path, &v, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(v, 0);
}

static void test_round_trip(void)
{
	uint32_t v = 0;
	char err[256];
	CU_ASSERT_EQUAL(tc_serial_floor_write(path, 1796590466u + TC_SERIAL_RESERVE, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(tc_serial_floor_read(path, &v, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(v, 1796590466u + TC_SERIAL_RESERVE);
	CU_ASSERT_EQUAL(tc_serial_floor_write(path, UINT32_MAX, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(tc_serial_floor_read(path, &v, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(v, UINT32_MAX);
	char tmp[300];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	CU_ASSERT_NOT_EQUAL(access(tmp, F_OK), 0); /* renamed into place, nothing left over */
}

static void test_malformed(void)
{
	static const char *bad[] = {"", "\n", "123", "12a\n", "-5\n", " 5\n", "4294967296\n",
				    "99999999999999999999\n", "5\n6\n", "0x10\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t v = 42;
		char err[256] = "";
		put(bad[i]);
		CU_ASSERT_EQUAL(tc_serial_floor_read(path, &v, err, sizeof(err)), -1);
		CU_ASSERT_NOT_EQUAL(err[0], '\0');
	}
}

static void test_unwritable(void)
{
	char err[256] = "";
	CU_ASSERT_EQUAL(tc_serial_floor_write("/nonexistent-dir/zone.serial", 5, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent-dir/zone.serial.tmp"));
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"a missing file is no floor", test_missing_is_zero},
		{"written values read back", test_round_trip},
		{"malformed files are errors", test_malformed},
		{"an unwritable directory is an error", test_unwritable},
		{NULL, NULL},
	};
	return tc_run_suite("serial_floor", tests, setup, teardown);
}
