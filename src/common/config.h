/* trustchain.yaml as a typed struct. Every process parses the same file with
 * tc_config_load(); defaults are filled first so a missing key is never
 * uninitialised. See ops/trustchain.yaml.example for the documentation of
 * every key. */
#ifndef TC_COMMON_CONFIG_H
#define TC_COMMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_CFG_MAX_LIST 16
#define TC_CFG_STR 256

struct tc_string_list {
	size_t count;
	char items[TC_CFG_MAX_LIST][TC_CFG_STR];
};

/* An extra DNS record from the dns.records list: "name TTL TYPE RDATA". */
struct tc_dns_record_cfg {
	char name[TC_CFG_STR];
	uint32_t ttl;
	char type[16];
	char rdata[TC_CFG_STR];
};

/* A secondary of the bootstrap zone (dns.secondaries): it may transfer the
 * zone when it signs with its TSIG key, and gets our NOTIFYs. */
struct tc_dns_secondary_cfg {
	char address[TC_CFG_STR];   /* "host:port" NOTIFY goes to */
	char key[TC_CFG_STR];       /* name of its key in dns.tsig_keys_file */
};

#define TC_CFG_MAX_TYPES 16

/* One grant of dns.update_policy: what a TSIG key may change by RFC 2136
 * UPDATE. Anything no grant covers is REFUSED. */
struct tc_dns_update_rule_cfg {
	char key[TC_CFG_STR];           /* TSIG key name */
	struct tc_string_list names;    /* owner patterns: "name" or "*.suffix" (relative or absolute) */
	size_t type_count;
	char types[TC_CFG_MAX_TYPES][16];   /* record types by mnemonic ("TXT") */
};

/* One temporal shard of the CT log (ct.logs): its own HSM key, tree,
 * storage, URL prefix /<name>/ and accepted notAfter window. */
#define TC_CFG_MAX_CT_LOGS 8
#define TC_CT_LOG_NAME_MAX 32
struct tc_ct_log_cfg {
	char name[TC_CT_LOG_NAME_MAX]; /* name: [a-z0-9][a-z0-9-]*, the URL prefix and directory */
	int64_t not_after_start;       /* not_after_start: notAfter >= this (INT64_MIN: unbounded) */
	int64_t not_after_end;         /* not_after_end: notAfter < this (INT64_MAX: unbounded) */
	bool frozen;                   /* frozen: read-only, as ct.frozen */
	char key_label[64];            /* key_label: HSM label (default "<hsm.keys.ct_log>-<name>") */
};

struct tc_config {
	bool dev;                        /* no file, or server.dev: true */
	char path[TC_CFG_STR];           /* file it came from ("" = built-in defaults) */

	struct {
		char domain[TC_CFG_STR];         /* bootstrap.domain */
		bool traditional_dns_fallback;   /* bootstrap.traditional_dns_fallback */
	} bootstrap;

	struct {
		uint32_t cert_validity_hours;    /* ca.cert_validity_hours, max validity of a leaf */
		bool stoq_integration;           /* ca.stoq_integration */
		struct tc_string_list permitted_suffixes; /* ca.permitted_suffixes */
		bool allow_wildcards;            /* ca.allow_wildcards */
		uint32_t min_rsa_bits;           /* ca.min_rsa_bits */
		uint32_t root_validity_days;     /* ca.root_validity_days */
		uint32_t intermediate_validity_days; /* ca.intermediate_validity_days */
		char organization[TC_CFG_STR];   /* ca.organization, O= of CA subjects */
		char crl_url[TC_CFG_STR];        /* ca.crl_url: every leaf's CRL distribution point ("" = none) */
		char issuer_url[TC_CFG_STR];     /* ca.issuer_url: every leaf's AIA caIssuers (intermediate, DER) */
		char root_crl_url[TC_CFG_STR];   /* ca.root_crl_url: the intermediate's CRL distribution point */
		char root_url[TC_CFG_STR];       /* ca.root_url: the intermediate's AIA caIssuers (root, DER) */
		struct tc_string_list permitted_ip_ranges; /* ca.permitted_ip_ranges: CIDRs, intermediate's nameConstraints */
		struct tc_string_list excluded_suffixes;   /* ca.excluded_suffixes: excluded DNS subtrees */
		struct tc_string_list excluded_ip_ranges;  /* ca.excluded_ip_ranges: excluded CIDRs */
	} ca;

