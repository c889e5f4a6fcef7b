/* ct.logs in trustchain.yaml: the CT log's temporal shards, a list of
 * mappings read into struct tc_config, every entry checked (names usable
 * as a URL segment and a directory, RFC 3339 UTC times, windows that do
 * not overlap, so every notAfter has at most one shard). */
#ifndef TC_COMMON_CONFIG_CT_H
#define TC_COMMON_CONFIG_CT_H

#include <stddef.h>
#include <yaml.h>

#include "common/config.h"

/* 0, or -1 with *bad the node at fault and why the problem. */
int tc_config_ct_logs(struct tc_config *cfg, yaml_document_t *doc, yaml_node_t *node, const yaml_node_t **bad,
		      char *why, size_t whylen);

/* "YYYY-MM-DDTHH:MM:SSZ" -> seconds since the epoch; 0, or -1. */
int tc_config_rfc3339_utc(const char *s, int64_t *out);

/* 1 when name may name a shard: 1..31 of [a-z0-9-], not starting with
 * '-', and not a first path segment the log already serves ("ct",
 * "checkpoint", "tile", "issuer"). */
int tc_config_ct_log_name_ok(const char *name);

#endif
