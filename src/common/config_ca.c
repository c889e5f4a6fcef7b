#include "common/config_ca.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config_schema.h"

#define AUTO "auto"

static const struct {
	size_t offset;
	const char *key;
	const char *path; /* on the HTTP listener (crl_http.c serves these) */
} URLS[] = {
	{offsetof(struct tc_config, ca.crl_url), "ca.crl_url", "/crl/intermediate.crl"},
	{offsetof(struct tc_config, ca.issuer_url), "ca.issuer_url", "/ca/intermediate.crt"},
	{offsetof(struct tc_config, ca.root_crl_url), "ca.root_crl_url", "/crl/root.crl"},
	{offsetof(struct tc_config, ca.root_url), "ca.root_url", "/ca/root.crt"},
};

static char *url_field(struct tc_config *cfg, size_t i)
{
	return (char *)cfg + URLS[i].offset;
}

void tc_config_ca_defaults(struct tc_config *cfg, bool dev)
{
	for (size_t i = 0; i < sizeof(URLS) / sizeof(URLS[0]); i++)
		snprintf(url_field(cfg, i), TC_CFG_STR, dev ? "http://127.0.0.1:8080%s" : AUTO, URLS[i].path);
	snprintf(cfg->gateway.http_listen, sizeof(cfg->gateway.http_listen), "%s",
		 dev ? "127.0.0.1:8080" : "0.0.0.0:8080");
}

int tc_config_http_enabled(const struct tc_config *cfg)
{
	return cfg->gateway.http_listen[0] && strcmp(cfg->gateway.http_listen, "off") != 0;
}

/* What lint.c accepts in a CDP/AIA: http://host..., no space, no control
 * byte, ASCII. */
static int url_ok(const char *u)
{
	size_t n = strlen(u);
	if (n <= 7 || strncmp(u, "http://", 7) != 0 || u[7] == '/')
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f)
			return 0;
	return 1;
}

size_t tc_cidr_parse(const char *text, uint8_t out[32])
{
	char addr[64];
	const char *slash = strchr(text, '/');
	if (!slash || (size_t)(slash - text) >= sizeof(addr))
		return 0;
	memcpy(addr, text, (size_t)(slash - text));
	addr[slash - text] = '\0';
	char *end;
	long bits = strtol(slash + 1, &end, 10);
	if (*end || end == slash + 1)
		return 0;
	size_t n;
	if (inet_pton(AF_INET, addr, out) == 1)
		n = 4;
	else if (inet_pton(AF_INET6, addr, out) == 1)
		n = 16;
	else
		return 0;
	if (bits < 0 || bits > (long)(8 * n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		long left = bits - 8 * (long)i;
		uint8_t m = left >= 8 ? 0xff : left <= 0 ? 0 : (uint8_t)(0xff << (8 - left));
		out[n + i] = m;
		if (out[i] & ~m) /* host bits set: a typo, never what was meant */
			return 0;
	}
	return 2 * n;
}

static int check_cidrs(const struct tc_string_list *l, const char *key, const char **bad, char *why,
		       size_t whylen)
{
	uint8_t b[32];
	for (size_t i = 0; i < l->count; i++)
		if (!tc_cidr_parse(l->items[i], b)) {
			*bad = key;
			snprintf(why, whylen, "'%s' is not an address/prefix with its host bits zero", l->items[i]);
			return -1;
		}
	return 0;
}

int tc_config_ca_check(struct tc_config *cfg, const char **key, char *why, size_t whylen)
{
	for (size_t i = 0; i < sizeof(URLS) / sizeof(URLS[0]); i++) {
		char *u = url_field(cfg, i);
		if (strcmp(u, AUTO) == 0) {
			char v[TC_CFG_STR + 64];
			snprintf(v, sizeof(v), "http://ca.%s:8080%s", cfg->bootstrap.domain, URLS[i].path);
			if (strlen(v) >= TC_CFG_STR) {
				*key = URLS[i].key;
				snprintf(why, whylen, "bootstrap.domain is too long to make the default URL");
				return -1;
			}
			memcpy(u, v, strlen(v) + 1);
		}
		if (u[0] && !url_ok(u)) {
			*key = URLS[i].key;
			snprintf(why, whylen, "'%s' is not an http:// URL (plain HTTP: CRLs and certificates are "
					      "signed, and a TLS fetch would need them first)",
				 u);
			return -1;
		}
	}
	if (tc_config_http_enabled(cfg)) {
		char host[TC_CFG_STR];
		uint16_t port;
		if (tc_split_hostport(cfg->gateway.http_listen, host, sizeof(host), &port) != 0) {
			*key = "gateway.http_listen";
			snprintf(why, whylen, "expected host:port or off, got '%s'", cfg->gateway.http_listen);
			return -1;
		}
	}
	for (size_t i = 0; i < cfg->ca.excluded_suffixes.count; i++)
		if (!tc_valid_dns_name(cfg->ca.excluded_suffixes.items[i])) {
			*key = "ca.excluded_suffixes";
			snprintf(why, whylen, "'%s' is not a valid DNS name", cfg->ca.excluded_suffixes.items[i]);
			return -1;
		}
	if (check_cidrs(&cfg->ca.permitted_ip_ranges, "ca.permitted_ip_ranges", key, why, whylen) != 0 ||
	    check_cidrs(&cfg->ca.excluded_ip_ranges, "ca.excluded_ip_ranges", key, why, whylen) != 0)
		return -1;
	return 0;
}