	struct {
		bool log_stoq_certificates;      /* ct.log_stoq_certificates */
		uint32_t sequence_interval_ms;   /* ct.sequence_interval_ms */
		uint32_t batch_max;              /* ct.batch_max */
		uint32_t max_merge_delay_s;      /* ct.max_merge_delay_s */
		uint32_t sth_refresh_s;          /* ct.sth_refresh_s, fresh tree head on an idle log */
		uint32_t http_threads;           /* ct.http_threads, HTTP API worker threads */
		char http_listen[TC_CFG_STR];    /* ct.http_listen, "host:port" */
		uint32_t http_max_connections;   /* ct.http_max_connections, all at once */
		uint32_t http_max_per_source;    /* ct.http_max_per_source, from one address */
		uint32_t http_head_timeout_s;    /* ct.http_head_timeout_s, request line + headers */
		char tiles_dir[TC_CFG_STR];      /* ct.tiles_dir, static-ct-api files ("": <data_dir>/ct/tiles, "off") */
		bool frozen;                     /* ct.frozen, read-only: no new entries, final checkpoint kept */
		size_t log_count;                /* ct.logs: temporal shards (0: the single log above) */
		struct tc_ct_log_cfg logs[TC_CFG_MAX_CT_LOGS];
	} ct;

	struct {
		uint16_t quic_port;              /* dns.quic_port */
		uint16_t udp_port;               /* dns.udp_port (UDP and TCP) */
		char listen_address[TC_CFG_STR]; /* dns.listen_address */
		bool traditional_fallback;       /* dns.traditional_fallback */
		struct tc_string_list upstreams; /* dns.upstreams, "addr[:port]" */
		char zone_file[TC_CFG_STR];      /* dns.zone_file, RFC 1035 master file */
		struct tc_string_list addresses; /* dns.addresses: A/AAAA for apex, ca., ct., dns. */
		uint32_t max_connections;        /* dns.max_connections (DoQ) */
		uint32_t max_streams;            /* dns.max_streams per DoQ connection */
		uint32_t idle_timeout_ms;        /* dns.idle_timeout_ms (DoQ) */
		bool quic_retry_always;          /* dns.quic_retry_always (DoQ) */
		uint32_t rate_limit_qps;         /* dns.rate_limit_qps per source, 0 = off */
		size_t record_count;             /* dns.records */
		struct tc_dns_record_cfg records[TC_CFG_MAX_LIST];
		char tsig_keys_file[TC_CFG_STR]; /* dns.tsig_keys_file, BIND key clauses (0600) */
		size_t secondary_count;          /* dns.secondaries */
		struct tc_dns_secondary_cfg secondaries[TC_CFG_MAX_LIST];
		size_t update_rule_count;        /* dns.update_policy */
		struct tc_dns_update_rule_cfg update_policy[TC_CFG_MAX_LIST];
		/* dns.rollover.*: timing of DNSSEC key rollovers in seconds
		 * (trustchainctl dns-roll; resolver/dnssec_roll.h) */
		uint32_t roll_propagation_s, roll_max_ttl, roll_ds_ttl, roll_parent_propagation_s,
		    roll_safety_s;
		/* dns.dnskey_ttl: TTL of the DNSKEY RRset (and its RRSIGs);
		 * rollover waits follow it (dns-roll start). */
		uint32_t dnskey_ttl;
		/* dns.default_ttl: TTL of the generated SOA, NS and apex TXT/CAA;
		 * dns.address_ttl: of the generated A/AAAA (dns.addresses) and
		 * the services' TLSA records. */
		uint32_t default_ttl, address_ttl;
	} dns;

