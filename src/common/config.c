/* trustchain.yaml loader: libyaml document -> struct tc_config, with an error
 * that names the file, line and key for anything unknown, mistyped or out of
 * range. */
#include "common/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#include "common/config_acme.h"
#include "common/config_ca.h"
#include "common/config_ct.h"
#include "common/config_dns.h"
#include "common/config_schema.h"
#include "common/log.h"

#define cfg_set_str(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

void tc_config_defaults(struct tc_config *cfg, bool dev)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->dev = dev;

	cfg_set_str(cfg->bootstrap.domain, "trust.hypermesh.online");
	cfg->bootstrap.traditional_dns_fallback = true;

	cfg->ca.cert_validity_hours = 24;
	cfg->ca.stoq_integration = true;
	cfg->ca.permitted_suffixes.count = 1;
	cfg_set_str(cfg->ca.permitted_suffixes.items[0], "hypermesh.online");
	if (dev) {
		/* Dev services on this machine get certificates for localhost too. */
		cfg->ca.permitted_suffixes.count = 2;
		cfg_set_str(cfg->ca.permitted_suffixes.items[1], "localhost");
	}
	cfg->ca.allow_wildcards = false;
	cfg->ca.min_rsa_bits = 2048;
	cfg->ca.root_validity_days = 3650;
	cfg->ca.intermediate_validity_days = 365;
	cfg_set_str(cfg->ca.organization, dev ? "TrustChain DEV" : "TrustChain");

	cfg->ct.log_stoq_certificates = true;
	cfg->ct.sequence_interval_ms = 100;
	cfg->ct.batch_max = 4096;
	cfg->ct.max_merge_delay_s = 86400;
	cfg->ct.sth_refresh_s = 3600;
	cfg->ct.http_threads = 64;
	cfg_set_str(cfg->ct.http_listen, dev ? "127.0.0.1:6962" : "0.0.0.0:6962");
	cfg->ct.http_max_connections = 1000;
	cfg->ct.http_max_per_source = 64;
	cfg->ct.http_head_timeout_s = 10;
	cfg->gateway.http_max_connections = 512;
	cfg->gateway.http_max_per_source = 64;
	cfg->gateway.http_head_timeout_s = 10;
	cfg_set_str(cfg->ct.tiles_dir, ""); /* <data_dir>/ct/tiles */

	cfg->dns.quic_port = dev ? 8853 : 853;
	cfg->dns.udp_port = dev ? 5300 : 53;
	cfg_set_str(cfg->dns.listen_address, dev ? "127.0.0.1" : "0.0.0.0");
	cfg->dns.traditional_fallback = false;
	cfg->dns.max_connections = 4096;
	cfg->dns.max_streams = 100;
	cfg->dns.idle_timeout_ms = 30000;
	cfg->dns.rate_limit_qps = 0;
	/* Rollover timing (RFC 7583): secondaries within 5 min, zone TTLs up
	 * to a day, the parent's DS TTL a day and its propagation an hour. */
	cfg->dns.roll_propagation_s = 300;
	cfg->dns.roll_max_ttl = 86400;
	cfg->dns.roll_ds_ttl = 86400;
	cfg->dns.roll_parent_propagation_s = 3600;
	cfg->dns.roll_safety_s = 600;
	cfg->dns.dnskey_ttl = 3600;
	cfg->dns.default_ttl = 3600;
	cfg->dns.address_ttl = 300;
	if (dev) {
		cfg->dns.addresses.count = 1;
		cfg_set_str(cfg->dns.addresses.items[0], "127.0.0.1");
	}

	cfg_set_str(cfg->stoq_integration.certificate_validation_endpoint,
		    dev ? "127.0.0.1:50051" : "");
	cfg->stoq_integration.trust_decisions = true;

	cfg_set_str(cfg->gateway.listen, dev ? "127.0.0.1:50051" : "0.0.0.0:50051");
	tc_config_ca_defaults(cfg, dev); /* ca.*_url, gateway.http_listen */
	cfg->gateway.require_auth = !dev;
	cfg->gateway.tls = true;
	/* Issuance embeds our log's SCT (DESIGN.md section 3); only a
	 * deployment with certificates issued before that turns this off. */
	cfg->gateway.require_sct = true;
	cfg->gateway.threads = 4;
	/* An Issue call holds its worker through four IPC round trips (signer,
	 * CT log, signer, CT log); with more in flight the signer and the log
	 * batch more (bench_issue, 2 cores: CPU per issuance ~2.7 ms with 4
	 * such workers, ~2.5 with 8, ~2.2 with 16). */
	cfg->gateway.backend_threads = 8; /* Issue holds no thread (gateway/rpc.h, async handlers) */
	cfg->gateway.max_inflight_issues = 4096;
	cfg->gateway.max_concurrent_streams = 256;
	cfg->gateway.max_connection_idle_s = 300;
	cfg->gateway.keepalive_s = 120;
	cfg->gateway.memory_limit_mb = 512;
	/* ~71 KiB of TLS and HTTP/2 state per idle connection (Release): ~290 MB. */
	cfg->gateway.max_connections = 4096;
	/* 0: an eighth of max_connections, so one address (or a flood from
	 * it) never holds every slot. */
	cfg->gateway.max_per_source = 0;

	/* ACME is new attack surface: on by default only in dev, where
	 * clients on this machine validate over loopback. 0 in a rate limit
	 * means none. */
	cfg_set_str(cfg->acme.listen, dev ? "127.0.0.1:14000" : "");
	cfg->acme.require_eab = !dev;
	cfg->acme.allow_wildcards = false;
	cfg->acme.max_identifiers = 100;
	cfg->acme.max_jws_bytes = 65536;
	cfg->acme.max_connections = 1024;
	cfg->acme.max_per_source = 0;
	cfg->acme.head_timeout_s = 10;
	cfg->acme.order_lifetime_s = 7 * 86400;
	cfg->acme.rate_limits.new_orders_per_account_per_hour = dev ? 0 : 300;
	cfg->acme.rate_limits.certificates_per_name_per_week = dev ? 0 : 50;
	cfg->acme.rate_limits.new_accounts_per_ip_per_hour = dev ? 0 : 10;
	cfg->acme.rate_limits.pending_orders_per_account = 300;
	cfg->acme.rate_limits.failed_validations_per_account_per_hour = dev ? 0 : 5;
	/* Dev validates names through our own resolver, as a test machine's
	 * clients would publish dns-01 records there. */
	cfg_set_str(cfg->acme.validation.resolver, dev ? "127.0.0.1:5300" : "system");
	cfg->acme.validation.http_port = 80;
	cfg->acme.validation.tls_port = 443;
	cfg->acme.validation.allow_loopback = dev;
	cfg->acme.validation.allow_private = dev;
	cfg->acme.validation.timeout_ms = 10000;
	cfg->acme.validation.max_redirects = 10;
	cfg->acme.validation.max_response_bytes = 4096;
	cfg->acme.validation.concurrency = 64;

	cfg_set_str(cfg->hsm.module, "/usr/lib/softhsm/libsofthsm2.so");
	cfg_set_str(cfg->hsm.token_label, dev ? "trustchain-dev" : "trustchain");
	cfg_set_str(cfg->hsm.root_key_label, "tc-root");
	cfg_set_str(cfg->hsm.intermediate_key_label, "tc-intermediate");
	cfg_set_str(cfg->hsm.ct_key_label, "tc-ct-log");
	cfg_set_str(cfg->hsm.dns_key_label, "tc-dns-zone");
	cfg_set_str(cfg->hsm.audit_key_label, "tc-audit");

	cfg_set_str(cfg->server.data_dir, dev ? "./data" : "/var/lib/trustchain");
	cfg_set_str(cfg->server.user, "trustchain");
	cfg_set_str(cfg->server.log_level, "info");
	cfg_set_str(cfg->server.log_format, "text");
	cfg->server.restart_backoff_max_ms = 30000;
	/* Figures tell an attacker about load and expiry: off unless asked
	 * for, except in dev. */
	cfg_set_str(cfg->server.metrics_listen, dev ? TC_METRICS_DEV_LISTEN : "");
}

