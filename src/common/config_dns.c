/* dns.secondaries and dns.update_policy: see config_dns.h. */
#include "common/config_dns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Types an update may touch: data types only. DNSSEC records, SOA and NS
 * are ours (the signer keeps them), so no grant may name them. */
static const char *const update_types[] = {"A", "AAAA", "TXT", "CNAME", "MX", "SRV",
					   "CAA", "TLSA", "PTR", "HINFO", "ANY"};

int tc_config_dns_update_type_ok(const char *s)
{
	for (size_t i = 0; i < sizeof(update_types) / sizeof(update_types[0]); i++)
		if (strcmp(s, update_types[i]) == 0)
			return 1;
	return 0;
}

static int bad_at(const yaml_node_t *n, const yaml_node_t **bad, char *why, size_t whylen,
		  const char *msg, const char *arg) __attribute__((format(printf, 5, 0)));

static int bad_at(const yaml_node_t *n, const yaml_node_t **bad, char *why, size_t whylen,
		  const char *msg, const char *arg)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	*bad = n;
	snprintf(why, whylen, msg, arg ? arg : "");
#pragma GCC diagnostic pop
	return -1;
}

static const char *scalar_of(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A key name: a DNS name (what tsig-keygen and nsupdate accept). */
static int key_name_ok(const char *s)
{
	return s[0] && strlen(s) < TC_CFG_STR && tc_valid_dns_name(s);
}

/* "name", "*", "*.suffix" or "prefix.*": a DNS name whose first or last
 * label may be "*" (the resolver's update policy says what they match). */
static int pattern_ok(const char *s)
{
	char buf[TC_CFG_STR];
	if (strcmp(s, "*") == 0)
		return 1;
	if (strlen(s) >= sizeof(buf))
		return 0;
	snprintf(buf, sizeof(buf), "%s", strncmp(s, "*.", 2) == 0 ? s + 2 : s);
	size_t n = strlen(buf);
	if (n >= 2 && strcmp(buf + n - 2, ".*") == 0)
		buf[n - 2] = '\0';
	else if (n >= 3 && strcmp(buf + n - 3, ".*.") == 0)
		buf[n - 3] = '\0';
	return tc_valid_dns_name(buf);
}

static int read_secondary(yaml_document_t *doc, yaml_node_t *map, struct tc_dns_secondary_cfg *out,
			  const yaml_node_t **bad, char *why, size_t whylen)
{
	memset(out, 0, sizeof(*out));
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(doc, p->value);
		const char *k = scalar_of(kn), *v = scalar_of(vn);
		if (!k)
			return bad_at(kn ? kn : map, bad, why, whylen, "keys must be plain strings", NULL);
		if (!v)
			return bad_at(vn ? vn : kn, bad, why, whylen, "%s: expected a single value", k);
		if (strcmp(k, "address") == 0) {
			char host[TC_CFG_STR];
			uint16_t port;
			if (strlen(v) >= TC_CFG_STR || tc_split_hostport(v, host, sizeof(host), &port) != 0)
				return bad_at(vn, bad, why, whylen, "address: expected host:port, got '%s'", v);
			snprintf(out->address, sizeof(out->address), "%s", v);
		} else if (strcmp(k, "key") == 0) {
			if (!key_name_ok(v))
				return bad_at(vn, bad, why, whylen, "key: '%s' is not a key name", v);
			snprintf(out->key, sizeof(out->key), "%s", v);
		} else {
			return bad_at(kn, bad, why, whylen, "unknown key '%s' (address, key)", k);
		}
	}
	if (!out->address[0] || !out->key[0])
		return bad_at(map, bad, why, whylen, "each secondary needs address and key", NULL);
	return 0;
}

/* A list of strings into names (or types when types is set). */
static int read_strings(yaml_document_t *doc, yaml_node_t *seq, const char *what,
			struct tc_dns_update_rule_cfg *rule, int types, const yaml_node_t **bad,
			char *why, size_t whylen)
{
	if (seq->type != YAML_SEQUENCE_NODE)
		return bad_at(seq, bad, why, whylen, "%s: expected a list", what);
	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
	     it++) {
		yaml_node_t *item = yaml_document_get_node(doc, *it);
		const char *v = scalar_of(item);
		if (!v)
			return bad_at(item ? item : seq, bad, why, whylen, "%s: entries must be strings",
				      what);
		if (types) {
			if (rule->type_count == TC_CFG_MAX_TYPES)
				return bad_at(item, bad, why, whylen, "types: too many entries", NULL);
			if (!tc_config_dns_update_type_ok(v))
				return bad_at(item, bad, why, whylen,
					      "types: '%s' is not a type an update may change "
					      "(A, AAAA, TXT, CNAME, MX, SRV, CAA, TLSA, PTR, HINFO, ANY)", v);
			snprintf(rule->types[rule->type_count++], sizeof(rule->types[0]), "%s", v);
		} else {
			if (rule->names.count == TC_CFG_MAX_LIST)
				return bad_at(item, bad, why, whylen, "names: too many entries", NULL);
			if (strlen(v) >= TC_CFG_STR || !pattern_ok(v))
				return bad_at(item, bad, why, whylen,
					      "names: '%s' is not a name or pattern (\"*.suffix\", \"prefix.*\")", v);
			snprintf(rule->names.items[rule->names.count++], TC_CFG_STR, "%s", v);
		}
	}
	return 0;
}