	struct {
		char certificate_validation_endpoint[TC_CFG_STR]; /* stoq_integration.certificate_validation_endpoint */
		bool trust_decisions;            /* stoq_integration.trust_decisions */
	} stoq_integration;

	struct {
		char listen[TC_CFG_STR];         /* gateway.listen, "host:port" */
		char http_listen[TC_CFG_STR];    /* gateway.http_listen: plain HTTP CRL and CA certificates, "off" */
		uint32_t http_max_connections;   /* gateway.http_max_connections, all at once */
		uint32_t http_max_per_source;    /* gateway.http_max_per_source, from one address */
		uint32_t http_head_timeout_s;    /* gateway.http_head_timeout_s, request line + headers */
		char tokens_file[TC_CFG_STR];    /* gateway.tokens_file: bearer token -> name patterns */
		char client_ca_file[TC_CFG_STR]; /* gateway.client_ca_file: enables mTLS */
		char clients_file[TC_CFG_STR];   /* gateway.clients_file: client cert identity -> name patterns */
		bool tls;                        /* gateway.tls: false serves plaintext */
		struct tc_string_list tls_names; /* gateway.tls_names, names of the gateway's own certificate */
		char tls_cert_file[TC_CFG_STR];  /* gateway.tls_cert_file: operator-provided certificate chain */
		char tls_key_file[TC_CFG_STR];   /* gateway.tls_key_file: its private key */
		bool require_auth;               /* gateway.require_auth */
		bool require_sct;                /* gateway.require_sct: Validate fails without our SCT */
		uint32_t threads;                /* gateway.threads */
		uint32_t backend_threads;        /* gateway.backend_threads */
		uint32_t max_inflight_issues;    /* gateway.max_inflight_issues, Issue calls in flight at once */
		uint32_t max_concurrent_streams; /* gateway.max_concurrent_streams, calls per connection */
		uint32_t max_connection_idle_s;  /* gateway.max_connection_idle_s, 0: never */
		uint32_t keepalive_s;            /* gateway.keepalive_s, ping a silent client */
		uint32_t memory_limit_mb;        /* gateway.memory_limit_mb, gRPC buffers */
		uint32_t max_connections;        /* gateway.max_connections, open gRPC connections (0: no cap) */
		uint32_t max_per_source;         /* gateway.max_per_source, from one address (0: an eighth) */
	} gateway;

