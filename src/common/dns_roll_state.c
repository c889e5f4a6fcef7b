/* The DNSSEC key roll state file: see dns_roll_state.h. */
#include "common/dns_roll_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/errorf.h"
#include "common/file_read.h"
#include "common/file_replace.h"

#define MAGIC "trustchain-dns-roll 1"
#define MAX_FIELDS 12

static const char *const role_names[] = {"csk", "ksk", "zsk"};
static const char *const phase_names[] = {"published", "active", "retired"};

const char *tc_dns_key_role_name(enum tc_dns_key_role r) { return role_names[r]; }
const char *tc_dns_key_phase_name(enum tc_dns_key_phase p) { return phase_names[p]; }

struct field {
	const char *p;
	size_t n;
};

/* Splits one line at single spaces; -1 for an empty field or too many. */
static int split(const char *line, size_t n, struct field *f, size_t *nf)
{
	*nf = 0;
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && line[i] != ' ')
			continue;
		if (i == start || *nf == MAX_FIELDS)
			return -1;
		f[*nf].p = line + start;
		f[(*nf)++].n = i - start;
		start = i + 1;
	}
	return 0;
}

static bool is(const struct field *f, const char *word)
{
	return f->n == strlen(word) && memcmp(f->p, word, f->n) == 0;
}

static int word(const struct field *f, const char *const *names, int count)
{
	for (int i = 0; i < count; i++)
		if (is(f, names[i]))
			return i;
	return -1;
}

