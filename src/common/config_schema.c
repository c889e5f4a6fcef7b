#include "common/config_schema.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"

#define F(member) offsetof(struct tc_config, member), sizeof(((struct tc_config *)0)->member)
#define KEY(p, t, m) {p, t, F(m), 0, 0}
#define NUM(p, m, lo, hi) {p, TC_CFG_T_U32, F(m), lo, hi}

const struct tc_cfg_key tc_cfg_keys[] = {
	KEY("bootstrap.domain", TC_CFG_T_DOMAIN, bootstrap.domain),
	KEY("bootstrap.traditional_dns_fallback", TC_CFG_T_BOOL, bootstrap.traditional_dns_fallback),

	NUM("ca.cert_validity_hours", ca.cert_validity_hours, 1, 24 * 398),
	KEY("ca.stoq_integration", TC_CFG_T_BOOL, ca.stoq_integration),
	KEY("ca.permitted_suffixes", TC_CFG_T_LIST, ca.permitted_suffixes),
	KEY("ca.allow_wildcards", TC_CFG_T_BOOL, ca.allow_wildcards),
	NUM("ca.min_rsa_bits", ca.min_rsa_bits, 2048, 8192),
	NUM("ca.root_validity_days", ca.root_validity_days, 1, 36500),
	NUM("ca.intermediate_validity_days", ca.intermediate_validity_days, 1, 36500),
	KEY("ca.organization", TC_CFG_T_STRING, ca.organization),
	KEY("ca.crl_url", TC_CFG_T_STRING, ca.crl_url),
	KEY("ca.issuer_url", TC_CFG_T_STRING, ca.issuer_url),
	KEY("ca.root_crl_url", TC_CFG_T_STRING, ca.root_crl_url),
	KEY("ca.root_url", TC_CFG_T_STRING, ca.root_url),
	KEY("ca.permitted_ip_ranges", TC_CFG_T_LIST, ca.permitted_ip_ranges),
	KEY("ca.excluded_suffixes", TC_CFG_T_LIST, ca.excluded_suffixes),
	KEY("ca.excluded_ip_ranges", TC_CFG_T_LIST, ca.excluded_ip_ranges),

	KEY("ct.log_stoq_certificates", TC_CFG_T_BOOL, ct.log_stoq_certificates),
	NUM("ct.sequence_interval_ms", ct.sequence_interval_ms, 1, 60000),
	NUM("ct.batch_max", ct.batch_max, 1, 1000000),
	NUM("ct.max_merge_delay_s", ct.max_merge_delay_s, 1, 7 * 86400),
	NUM("ct.sth_refresh_s", ct.sth_refresh_s, 1, 7 * 86400),
	NUM("ct.http_threads", ct.http_threads, 1, 1024),
	KEY("ct.http_listen", TC_CFG_T_HOSTPORT, ct.http_listen),
	NUM("ct.http_max_connections", ct.http_max_connections, 1, 1000000),
	NUM("ct.http_max_per_source", ct.http_max_per_source, 1, 1000000),
	NUM("ct.http_head_timeout_s", ct.http_head_timeout_s, 1, 3600),
	KEY("ct.tiles_dir", TC_CFG_T_STRING, ct.tiles_dir),
	KEY("ct.frozen", TC_CFG_T_BOOL, ct.frozen),
	{"ct.logs", TC_CFG_T_CT_LOGS, offsetof(struct tc_config, ct), 0, 0, 0},

	KEY("dns.quic_port", TC_CFG_T_PORT, dns.quic_port),
	KEY("dns.udp_port", TC_CFG_T_PORT, dns.udp_port),
	KEY("dns.listen_address", TC_CFG_T_STRING, dns.listen_address),
	KEY("dns.traditional_fallback", TC_CFG_T_BOOL, dns.traditional_fallback),
	KEY("dns.upstreams", TC_CFG_T_LIST, dns.upstreams),
	KEY("dns.zone_file", TC_CFG_T_STRING, dns.zone_file),
	KEY("dns.addresses", TC_CFG_T_LIST, dns.addresses),
	NUM("dns.max_connections", dns.max_connections, 1, 1000000),
	NUM("dns.max_streams", dns.max_streams, 1, 10000),
	NUM("dns.idle_timeout_ms", dns.idle_timeout_ms, 100, 3600000),
	KEY("dns.quic_retry_always", TC_CFG_T_BOOL, dns.quic_retry_always),
	NUM("dns.rate_limit_qps", dns.rate_limit_qps, 0, 10000000),
	{"dns.records", TC_CFG_T_RECORDS, offsetof(struct tc_config, dns), 0, 0, 0},
	KEY("dns.tsig_keys_file", TC_CFG_T_STRING, dns.tsig_keys_file),
	{"dns.secondaries", TC_CFG_T_DNS_SECONDARIES, offsetof(struct tc_config, dns), 0, 0, 0},
	{"dns.update_policy", TC_CFG_T_DNS_UPDATE_POLICY, offsetof(struct tc_config, dns), 0, 0, 0},
	NUM("dns.rollover.propagation_s", dns.roll_propagation_s, 0, 31622400),
	NUM("dns.rollover.max_ttl", dns.roll_max_ttl, 0, 31622400),
	NUM("dns.rollover.ds_ttl", dns.roll_ds_ttl, 0, 31622400),
	NUM("dns.rollover.parent_propagation_s", dns.roll_parent_propagation_s, 0, 31622400),
	NUM("dns.rollover.safety_s", dns.roll_safety_s, 0, 31622400),
	NUM("dns.dnskey_ttl", dns.dnskey_ttl, 1, 604800),
	NUM("dns.default_ttl", dns.default_ttl, 1, 604800),
	NUM("dns.address_ttl", dns.address_ttl, 1, 604800),

	KEY("stoq_integration.certificate_validation_endpoint", TC_CFG_T_STRING,
	    stoq_integration.certificate_validation_endpoint),
	KEY("stoq_integration.trust_decisions", TC_CFG_T_BOOL, stoq_integration.trust_decisions),

	KEY("gateway.listen", TC_CFG_T_HOSTPORT, gateway.listen),
	KEY("gateway.http_listen", TC_CFG_T_STRING, gateway.http_listen),
	NUM("gateway.http_max_connections", gateway.http_max_connections, 1, 1000000),
	NUM("gateway.http_max_per_source", gateway.http_max_per_source, 1, 1000000),
	NUM("gateway.http_head_timeout_s", gateway.http_head_timeout_s, 1, 3600),
	KEY("gateway.tokens_file", TC_CFG_T_STRING, gateway.tokens_file),
	KEY("gateway.client_ca_file", TC_CFG_T_STRING, gateway.client_ca_file),
	KEY("gateway.clients_file", TC_CFG_T_STRING, gateway.clients_file),
	KEY("gateway.tls", TC_CFG_T_BOOL, gateway.tls),
	KEY("gateway.tls_names", TC_CFG_T_LIST, gateway.tls_names),
	KEY("gateway.tls_cert_file", TC_CFG_T_STRING, gateway.tls_cert_file),
	KEY("gateway.tls_key_file", TC_CFG_T_STRING, gateway.tls_key_file),
	KEY("gateway.require_auth", TC_CFG_T_BOOL, gateway.require_auth),
	KEY("gateway.require_sct", TC_CFG_T_BOOL, gateway.require_sct),
	NUM("gateway.threads", gateway.threads, 1, 256),
	NUM("gateway.backend_threads", gateway.backend_threads, 1, 256),
	NUM("gateway.max_inflight_issues", gateway.max_inflight_issues, 1, 1048576),
	NUM("gateway.max_concurrent_streams", gateway.max_concurrent_streams, 1, 65536),
	NUM("gateway.max_connection_idle_s", gateway.max_connection_idle_s, 0, 7 * 86400),
	NUM("gateway.keepalive_s", gateway.keepalive_s, 10, 86400),
	NUM("gateway.memory_limit_mb", gateway.memory_limit_mb, 16, 65536),
	NUM("gateway.max_connections", gateway.max_connections, 0, 1000000),
	NUM("gateway.max_per_source", gateway.max_per_source, 0, 1000000),

	KEY("acme.listen", TC_CFG_T_STRING, acme.listen),
	KEY("acme.tls_names", TC_CFG_T_LIST, acme.tls_names),
	KEY("acme.require_eab", TC_CFG_T_BOOL, acme.require_eab),
	KEY("acme.eab_keys_file", TC_CFG_T_STRING, acme.eab_keys_file),
	KEY("acme.terms_of_service_url", TC_CFG_T_STRING, acme.terms_of_service_url),
	KEY("acme.website_url", TC_CFG_T_STRING, acme.website_url),
	KEY("acme.allow_wildcards", TC_CFG_T_BOOL, acme.allow_wildcards),
	NUM("acme.max_identifiers", acme.max_identifiers, 1, 100),
	NUM("acme.max_jws_bytes", acme.max_jws_bytes, 4096, 1048576),
	/* A thread per connection (finalize blocks on the CA): bounded. */
	NUM("acme.max_connections", acme.max_connections, 1, 65536),
	NUM("acme.max_per_source", acme.max_per_source, 0, 65536),
	NUM("acme.head_timeout_s", acme.head_timeout_s, 1, 3600),
	NUM("acme.order_lifetime_s", acme.order_lifetime_s, 60, 30 * 86400),
	NUM("acme.rate_limits.new_orders_per_account_per_hour", acme.rate_limits.new_orders_per_account_per_hour, 0,
	    100000000),
	NUM("acme.rate_limits.certificates_per_name_per_week", acme.rate_limits.certificates_per_name_per_week, 0,
	    100000000),
	NUM("acme.rate_limits.new_accounts_per_ip_per_hour", acme.rate_limits.new_accounts_per_ip_per_hour, 0,
	    100000000),
	NUM("acme.rate_limits.pending_orders_per_account", acme.rate_limits.pending_orders_per_account, 1, 1000000),
	NUM("acme.rate_limits.failed_validations_per_account_per_hour",
	    acme.rate_limits.failed_validations_per_account_per_hour, 0, 100000000),
	KEY("acme.validation.resolver", TC_CFG_T_STRING, acme.validation.resolver),
	KEY("acme.validation.http_port", TC_CFG_T_PORT, acme.validation.http_port),
	KEY("acme.validation.tls_port", TC_CFG_T_PORT, acme.validation.tls_port),
	KEY("acme.validation.allow_loopback", TC_CFG_T_BOOL, acme.validation.allow_loopback),
	KEY("acme.validation.allow_private", TC_CFG_T_BOOL, acme.validation.allow_private),
	NUM("acme.validation.timeout_ms", acme.validation.timeout_ms, 100, 600000),
	NUM("acme.validation.max_redirects", acme.validation.max_redirects, 0, 10),
	NUM("acme.validation.max_response_bytes", acme.validation.max_response_bytes, 128, 1048576),
	NUM("acme.validation.concurrency", acme.validation.concurrency, 1, 4096),

	KEY("hsm.module", TC_CFG_T_STRING, hsm.module),
	KEY("hsm.token_label", TC_CFG_T_STRING, hsm.token_label),
	KEY("hsm.pin_file", TC_CFG_T_STRING, hsm.pin_file),
	KEY("hsm.pin_env", TC_CFG_T_STRING, hsm.pin_env),
	KEY("hsm.softhsm_conf", TC_CFG_T_STRING, hsm.softhsm_conf),
	KEY("hsm.keys.root", TC_CFG_T_STRING, hsm.root_key_label),
	KEY("hsm.keys.intermediate", TC_CFG_T_STRING, hsm.intermediate_key_label),
	KEY("hsm.keys.ct_log", TC_CFG_T_STRING, hsm.ct_key_label),
	KEY("hsm.keys.dns_zone", TC_CFG_T_STRING, hsm.dns_key_label),
	KEY("hsm.keys.audit", TC_CFG_T_STRING, hsm.audit_key_label),

	KEY("server.dev", TC_CFG_T_BOOL, dev),
	KEY("server.data_dir", TC_CFG_T_STRING, server.data_dir),
	KEY("server.user", TC_CFG_T_STRING, server.user),
	KEY("server.log_level", TC_CFG_T_LOGLEVEL, server.log_level),
	KEY("server.log_format", TC_CFG_T_LOGFORMAT, server.log_format),
	KEY("server.log_syslog", TC_CFG_T_BOOL, server.log_syslog),
	NUM("server.restart_backoff_max_ms", server.restart_backoff_max_ms, 100, 600000),
	KEY("server.metrics_listen", TC_CFG_T_STRING, server.metrics_listen),
};

const size_t tc_cfg_key_count = sizeof(tc_cfg_keys) / sizeof(tc_cfg_keys[0]);

int tc_valid_dns_name(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > 253)
		return 0;
	if (name[len - 1] == '.')
		len--;
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '.') {
			if (label == 0 || name[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!(isalnum(c) || c == '-' || c == '_'))
			return 0;
		if (c == '-' && label == 0)
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && name[len - 1] != '-';
}

int tc_split_hostport(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon;
	const char *hstart = s;
	size_t hlen;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -1;
		hstart = s + 1;
		hlen = (size_t)(close - hstart);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -1;
		hlen = (size_t)(colon - s);
		if (memchr(s, ':', hlen))
			return -1; /* bare IPv6 needs brackets */
	}
	if (hlen == 0 || hlen >= hostlen)
		return -1;
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end || p < 1 || p > 65535)
		return -1;
	memcpy(host, hstart, hlen);
	host[hlen] = '\0';
	*port = (uint16_t)p;
	return 0;
}
