#define _GNU_SOURCE
#include "ctl/status_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/http_client.h"
#include "common/metrics_expo.h"
#include "ctl/status_probe.h"

int tc_status_metrics_line(const char *listen, char *err, size_t errlen)
{
	char addr[300], url[320];
	tc_status_local_addr(listen, addr, sizeof(addr));
	snprintf(url, sizeof(url), "http://%s", addr);
	struct tc_http_client *c = NULL;
	struct tc_http_response r = {0};
	if (tc_http_client_new(url, 3000, &c, err, errlen) != 0)
		return -1;
	int rc = tc_http_request(c, "GET", "/metrics", NULL, 0, &r, err, errlen);
	tc_http_client_free(c);
	if (rc != 0)
		return -1;
	if (r.status != 200) {
		snprintf(err, errlen, "%s/metrics: HTTP %d", url, r.status);
		tc_http_response_free(&r);
		return -1;
	}
	printf("%-14s issued %.0f, issue refusals %.0f, DNS queries %.0f, child restarts %.0f, refused expositions "
	       "%.0f (%s/metrics)\n",
	       "metrics", tc_expo_sum(r.body, r.body_len, "trustchain_issuances_total"),
	       tc_expo_sum(r.body, r.body_len, "trustchain_issue_refusals_total"),
	       tc_expo_sum(r.body, r.body_len, "trustchain_dns_queries_total"),
	       tc_expo_sum(r.body, r.body_len, "trustchain_child_restarts_total"),
	       tc_expo_sum(r.body, r.body_len, "trustchain_metrics_refused_total") +
		   tc_expo_sum(r.body, r.body_len, "trustchain_metrics_relay_refused_total"),
	       url);
	tc_http_response_free(&r);
	return 0;
}
