/* The DNS keys of trustchain.yaml that are lists of mappings
 * (dns.secondaries, dns.update_policy): read from the YAML node into
 * struct tc_config, every entry checked. */
#ifndef TC_COMMON_CONFIG_DNS_H
#define TC_COMMON_CONFIG_DNS_H

#include <stddef.h>
#include <yaml.h>

#include "common/config.h"
#include "common/config_schema.h"

/* type is TC_CFG_T_DNS_SECONDARIES or TC_CFG_T_DNS_UPDATE_POLICY. 0, or -1
 * with *bad the node at fault and why the problem. */
int tc_config_dns_lists(struct tc_config *cfg, yaml_document_t *doc, yaml_node_t *node,
			enum tc_cfg_type type, const yaml_node_t **bad, char *why, size_t whylen);

/* 1 when s is a record type mnemonic dns.update_policy may grant. */
int tc_config_dns_update_type_ok(const char *s);

/* How fresh differs from old, both from tc_config_load (SIGHUP):
 * TC_CFG_SAME, TC_CFG_ZONE_ONLY when only the zone's contents changed
 * (dns.records, dns.zone_file, dns.addresses: what the resolver applies in
 * place), TC_CFG_OTHER for anything else (or out of memory). */
enum tc_config_change { TC_CFG_SAME, TC_CFG_ZONE_ONLY, TC_CFG_OTHER };
enum tc_config_change tc_config_dns_change(const struct tc_config *old, const struct tc_config *fresh);

#endif
