/* Metrics of one process in the Prometheus text exposition format (0.0.4):
 * counters, gauges and histograms, each family with at most one label.
 * Thread-safe: any thread may update while another writes the exposition.
 *
 * Every child keeps its figures in one such registry (metrics_proc.h) and
 * hands the exposition to the supervisor, which passes it on to
 * trustchain-metrics, the process serving server.metrics_listen.
 *
 * Names follow Prometheus conventions (base units, counters end in _total,
 * seconds and bytes as _seconds, _bytes); an invalid name is refused at
 * registration. A family holds at most TC_METRICS_MAX_SERIES label values;
 * further values are counted under the value "other", so a label fed from
 * outside can never grow memory without bound. */
#ifndef TC_COMMON_METRICS_H
#define TC_COMMON_METRICS_H

#include <stddef.h>

#define TC_METRICS_MAX_SERIES 64
#define TC_METRICS_MAX_BUCKETS 16

struct tc_metrics;
struct tc_metric;

struct tc_metrics *tc_metrics_new(void);
void tc_metrics_free(struct tc_metrics *r);

/* Registers a family; label is the label's name, or NULL for a family
 * without labels. Returns NULL for an invalid or duplicate name, an invalid
 * label name, or out of memory. Histogram bounds: 1..TC_METRICS_MAX_BUCKETS
 * strictly increasing upper bounds (+Inf is implied). */
struct tc_metric *tc_metrics_counter(struct tc_metrics *r, const char *name, const char *help, const char *label);
struct tc_metric *tc_metrics_gauge(struct tc_metrics *r, const char *name, const char *help, const char *label);
struct tc_metric *tc_metrics_histogram(struct tc_metrics *r, const char *name, const char *help, const char *label,
				       const double *bounds, size_t nbounds);

/* The family registered under name, or NULL. */
struct tc_metric *tc_metrics_find(struct tc_metrics *r, const char *name);

/* value is the label's value (NULL for a family without labels). A counter
 * only grows: a negative add is ignored. */
void tc_metric_add(struct tc_metric *m, const char *value, double v);
void tc_metric_set(struct tc_metric *m, const char *value, double v);
void tc_metric_observe(struct tc_metric *m, const char *value, double v);

/* The exposition of every family, in registration order; malloc'ed,
 * NUL-terminated. Returns 0, or -1 when out of memory. */
int tc_metrics_write(struct tc_metrics *r, char **out, size_t *len);

#endif