struct load_ctx {
	struct tc_config *cfg;
	const char *file;
	char *err;
	size_t errlen;
	unsigned long key_line[256]; /* per schema key: line it was set on, 0 = not set */
};

static int vfail_at(struct load_ctx *lc, unsigned long line, const char *key, const char *fmt,
		    va_list ap) __attribute__((format(printf, 4, 0)));

/* "file:line: key: problem", or "file: key: problem" when no line is known. */
static int vfail_at(struct load_ctx *lc, unsigned long line, const char *key, const char *fmt,
		    va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (line)
		snprintf(lc->err, lc->errlen, "%s:%lu: %s: %s", lc->file, line, key, msg);
	else
		snprintf(lc->err, lc->errlen, "%s: %s: %s", lc->file, key, msg);
	return -1;
}

static int fail(struct load_ctx *lc, const yaml_node_t *node, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct load_ctx *lc, const yaml_node_t *node, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail_at(lc, node ? (unsigned long)node->start_mark.line + 1 : 0UL, key, fmt, ap);
	va_end(ap);
	return -1;
}

static size_t key_index(const char *path);

/* For checks across keys after the walk: blames the line that set key. */
static int fail_key(struct load_ctx *lc, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_key(struct load_ctx *lc, const char *key, const char *fmt, ...)
{
	size_t idx = key_index(key);
	unsigned long line = idx < tc_cfg_key_count ? lc->key_line[idx] : 0;
	va_list ap;
	va_start(ap, fmt);
	vfail_at(lc, line, key, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *scalar(const yaml_node_t *n) { return (const char *)n->data.scalar.value; }

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on"};
	static const char *const no[] = {"false", "no", "off"};
	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0) { *out = true; return 0; }
		if (strcasecmp(s, no[i]) == 0) { *out = false; return 0; }
	}
	return -1;
}