	/* acme: the RFC 8555 server (trustchain-acme) and its challenge
	 * validator (trustchain-validator). */
	struct {
		char listen[TC_CFG_STR];         /* acme.listen, "host:port" of the HTTPS server; "" or "off": no ACME */
		struct tc_string_list tls_names; /* acme.tls_names, names of its certificate (default: listen's host) */
		bool require_eab;                /* acme.require_eab: newAccount needs externalAccountBinding */
		char eab_keys_file[TC_CFG_STR];  /* acme.eab_keys_file ("": <data_dir>/acme/eab_keys), 0600 */
		char terms_of_service_url[TC_CFG_STR]; /* acme.terms_of_service_url, directory meta ("" = none) */
		char website_url[TC_CFG_STR];    /* acme.website_url, directory meta ("" = none) */
		bool allow_wildcards;            /* acme.allow_wildcards (dns-01 only; also needs ca.allow_wildcards) */
		uint32_t max_identifiers;        /* acme.max_identifiers per order */
		uint32_t max_jws_bytes;          /* acme.max_jws_bytes, largest request body */
		uint32_t max_connections;        /* acme.max_connections, HTTPS connections at once */
		uint32_t max_per_source;         /* acme.max_per_source, from one address (0: an eighth) */
		uint32_t head_timeout_s;         /* acme.head_timeout_s, request line + headers */
		uint32_t order_lifetime_s;       /* acme.order_lifetime_s, pending order / authorization expiry */
		struct {
			uint32_t new_orders_per_account_per_hour;  /* acme.rate_limits.new_orders_per_account_per_hour */
			uint32_t certificates_per_name_per_week;   /* acme.rate_limits.certificates_per_name_per_week */
			uint32_t new_accounts_per_ip_per_hour;     /* acme.rate_limits.new_accounts_per_ip_per_hour */
			uint32_t pending_orders_per_account;       /* acme.rate_limits.pending_orders_per_account */
			uint32_t failed_validations_per_account_per_hour; /* acme.rate_limits.failed_validations_per_account_per_hour */
		} rate_limits;
		struct {
			char resolver[TC_CFG_STR];   /* acme.validation.resolver: "system" or "host:port" */
			uint16_t http_port;          /* acme.validation.http_port (80) */
			uint16_t tls_port;           /* acme.validation.tls_port (443) */
			bool allow_loopback;         /* acme.validation.allow_loopback (dev: true) */
			bool allow_private;          /* acme.validation.allow_private: RFC 1918/4193 ... targets */
			uint32_t timeout_ms;         /* acme.validation.timeout_ms, whole validation of one challenge */
			uint32_t max_redirects;      /* acme.validation.max_redirects (http-01) */
			uint32_t max_response_bytes; /* acme.validation.max_response_bytes (http-01 body) */
			uint32_t concurrency;        /* acme.validation.concurrency, checks in flight */
		} validation;
	} acme;

	struct {
		char module[TC_CFG_STR];         /* hsm.module, PKCS#11 module path */
		char token_label[TC_CFG_STR];    /* hsm.token_label */
		char pin_file[TC_CFG_STR];       /* hsm.pin_file (mode 0600 or stricter) */
		char pin_env[TC_CFG_STR];        /* hsm.pin_env, name of an environment variable */
		char softhsm_conf[TC_CFG_STR];   /* hsm.softhsm_conf, dev token config */
		char root_key_label[64];         /* hsm.keys.root */
		char intermediate_key_label[64]; /* hsm.keys.intermediate */
		char ct_key_label[64];           /* hsm.keys.ct_log */
		char dns_key_label[64];          /* hsm.keys.dns_zone */
		char audit_key_label[64];        /* hsm.keys.audit */
	} hsm;

	struct {
		char data_dir[TC_CFG_STR];       /* server.data_dir */
		char user[64];                   /* server.user, unprivileged children */
		char log_level[16];              /* server.log_level */
		char log_format[8];              /* server.log_format: text | json */
		bool log_syslog;                 /* server.log_syslog */
		uint32_t restart_backoff_max_ms; /* server.restart_backoff_max_ms */
		char metrics_listen[TC_CFG_STR]; /* server.metrics_listen, "host:port" of /metrics ("" = off) */
	} server;
};

/* server.metrics_listen in dev mode. */
#define TC_METRICS_DEV_LISTEN "127.0.0.1:9100"

/* Fills cfg with the built-in defaults (dev mode when dev is true). */
void tc_config_defaults(struct tc_config *cfg, bool dev);

/* Loads path over the defaults. path NULL means "no file": dev defaults.
 * On error returns -1 and writes "file:line: key: problem" into err. */
int tc_config_load(struct tc_config *cfg, const char *path, char *err, size_t errlen);

/* The same from len bytes in memory (a sealed config memfd, a fuzz input);
 * name stands for the file in messages and in cfg->path. */
int tc_config_load_buffer(struct tc_config *cfg, const char *name, const void *data, size_t len, char *err,
			  size_t errlen);

/* Path helpers under server.data_dir: writes "<data_dir>/<rel>" into out. */
int tc_config_data_path(const struct tc_config *cfg, const char *rel, char *out, size_t outlen);

#endif
