/* tc_file_replace: the file gets exactly the mode asked for whatever the
 * umask or a stale temporary left by a crash, content replaced whole, no
 * temporary left behind, a clear error when it cannot write. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file_replace.h"
#include "common/file_read.h"
#include "unit/cunit_main.h"

static char dir[] = "/tmp/tc-file-replace-XXXXXX";

static int entries(void)
{
	DIR *d = opendir(dir);
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void test_mode_and_content(void)
{
	char path[256], err[256];
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	mode_t old = umask(0);
	CU_ASSERT_EQUAL(tc_file_replace(path, "secret", 6, 0600, err, sizeof(err)), 0);
	umask(old);
	struct stat st;
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);

	/* A stale temporary of the old fixed name, world-readable, and a
	 * restrictive umask: neither changes the mode of the new file. */
	char stale[300];
	snprintf(stale, sizeof(stale), "%s.tmp", path);
	FILE *f = fopen(stale, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fclose(f);
	chmod(stale, 0666);
	old = umask(077);
	CU_ASSERT_EQUAL(tc_file_replace(path, "public", 6, 0644, err, sizeof(err)), 0);
	umask(old);
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0644);
	char *buf = NULL;
	size_t len = 0;
	CU_ASSERT_EQUAL_FATAL(tc_read_file(path, 1024, &buf, &len, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(len, 6);
	CU_ASSERT(memcmp(buf, "public", 6) == 0);
	free(buf);
	unlink(stale);
	CU_ASSERT_EQUAL(entries(), 1); /* no temporary left */
}

static void test_link_not_followed(void)
{
	char path[256], target[256], err[256];
	snprintf(path, sizeof(path), "%s/state", dir);
	snprintf(target, sizeof(target), "%s/elsewhere", dir);
	FILE *f = fopen(target, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("untouched", f);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(symlink(target, path), 0);
	CU_ASSERT_EQUAL(tc_file_replace(path, "new", 3, 0600, err, sizeof(err)), 0);
	struct stat st;
	CU_ASSERT_EQUAL(lstat(path, &st), 0);
	CU_ASSERT(S_ISREG(st.st_mode)); /* the link itself replaced */
	char *buf = NULL;
	size_t len = 0;
	CU_ASSERT_EQUAL_FATAL(tc_read_file(target, 1024, &buf, &len, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(len, 9);
	free(buf);
	unlink(path);
	unlink(target);
}

static void test_error(void)
{
	char path[256], err[256] = "";
	snprintf(path, sizeof(path), "%s/missing/file", dir);
	CU_ASSERT_EQUAL(tc_file_replace(path, "x", 1, 0600, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "missing/file"));
	char *huge = malloc(8192);
	CU_ASSERT_PTR_NOT_NULL_FATAL(huge);
	memset(huge, 'a', 8191);
	huge[8191] = '\0';
	CU_ASSERT_EQUAL(tc_file_replace(huge, "x", 1, 0600, err, sizeof(err)), -1);
	CU_ASSERT(err[0] != '\0'); /* the path itself fills the message */
	free(huge);
}

static int setup(void)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	unlink(path);
	return rmdir(dir);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"mode as asked whatever the umask or a stale temporary", test_mode_and_content},
		{"a link at the path is replaced, its target untouched", test_link_not_followed},
		{"errors name the path", test_error},
		{NULL, NULL},
	};
	return tc_run_suite("file_replace", tests, setup, teardown);
}
