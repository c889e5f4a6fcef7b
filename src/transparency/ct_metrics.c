#include "transparency/ct_metrics.h"

#include <time.h>

#include "common/metrics_proc.h"

/* The figures of one log; label NULL: the unlabelled families (one log's,
 * as before temporal shards), else the trustchain_ct_log_* families with
 * log="<label>" (a family has one label or none, so these are their own). */
static void sample(struct tc_ct_store *st, const struct tc_config *cfg, const char *label)
{
	struct tc_ct_sth sth;
	if (!st || tc_ct_store_latest_sth(st, &sth) != 0)
		return;
	uint64_t stored = tc_ct_store_size(st);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	double age = (double)now.tv_sec + (double)now.tv_nsec / 1e9 - (double)sth.timestamp / 1000.0;
	const char *l = label ? "log" : NULL;
	tc_metric_set(tc_pm_gauge(label ? "trustchain_ct_log_tree_size" : "trustchain_ct_tree_size",
				  "Entries under the latest signed tree head.", l),
		      label, (double)sth.tree_size);
	tc_metric_set(tc_pm_gauge(label ? "trustchain_ct_log_pending_entries" : "trustchain_ct_pending_entries",
				  "Entries stored (SCT given) but not yet under a signed tree head.", l),
		      label, stored > sth.tree_size ? (double)(stored - sth.tree_size) : 0);
	tc_metric_set(tc_pm_gauge(label ? "trustchain_ct_log_sth_age_seconds" : "trustchain_ct_sth_age_seconds",
				  "Age of the latest signed tree head: how far publication lags.", l),
		      label, age);
	tc_metric_set(tc_pm_gauge(label ? "trustchain_ct_log_mmd_headroom_seconds" : "trustchain_ct_mmd_headroom_seconds",
				  "Maximum merge delay minus the latest tree head's age: a lower bound of what is "
				  "left for the entries not under it yet (none is older than that head).",
				  l),
		      label, (double)cfg->ct.max_merge_delay_s - age);
}

void tc_ct_metrics_sample(struct tc_ct_store *st, const struct tc_config *cfg)
{
	sample(st, cfg, NULL);
}

void tc_ct_metrics_sample_log(struct tc_ct_store *st, const struct tc_config *cfg, const char *name)
{
	sample(st, cfg, name);
}
