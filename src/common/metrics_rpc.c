#define _GNU_SOURCE
#include "common/metrics_rpc.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common/metrics_proc.h"

/* The families, found once per process: every gRPC call counts, and a
 * lookup by name walks the registry's list under its mutex (seen in the
 * gateway's profile). The process registry is never freed, so the
 * pointers stay valid. */
static struct tc_metric *requests, *refusals, *issuances, *issue_refusals, *issue_seconds, *validate_seconds;
static pthread_once_t families_once = PTHREAD_ONCE_INIT;

static void find_families(void)
{
	requests = tc_pm_counter("trustchain_rpc_requests_total", "gRPC calls answered, by method.", "method");
	refusals = tc_pm_counter("trustchain_rpc_refusals_total", "gRPC calls refused, by reason.", "reason");
	issuances = tc_pm_counter("trustchain_issuances_total", "Certificates issued (Issue answered OK).", NULL);
	issue_refusals = tc_pm_counter("trustchain_issue_refusals_total", "Issue calls refused, by reason.", "reason");
	issue_seconds = tc_pm_seconds("trustchain_issue_duration_seconds",
				      "Time to answer Issue (CSR check, signatures, CT), refusals included.", NULL);
	validate_seconds = tc_pm_seconds("trustchain_validate_duration_seconds", "Time to answer Validate.", NULL);
}

void tc_metrics_rpc(const char *path, size_t len, int ok, const char *reason, double seconds)
{
	pthread_once(&families_once, find_families);
	/* The method is the path's last part. A path from the client that
	 * names no method of ours is "unknown", never the client's text. */
	char method[64] = "unknown";
	const char *slash = path && len ? memrchr(path, '/', len) : NULL;
	if (slash && !(reason && strcmp(reason, "unknown_method") == 0)) {
		size_t n = len - (size_t)(slash + 1 - path);
		if (n > 0 && n < sizeof(method))
			snprintf(method, sizeof(method), "%.*s", (int)n, slash + 1);
	}
	if (!reason || !reason[0])
		reason = "unspecified";
	tc_metric_add(requests, method, 1);
	if (!ok)
		tc_metric_add(refusals, reason, 1);
	if (strcmp(method, "Issue") == 0) {
		if (ok)
			tc_metric_add(issuances, NULL, 1);
		else
			tc_metric_add(issue_refusals, reason, 1);
		tc_metric_observe(issue_seconds, NULL, seconds);
	} else if (strcmp(method, "Validate") == 0) {
		tc_metric_observe(validate_seconds, NULL, seconds);
	}
}
