/* common/metrics_expo.c and the transport checks of common/metrics_proc.c:
 * the merged exposition of several processes is read back by Debian's
 * python3-prometheus-client parser with each sample labelled by its
 * process and each family declared once; every kind of malformed text a
 * taken-over child could send is refused, dropping only that child's
 * figures; the supervisor's descriptor check takes a sealed memfd and
 * refuses an unsealed or oversized one and a pipe. */
#define _GNU_SOURCE
#include <CUnit/Basic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/metrics.h"
#include "common/metrics_expo.h"
#include "common/metrics_proc.h"

/* prometheus_client's reading of text: "name{labels} value" per sample,
 * sorted, and one "family NAME TYPE" line per family. */
static char *parse_with_python(const char *text, size_t len)
{
	char path[] = "/tmp/tc-expo-XXXXXX";
	int fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, text, len) == (ssize_t)len);
	close(fd);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 -c 'import sys\n"
		 "from prometheus_client.parser import text_string_to_metric_families as p\n"
		 "out = []\n"
		 "for f in p(open(sys.argv[1]).read()):\n"
		 "  out.append(\"family %%s %%s\" %% (f.name, f.type))\n"
		 "  for s in f.samples:\n"
		 "    out.append(\"%%s{%%s} %%g\" %% (s.name, \",\".join(\"%%s=%%s\" %% kv for kv in sorted(s.labels.items())), s.value))\n"
		 "print(\"\\n\".join(sorted(out)))' %s",
		 path);
	FILE *f = popen(cmd, "r");
	CU_ASSERT_FATAL(f != NULL);
	char *out = NULL;
	size_t cap = 0, n = 0;
	char buf[4096];
	size_t r;
	while ((r = fread(buf, 1, sizeof(buf), f)) > 0) {
		out = realloc(out, cap = n + r + 1);
		memcpy(out + n, buf, r);
		n += r;
		out[n] = '\0';
	}
	int st = pclose(f);
	unlink(path);
	if (st != 0) {
		free(out);
		return NULL;
	}
	return out ? out : strdup("");
}

static char *exposition(struct tc_metrics *r, size_t *len)
{
	char *t;
	CU_ASSERT_FATAL(tc_metrics_write(r, &t, len) == 0);
	return t;
}

