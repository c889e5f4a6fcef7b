#include "common/config_acme.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/config_schema.h"

int tc_config_acme_enabled(const struct tc_config *cfg)
{
	return cfg->acme.listen[0] && strcmp(cfg->acme.listen, "off") != 0;
}

/* 0 when s is a textual IPv4 or IPv6 address. */
static int parse_ip(const char *s)
{
	unsigned char buf[16];
	return (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1) ? 0 : -1;
}

static int add_name(struct tc_string_list *l, const char *name)
{
	if (l->count >= TC_CFG_MAX_LIST)
		return -1;
	snprintf(l->items[l->count++], TC_CFG_STR, "%s", name);
	return 0;
}

int tc_config_acme_check(struct tc_config *cfg, const char **key, char *why, size_t whylen)
{
	char host[TC_CFG_STR];
	uint16_t port;
	const char *resolver = cfg->acme.validation.resolver;
	if (strcmp(resolver, "system") != 0 && tc_split_hostport(resolver, host, sizeof(host), &port) != 0) {
		*key = "acme.validation.resolver";
		snprintf(why, whylen, "expected \"system\" or host:port, got '%s'", resolver);
		return -1;
	}
	if (!tc_config_acme_enabled(cfg))
		return 0;
	if (tc_split_hostport(cfg->acme.listen, host, sizeof(host), &port) != 0) {
		*key = "acme.listen";
		snprintf(why, whylen, "expected host:port or off, got '%s'", cfg->acme.listen);
		return -1;
	}
	if (cfg->acme.tls_names.count == 0) {
		/* A client names the server as it reaches it; a wildcard address
		 * names nothing, so the operator must say. */
		if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0) {
			*key = "acme.tls_names";
			snprintf(why, whylen, "acme.listen '%s' is a wildcard address: list the server's names",
				 cfg->acme.listen);
			return -1;
		}
		if (strcmp(host, "127.0.0.1") == 0 || strcmp(host, "::1") == 0)
			add_name(&cfg->acme.tls_names, "localhost");
		add_name(&cfg->acme.tls_names, host);
	}
	for (size_t i = 0; i < cfg->acme.tls_names.count; i++) {
		const char *n = cfg->acme.tls_names.items[i];
		if (!tc_valid_dns_name(n) && parse_ip(n) != 0) {
			*key = "acme.tls_names";
			snprintf(why, whylen, "'%s' is neither a DNS name nor an IP address", n);
			return -1;
		}
	}
	if (!cfg->acme.eab_keys_file[0] &&
	    tc_config_data_path(cfg, "acme/eab_keys", cfg->acme.eab_keys_file, sizeof(cfg->acme.eab_keys_file)) != 0) {
		*key = "acme.eab_keys_file";
		snprintf(why, whylen, "path under server.data_dir too long");
		return -1;
	}
	return 0;
}