/* A decimal of at most 12 digits (Unix seconds to year 33658, or a TTL). */
static int number(const struct field *f, int64_t max, int64_t *out)
{
	if (f->n == 0 || f->n > 12)
		return -1;
	int64_t v = 0;
	for (size_t i = 0; i < f->n; i++) {
		if (f->p[i] < '0' || f->p[i] > '9')
			return -1;
		v = v * 10 + (f->p[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static int label(const struct field *f, char *out)
{
	if (!tc_key_label_ok(f->p, f->n))
		return -1;
	memcpy(out, f->p, f->n);
	out[f->n] = '\0';
	return 0;
}

const struct tc_dns_roll_key *tc_dns_roll_state_find(const struct tc_dns_roll_state *st,
						     const char *l, size_t len)
{
	for (size_t i = 0; i < st->nkeys; i++)
		if (strlen(st->key[i].label) == len && memcmp(st->key[i].label, l, len) == 0)
			return &st->key[i];
	return NULL;
}

static int key_line(const struct field *f, size_t nf, struct tc_dns_roll_state *st, char *why, size_t wl)
{
	if (nf != 5)
		return tc_errorf(why, wl, "a key line has 5 fields");
	if (st->nkeys == TC_DNS_ROLL_MAX_KEYS)
		return tc_errorf(why, wl, "more than %d keys", TC_DNS_ROLL_MAX_KEYS);
	struct tc_dns_roll_key *k = &st->key[st->nkeys];
	int role = word(&f[2], role_names, 3), phase = word(&f[3], phase_names, 3);
	if (label(&f[1], k->label) != 0)
		return tc_errorf(why, wl, "key label is not a valid HSM key label");
	if (tc_dns_roll_state_find(st, f[1].p, f[1].n))
		return tc_errorf(why, wl, "key %s listed twice", k->label);
	if (role < 0 || phase < 0 || number(&f[4], INT64_MAX, &k->since) != 0)
		return tc_errorf(why, wl, "key %s: bad role, phase or time", k->label);
	k->role = (enum tc_dns_key_role)role;
	k->phase = (enum tc_dns_key_phase)phase;
	st->nkeys++;
	return 0;
}

static int roll_line(const struct field *f, size_t nf, struct tc_dns_roll_state *st, char *why, size_t wl)
{
	if (nf != 12)
		return tc_errorf(why, wl, "a roll line has 12 fields");
	if (st->rolling != TC_DNS_ROLL_NONE)
		return tc_errorf(why, wl, "two roll lines");
	int kind = is(&f[1], "zsk") ? TC_DNS_ROLL_ZSK : is(&f[1], "ksk") ? TC_DNS_ROLL_KSK : -1;
	int64_t v[8];
	if (kind < 0 || label(&f[2], st->new_label) != 0 || label(&f[3], st->old_label) != 0)
		return tc_errorf(why, wl, "roll: bad kind or key labels");
	for (int i = 0; i < 8; i++)
		if (number(&f[4 + i], i < 2 ? INT64_MAX : 10 * 86400 * 366, &v[i]) != 0)
			return tc_errorf(why, wl, "roll: field %d is not a number in range", 5 + i);
	st->rolling = (enum tc_dns_roll_kind)kind;
	st->publish = v[0];
	st->ds_seen = v[1];
	st->dnskey_ttl = (uint32_t)v[2];
	st->max_sig_ttl = (uint32_t)v[3];
	st->ds_ttl = (uint32_t)v[4];
	st->propagation_s = (uint32_t)v[5];
	st->parent_propagation_s = (uint32_t)v[6];
	st->safety_s = (uint32_t)v[7];
	return 0;
}

int tc_dns_roll_state_parse(const char *buf, size_t n, struct tc_dns_roll_state *st, char *why, size_t wl)
{
	memset(st, 0, sizeof(*st));
	if (memchr(buf, '\0', n))
		return tc_errorf(why, wl, "a NUL in the file");
	size_t off = 0, lineno = 0;
	while (off < n) {
		const char *nl = memchr(buf + off, '\n', n - off);
		if (!nl)
			return tc_errorf(why, wl, "line %zu: no newline at the end", lineno + 1);
		size_t len = (size_t)(nl - (buf + off));
		const char *line = buf + off;
		off += len + 1;
		lineno++;
		if (lineno == 1) {
			if (len != strlen(MAGIC) || memcmp(line, MAGIC, len) != 0)
				return tc_errorf(why, wl, "not a trustchain-dns-roll 1 file");
			continue;
		}
		struct field f[MAX_FIELDS];
		size_t nf;
		char lwhy[160];
		int rc = -1;
		if (split(line, len, f, &nf) != 0)
			snprintf(lwhy, sizeof(lwhy), "empty field or too many fields");
		else if (is(&f[0], "key"))
			rc = key_line(f, nf, st, lwhy, sizeof(lwhy));
		else if (is(&f[0], "roll"))
			rc = roll_line(f, nf, st, lwhy, sizeof(lwhy));
		else
			snprintf(lwhy, sizeof(lwhy), "unknown line");
		if (rc != 0)
			return tc_errorf(why, wl, "line %zu: %s", lineno, lwhy);
	}
	if (lineno == 0)
		return tc_errorf(why, wl, "empty file");
	if (st->nkeys == 0)
		return tc_errorf(why, wl, "no key");
	if (st->rolling != TC_DNS_ROLL_NONE &&
	    (!tc_dns_roll_state_find(st, st->new_label, strlen(st->new_label)) ||
	     !tc_dns_roll_state_find(st, st->old_label, strlen(st->old_label)) ||
	     strcmp(st->new_label, st->old_label) == 0))
		return tc_errorf(why, wl, "the roll names keys that are not in the set");
	return 0;
}

size_t tc_dns_roll_state_format(const struct tc_dns_roll_state *st, char *out, size_t cap)
{
	size_t o = 0;
	int w = snprintf(out, cap, "%s\n", MAGIC);
	if (w < 0 || (size_t)w >= cap)
		return 0;
	o = (size_t)w;
	for (size_t i = 0; i < st->nkeys; i++) {
		const struct tc_dns_roll_key *k = &st->key[i];
		w = snprintf(out + o, cap - o, "key %s %s %s %lld\n", k->label, role_names[k->role],
			     phase_names[k->phase], (long long)k->since);
		if (w < 0 || (size_t)w >= cap - o)
			return 0;
		o += (size_t)w;
	}
	if (st->rolling != TC_DNS_ROLL_NONE) {
		w = snprintf(out + o, cap - o, "roll %s %s %s %lld %lld %u %u %u %u %u %u\n",
			     st->rolling == TC_DNS_ROLL_ZSK ? "zsk" : "ksk", st->new_label, st->old_label,
			     (long long)st->publish, (long long)st->ds_seen, st->dnskey_ttl, st->max_sig_ttl,
			     st->ds_ttl, st->propagation_s, st->parent_propagation_s, st->safety_s);
		if (w < 0 || (size_t)w >= cap - o)
			return 0;
		o += (size_t)w;
	}
	return o;
}

int tc_dns_roll_state_load(const struct tc_config *cfg, struct tc_dns_roll_state *st, bool *exists,
			   char *err, size_t errlen)
{
	char path[TC_CFG_STR + 64], why[256];
	if (exists)
		*exists = false;
	if (tc_config_data_path(cfg, TC_DNS_ROLL_FILE, path, sizeof(path)) != 0)
		return tc_errorf(err, errlen, "server.data_dir is too long");
	char *buf = NULL;
	size_t n = 0;
	if (access(path, F_OK) != 0 && errno == ENOENT) {
		memset(st, 0, sizeof(*st));
		size_t ll = strlen(cfg->hsm.dns_key_label);
		if (!tc_key_label_ok(cfg->hsm.dns_key_label, ll))
			return tc_errorf(err, errlen, "hsm.keys.dns_zone is not a valid key label");
		memcpy(st->key[0].label, cfg->hsm.dns_key_label, ll + 1);
		st->key[0].role = TC_DNS_ROLE_CSK;
		st->key[0].phase = TC_DNS_KEY_ACTIVE;
		st->nkeys = 1;
		return 0;
	}
	if (tc_read_file(path, TC_DNS_ROLL_MAX_BYTES, &buf, &n, why, sizeof(why)) != 0)
		return tc_errorf(err, errlen, "%s", why);
	int rc = tc_dns_roll_state_parse(buf, n, st, why, sizeof(why));
	free(buf);
	if (rc != 0)
		return tc_errorf(err, errlen, "%s: %s", path, why);
	if (exists)
		*exists = true;
	return 0;
}

int tc_dns_roll_state_save(const struct tc_config *cfg, const struct tc_dns_roll_state *st, char *err,
			   size_t errlen)
{
	char path[TC_CFG_STR + 64], buf[TC_DNS_ROLL_MAX_BYTES];
	if (tc_config_data_path(cfg, TC_DNS_ROLL_FILE, path, sizeof(path)) != 0)
		return tc_errorf(err, errlen, "server.data_dir is too long");
	size_t n = tc_dns_roll_state_format(st, buf, sizeof(buf));
	if (n == 0)
		return tc_errorf(err, errlen, "roll state too large");
	return tc_file_replace(path, buf, n, 0644, err, errlen);
}
