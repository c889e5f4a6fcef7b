/* The metrics of this process and how they reach /metrics (issue 14 part 1).
 *
 * Path of the figures, and why (privilege separation, DESIGN.md section 1):
 *   child --TC_SUP_METRICS + sealed memfd--> trustchain-server (root)
 *         --TC_SUP_METRICS + same memfd, tagged with the child's name-->
 *   trustchain-metrics (unprivileged, sandboxed) --HTTP GET /metrics--> Prometheus
 * The supervisor never reads the text a child wrote: it only checks, with
 * fstat and F_GET_SEALS, that the descriptor is a sealed memory file of
 * bounded size, and forwards it under the name of the channel it came on
 * (which the child cannot forge). Parsing the text (metrics_expo.h) and
 * speaking HTTP happen in trustchain-metrics, which holds no key, no data
 * directory and nothing but the figures. The signer, like every child, only
 * writes its exposition; it never reads one. A child taken over can thus
 * lie about its own figures, never about another's, and cannot reach root
 * or the signer with parsed input. */
#ifndef TC_COMMON_METRICS_PROC_H
#define TC_COMMON_METRICS_PROC_H

#include <stddef.h>

#include "common/metrics.h"

/* Largest exposition one process may hand over (bytes); the supervisor
 * refuses a larger one unread. */
#define TC_METRICS_MAX_BYTES (1u << 20)
/* How often each child hands over its figures. */
#define TC_METRICS_PUSH_MS 1000

/* The process-wide registry (created on first use; NULL when out of memory). */
struct tc_metrics *tc_metrics_proc(void);

/* Find-or-register in the process registry, so instrumentation is one line
 * at the place it measures. NULL (every update then a no-op) when name is
 * invalid or already registered with another kind. */
struct tc_metric *tc_pm_counter(const char *name, const char *help, const char *label);
struct tc_metric *tc_pm_gauge(const char *name, const char *help, const char *label);
/* A latency histogram in seconds with buckets from 0.5 ms to 10 s. */
struct tc_metric *tc_pm_seconds(const char *name, const char *help, const char *label);

/* One HSM operation (op: "sign_certificate", "sign_data"): its latency, and
 * an error when ok is 0. */
void tc_pm_hsm_op(const char *op, int ok, double seconds);

/* trustchain_certificate_expiry_timestamp_seconds{certificate=which}:
 * not_after (Unix time) of "root", "intermediate", "doq", "gateway", ... */
void tc_pm_cert_expiry(const char *which, long long not_after);

/* Monotonic clock in seconds, for latencies: observe(now() - start). */
double tc_pm_now(void);

/* The exposition of r in a new memfd sealed against any change. Returns the
 * descriptor, or -1 (errno set). */
int tc_metrics_memfd(struct tc_metrics *r);

/* The supervisor's check of a descriptor a child sent: a regular file
 * sealed against write, shrink and grow, at most max bytes. Returns its
 * size, or -1 with why set. */
long tc_metrics_fd_check(int fd, size_t max, const char **why);

/* Starts a thread that sends the process registry's exposition on the
 * supervisor channel chan every TC_METRICS_PUSH_MS (once per process: later
 * calls do nothing). Call it after TC_SUP_READY: whoever started the
 * process (the supervisor, test harnesses) reads READY first. 0 or -1. */
int tc_metrics_push_start(int chan);

#endif
