/* The signer's ceremony inbox (signer/ceremony_inbox.h): a well-formed
 * request from root or the signer's own user is journaled as the ceremony
 * would and answered with its sequence number; anything else is refused
 * with a reason (and nothing journaled), a name that is not NAME.req is
 * left alone, and the journal still verifies. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/journal_format.h"
#include "signer/ceremony_inbox.h"
#include "signer/signer.h"
#include "unit/cunit_main.h"

static char tmpdir[] = "/tmp/tc-test-ceremony-inbox-XXXXXX";
static struct tc_signer s;
static char journal_path[300], inbox[300];

static int suite_init(void)
{
	char err[512], dir[100];
	if (!mkdtemp(tmpdir))
		return -1;
	tc_config_defaults(&s.cfg, true);
	snprintf(s.cfg.server.data_dir, sizeof(s.cfg.server.data_dir), "%s", tmpdir);
	snprintf(dir, sizeof(dir), "%s/journal", tmpdir);
	snprintf(journal_path, sizeof(journal_path), "%s/audit.jsonl", dir);
	snprintf(inbox, sizeof(inbox), "%s/%s", tmpdir, TC_CEREMONY_INBOX);
	if (mkdir(dir, 0700) != 0 || !(s.journal = tc_journal_open(journal_path, err, sizeof(err))))
		return -1;
	return tc_ceremony_inbox_prepare(&s, err, sizeof(err));
}

static int suite_cleanup(void)
{
	tc_journal_close(s.journal);
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *name, const char *body)
{
	char p[700];
	snprintf(p, sizeof(p), "%s/%s", inbox, name);
	FILE *f = fopen(p, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(body, f);
	fclose(f);
}

/* The answer file's first line ("" when none), removed. */
static const char *answer(const char *name)
{
	static char line[400];
	char p[700];
	line[0] = '\0';
	snprintf(p, sizeof(p), "%s/%s", inbox, name);
	FILE *f = fopen(p, "rb");
	if (!f)
		return line;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	unlink(p);
	line[strcspn(line, "\n")] = '\0';
	return line;
}

static int journal_has(const char *needle)
{
	FILE *f = fopen(journal_path, "rb");
	char line[8192];
	int found = 0;
	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return found;
}

static void test_accepted(void)
{
	put("0a1b.req", "{\"step\":\"finalize-rollover\",\"key\":\"issuing-2\",\"data\":\"issuing-2 2026-01-01T00:00:00Z\\n\","
			"\"detail\":\"operator test\"}");
	tc_ceremony_inbox_poll(&s);
	const char *a = answer("0a1b.done");
	CU_ASSERT(strtoull(a, NULL, 10) > 0);
	CU_ASSERT_STRING_EQUAL(answer("0a1b.refused"), "");
	CU_ASSERT(journal_has("\"peer\":\"ceremony\""));
	CU_ASSERT(journal_has("\"op\":\"ceremony:finalize-rollover\",\"key\":\"issuing-2\""));
	CU_ASSERT(access("/dev/null", F_OK) == 0);
	char p[700];
	snprintf(p, sizeof(p), "%s/0a1b.taken", inbox);
	CU_ASSERT(access(p, F_OK) != 0); /* claimed files do not linger */
}

static void refused(const char *body, const char *why)
{
	put("beef.req", body);
	tc_ceremony_inbox_poll(&s);
	const char *a = answer("beef.refused");
	if (!strstr(a, why))
		printf("\n  refusal '%s' lacks '%s'\n", a, why);
	CU_ASSERT(strstr(a, why) != NULL);
	CU_ASSERT_STRING_EQUAL(answer("beef.done"), "");
}

static void test_refused(void)
{
	refused("{not json", "not {");
	refused("{\"step\":\"x y\",\"key\":\"\",\"data\":\"\",\"detail\":\"\"}", "step is not");
	refused("{\"step\":\"\",\"key\":\"\",\"data\":\"\",\"detail\":\"\"}", "step is not");
	refused("{\"step\":\"a\",\"key\":\"bad label\",\"data\":\"\",\"detail\":\"\"}", "key is not");
	refused("{\"step\":\"a\",\"key\":\"\",\"data\":\"x\\u0000y\",\"detail\":\"\"}", "without NUL");
	refused("{\"step\":\"a\",\"key\":\"\",\"data\":\"\",\"detail\":\"\",\"more\":1}", "not {");
	refused("{\"step\":\"a\",\"key\":\"\",\"data\":1,\"detail\":\"\"}", "not {");
	refused("", "size 0");
	CU_ASSERT(!journal_has("\"op\":\"ceremony:a\""));
	CU_ASSERT(!journal_has("ceremony:x y"));
}

static void test_not_ours(void)
{
	/* A link is never followed. */
	char p[700], target[700];
	snprintf(target, sizeof(target), "%s/elsewhere.json", tmpdir);
	FILE *f = fopen(target, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("{\"step\":\"linked\",\"key\":\"\",\"data\":\"\",\"detail\":\"\"}", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/cafe.req", inbox);
	CU_ASSERT_FATAL(symlink(target, p) == 0);
	tc_ceremony_inbox_poll(&s);
	CU_ASSERT(strlen(answer("cafe.refused")) > 0);
	CU_ASSERT(!journal_has("ceremony:linked"));
	/* Written by another user (root can make one): refused. */
	if (geteuid() == 0) {
		put("d00d.req", "{\"step\":\"foreign\",\"key\":\"\",\"data\":\"\",\"detail\":\"\"}");
		snprintf(p, sizeof(p), "%s/d00d.req", inbox);
		CU_ASSERT_FATAL(chown(p, 4242, 4242) == 0);
		tc_ceremony_inbox_poll(&s);
		CU_ASSERT(strstr(answer("d00d.refused"), "owned by uid 4242") != NULL);
		CU_ASSERT(!journal_has("ceremony:foreign"));
	}
	/* Names other than NAME.req (NAME hex) are not requests: left alone. */
	put("Zed.req", "{\"step\":\"upper\",\"key\":\"\",\"data\":\"\",\"detail\":\"\"}");
	put("abc.req.tmp", "{\"step\":\"tmp\",\"key\":\"\",\"data\":\"\",\"detail\":\"\"}");
	tc_ceremony_inbox_poll(&s);
	snprintf(p, sizeof(p), "%s/Zed.req", inbox);
	CU_ASSERT(access(p, F_OK) == 0);
	snprintf(p, sizeof(p), "%s/abc.req.tmp", inbox);
	CU_ASSERT(access(p, F_OK) == 0);
	CU_ASSERT(!journal_has("ceremony:upper"));
	CU_ASSERT(!journal_has("ceremony:tmp"));
}

static void test_journal_verifies(void)
{
	FILE *f = fopen(journal_path, "rb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	struct tc_journal_verify_result r;
	CU_ASSERT_EQUAL(tc_journal_verify(f, &r), 0);
	fclose(f);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"a well-formed request is journaled and answered", test_accepted},
		{"malformed requests are refused with the reason", test_refused},
		{"links, other users' files and other names are not served", test_not_ours},
		{"the journal verifies", test_journal_verifies},
		{NULL, NULL},
	};
	return tc_run_suite("ceremony_inbox", tests, suite_init, suite_cleanup);
}