static void test_merge(void)
{
	static const double b[] = {0.1, 1};
	struct tc_metrics *a = tc_metrics_new(), *g = tc_metrics_new();
	tc_metric_add(tc_metrics_counter(a, "trustchain_x_total", "X \"quoted\" \\ help.", "reason"), "bad \"name\"\n", 3);
	tc_metric_observe(tc_metrics_histogram(a, "trustchain_lat_seconds", "Latency.", NULL, b, 2), NULL, 0.5);
	tc_metric_set(tc_metrics_gauge(g, "trustchain_size", "Size.", NULL), NULL, 42);
	tc_metric_add(tc_metrics_counter(g, "trustchain_x_total", "Other help.", "reason"), "ok", 2);
	size_t la, lg, len;
	char *ta = exposition(a, &la), *tg = exposition(g, &lg), *out, err[256];
	struct tc_expo *e = tc_expo_new();
	CU_ASSERT_EQUAL(tc_expo_update(e, "signer", ta, la, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(tc_expo_update(e, "gateway", tg, lg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(tc_expo_render(e, &out, &len), 0);
	/* One TYPE line per family, however many processes have it. */
	size_t types = 0;
	for (const char *p = out; (p = strstr(p, "# TYPE trustchain_x_total")); p++)
		types++;
	CU_ASSERT_EQUAL(types, 1);
	char *got = parse_with_python(out, len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	const char *want[] = {
	    "family trustchain_x counter",
	    "trustchain_x_total{process=signer,reason=bad \"name\"\n} 3",
	    "trustchain_x_total{process=gateway,reason=ok} 2",
	    "trustchain_lat_seconds_bucket{le=0.1,process=signer} 0",
	    "trustchain_lat_seconds_bucket{le=1,process=signer} 1",
	    "trustchain_lat_seconds_count{process=signer} 1",
	    "trustchain_size{process=gateway} 42",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (!strstr(got, want[i]))
			fprintf(stderr, "\nmissing: %s\nin:\n%s\n", want[i], got);
		CU_ASSERT_PTR_NOT_NULL(strstr(got, want[i]));
	}
	free(got);
	/* trustchainctl status's reading: every series of a family summed. */
	CU_ASSERT_DOUBLE_EQUAL(tc_expo_sum(out, len, "trustchain_x_total"), 5, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(tc_expo_sum(out, len, "trustchain_size"), 42, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(tc_expo_sum(out, len, "trustchain_x"), 0, 1e-9);
	free(out);
	/* A new text replaces the old one; a removed process is gone. */
	tc_expo_remove(e, "gateway");
	CU_ASSERT_EQUAL_FATAL(tc_expo_render(e, &out, &len), 0);
	CU_ASSERT_PTR_NULL(strstr(out, "gateway"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "process=\"signer\""));
	free(out);
	free(ta);
	free(tg);
	tc_expo_free(e);
	tc_metrics_free(a);
	tc_metrics_free(g);
}

static void test_refusals(void)
{
	static const char good[] = "# HELP trustchain_ok_total Fine.\n# TYPE trustchain_ok_total counter\n"
				   "trustchain_ok_total 1\n";
	static const char *const bad[] = {
	    "garbage\n",
	    "# TYPE a counter\na 1",                          /* no final newline */
	    "# EOF\n",                                        /* other comments */
	    "a 1\n",                                          /* sample before TYPE */
	    "# TYPE a counter\nb 1\n",                        /* not of the family */
	    "# TYPE a counter\na{process=\"gateway\"} 1\n",   /* the reserved label */
	    "# TYPE a counter\na{x=\"1\",x=\"2\"} 1\n",       /* label twice */
	    "# TYPE a counter\na{x=\"\\t\"} 1\n",             /* bad escape */
	    "# TYPE a counter\na{x=\"1} 1\n",                 /* unterminated */
	    "# TYPE a counter\na{x=\"1\"} 1 1700000000000\n", /* timestamp */
	    "# TYPE a counter\na 0x10\n",                     /* hex */
	    "# TYPE a counter\na inf\n",                      /* other Inf spelling */
	    "# TYPE a counter\na  1\n",                       /* two spaces */
	    "# TYPE a counter\na{} 1\n",                      /* fine in the format, but ... see below */
	    "# TYPE h histogram\nh_bucket 1\n",               /* bucket without le */
	    "# TYPE h histogram\nh{le=\"1\"} 1\n",            /* histogram's bare name */
	    "# TYPE a counter\n# TYPE a counter\n",           /* declared twice */
	    "# HELP b B.\n# TYPE a counter\n",                /* HELP of another family */
	    "# TYPE a summary\n",                             /* types we never write */
	    "# TYPE a counter\na{a=\"1\",b=\"1\",c=\"1\",d=\"1\",e=\"1\",f=\"1\",g=\"1\",h=\"1\",i=\"1\"} 1\n",
	    "# TYPE a counter\na{__x=\"1\"} 1\n",
	    "# TYPE a counter\na{x=\"1\",} 1\n",
	};
	struct tc_expo *e = tc_expo_new();
	char err[256], *out;
	size_t len;
	CU_ASSERT_EQUAL_FATAL(tc_expo_update(e, "gateway", good, sizeof(good) - 1, err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(tc_expo_update(e, "signer", good, sizeof(good) - 1, err, sizeof(err)), 0);
		int rc = tc_expo_update(e, "signer", bad[i], strlen(bad[i]), err, sizeof(err));
		if (i == 13) { /* "{}" is the format's empty label set: taken */
			CU_ASSERT_EQUAL(rc, 0);
			continue;
		}
		if (rc == 0)
			fprintf(stderr, "\naccepted: %s\n", bad[i]);
		CU_ASSERT_EQUAL(rc, -1);
		CU_ASSERT_FATAL(tc_expo_render(e, &out, &len) == 0);
		/* The refused process shows nothing; the other is untouched. */
		CU_ASSERT_PTR_NULL(strstr(out, "process=\"signer\""));
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "trustchain_ok_total{process=\"gateway\"} 1\n"));
		free(out);
	}
	/* A NUL inside, a line too long, too many families. */
	char nul[] = "# TYPE a counter\na 1\n";
	nul[3] = '\0';
	CU_ASSERT_EQUAL(tc_expo_update(e, "signer", nul, sizeof(nul) - 1, err, sizeof(err)), -1);
	size_t big = TC_EXPO_MAX_LINE + 100;
	char *longl = malloc(big + 32);
	int n = snprintf(longl, big + 32, "# TYPE a counter\na{x=\"");
	memset(longl + n, 'x', big);
	strcpy(longl + n + big, "\"} 1\n");
	CU_ASSERT_EQUAL(tc_expo_update(e, "signer", longl, strlen(longl), err, sizeof(err)), -1);
	free(longl);
	char *many = malloc(64 * (TC_EXPO_MAX_FAMILIES + 2));
	size_t off = 0;
	for (int i = 0; i <= TC_EXPO_MAX_FAMILIES; i++)
		off += (size_t)sprintf(many + off, "# TYPE f%d gauge\nf%d 1\n", i, i);
	CU_ASSERT_EQUAL(tc_expo_update(e, "signer", many, off, err, sizeof(err)), -1);
	free(many);
	/* A source name is ours to give: never one with quotes. */
	CU_ASSERT_EQUAL(tc_expo_update(e, "a\"b", good, sizeof(good) - 1, err, sizeof(err)), -1);
	tc_expo_free(e);
}

static void test_type_conflict(void)
{
	static const char a[] = "# TYPE trustchain_t gauge\ntrustchain_t 1\n";
	static const char b[] = "# TYPE trustchain_t counter\ntrustchain_t 2\n# TYPE trustchain_u gauge\ntrustchain_u 3\n";
	struct tc_expo *e = tc_expo_new();
	char err[128], *out;
	size_t len;
	CU_ASSERT_EQUAL(tc_expo_update(e, "resolver", a, sizeof(a) - 1, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(tc_expo_update(e, "acme", b, sizeof(b) - 1, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(tc_expo_render(e, &out, &len), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "trustchain_t{process=\"resolver\"} 1\n"));
	CU_ASSERT_PTR_NULL(strstr(out, "trustchain_t{process=\"acme\"}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "trustchain_u{process=\"acme\"} 3\n"));
	char *got = parse_with_python(out, len);
	CU_ASSERT_PTR_NOT_NULL(got);
	free(got);
	free(out);
	tc_expo_free(e);
}

static void test_fd_check(void)
{
	struct tc_metrics *r = tc_metrics_new();
	tc_metric_set(tc_metrics_gauge(r, "g", "", NULL), NULL, 1);
	const char *why = NULL;
	int fd = tc_metrics_memfd(r);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(tc_metrics_fd_check(fd, TC_METRICS_MAX_BYTES, &why) > 0);
	CU_ASSERT_EQUAL(tc_metrics_fd_check(fd, 4, &why), -1); /* too large */
	close(fd);
	/* Unsealed: the sender could still change it. */
	fd = memfd_create("x", MFD_ALLOW_SEALING);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(write(fd, "g 1\n", 4) == 4);
	CU_ASSERT_EQUAL(tc_metrics_fd_check(fd, TC_METRICS_MAX_BYTES, &why), -1);
	close(fd);
	int p[2];
	CU_ASSERT_FATAL(pipe(p) == 0);
	CU_ASSERT_EQUAL(tc_metrics_fd_check(p[0], TC_METRICS_MAX_BYTES, &why), -1);
	close(p[0]);
	close(p[1]);
	tc_metrics_free(r);
}

int main(void)
{
	CU_initialize_registry();
	CU_pSuite s = CU_add_suite("metrics_expo", NULL, NULL);
	CU_add_test(s, "merge", test_merge);
	CU_add_test(s, "refusals", test_refusals);
	CU_add_test(s, "type_conflict", test_type_conflict);
	CU_add_test(s, "fd_check", test_fd_check);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