static int parse_u32(const char *s, uint32_t *out)
{
	if (!*s || *s == '-' || *s == '+')
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* dns.records entries are "name ttl TYPE rdata...", e.g. "www 300 A 192.0.2.1". */
static int parse_record(const char *s, struct tc_dns_record_cfg *rec)
{
	char name[TC_CFG_STR], ttl[16], type[16];
	int consumed = 0;
	if (sscanf(s, "%255s %15s %15s %n", name, ttl, type, &consumed) != 3 || consumed == 0)
		return -1;
	if (parse_u32(ttl, &rec->ttl) != 0 || s[consumed] == '\0')
		return -1;
	if (strlen(s + consumed) >= sizeof(rec->rdata))
		return -1;
	cfg_set_str(rec->name, name);
	cfg_set_str(rec->type, type);
	cfg_set_str(rec->rdata, s + consumed);
	return 0;
}

static int set_list(struct load_ctx *lc, yaml_document_t *doc, yaml_node_t *node,
		    const struct tc_cfg_key *k, void *field)
{
	if (node->type != YAML_SEQUENCE_NODE)
		return fail(lc, node, k->path, "expected a list");
	size_t n = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
	if (n > TC_CFG_MAX_LIST)
		return fail(lc, node, k->path, "at most %d entries", TC_CFG_MAX_LIST);
	struct tc_string_list *list = field;
	struct tc_config *cfg = lc->cfg;
	if (k->type == TC_CFG_T_LIST)
		list->count = 0;
	else
		cfg->dns.record_count = 0;
	for (yaml_node_item_t *it = node->data.sequence.items.start;
	     it < node->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(doc, *it);
		if (!item || item->type != YAML_SCALAR_NODE)
			return fail(lc, item ? item : node, k->path, "list entries must be strings");
		const char *v = scalar(item);
		if (strlen(v) >= TC_CFG_STR)
			return fail(lc, item, k->path, "entry longer than %d characters", TC_CFG_STR - 1);
		if (k->type == TC_CFG_T_RECORDS) {
			if (parse_record(v, &cfg->dns.records[cfg->dns.record_count]) != 0)
				return fail(lc, item, k->path,
					    "expected \"name ttl TYPE rdata\", got '%s'", v);
			cfg->dns.record_count++;
		} else {
			cfg_set_str(list->items[list->count], v);
			list->count++;
		}
	}
	return 0;
}

static int set_scalar(struct load_ctx *lc, yaml_node_t *node, const struct tc_cfg_key *k,
		      void *field)
{
	if (node->type != YAML_SCALAR_NODE)
		return fail(lc, node, k->path, "expected a single value, not a %s",
			    node->type == YAML_MAPPING_NODE ? "mapping" : "list");
	const char *v = scalar(node);
	switch (k->type) {
	case TC_CFG_T_BOOL:
		if (parse_bool(v, field) != 0)
			return fail(lc, node, k->path, "expected true or false, got '%s'", v);
		return 0;
	case TC_CFG_T_U32: {
		uint32_t n;
		if (parse_u32(v, &n) != 0)
			return fail(lc, node, k->path, "expected a whole number, got '%s'", v);
		if (n < k->min || n > k->max)
			return fail(lc, node, k->path, "%u is out of range %u..%u", n, k->min, k->max);
		*(uint32_t *)field = n;
		return 0;
	}
	case TC_CFG_T_PORT: {
		uint32_t n;
		if (parse_u32(v, &n) != 0 || n < 1 || n > 65535)
			return fail(lc, node, k->path, "expected a port 1..65535, got '%s'", v);
		*(uint16_t *)field = (uint16_t)n;
		return 0;
	}
	default:
		break;
	}
	/* String-valued types. */
	if (strlen(v) >= k->size)
		return fail(lc, node, k->path, "longer than %zu characters", k->size - 1);
	if (k->type == TC_CFG_T_DOMAIN && !tc_valid_dns_name(v))
		return fail(lc, node, k->path, "'%s' is not a valid DNS name", v);
	if (k->type == TC_CFG_T_HOSTPORT) {
		char host[TC_CFG_STR];
		uint16_t port;
		if (tc_split_hostport(v, host, sizeof(host), &port) != 0)
			return fail(lc, node, k->path, "expected host:port, got '%s'", v);
	}
	if (k->type == TC_CFG_T_LOGLEVEL) {
		enum tc_log_level lvl;
		if (tc_log_level_parse(v, &lvl) != 0)
			return fail(lc, node, k->path,
				    "expected error, warn, info or debug, got '%s'", v);
	}
	if (k->type == TC_CFG_T_LOGFORMAT) {
		enum tc_log_format fmt;
		if (tc_log_format_parse(v, &fmt) != 0)
			return fail(lc, node, k->path, "expected text or json, got '%s'", v);
	}
	memcpy(field, v, strlen(v) + 1);
	return 0;
}

static size_t key_index(const char *path)
{
	for (size_t i = 0; i < tc_cfg_key_count; i++)
		if (strcmp(tc_cfg_keys[i].path, path) == 0)
			return i;
	return tc_cfg_key_count;
}

static const struct tc_cfg_key *find_key(const char *path, size_t *index)
{
	for (size_t i = 0; i < tc_cfg_key_count; i++) {
		if (strcmp(tc_cfg_keys[i].path, path) == 0) {
			*index = i;
			return &tc_cfg_keys[i];
		}
	}
	return NULL;
}

/* 1 when some schema key lives below prefix (so it names a section). */
static int is_section(const char *prefix)
{
	size_t n = strlen(prefix);
	for (size_t i = 0; i < tc_cfg_key_count; i++)
		if (strncmp(tc_cfg_keys[i].path, prefix, n) == 0 && tc_cfg_keys[i].path[n] == '.')
			return 1;
	return 0;
}

static int walk_mapping(struct load_ctx *lc, yaml_document_t *doc, yaml_node_t *map,
			const char *prefix)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(doc, p->value);
		if (!kn || !vn || kn->type != YAML_SCALAR_NODE)
			return fail(lc, kn, prefix[0] ? prefix : "(top)", "keys must be plain strings");
		char path[256];
		int w = snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "." : "", scalar(kn));
		if (w < 0 || (size_t)w >= sizeof(path))
			return fail(lc, kn, prefix, "key too long");
		size_t idx;
		const struct tc_cfg_key *k = find_key(path, &idx);
		if (!k) {
			if (!is_section(path))
				return fail(lc, kn, path, "unknown key");
			if (vn->type != YAML_MAPPING_NODE)
				return fail(lc, vn, path, "expected a mapping of keys");
			if (walk_mapping(lc, doc, vn, path) != 0)
				return -1;
			continue;
		}
		if (idx < sizeof(lc->key_line) / sizeof(lc->key_line[0])) {
			if (lc->key_line[idx])
				return fail(lc, kn, path, "duplicate key (first set on line %lu)",
					    lc->key_line[idx]);
			lc->key_line[idx] = (unsigned long)kn->start_mark.line + 1;
		}
		void *field = (char *)lc->cfg + k->offset;
		int rc;
		if (k->type == TC_CFG_T_DNS_SECONDARIES || k->type == TC_CFG_T_DNS_UPDATE_POLICY) {
			const yaml_node_t *bad = vn;
			char why[256];
			rc = tc_config_dns_lists(lc->cfg, doc, vn, k->type, &bad, why, sizeof(why));
			if (rc != 0)
				return fail(lc, bad, k->path, "%s", why);
		} else if (k->type == TC_CFG_T_CT_LOGS) {
			const yaml_node_t *bad = vn;
			char why[256];
			if (tc_config_ct_logs(lc->cfg, doc, vn, &bad, why, sizeof(why)) != 0)
				return fail(lc, bad, k->path, "%s", why);
			rc = 0;
		} else {
			rc = (k->type == TC_CFG_T_LIST || k->type == TC_CFG_T_RECORDS)
				     ? set_list(lc, doc, vn, k, field)
				     : set_scalar(lc, vn, k, field);
		}
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* server.dev decides which defaults apply, so it is read before the rest. */
static int find_dev_flag(struct load_ctx *lc, yaml_document_t *doc, yaml_node_t *root, bool *dev)
{
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(doc, p->value);
		if (!kn || !vn || kn->type != YAML_SCALAR_NODE || strcmp(scalar(kn), "server") != 0 ||
		    vn->type != YAML_MAPPING_NODE)
			continue;
		for (yaml_node_pair_t *q = vn->data.mapping.pairs.start; q < vn->data.mapping.pairs.top; q++) {
			yaml_node_t *k2 = yaml_document_get_node(doc, q->key);
			yaml_node_t *v2 = yaml_document_get_node(doc, q->value);
			if (k2 && v2 && k2->type == YAML_SCALAR_NODE && v2->type == YAML_SCALAR_NODE &&
			    strcmp(scalar(k2), "dev") == 0) {
				if (parse_bool(scalar(v2), dev) != 0)
					return fail(lc, v2, "server.dev", "expected true or false, got '%s'",
						    scalar(v2));
				return 0;
			}
		}
	}
	return 0;
}

