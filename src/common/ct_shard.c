/* Temporal shards of the CT log: see ct_shard.h. */
#include "common/ct_shard.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/cert_der.h"

size_t tc_ct_shards(const struct tc_config *cfg, struct tc_ct_shard *out)
{
	if (cfg->ct.log_count == 0) {
		memset(&out[0], 0, sizeof(out[0]));
		out[0].not_after_start = INT64_MIN;
		out[0].not_after_end = INT64_MAX;
		out[0].frozen = cfg->ct.frozen;
		snprintf(out[0].key_label, sizeof(out[0].key_label), "%s", cfg->hsm.ct_key_label);
		return 1;
	}
	for (size_t i = 0; i < cfg->ct.log_count; i++) {
		const struct tc_ct_log_cfg *l = &cfg->ct.logs[i];
		memset(&out[i], 0, sizeof(out[i]));
		snprintf(out[i].name, sizeof(out[i].name), "%s", l->name);
		out[i].not_after_start = l->not_after_start;
		out[i].not_after_end = l->not_after_end;
		out[i].frozen = l->frozen;
		if (l->key_label[0])
			snprintf(out[i].key_label, sizeof(out[i].key_label), "%s", l->key_label);
		else
			snprintf(out[i].key_label, sizeof(out[i].key_label), "%s-%s", cfg->hsm.ct_key_label, l->name);
	}
	return cfg->ct.log_count;
}

int tc_ct_shard_holds(const struct tc_ct_shard *s, int64_t not_after)
{
	return not_after >= s->not_after_start && not_after < s->not_after_end;
}

int tc_ct_shard_pick(const struct tc_ct_shard *s, size_t n, int64_t not_after)
{
	for (size_t i = 0; i < n; i++)
		if (tc_ct_shard_holds(&s[i], not_after))
			return (int)i;
	return -1;
}

int tc_ct_shard_find(const struct tc_ct_shard *s, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int digits(const uint8_t *p, size_t n, int *out)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

/* RFC 5280 4.1.2.5: UTCTime YYMMDDHHMMSSZ (YY >= 50 is 19YY) or
 * GeneralizedTime YYYYMMDDHHMMSSZ, always in Z. */
static int der_time(const struct tc_der_elem *e, int64_t *out)
{
	const uint8_t *p = e->val;
	int year, mon, day, h, m, sec;
	size_t y;
	if (e->tag == 0x17 && e->val_len == 13)
		y = 2;
	else if (e->tag == 0x18 && e->val_len == 15)
		y = 4;
	else
		return -1;
	if (p[e->val_len - 1] != 'Z' || digits(p, y, &year) != 0 || digits(p + y, 2, &mon) != 0 ||
	    digits(p + y + 2, 2, &day) != 0 || digits(p + y + 4, 2, &h) != 0 || digits(p + y + 6, 2, &m) != 0 ||
	    digits(p + y + 8, 2, &sec) != 0)
		return -1;
	if (y == 2)
		year += year >= 50 ? 1900 : 2000;
	if (mon < 1 || mon > 12 || day < 1 || day > 31 || h > 23 || m > 59 || sec > 60)
		return -1;
	struct tm tm = {.tm_year = year - 1900, .tm_mon = mon - 1, .tm_mday = day, .tm_hour = h, .tm_min = m,
			.tm_sec = sec};
	time_t t = timegm(&tm);
	if (t == (time_t)-1 && year != 1969)
		return -1;
	*out = (int64_t)t;
	return 0;
}

int tc_cert_not_after(const uint8_t *der, size_t len, int64_t *out)
{
	struct tc_cert_view v;
	char err[128];
	if (tc_cert_view_parse(der, len, &v, err, sizeof(err)) != 0)
		return -1;
	return der_time(&v.tbs.not_after, out);
}

static void utc(int64_t t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, outlen, "%lld", (long long)t);
}

void tc_ct_shard_window(const struct tc_ct_shard *s, char *out, size_t outlen)
{
	char a[32] = "-inf", b[32] = "+inf";
	if (s->not_after_start != INT64_MIN)
		utc(s->not_after_start, a, sizeof(a));
	if (s->not_after_end != INT64_MAX)
		utc(s->not_after_end, b, sizeof(b));
	snprintf(out, outlen, "[%s, %s)", a, b);
}

int tc_ct_shard_for_cert(const struct tc_config *cfg, const uint8_t *der, size_t len, char *name, char *err,
			 size_t errlen)
{
	struct tc_ct_shard s[TC_CFG_MAX_CT_LOGS];
	size_t n = tc_ct_shards(cfg, s);
	int64_t na;
	if (tc_cert_not_after(der, len, &na) != 0) {
		snprintf(err, errlen, "the certificate's notAfter does not decode");
		return -1;
	}
	int i = tc_ct_shard_pick(s, n, na);
	if (i < 0) {
		char when[32];
		utc(na, when, sizeof(when));
		snprintf(err, errlen, "no CT log (ct.logs) takes notAfter %s", when);
		return -1;
	}
	snprintf(name, TC_CT_LOG_NAME_MAX, "%s", s[i].name);
	return 0;
}

const char *tc_ct_shard_name_for_cert(const struct tc_config *cfg, const uint8_t *der, size_t len)
{
	int64_t na;
	if (!cfg || cfg->ct.log_count == 0 || tc_cert_not_after(der, len, &na) != 0)
		return "";
	for (size_t i = 0; i < cfg->ct.log_count; i++)
		if (na >= cfg->ct.logs[i].not_after_start && na < cfg->ct.logs[i].not_after_end)
			return cfg->ct.logs[i].name;
	return "";
}

int tc_ct_shard_rel(const struct tc_ct_shard *s, enum tc_ct_shard_file f, char *out, size_t outlen)
{
	static const char *const single[] = {"ct/log", "ct/submissions", "ct/log_public_key.pem", "ct/log_id.txt"};
	static const char *const fmt[] = {"ct/logs/%s/log", "ct/logs/%s/submissions", "ct/keys/%s.pem",
					  "ct/keys/%s.log_id.txt"};
	if ((unsigned)f >= sizeof(single) / sizeof(single[0]))
		return -1;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	int n = s->name[0] ? snprintf(out, outlen, fmt[f], s->name) : snprintf(out, outlen, "%s", single[f]);
#pragma GCC diagnostic pop
	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

int tc_ct_shard_path(const struct tc_config *cfg, const struct tc_ct_shard *s, enum tc_ct_shard_file f, char *out,
		     size_t outlen)
{
	char rel[TC_CT_LOG_NAME_MAX + 32];
	return tc_ct_shard_rel(s, f, rel, sizeof(rel)) == 0 ? tc_config_data_path(cfg, rel, out, outlen) : -1;
}
