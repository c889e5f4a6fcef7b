/* trustchain.yaml loading: defaults, the documented example, and one test per
 * kind of error, each checking the exact "file:line: key: problem" message. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "common/config.h"
#include "common/config_schema.h"
#include "unit/cunit_main.h"

static char tmpdir[] = "/tmp/tc-test-config-XXXXXX";
static char cfg_path[512];
static char err[1024];
static struct tc_config cfg;

static int suite_init(void)
{
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(cfg_path, sizeof(cfg_path), "%s/trustchain.yaml", tmpdir);
	return 0;
}

static int suite_cleanup(void)
{
	unlink(cfg_path);
	rmdir(tmpdir);
	return 0;
}

static void write_file(const char *text)
{
	FILE *f = fopen(cfg_path, "wb");
	CU_ASSERT_FATAL(f != NULL);
	fputs(text, f);
	fclose(f);
}

static int load_text(const char *text)
{
	write_file(text);
	err[0] = '\0';
	return tc_config_load(&cfg, cfg_path, err, sizeof(err));
}

/* Asserts text is refused with "<file>:<line>: <rest>" somewhere in the message. */
static void expect_error(const char *text, unsigned line, const char *rest)
{
	char want[1024];
	if (line)
		snprintf(want, sizeof(want), "%s:%u: %s", cfg_path, line, rest);
	else
		snprintf(want, sizeof(want), "%s: %s", cfg_path, rest);
	int rc = load_text(text);
	CU_ASSERT_EQUAL(rc, -1);
	if (!strstr(err, want)) {
		fprintf(stderr, "\n  want: %s\n  got:  %s\n", want, err);
		CU_FAIL("error message does not match");
	}
}

static void test_defaults_without_file(void)
{
	CU_ASSERT_EQUAL_FATAL(tc_config_load(&cfg, NULL, err, sizeof(err)), 0);
	CU_ASSERT_TRUE(cfg.dev);
	CU_ASSERT_STRING_EQUAL(cfg.path, "");
	CU_ASSERT_STRING_EQUAL(cfg.bootstrap.domain, "trust.hypermesh.online");
	CU_ASSERT_EQUAL(cfg.ca.cert_validity_hours, 24);
	CU_ASSERT_EQUAL(cfg.ca.permitted_suffixes.count, 2);
	CU_ASSERT_STRING_EQUAL(cfg.ca.permitted_suffixes.items[1], "localhost");
	CU_ASSERT_EQUAL(cfg.dns.quic_port, 8853);
	CU_ASSERT_EQUAL(cfg.dns.udp_port, 5300);
	CU_ASSERT_STRING_EQUAL(cfg.dns.listen_address, "127.0.0.1");
	CU_ASSERT_STRING_EQUAL(cfg.gateway.listen, "127.0.0.1:50051");
	CU_ASSERT_STRING_EQUAL(cfg.ct.http_listen, "127.0.0.1:6962");
	CU_ASSERT_FALSE(cfg.gateway.require_auth);
	CU_ASSERT_STRING_EQUAL(cfg.hsm.token_label, "trustchain-dev");
	/* data_dir is made absolute (children run from "/"), and the HSM files
	 * derive from it, so a dev run needs nothing but the binary. */
	char cwd[200], want[300];
	CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(cwd, sizeof(cwd)));
	snprintf(want, sizeof(want), "%s/data", strcmp(cwd, "/") ? cwd : "");
	CU_ASSERT_STRING_EQUAL(cfg.server.data_dir, want);
	snprintf(want, sizeof(want), "%s/data/hsm/user.pin", strcmp(cwd, "/") ? cwd : "");
	CU_ASSERT_STRING_EQUAL(cfg.hsm.pin_file, want);
	snprintf(want, sizeof(want), "%s/data/hsm/softhsm2.conf", strcmp(cwd, "/") ? cwd : "");
	CU_ASSERT_STRING_EQUAL(cfg.hsm.softhsm_conf, want);
	CU_ASSERT_STRING_EQUAL(cfg.server.log_level, "info");
}

/* Dev validates ACME names through our own resolver wherever dns.udp_port
 * and dns.listen_address put it; a resolver set in the file wins, and
 * production keeps the system's. */
