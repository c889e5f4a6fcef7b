#include "acme/identifiers.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "acme/problem.h"
#include "common/config_schema.h"
#include "common/name_pattern.h"

#define NAME_MAX_LEN 253

/* name is suffix or under it (as the signer's policy reads
 * ca.permitted_suffixes). */
static int under_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);
	return n >= s && strcasecmp(name + n - s, suffix) == 0 && (n == s || name[n - s - 1] == '.');
}

static int permitted(const struct tc_config *cfg, const char *base)
{
	for (size_t i = 0; i < cfg->ca.permitted_suffixes.count; i++)
		if (under_suffix(base, cfg->ca.permitted_suffixes.items[i]))
			return 1;
	return 0;
}

static int eab_covers(const json_t *account, const char *value, int is_ip)
{
	const json_t *pats = json_object_get(account, "patterns");
	if (!pats)
		return 1; /* not bound by EAB: the CA's policy alone decides */
	size_t i;
	const json_t *p;
	json_array_foreach(pats, i, p)
		if (json_is_string(p) && tc_name_pattern_match(json_string_value(p), value, is_ip))
			return 1;
	return 0;
}

/* One identifier: canonical value into out, or the problem type and
 * detail. */
static const char *check_one(struct tc_acme *a, const json_t *account, const json_t *id, char *out, size_t outlen,
			     const char **type_out, char *detail, size_t dl)
{
	const struct tc_config *cfg = a->cfg;
	const char *type = json_string_value(json_object_get(id, "type"));
	const json_t *vj = json_object_get(id, "value");
	const char *value = json_string_value(vj);
	*type_out = type;
	if (!json_is_object(id) || !type || !value || strlen(value) != json_string_length(vj)) {
		snprintf(detail, dl, "identifier needs string type and value (no NUL)");
		return "malformed";
	}
	if (strcmp(type, "ip") == 0) {
		unsigned char addr[16];
		int af = strchr(value, ':') ? AF_INET6 : AF_INET;
		if (inet_pton(af, value, addr) != 1) {
			snprintf(detail, dl, "%.64s is not an IP address", value);
			return "malformed";
		}
		inet_ntop(af, addr, out, (socklen_t)outlen);
		/* The signer issues IP addresses only in dev (services on loopback). */
		if (!cfg->dev) {
			snprintf(detail, dl, "IP address identifiers are not issued by this CA");
			return "rejectedIdentifier";
		}
		if (!eab_covers(account, out, 1)) {
			snprintf(detail, dl, "%.200s is not covered by this account's external binding", out);
			return "rejectedIdentifier";
		}
		return NULL;
	}
	if (strcmp(type, "dns") != 0) {
		snprintf(detail, dl, "identifier type %.32s is not supported (dns, ip)", type);
		return "unsupportedIdentifier";
	}
	size_t n = strlen(value);
	if (n == 0 || n > NAME_MAX_LEN || value[n - 1] == '.') {
		snprintf(detail, dl, "%.64s is not a DNS name", value);
		return "malformed";
	}
	for (size_t i = 0; i <= n; i++)
		out[i] = (char)tolower((unsigned char)value[i]);
	int wildcard = strncmp(out, "*.", 2) == 0;
	const char *base = wildcard ? out + 2 : out;
	if (!tc_valid_dns_name(base) || strchr(base, '*') || tc_name_is_ip(base) || !strchr(base, '.')) {
		snprintf(detail, dl, "%.64s is not a valid DNS name", value);
		return strchr(base, '.') ? "malformed" : "rejectedIdentifier";
	}
	if (wildcard && !(cfg->acme.allow_wildcards && cfg->ca.allow_wildcards)) {
		snprintf(detail, dl, "wildcard names are not issued here");
		return "rejectedIdentifier";
	}
	if (!permitted(cfg, base)) {
		snprintf(detail, dl, "%.200s is outside the names this CA issues for", out);
		return "rejectedIdentifier";
	}
	if (!eab_covers(account, out, 0)) {
		snprintf(detail, dl, "%.200s is not covered by this account's external binding", out);
		return "rejectedIdentifier";
	}
	return NULL;
}

int tc_acme_check_identifiers(struct tc_acme *a, const json_t *account, const json_t *idents, json_t **out,
			      struct tc_acme_resp *r)
{
	if (!json_is_array(idents) || json_array_size(idents) == 0)
		return tc_acme_problem(r, "malformed", 0, NULL, "identifiers must be a non-empty array");
	if (json_array_size(idents) > a->cfg->acme.max_identifiers)
		return tc_acme_problem(r, "rejectedIdentifier", 0, NULL, "at most %u identifiers per order",
				       a->cfg->acme.max_identifiers);
	json_t *canon = json_array(), *subs = json_array();
	const char *first = NULL;
	size_t i;
	const json_t *id;
	json_array_foreach(idents, i, id) {
		char value[NAME_MAX_LEN + 2], detail[320];
		const char *type = NULL;
		const char *err = check_one(a, account, id, value, sizeof(value), &type, detail, sizeof(detail));
		if (err) {
			const char *v = json_string_value(json_object_get(id, "value"));
			json_array_append_new(subs, tc_acme_problem_json(err, detail, type ? type : "?", v ? v : ""));
			if (!first)
				first = err;
			continue;
		}
		int dup = 0;
		size_t k;
		const json_t *c;
		json_array_foreach(canon, k, c)
			dup |= strcmp(json_string_value(json_object_get(c, "type")), type) == 0 &&
			       strcmp(json_string_value(json_object_get(c, "value")), value) == 0;
		if (!dup)
			json_array_append_new(canon, json_pack("{s:s, s:s}", "type", type, "value", value));
	}
	if (first) {
		json_decref(canon);
		size_t nsub = json_array_size(subs);
		return tc_acme_problem(r, first, 0, subs,
				       "%zu of %zu identifiers refused", nsub, json_array_size(idents));
	}
	json_decref(subs);
	*out = canon;
	return 0;
}
