/* common/metrics.c: the exposition is read back by Debian's
 * python3-prometheus-client parser (an independent implementation of the
 * format) with every family, label (escapes included) and value; names and
 * bounds are checked at registration; a label fed from outside stays
 * bounded. */
#define _GNU_SOURCE
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/metrics.h"

/* Parses text with prometheus_client and prints "name{labels} value" per
 * sample, sorted; returns the output (malloc'ed) or NULL. */
static char *parse_with_python(const char *text)
{
	char path[] = "/tmp/tc-metrics-XXXXXX";
	int fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 -c 'import sys\n"
		 "from prometheus_client.parser import text_string_to_metric_families as p\n"
		 "out = []\n"
		 "for f in p(open(sys.argv[1]).read()):\n"
		 "  for s in f.samples:\n"
		 "    out.append(\"%%s %%s %%r %%r\" %% (f.type, s.name, sorted(s.labels.items()), s.value))\n"
		 "print(\"\\n\".join(sorted(out)))' %s",
		 path);
	FILE *p = popen(cmd, "r");
	char *buf = calloc(1, 1 << 16);
	size_t n = p ? fread(buf, 1, (1 << 16) - 1, p) : 0;
	int status = p ? pclose(p) : -1;
	unlink(path);
	buf[n] = '\0';
	if (status != 0) {
		fprintf(stderr, "prometheus_client refused:\n%s\n", text);
		free(buf);
		return NULL;
	}
	return buf;
}

static void test_exposition_parses(void)
{
	struct tc_metrics *r = tc_metrics_new();
	static const double b[] = {0.005, 0.05, 0.5, 5};
	struct tc_metric *iss = tc_metrics_counter(r, "trustchain_issuances_total", "Issue calls by result.", "result");
	struct tc_metric *size = tc_metrics_gauge(r, "trustchain_ct_tree_size", "Entries in the signed tree.", NULL);
	struct tc_metric *lat = tc_metrics_histogram(r, "trustchain_issue_duration_seconds", "Issue latency.\nSecond line \\ too.",
						     "profile", b, 4);
	CU_ASSERT_FATAL(iss && size && lat);
	for (int i = 0; i < 3; i++)
		tc_metric_add(iss, "ok", 1);
	tc_metric_add(iss, "name_not_permitted", 2);
	tc_metric_add(iss, "a \"quoted\"\\ new\nline", 1);
	tc_metric_add(iss, "ok", -5); /* ignored: counters only grow */
	tc_metric_set(size, NULL, 42);
	double obs[] = {0.004, 0.02, 0.3, 7};
	for (size_t i = 0; i < 4; i++)
		tc_metric_observe(lat, "server", obs[i]);
	char *text;
	size_t len;
	CU_ASSERT_EQUAL_FATAL(tc_metrics_write(r, &text, &len), 0);
	CU_ASSERT_EQUAL(strlen(text), len);
	char *got = parse_with_python(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	static const char *const want[] = {
		"counter trustchain_issuances_total [('result', 'ok')] 3.0",
		"counter trustchain_issuances_total [('result', 'name_not_permitted')] 2.0",
		"counter trustchain_issuances_total [('result', 'a \"quoted\"\\\\ new\\nline')] 1.0",
		"gauge trustchain_ct_tree_size [] 42.0",
		"histogram trustchain_issue_duration_seconds_bucket [('le', '0.005'), ('profile', 'server')] 1.0",
		"histogram trustchain_issue_duration_seconds_bucket [('le', '0.05'), ('profile', 'server')] 2.0",
		"histogram trustchain_issue_duration_seconds_bucket [('le', '0.5'), ('profile', 'server')] 3.0",
		"histogram trustchain_issue_duration_seconds_bucket [('le', '5'), ('profile', 'server')] 3.0",
		"histogram trustchain_issue_duration_seconds_bucket [('le', '+Inf'), ('profile', 'server')] 4.0",
		"histogram trustchain_issue_duration_seconds_count [('profile', 'server')] 4.0",
		"histogram trustchain_issue_duration_seconds_sum [('profile', 'server')] 7.324",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (!strstr(got, want[i]))
			fprintf(stderr, "missing: %s\nin:\n%s\n", want[i], got);
		CU_ASSERT_PTR_NOT_NULL(strstr(got, want[i]));
	}
	free(got);
	free(text);
	tc_metrics_free(r);
}

static void test_registration_checks(void)
{
	struct tc_metrics *r = tc_metrics_new();
	static const double ok[] = {1, 2}, bad[] = {2, 1};
	CU_ASSERT_PTR_NOT_NULL(tc_metrics_counter(r, "a_total", "", NULL));
	CU_ASSERT_PTR_NULL(tc_metrics_counter(r, "a_total", "", NULL)); /* duplicate */
	CU_ASSERT_PTR_NULL(tc_metrics_gauge(r, "1abc", "", NULL));
	CU_ASSERT_PTR_NULL(tc_metrics_gauge(r, "a-b", "", NULL));
	CU_ASSERT_PTR_NULL(tc_metrics_gauge(r, "", "", NULL));
	CU_ASSERT_PTR_NULL(tc_metrics_gauge(r, "g", "", "__reserved"));
	CU_ASSERT_PTR_NULL(tc_metrics_gauge(r, "g", "", "a:b"));
	CU_ASSERT_PTR_NULL(tc_metrics_histogram(r, "h", "", "le", ok, 2));
	CU_ASSERT_PTR_NULL(tc_metrics_histogram(r, "h", "", NULL, bad, 2));
	CU_ASSERT_PTR_NULL(tc_metrics_histogram(r, "h", "", NULL, ok, 0));
	CU_ASSERT_PTR_NOT_NULL(tc_metrics_histogram(r, "h", "", NULL, ok, 2));
	tc_metrics_free(r);
}

static void test_label_values_bounded(void)
{
	struct tc_metrics *r = tc_metrics_new();
	struct tc_metric *c = tc_metrics_counter(r, "refusals_total", "", "reason");
	char v[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(v, sizeof(v), "r%d", i);
		tc_metric_add(c, v, 1);
	}
	char *text;
	size_t len;
	CU_ASSERT_EQUAL_FATAL(tc_metrics_write(r, &text, &len), 0);
	size_t lines = 0;
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	CU_ASSERT_EQUAL(lines, 2 + TC_METRICS_MAX_SERIES);
	char other[64];
	snprintf(other, sizeof(other), "refusals_total{reason=\"other\"} %d\n", 1000 - (TC_METRICS_MAX_SERIES - 1));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, other));
	char *got = parse_with_python(text);
	CU_ASSERT_PTR_NOT_NULL(got);
	free(got);
	free(text);
	tc_metrics_free(r);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("metrics", NULL, NULL);
	CU_add_test(s, "exposition parses", test_exposition_parses);
	CU_add_test(s, "registration checks", test_registration_checks);
	CU_add_test(s, "label values bounded", test_label_values_bounded);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