static void test_dev_validation_resolver_follows_dns(void)
{
	CU_ASSERT_EQUAL_FATAL(tc_config_load(&cfg, NULL, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(cfg.acme.validation.resolver, "127.0.0.1:5300");
	CU_ASSERT_EQUAL_FATAL(load_text("server:\n  dev: true\ndns:\n  udp_port: 25353\n"), 0);
	CU_ASSERT_STRING_EQUAL(cfg.acme.validation.resolver, "127.0.0.1:25353");
	CU_ASSERT_EQUAL_FATAL(load_text("server:\n  dev: true\ndns:\n  udp_port: 25353\n  listen_address: \"::\"\n"), 0);
	CU_ASSERT_STRING_EQUAL(cfg.acme.validation.resolver, "[::1]:25353");
	CU_ASSERT_EQUAL_FATAL(load_text("server:\n  dev: true\ndns:\n  udp_port: 25353\n"
					"acme:\n  validation:\n    resolver: 127.0.0.2:53\n"),
			      0);
	CU_ASSERT_STRING_EQUAL(cfg.acme.validation.resolver, "127.0.0.2:53");
	CU_ASSERT_EQUAL_FATAL(load_text("dns:\n  udp_port: 25353\n"), 0);
	CU_ASSERT_STRING_EQUAL(cfg.acme.validation.resolver, "system");
}

/* trustchain-server pins the absolute data directory for its children. */
static void test_data_dir_pinned_by_supervisor(void)
{
	setenv("TC_DATA_DIR", "/srv/pinned", 1);
	int rc = tc_config_load(&cfg, NULL, err, sizeof(err));
	unsetenv("TC_DATA_DIR");
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(cfg.server.data_dir, "/srv/pinned");
	CU_ASSERT_STRING_EQUAL(cfg.hsm.pin_file, "/srv/pinned/hsm/user.pin");
}

/* An empty file is production defaults, not dev: a file means a deployment. */
static void test_empty_file_is_production_defaults(void)
{
	CU_ASSERT_EQUAL_FATAL(load_text(""), 0);
	CU_ASSERT_FALSE(cfg.dev);
	CU_ASSERT_STRING_EQUAL(cfg.path, cfg_path);
	CU_ASSERT_EQUAL(cfg.dns.quic_port, 853);
	CU_ASSERT_EQUAL(cfg.dns.udp_port, 53);
	CU_ASSERT_EQUAL(cfg.ca.permitted_suffixes.count, 1);
	CU_ASSERT_TRUE(cfg.gateway.require_auth);
	CU_ASSERT_STRING_EQUAL(cfg.hsm.pin_file, "/var/lib/trustchain/hsm/user.pin");
	CU_ASSERT_STRING_EQUAL(cfg.hsm.softhsm_conf, "");

	CU_ASSERT_EQUAL(load_text("# nothing but a comment\n"), 0);
	CU_ASSERT_FALSE(cfg.dev);
}

/* The example documents production defaults: loading it must give exactly
 * what an empty file gives, byte for byte. */
static void test_example_file_is_production_defaults(void)
{
	struct tc_config from_example, from_empty;
	int rc = tc_config_load(&from_example, TC_EXAMPLE_CONFIG, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "\n  %s\n", err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	write_file("");
	CU_ASSERT_EQUAL_FATAL(tc_config_load(&from_empty, cfg_path, err, sizeof(err)), 0);
	memset(from_example.path, 0, sizeof(from_example.path));
	memset(from_empty.path, 0, sizeof(from_empty.path));
	CU_ASSERT_EQUAL(memcmp(&from_example, &from_empty, sizeof(from_empty)), 0);
}

/* Collects the dotted paths of the leaves (scalars and sequences) of a YAML mapping. */
static void collect_leaves(yaml_document_t *doc, yaml_node_t *map, const char *prefix,
			   char (*paths)[128], size_t *n, size_t max)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		char path[128];
		snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "." : "",
			 (const char *)k->data.scalar.value);
		if (v->type == YAML_MAPPING_NODE)
			collect_leaves(doc, v, path, paths, n, max);
		else if (*n < max)
			memcpy(paths[(*n)++], path, sizeof(path));
	}
}

