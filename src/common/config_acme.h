/* The acme: section of trustchain.yaml beyond what the schema checks: the
 * values whose form depends on another (listen "off", the resolver,
 * default names and paths). */
#ifndef TC_COMMON_CONFIG_ACME_H
#define TC_COMMON_CONFIG_ACME_H

#include <stddef.h>

#include "common/config.h"

/* 1 when acme.listen turns the ACME server (and its validator) on. */
int tc_config_acme_enabled(const struct tc_config *cfg);

/* Checks the acme section and fills its derived defaults (tls_names from
 * the listen host, eab_keys_file under the data directory; call after
 * server.data_dir is absolute). Returns 0, or -1 with *key the key at fault
 * and why the problem. */
int tc_config_acme_check(struct tc_config *cfg, const char **key, char *why, size_t whylen);

#endif
