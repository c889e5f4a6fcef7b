/* common/log.c: the JSON format is one object a line that a real JSON parser
 * (jansson) reads back with every field, whatever bytes the values hold and
 * however long they are; the text format keeps a value from faking another
 * field or line; TC_LOG_FORMAT hands the format to started processes. */
#define _GNU_SOURCE
#include <CUnit/Basic.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

/* Runs fn with stderr redirected to a temporary file; returns what it wrote
 * (malloc'ed, NUL-terminated). */
static char *capture(void (*fn)(void))
{
	FILE *tmp = tmpfile();
	CU_ASSERT_FATAL(tmp != NULL);
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	dup2(fileno(tmp), STDERR_FILENO);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	long n = ftell(tmp);
	char *out = calloc(1, (size_t)n + 1);
	rewind(tmp);
	CU_ASSERT(fread(out, 1, (size_t)n, tmp) == (size_t)n);
	fclose(tmp);
	return out;
}

/* Parses every line as JSON; returns the objects (NULL-terminated). */
static json_t **parse_lines(char *text, size_t *count)
{
	json_t **v = calloc(64, sizeof(*v));
	size_t n = 0;
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line && n < 63;
	     line = strtok_r(NULL, "\n", &save)) {
		json_error_t e;
		v[n] = json_loads(line, 0, &e);
		if (!v[n])
			fprintf(stderr, "not JSON (%s): %.200s\n", e.text, line);
		CU_ASSERT_PTR_NOT_NULL(v[n]);
		if (v[n])
			n++;
	}
	*count = n;
	return v;
}

static char long_value[20000];

static void log_json_lines(void)
{
	tc_log(TC_LOG_INFO, "plain \"quoted\" line\twith tab");
	tc_log_event(TC_LOG_WARN, "signer_refusal", TC_KV("peer", "gateway", "reason", "name \xff\xfe outside\n{\"x\":1}"),
		     "refused %s", "issue");
	tc_log_event(TC_LOG_ERROR, "long_one", TC_KV("value", long_value, "after", "x"), "%s", long_value);
	tc_log_event(TC_LOG_INFO, "utf8", TC_KV("name", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92", "overlong", "\xc0\xaf",
						 "surrogate", "\xed\xa0\x80"),
		     "ok");
	tc_log(TC_LOG_DEBUG, "below the level: not written");
}

static void test_json_lines_parse(void)
{
	memset(long_value, 'a', sizeof(long_value) - 1);
	long_value[100] = '"';
	long_value[5000] = '\\';
	tc_log_init("unit", TC_LOG_INFO, 0);
	CU_ASSERT_EQUAL(tc_log_set_format("json"), 0);
	char *out = capture(log_json_lines);
	size_t n;
	json_t **v = parse_lines(out, &n);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	for (size_t i = 0; i < n; i++) {
		const char *t = json_string_value(json_object_get(v[i], "time"));
		/* RFC 3339 UTC with milliseconds: 2026-12-06T16:05:35.123Z */
		CU_ASSERT(t && strlen(t) == 24 && t[10] == 'T' && t[19] == '.' && t[23] == 'Z');
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(v[i], "process")), "unit");
		CU_ASSERT(json_integer_value(json_object_get(v[i], "pid")) == getpid());
		CU_ASSERT(json_is_object(json_object_get(v[i], "fields")));
	}
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(v[0], "event")), "log");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(v[0], "level")), "info");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(v[0], "fields"), "msg")),
			       "plain \"quoted\" line\twith tab");
	json_t *f = json_object_get(v[1], "fields");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(v[1], "event")), "signer_refusal");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(v[1], "level")), "warn");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(f, "peer")), "gateway");
	/* Ill-formed bytes become U+FFFD; the newline stays inside the value. */
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(f, "reason")),
			       "name \xef\xbf\xbd\xef\xbf\xbd outside\n{\"x\":1}");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(f, "msg")), "refused issue");
	/* Cut to the line bound, still an object with its event. */
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(v[2], "event")), "long_one");
	f = json_object_get(v[3], "fields");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(f, "name")), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(f, "overlong")), "\xef\xbf\xbd\xef\xbf\xbd");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(f, "surrogate")), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	for (size_t i = 0; i < n; i++)
		json_decref(v[i]);
	free(v);
	free(out);
}

/* Every cut point of a long value still yields a parsable line. */
static size_t cut_len;
static void log_cut(void)
{
	char v[7000];
	for (size_t i = 0; i < sizeof(v) - 1; i++)
		v[i] = "\x01\"\xe2\x82\xac\\a"[i % 7];
	v[cut_len < sizeof(v) ? cut_len : sizeof(v) - 1] = '\0';
	tc_log_event(TC_LOG_INFO, "cut", TC_KV("a", v, "b", v, "c", v), "%s", v);
}

static void test_json_cut_anywhere(void)
{
	tc_log_init("unit", TC_LOG_INFO, 0);
	tc_log_set_format("json");
	for (cut_len = 5000; cut_len < 5100; cut_len++) {
		char *out = capture(log_cut);
		size_t n;
		json_t **v = parse_lines(out, &n);
		CU_ASSERT_EQUAL(n, 1);
		for (size_t i = 0; i < n; i++)
			json_decref(v[i]);
		free(v);
		free(out);
	}
}

static void log_text_lines(void)
{
	tc_log_event(TC_LOG_WARN, "child_restart", TC_KV("child", "gateway", "how", "x=1 y\n2026 fake: line"),
		     "gateway restarted");
}

static void test_text_format(void)
{
	unsetenv(TC_LOG_FORMAT_ENV);
	tc_log_init("unit", TC_LOG_INFO, 0);
	CU_ASSERT_EQUAL(tc_log_set_format("text"), 0);
	char *out = capture(log_text_lines);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, " unit["));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "] warn: gateway restarted [child_restart child=gateway "
					   "how=\"x=1 y\\x0a2026 fake: line\"]\n"));
	/* One line: the newline in the value is escaped. */
	CU_ASSERT_EQUAL(strchr(out, '\n'), out + strlen(out) - 1);
	free(out);
}

static void test_format_names_and_env(void)
{
	enum tc_log_format f;
	CU_ASSERT_EQUAL(tc_log_format_parse("json", &f), 0);
	CU_ASSERT_EQUAL(f, TC_LOG_JSON);
	CU_ASSERT_EQUAL(tc_log_format_parse("text", &f), 0);
	CU_ASSERT_EQUAL(f, TC_LOG_TEXT);
	CU_ASSERT_EQUAL(tc_log_format_parse("JSON", &f), -1);
	CU_ASSERT_EQUAL(tc_log_format_parse("", &f), -1);
	CU_ASSERT_EQUAL(tc_log_set_format("xml"), -1);
	CU_ASSERT_EQUAL(tc_log_set_format("json"), 0);
	CU_ASSERT_STRING_EQUAL(getenv(TC_LOG_FORMAT_ENV), "json");
	/* A process started with it logs JSON from its first line. */
	tc_log_set_format("text");
	setenv(TC_LOG_FORMAT_ENV, "json", 1);
	tc_log_init("child", TC_LOG_INFO, 0);
	char *out = capture(log_text_lines);
	CU_ASSERT_EQUAL(out[0], '{');
	free(out);
	unsetenv(TC_LOG_FORMAT_ENV);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("log", NULL, NULL);
	CU_add_test(s, "json lines parse", test_json_lines_parse);
	CU_add_test(s, "json cut anywhere", test_json_cut_anywhere);
	CU_add_test(s, "text format", test_text_format);
	CU_add_test(s, "format names and TC_LOG_FORMAT", test_format_names_and_env);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
