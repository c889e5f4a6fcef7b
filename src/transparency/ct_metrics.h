/* The CT log's figures for /metrics (issue 14 part 1), read from the store
 * (never from the sequencer's internals, so they hold whatever the
 * sequencer's design): tree size of the latest signed tree head, entries
 * stored but not yet under a signed head, the head's age and what is left
 * of the maximum merge delay. */
#ifndef TC_TRANSPARENCY_CT_METRICS_H
#define TC_TRANSPARENCY_CT_METRICS_H

#include "common/config.h"
#include "transparency/ct_store.h"

/* Samples the figures now (call it every second or so). */
void tc_ct_metrics_sample(struct tc_ct_store *st, const struct tc_config *cfg);

/* The same figures of the temporal shard name (ct.logs) as
 * trustchain_ct_log_tree_size{log="name"} etc. */
void tc_ct_metrics_sample_log(struct tc_ct_store *st, const struct tc_config *cfg, const char *name);

#endif