/* Every key of the schema is set in the example, and nothing else is. */
static void test_example_documents_every_key(void)
{
	FILE *f = fopen(TC_EXAMPLE_CONFIG, "rb");
	CU_ASSERT_FATAL(f != NULL);
	yaml_parser_t parser;
	yaml_document_t doc;
	CU_ASSERT_FATAL(yaml_parser_initialize(&parser));
	yaml_parser_set_input_file(&parser, f);
	CU_ASSERT_FATAL(yaml_parser_load(&parser, &doc));
	static char paths[128][128];
	size_t n = 0;
	collect_leaves(&doc, yaml_document_get_root_node(&doc), "", paths, &n, 128);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);

	CU_ASSERT_EQUAL(n, tc_cfg_key_count);
	for (size_t i = 0; i < tc_cfg_key_count; i++) {
		int found = 0;
		for (size_t j = 0; j < n; j++)
			found |= strcmp(paths[j], tc_cfg_keys[i].path) == 0;
		if (!found) {
			fprintf(stderr, "\n  %s missing from the example\n", tc_cfg_keys[i].path);
			CU_FAIL("schema key missing from ops/trustchain.yaml.example");
		}
	}
	/* PIN from a file, never inline. */
	CU_ASSERT_EQUAL(tc_config_load(&cfg, TC_EXAMPLE_CONFIG, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(cfg.hsm.pin_file, "/var/lib/trustchain/hsm/user.pin");
	CU_ASSERT_STRING_EQUAL(cfg.hsm.pin_env, "");
}

static void test_values_are_loaded(void)
{
	int rc = load_text("server:\n"
			   "  log_level: debug\n"
			   "  dev: yes\n"
			   "ca:\n"
			   "  cert_validity_hours: 9552\n"
			   "  permitted_suffixes: [example.org, Test.Example.NET]\n"
			   "  allow_wildcards: on\n"
			   "dns:\n"
			   "  quic_port: 65535\n"
			   "  upstreams:\n"
			   "    - 192.0.2.53\n"
			   "    - \"[2001:db8::1]:53\"\n"
			   "  records:\n"
			   "    - \"www 300 A 192.0.2.1\"\n"
			   "    - \"txt 60 TXT \\\"v=1 a b\\\"\"\n"
			   "gateway:\n"
			   "  listen: \"[::1]:443\"\n"
			   "hsm:\n"
			   "  pin_env: TC_PIN\n"
			   "  keys:\n"
			   "    root: my-root\n");
	if (rc != 0)
		fprintf(stderr, "\n  %s\n", err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	/* server.dev picks the dev defaults even though it comes after log_level. */
	CU_ASSERT_TRUE(cfg.dev);
	CU_ASSERT_EQUAL(cfg.dns.udp_port, 5300);
	CU_ASSERT_STRING_EQUAL(cfg.server.log_level, "debug");
	CU_ASSERT_EQUAL(cfg.ca.cert_validity_hours, 9552);
	CU_ASSERT_EQUAL(cfg.ca.permitted_suffixes.count, 2);
	CU_ASSERT_STRING_EQUAL(cfg.ca.permitted_suffixes.items[1], "Test.Example.NET");
	CU_ASSERT_TRUE(cfg.ca.allow_wildcards);
	CU_ASSERT_EQUAL(cfg.dns.quic_port, 65535);
	CU_ASSERT_EQUAL(cfg.dns.upstreams.count, 2);
	CU_ASSERT_STRING_EQUAL(cfg.dns.upstreams.items[1], "[2001:db8::1]:53");
	CU_ASSERT_EQUAL_FATAL(cfg.dns.record_count, 2);
	CU_ASSERT_STRING_EQUAL(cfg.dns.records[0].name, "www");
	CU_ASSERT_EQUAL(cfg.dns.records[0].ttl, 300);
	CU_ASSERT_STRING_EQUAL(cfg.dns.records[0].type, "A");
	CU_ASSERT_STRING_EQUAL(cfg.dns.records[0].rdata, "192.0.2.1");
	CU_ASSERT_STRING_EQUAL(cfg.dns.records[1].rdata, "\"v=1 a b\"");
	CU_ASSERT_STRING_EQUAL(cfg.gateway.listen, "[::1]:443");
	CU_ASSERT_STRING_EQUAL(cfg.hsm.pin_env, "TC_PIN");
	CU_ASSERT_STRING_EQUAL(cfg.hsm.pin_file, ""); /* no derived file when the env is used */
	CU_ASSERT_STRING_EQUAL(cfg.hsm.root_key_label, "my-root");
	CU_ASSERT_STRING_EQUAL(cfg.hsm.intermediate_key_label, "tc-intermediate");
}

static void test_unknown_keys(void)
{
	expect_error("foo: 1\n", 1, "foo: unknown key");
	expect_error("ca:\n  cert_validity_hours: 24\n  foo: bar\n", 3, "ca.foo: unknown key");
	expect_error("hsm:\n  keys:\n    root: a\n    backup: b\n", 4, "hsm.keys.backup: unknown key");
	/* A leaf key used as a section, and a section given a value. */
	expect_error("ca:\n  allow_wildcards:\n    x: 1\n", 3,
		     "ca.allow_wildcards: expected a single value, not a mapping");
	expect_error("ca: 5\n", 1, "ca: expected a mapping of keys");
	expect_error("? [a, b]\n: 1\n", 1, "(top): keys must be plain strings");
}

static void test_wrong_types(void)
{
	expect_error("ca:\n  cert_validity_hours: lots\n", 2,
		     "ca.cert_validity_hours: expected a whole number, got 'lots'");
	expect_error("ca:\n  cert_validity_hours: -5\n", 2,
		     "ca.cert_validity_hours: expected a whole number, got '-5'");
	expect_error("ca:\n  cert_validity_hours: 99999999999\n", 2,
		     "ca.cert_validity_hours: expected a whole number, got '99999999999'");
	expect_error("ca:\n  cert_validity_hours: 2.5\n", 2,
		     "ca.cert_validity_hours: expected a whole number, got '2.5'");
	expect_error("dns:\n  quic_port: [1, 2]\n", 2,
		     "dns.quic_port: expected a single value, not a list");
	expect_error("server:\n  log_level:\n    a: b\n", 3,
		     "server.log_level: expected a single value, not a mapping");
	expect_error("ca:\n  allow_wildcards: maybe\n", 2,
		     "ca.allow_wildcards: expected true or false, got 'maybe'");
	expect_error("ca:\n  permitted_suffixes: example.org\n", 2,
		     "ca.permitted_suffixes: expected a list");
	expect_error("ca:\n  permitted_suffixes:\n    - [nested]\n", 3,
		     "ca.permitted_suffixes: list entries must be strings");
	expect_error("server:\n  dev: maybe\n", 2, "server.dev: expected true or false, got 'maybe'");
}

static void test_out_of_range(void)
{
	expect_error("ca:\n  cert_validity_hours: 0\n", 2,
		     "ca.cert_validity_hours: 0 is out of range 1..9552");
	expect_error("\n\nca:\n  cert_validity_hours: 100000\n", 4,
		     "ca.cert_validity_hours: 100000 is out of range 1..9552");
	expect_error("ca:\n  min_rsa_bits: 1024\n", 2, "ca.min_rsa_bits: 1024 is out of range 2048..8192");
	expect_error("dns:\n  idle_timeout_ms: 99\n", 2,
		     "dns.idle_timeout_ms: 99 is out of range 100..3600000");
	expect_error("gateway:\n  threads: 257\n", 2, "gateway.threads: 257 is out of range 1..256");
}

static void test_bad_ports(void)
{
	expect_error("dns:\n  udp_port: 70000\n", 2, "dns.udp_port: expected a port 1..65535, got '70000'");
	expect_error("dns:\n  quic_port: 0\n", 2, "dns.quic_port: expected a port 1..65535, got '0'");
	expect_error("dns:\n  quic_port: dns\n", 2, "dns.quic_port: expected a port 1..65535, got 'dns'");
	/* Both are UDP: the same port is refused, blaming the line that set it. */
	expect_error("dns:\n  quic_port: 53\n", 2, "dns.quic_port: dns.quic_port and dns.udp_port must differ");
}

static void test_bad_hostport(void)
{
	expect_error("gateway:\n  listen: localhost\n", 2,
		     "gateway.listen: expected host:port, got 'localhost'");
	expect_error("gateway:\n  listen: \"::1:443\"\n", 2,
		     "gateway.listen: expected host:port, got '::1:443'");
	expect_error("ct:\n  http_listen: \"[::1]:0\"\n", 2,
		     "ct.http_listen: expected host:port, got '[::1]:0'");
	expect_error("ct:\n  http_listen: \":80\"\n", 2, "ct.http_listen: expected host:port, got ':80'");
	expect_error("ct:\n  http_listen: \"host:\"\n", 2, "ct.http_listen: expected host:port, got 'host:'");
	expect_error("ct:\n  http_listen: \"host:80x\"\n", 2,
		     "ct.http_listen: expected host:port, got 'host:80x'");
}

static void test_bad_dns_names(void)
{
	expect_error("bootstrap:\n  domain: bad..name\n", 2,
		     "bootstrap.domain: 'bad..name' is not a valid DNS name");
	expect_error("bootstrap:\n  domain: -lead.example\n", 2,
		     "bootstrap.domain: '-lead.example' is not a valid DNS name");
	expect_error("bootstrap:\n  domain: \"sp ace.example\"\n", 2,
		     "bootstrap.domain: 'sp ace.example' is not a valid DNS name");
	expect_error("ca:\n  permitted_suffixes: [ok.example, \"bad..x\"]\n", 2,
		     "ca.permitted_suffixes: 'bad..x' is not a valid DNS name");
	expect_error("\nca:\n  permitted_suffixes: []\n", 3,
		     "ca.permitted_suffixes: at least one suffix is required");
	CU_ASSERT_TRUE(tc_valid_dns_name("trust.hypermesh.online."));
	CU_ASSERT_FALSE(tc_valid_dns_name("a-.example"));
	CU_ASSERT_FALSE(tc_valid_dns_name(""));
	char label64[80];
	memset(label64, 'a', 64);
	strcpy(label64 + 64, ".com");
	CU_ASSERT_FALSE(tc_valid_dns_name(label64));
}

static void test_bad_log_level(void)
{
	expect_error("server:\n  log_level: verbose\n", 2,
		     "server.log_level: expected error, warn, info or debug, got 'verbose'");
}

static void test_duplicate_keys(void)
{
	expect_error("ca:\n  allow_wildcards: true\n  allow_wildcards: false\n", 3,
		     "ca.allow_wildcards: duplicate key (first set on line 2)");
	/* The same section twice is merged, but not the same key twice. */
	expect_error("ca:\n  allow_wildcards: true\nct:\n  batch_max: 5\nca:\n  allow_wildcards: true\n", 6,
		     "ca.allow_wildcards: duplicate key");
}

static void test_pin_file_and_env(void)
{
	expect_error("hsm:\n  pin_file: /etc/pin\n  pin_env: TC_PIN\n", 3,
		     "hsm.pin_env: set either hsm.pin_file or hsm.pin_env, not both");
}

static void test_too_long(void)
{
	char text[600];
	char big[300];
	memset(big, 'a', 299);
	big[299] = '\0';
	snprintf(text, sizeof(text), "hsm:\n  module: %s\n", big);
	expect_error(text, 2, "hsm.module: longer than 255 characters");
	memset(big, 'k', 64);
	big[64] = '\0';
	snprintf(text, sizeof(text), "hsm:\n  keys:\n    root: %s\n", big);
	expect_error(text, 3, "hsm.keys.root: longer than 63 characters");
	big[63] = '\0';
	snprintf(text, sizeof(text), "hsm:\n  keys:\n    root: %s\n", big);
	CU_ASSERT_EQUAL(load_text(text), 0);
}

static void test_syntax_errors(void)
{
	expect_error("ca:\n  a: b\n c: d\n", 3, "YAML syntax error: did not find expected key");
	expect_error("ca:\n  permitted_suffixes: [a,\n", 3, "YAML syntax error");
	expect_error("ca: \"unterminated\n", 2, "YAML syntax error");
	expect_error("a: 1\n---\nb: 2\n", 2, "only one YAML document is allowed");
}

static void test_top_level_not_a_mapping(void)
{
	expect_error("- a\n- b\n", 1, "(top): expected a mapping of sections");
	expect_error("\nhello\n", 2, "(top): expected a mapping of sections");
}

static void test_bad_dns_records(void)
{
	expect_error("dns:\n  records:\n    - \"www 300 A 192.0.2.1\"\n    - bad\n", 4,
		     "dns.records: expected \"name ttl TYPE rdata\", got 'bad'");
	expect_error("dns:\n  records:\n    - \"www x A 192.0.2.1\"\n", 3,
		     "dns.records: expected \"name ttl TYPE rdata\", got 'www x A 192.0.2.1'");
	expect_error("dns:\n  records:\n    - \"www 300 A\"\n", 3,
		     "dns.records: expected \"name ttl TYPE rdata\", got 'www 300 A'");
	expect_error("dns:\n  records:\n    - \"www 300 A \"\n", 3,
		     "dns.records: expected \"name ttl TYPE rdata\"");
	expect_error("dns:\n  records: \"www 300 A 192.0.2.1\"\n", 2, "dns.records: expected a list");
}

/* dns.tsig_keys_file, dns.secondaries and dns.update_policy (issue 12's
 * fixed interfaces): loaded as written, every malformed entry named. */
static void test_dns_transfer_and_update_keys(void)
{
	CU_ASSERT_EQUAL_FATAL(load_text("dns:\n"
					"  tsig_keys_file: /etc/trustchain/tsig.keys\n"
					"  secondaries:\n"
					"    - {address: \"192.0.2.53:53\", key: xfr-knot}\n"
					"    - address: \"[2001:db8::53]:5353\"\n"
					"      key: xfr-nsd.\n"
					"  update_policy:\n"
					"    - key: acme\n"
					"      names: [\"_acme-challenge.*\", \"*.dyn\", host.example.]\n"
					"      types: [TXT, A]\n"), 0);
	CU_ASSERT_STRING_EQUAL(cfg.dns.tsig_keys_file, "/etc/trustchain/tsig.keys");
	CU_ASSERT_EQUAL(cfg.dns.secondary_count, 2);
	CU_ASSERT_STRING_EQUAL(cfg.dns.secondaries[0].address, "192.0.2.53:53");
	CU_ASSERT_STRING_EQUAL(cfg.dns.secondaries[0].key, "xfr-knot");
	CU_ASSERT_STRING_EQUAL(cfg.dns.secondaries[1].address, "[2001:db8::53]:5353");
	CU_ASSERT_STRING_EQUAL(cfg.dns.secondaries[1].key, "xfr-nsd.");
	CU_ASSERT_EQUAL(cfg.dns.update_rule_count, 1);
	CU_ASSERT_STRING_EQUAL(cfg.dns.update_policy[0].key, "acme");
	CU_ASSERT_EQUAL(cfg.dns.update_policy[0].names.count, 3);
	CU_ASSERT_STRING_EQUAL(cfg.dns.update_policy[0].names.items[0], "_acme-challenge.*");
	CU_ASSERT_EQUAL(cfg.dns.update_policy[0].type_count, 2);
	CU_ASSERT_STRING_EQUAL(cfg.dns.update_policy[0].types[1], "A");

	expect_error("dns:\n  tsig_keys_file: k\n  secondaries:\n    - {address: \"192.0.2.1\", key: a}\n",
		     4, "dns.secondaries: address: expected host:port, got '192.0.2.1'");
	expect_error("dns:\n  tsig_keys_file: k\n  secondaries:\n    - {address: \"192.0.2.1:53\"}\n",
		     4, "dns.secondaries: each secondary needs address and key");
	expect_error("dns:\n  tsig_keys_file: k\n  secondaries:\n    - {address: \"192.0.2.1:53\", key: a, port: 1}\n",
		     4, "dns.secondaries: unknown key 'port' (address, key)");
	expect_error("dns:\n  tsig_keys_file: k\n  secondaries: [\"192.0.2.1:53\"]\n", 3,
		     "dns.secondaries: entries must be mappings");
	expect_error("dns:\n  tsig_keys_file: k\n  update_policy:\n    - {key: a, names: [x], types: [SOA]}\n",
		     4, "dns.update_policy: types: 'SOA' is not a type an update may change");
	expect_error("dns:\n  tsig_keys_file: k\n  update_policy:\n    - {key: a, names: [\"a.*.b\"], types: [TXT]}\n",
		     4, "dns.update_policy: names: 'a.*.b' is not a name or pattern");
	expect_error("dns:\n  tsig_keys_file: k\n  update_policy:\n    - {key: a, types: [TXT]}\n",
		     4, "dns.update_policy: each grant needs key, names and types");
	expect_error("dns:\n  secondaries:\n    - {address: \"192.0.2.1:53\", key: a}\n", 2,
		     "dns.secondaries: names TSIG keys: set dns.tsig_keys_file");
}

static void test_list_too_long(void)
{
	char text[1024] = "ca:\n  permitted_suffixes: [";
	for (int i = 0; i < 17; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "%sn%d.example",
			 i ? ", " : "", i);
	strcat(text, "]\n");
	expect_error(text, 2, "ca.permitted_suffixes: at most 16 entries");

	char recs[2048] = "\ndns:\n  records:\n";
	for (int i = 0; i < 17; i++)
		snprintf(recs + strlen(recs), sizeof(recs) - strlen(recs), "    - \"h%d 60 A 192.0.2.%d\"\n",
			 i, i);
	expect_error(recs, 4, "dns.records: at most 16 entries");

	/* Exactly 16 is fine. */
	char ok[1024] = "dns:\n  upstreams: [";
	for (int i = 0; i < 16; i++)
		snprintf(ok + strlen(ok), sizeof(ok) - strlen(ok), "%s192.0.2.%d", i ? ", " : "", i);
	strcat(ok, "]\n");
	CU_ASSERT_EQUAL(load_text(ok), 0);
	CU_ASSERT_EQUAL(cfg.dns.upstreams.count, 16);
}

static void test_other_errors(void)
{
	expect_error("server:\n  data_dir: \"\"\n", 2, "server.data_dir: must not be empty");
	err[0] = '\0';
	CU_ASSERT_EQUAL(tc_config_load(&cfg, "/nonexistent/trustchain.yaml", err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/trustchain.yaml: cannot open: "));
	/* A self-referencing alias must end in an error, not a loop. */
	expect_error("hsm: &x\n  keys: *x\n", 2, "hsm.keys.keys: unknown key");
}

static void test_data_path(void)
{
	tc_config_defaults(&cfg, false);
	char out[64];
	CU_ASSERT_EQUAL(tc_config_data_path(&cfg, "journal.log", out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "/var/lib/trustchain/journal.log");
	CU_ASSERT_EQUAL(tc_config_data_path(&cfg, "journal.log", out, 10), -1);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"defaults without a file (dev)", test_defaults_without_file},
		{"data_dir pinned by the supervisor", test_data_dir_pinned_by_supervisor},
		{"empty file = production defaults", test_empty_file_is_production_defaults},
		{"example file = production defaults", test_example_file_is_production_defaults},
		{"example file documents every key", test_example_documents_every_key},
		{"values are loaded", test_values_are_loaded},
		{"unknown keys", test_unknown_keys},
		{"wrong types", test_wrong_types},
		{"out of range", test_out_of_range},
		{"bad ports", test_bad_ports},
		{"bad host:port", test_bad_hostport},
		{"bad DNS names", test_bad_dns_names},
		{"bad log level", test_bad_log_level},
		{"duplicate keys", test_duplicate_keys},
		{"pin_file and pin_env", test_pin_file_and_env},
		{"values too long", test_too_long},
		{"YAML syntax errors", test_syntax_errors},
		{"top level not a mapping", test_top_level_not_a_mapping},
		{"bad dns.records", test_bad_dns_records},
		{"dns.tsig_keys_file, dns.secondaries, dns.update_policy", test_dns_transfer_and_update_keys},
		{"list too long", test_list_too_long},
		{"other errors", test_other_errors},
		{"data path", test_data_path},
		{"dev: acme.validation.resolver follows dns.udp_port", test_dev_validation_resolver_follows_dns},
		{NULL, NULL},
	};
	return tc_run_suite("config", tests, suite_init, suite_cleanup);
}
