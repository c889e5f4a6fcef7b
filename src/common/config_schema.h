/* The table of every trustchain.yaml key: its dotted path, type, bounds and
 * where it lands in struct tc_config. config.c walks the YAML document and
 * looks each leaf up here, so adding a key is one line. */
#ifndef TC_COMMON_CONFIG_SCHEMA_H
#define TC_COMMON_CONFIG_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

enum tc_cfg_type {
	TC_CFG_T_STRING,   /* char[size] */
	TC_CFG_T_BOOL,     /* bool */
	TC_CFG_T_U32,      /* uint32_t within [min, max] */
	TC_CFG_T_PORT,     /* uint16_t within [1, 65535] */
	TC_CFG_T_LIST,     /* struct tc_string_list */
	TC_CFG_T_RECORDS,  /* dns.records: list of "name ttl TYPE rdata" */
	TC_CFG_T_HOSTPORT, /* char[size] holding "host:port" */
	TC_CFG_T_LOGLEVEL, /* char[size] holding error|warn|info|debug */
	TC_CFG_T_LOGFORMAT, /* char[size] holding text|json */
	TC_CFG_T_DOMAIN,   /* char[size] holding a DNS name */
	TC_CFG_T_DNS_SECONDARIES,    /* dns.secondaries: list of {address, key} */
	TC_CFG_T_DNS_UPDATE_POLICY,  /* dns.update_policy: list of {key, names, types} */
	TC_CFG_T_CT_LOGS,            /* ct.logs: list of {name, not_after_start, not_after_end, frozen, key_label} */
};

struct tc_cfg_key {
	const char *path;
	enum tc_cfg_type type;
	size_t offset;
	size_t size;
	uint32_t min, max;
};

extern const struct tc_cfg_key tc_cfg_keys[];
extern const size_t tc_cfg_key_count;

/* 1 when name is a syntactically valid DNS name (LDH labels, <= 253 chars). */
int tc_valid_dns_name(const char *name);
/* Splits "host:port" or "[v6]:port"; returns 0 when valid. */
int tc_split_hostport(const char *s, char *host, size_t hostlen, uint16_t *port);

#endif