static int read_rule(yaml_document_t *doc, yaml_node_t *map, struct tc_dns_update_rule_cfg *out,
		     const yaml_node_t **bad, char *why, size_t whylen)
{
	memset(out, 0, sizeof(*out));
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(doc, p->value);
		const char *k = scalar_of(kn);
		if (!k || !vn)
			return bad_at(kn ? kn : map, bad, why, whylen, "keys must be plain strings", NULL);
		if (strcmp(k, "key") == 0) {
			const char *v = scalar_of(vn);
			if (!v || !key_name_ok(v))
				return bad_at(vn, bad, why, whylen, "key: expected a key name", NULL);
			snprintf(out->key, sizeof(out->key), "%s", v);
		} else if (strcmp(k, "names") == 0 || strcmp(k, "types") == 0) {
			if (read_strings(doc, vn, k, out, k[0] == 't', bad, why, whylen) != 0)
				return -1;
		} else {
			return bad_at(kn, bad, why, whylen, "unknown key '%s' (key, names, types)", k);
		}
	}
	if (!out->key[0] || out->names.count == 0 || out->type_count == 0)
		return bad_at(map, bad, why, whylen, "each grant needs key, names and types", NULL);
	return 0;
}

int tc_config_dns_lists(struct tc_config *cfg, yaml_document_t *doc, yaml_node_t *node,
			enum tc_cfg_type type, const yaml_node_t **bad, char *why, size_t whylen)
{
	if (node->type != YAML_SEQUENCE_NODE)
		return bad_at(node, bad, why, whylen, "expected a list", NULL);
	size_t n = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
	if (n > TC_CFG_MAX_LIST) {
		*bad = node;
		snprintf(why, whylen, "at most %d entries", TC_CFG_MAX_LIST);
		return -1;
	}
	size_t i = 0;
	for (yaml_node_item_t *it = node->data.sequence.items.start; it < node->data.sequence.items.top;
	     it++, i++) {
		yaml_node_t *item = yaml_document_get_node(doc, *it);
		if (!item || item->type != YAML_MAPPING_NODE)
			return bad_at(item ? item : node, bad, why, whylen, "entries must be mappings",
				      NULL);
		int rc = type == TC_CFG_T_DNS_SECONDARIES
				 ? read_secondary(doc, item, &cfg->dns.secondaries[i], bad, why, whylen)
				 : read_rule(doc, item, &cfg->dns.update_policy[i], bad, why, whylen);
		if (rc != 0)
			return -1;
	}
	if (type == TC_CFG_T_DNS_SECONDARIES)
		cfg->dns.secondary_count = n;
	else
		cfg->dns.update_rule_count = n;
	return 0;
}

/* Bytewise: both were zeroed before loading (tc_config_defaults), so equal
 * settings are equal bytes, padding included. */
enum tc_config_change tc_config_dns_change(const struct tc_config *old, const struct tc_config *fresh)
{
	if (memcmp(old, fresh, sizeof(*old)) == 0)
		return TC_CFG_SAME;
	struct tc_config *mix = malloc(sizeof(*mix));
	if (!mix)
		return TC_CFG_OTHER;
	memcpy(mix, old, sizeof(*mix));
	memcpy(mix->dns.zone_file, fresh->dns.zone_file, sizeof(mix->dns.zone_file));
	memcpy(&mix->dns.addresses, &fresh->dns.addresses, sizeof(mix->dns.addresses));
	mix->dns.record_count = fresh->dns.record_count;
	memcpy(mix->dns.records, fresh->dns.records, sizeof(mix->dns.records));
	enum tc_config_change c = memcmp(mix, fresh, sizeof(*mix)) == 0 ? TC_CFG_ZONE_ONLY : TC_CFG_OTHER;
	free(mix);
	return c;
}