/* acme.validation.resolver for dev: dns.listen_address (its loopback
 * when it is a wildcard) at dns.udp_port. */
static void dev_validation_resolver(struct tc_config *cfg)
{
	const char *a = cfg->dns.listen_address;
	if (strcmp(a, "0.0.0.0") == 0)
		a = "127.0.0.1";
	else if (strcmp(a, "::") == 0)
		a = "::1";
	snprintf(cfg->acme.validation.resolver, sizeof(cfg->acme.validation.resolver),
		 strchr(a, ':') ? "[%s]:%u" : "%s:%u", a, (unsigned)cfg->dns.udp_port);
}

static int validate(struct load_ctx *lc)
{
	struct tc_config *cfg = lc->cfg;
	if (cfg->hsm.pin_file[0] && cfg->hsm.pin_env[0])
		return fail_key(lc, "hsm.pin_env", "set either hsm.pin_file or hsm.pin_env, not both");
	if (cfg->ca.permitted_suffixes.count == 0)
		return fail_key(lc, "ca.permitted_suffixes", "at least one suffix is required");
	for (size_t i = 0; i < cfg->ca.permitted_suffixes.count; i++)
		if (!tc_valid_dns_name(cfg->ca.permitted_suffixes.items[i]))
			return fail_key(lc, "ca.permitted_suffixes", "'%s' is not a valid DNS name",
					cfg->ca.permitted_suffixes.items[i]);
	if (cfg->dns.quic_port == cfg->dns.udp_port)
		return fail_key(lc, lc->key_line[key_index("dns.quic_port")] ? "dns.quic_port" : "dns.udp_port",
				"dns.quic_port and dns.udp_port must differ (both are UDP)");
	if ((cfg->dns.secondary_count || cfg->dns.update_rule_count) && !cfg->dns.tsig_keys_file[0])
		return fail_key(lc, cfg->dns.secondary_count ? "dns.secondaries" : "dns.update_policy",
				"names TSIG keys: set dns.tsig_keys_file");
	if (!cfg->server.data_dir[0])
		return fail_key(lc, "server.data_dir", "must not be empty");
	/* trustchain-server pins the data directory for its children, which
	 * run from "/" and could not resolve a relative one themselves. */
	const char *pinned = getenv("TC_DATA_DIR");
	if (pinned && *pinned && strlen(pinned) < sizeof(cfg->server.data_dir))
		cfg_set_str(cfg->server.data_dir, pinned);
	if (cfg->server.data_dir[0] != '/') {
		char cwd[TC_CFG_STR], abs[TC_CFG_STR];
		const char *rel = cfg->server.data_dir;
		if (strncmp(rel, "./", 2) == 0)
			rel += 2;
		if (!getcwd(cwd, sizeof(cwd)) ||
		    snprintf(abs, sizeof(abs), "%s/%s", strcmp(cwd, "/") ? cwd : "", rel) >= (int)sizeof(abs))
			return fail_key(lc, "server.data_dir", "cannot make '%s' absolute", cfg->server.data_dir);
		cfg_set_str(cfg->server.data_dir, abs);
	}
	/* Derived defaults that depend on the data directory. */
	if (!cfg->hsm.pin_file[0] && !cfg->hsm.pin_env[0])
		tc_config_data_path(cfg, "hsm/user.pin", cfg->hsm.pin_file, sizeof(cfg->hsm.pin_file));
	if (!cfg->hsm.softhsm_conf[0] && cfg->dev)
		tc_config_data_path(cfg, "hsm/softhsm2.conf", cfg->hsm.softhsm_conf,
				    sizeof(cfg->hsm.softhsm_conf));
	/* Dev resolves ACME validation names through our own resolver, on the
	 * port dns.udp_port gives it (the default names 5300, the default
	 * port): a dev configuration that moves the DNS port would otherwise
	 * validate against nothing. */
	if (cfg->dev && !lc->key_line[key_index("acme.validation.resolver")])
		dev_validation_resolver(cfg);
	const char *acme_key = NULL;
	char why[TC_CFG_STR + 96];
	if (tc_config_acme_check(cfg, &acme_key, why, sizeof(why)) != 0)
		return fail_key(lc, acme_key, "%s", why);
	if (tc_config_ca_check(cfg, &acme_key, why, sizeof(why)) != 0)
		return fail_key(lc, acme_key, "%s", why);
	return 0;
}

