/* ct.logs: see config_ct.h. */
#include "common/config_ct.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int bad_at(const yaml_node_t *n, const yaml_node_t **bad, char *why, size_t whylen, const char *msg,
		  const char *arg)
{
	*bad = n;
	snprintf(why, whylen, "%s%s%s", msg, arg ? ": " : "", arg ? arg : "");
	return -1;
}

static const char *scalar_of(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

int tc_config_rfc3339_utc(const char *s, int64_t *out)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	/* Only the one unambiguous form: a zone offset or fraction would make
	 * two spellings of one window edge. */
	if (strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
	    s[19] != 'Z')
		return -1;
	for (int i = 0; i < 19; i++)
		if (i != 4 && i != 7 && i != 10 && i != 13 && i != 16 && (s[i] < '0' || s[i] > '9'))
			return -1;
	int f[6], at[6] = {0, 5, 8, 11, 14, 17}, w[6] = {4, 2, 2, 2, 2, 2};
	for (int i = 0; i < 6; i++) {
		f[i] = 0;
		for (int j = 0; j < w[i]; j++)
			f[i] = f[i] * 10 + (s[at[i] + j] - '0');
	}
	if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 59)
		return -1;
	tm.tm_year = f[0] - 1900;
	tm.tm_mon = f[1] - 1;
	tm.tm_mday = f[2];
	tm.tm_hour = f[3];
	tm.tm_min = f[4];
	tm.tm_sec = f[5];
	int mon = tm.tm_mon, mday = tm.tm_mday;
	time_t t = timegm(&tm);
	/* timegm normalizes Feb 30 into March: refuse what moved. */
	if (t == (time_t)-1 || tm.tm_mon != mon || tm.tm_mday != mday)
		return -1;
	*out = (int64_t)t;
	return 0;
}

int tc_config_ct_log_name_ok(const char *name)
{
	static const char *const reserved[] = {"ct", "checkpoint", "tile", "issuer", "metrics"};
	size_t n = strlen(name);
	if (n == 0 || n >= TC_CT_LOG_NAME_MAX || name[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '-'))
			return 0;
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcmp(name, reserved[i]) == 0)
			return 0;
	return 1;
}

static int read_log(yaml_document_t *doc, yaml_node_t *map, struct tc_ct_log_cfg *out, const yaml_node_t **bad,
		    char *why, size_t whylen)
{
	memset(out, 0, sizeof(*out));
	out->not_after_start = INT64_MIN;
	out->not_after_end = INT64_MAX;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(doc, p->value);
		const char *k = scalar_of(kn), *v = scalar_of(vn);
		if (!k)
			return bad_at(kn ? kn : map, bad, why, whylen, "keys must be plain strings", NULL);
		if (!v)
			return bad_at(vn ? vn : kn, bad, why, whylen, "expected a single value", k);
		if (strcmp(k, "name") == 0) {
			if (!tc_config_ct_log_name_ok(v))
				return bad_at(vn, bad, why, whylen,
					      "name: 1-31 of a-z 0-9 '-', not ct/checkpoint/tile/issuer/metrics", v);
			snprintf(out->name, sizeof(out->name), "%s", v);
		} else if (strcmp(k, "not_after_start") == 0 || strcmp(k, "not_after_end") == 0) {
			int64_t *t = k[10] == 's' ? &out->not_after_start : &out->not_after_end;
			if (tc_config_rfc3339_utc(v, t) != 0)
				return bad_at(vn, bad, why, whylen, "expected a UTC time YYYY-MM-DDTHH:MM:SSZ", k);
		} else if (strcmp(k, "frozen") == 0) {
			if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
				return bad_at(vn, bad, why, whylen, "frozen: expected true or false", NULL);
			out->frozen = v[0] == 't';
		} else if (strcmp(k, "key_label") == 0) {
			if (!v[0] || strlen(v) >= sizeof(out->key_label))
				return bad_at(vn, bad, why, whylen, "key_label: 1 to 63 characters", NULL);
			snprintf(out->key_label, sizeof(out->key_label), "%s", v);
		} else {
			return bad_at(kn, bad, why, whylen,
				      "unknown key (name, not_after_start, not_after_end, frozen, key_label)", k);
		}
	}
	if (!out->name[0])
		return bad_at(map, bad, why, whylen, "each log needs a name", NULL);
	if (out->not_after_start >= out->not_after_end)
		return bad_at(map, bad, why, whylen, "not_after_start must be before not_after_end", out->name);
	return 0;
}

int tc_config_ct_logs(struct tc_config *cfg, yaml_document_t *doc, yaml_node_t *node, const yaml_node_t **bad,
		      char *why, size_t whylen)
{
	if (node->type != YAML_SEQUENCE_NODE)
		return bad_at(node, bad, why, whylen, "expected a list", NULL);
	size_t n = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
	if (n > TC_CFG_MAX_CT_LOGS) {
		*bad = node;
		snprintf(why, whylen, "at most %d logs", TC_CFG_MAX_CT_LOGS);
		return -1;
	}
	size_t i = 0;
	for (yaml_node_item_t *it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++, i++) {
		yaml_node_t *item = yaml_document_get_node(doc, *it);
		if (!item || item->type != YAML_MAPPING_NODE)
			return bad_at(item ? item : node, bad, why, whylen, "entries must be mappings", NULL);
		struct tc_ct_log_cfg *l = &cfg->ct.logs[i];
		if (read_log(doc, item, l, bad, why, whylen) != 0)
			return -1;
		/* One shard per notAfter: issuance must never have to choose. */
		for (size_t j = 0; j < i; j++) {
			const struct tc_ct_log_cfg *o = &cfg->ct.logs[j];
			if (strcmp(o->name, l->name) == 0)
				return bad_at(item, bad, why, whylen, "duplicate log name", l->name);
			if (l->not_after_start < o->not_after_end && o->not_after_start < l->not_after_end) {
				*bad = item;
				snprintf(why, whylen, "the notAfter window of '%s' overlaps that of '%s'", l->name,
					 o->name);
				return -1;
			}
		}
	}
	cfg->ct.log_count = n;
	return 0;
}