/* A second "---" document would otherwise be ignored without a word.
 * Returns the line where one starts (or where the rest fails to parse), 0 if none. */
static unsigned long second_document_line(yaml_parser_t *parser)
{
	yaml_document_t next;
	if (!yaml_parser_load(parser, &next))
		return (unsigned long)parser->problem_mark.line + 1;
	unsigned long line = yaml_document_get_root_node(&next) ? (unsigned long)next.start_mark.line + 1 : 0;
	yaml_document_delete(&next);
	return line;
}

/* Loads the one document parser reads (its input already set) over the
 * defaults; name labels every message and becomes cfg->path. */
static int load_from_parser(struct tc_config *cfg, yaml_parser_t *parser, const char *name, char *err,
			    size_t errlen)
{
	struct load_ctx lc = {.cfg = cfg, .file = name, .err = err, .errlen = errlen};
	yaml_document_t doc;
	if (!yaml_parser_load(parser, &doc)) {
		snprintf(err, errlen, "%s:%lu: YAML syntax error: %s", name,
			 (unsigned long)parser->problem_mark.line + 1,
			 parser->problem ? parser->problem : "unknown");
		return -1;
	}
	int rc = -1;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	bool dev = false;
	if (root && root->type != YAML_MAPPING_NODE) {
		/* An empty file is a valid "all defaults" file; anything else must be a mapping. */
		if (!(root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0)) {
			fail(&lc, root, "(top)", "expected a mapping of sections");
			goto out_doc;
		}
		root = NULL;
	}
	if (root && find_dev_flag(&lc, &doc, root, &dev) != 0)
		goto out_doc;
	unsigned long extra = second_document_line(parser);
	if (extra) {
		snprintf(err, errlen, "%s:%lu: only one YAML document is allowed", name, extra);
		goto out_doc;
	}
	tc_config_defaults(cfg, dev);
	snprintf(cfg->path, sizeof(cfg->path), "%s", name);
	if (root && walk_mapping(&lc, &doc, root, "") != 0)
		goto out_doc;
	rc = validate(&lc);
out_doc:
	yaml_document_delete(&doc);
	return rc;
}

int tc_config_load_buffer(struct tc_config *cfg, const char *name, const void *data, size_t len, char *err,
			  size_t errlen)
{
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	yaml_parser_set_input_string(&parser, data, len);
	int rc = load_from_parser(cfg, &parser, name, err, errlen);
	yaml_parser_delete(&parser);
	return rc;
}

int tc_config_load(struct tc_config *cfg, const char *path, char *err, size_t errlen)
{
	if (!path) {
		struct load_ctx lc = {.cfg = cfg, .file = "(defaults)", .err = err, .errlen = errlen};
		tc_config_defaults(cfg, true);
		return validate(&lc);
	}
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	yaml_parser_set_input_file(&parser, f);
	int rc = load_from_parser(cfg, &parser, path, err, errlen);
	yaml_parser_delete(&parser);
	fclose(f);
	return rc;
}

int tc_config_data_path(const struct tc_config *cfg, const char *rel, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%s", cfg->server.data_dir, rel);
	return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}
