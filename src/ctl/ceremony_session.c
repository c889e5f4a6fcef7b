/* Session plumbing shared by the ceremony steps: PIN, journal, the common
 * transcript fields and the journal record of a step. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl/ceremony.h"
#include "ctl/files.h"

void ceremony_session_begin(struct ceremony_session *s, struct tc_ctl *ctl)
{
	memset(s, 0, sizeof(*s));
	s->ctl = ctl;
	s->cfg = &ctl->cfg;
	s->dev = ctl->cfg.dev;
}

void ceremony_session_end(struct ceremony_session *s)
{
	tc_pin_wipe(s->pin);
	s->have_pin = 0;
	tc_journal_close(s->journal);
	s->journal = NULL;
}

int ceremony_read_pin(struct ceremony_session *s)
{
	if (s->have_pin)
		return 0;
	char err[512];
	if (tc_pin_read(s->cfg, s->pin, err, sizeof(err)) != 0) {
		tc_ctl_error("user PIN: %s", err);
		return -1;
	}
	s->have_pin = 1;
	return 0;
}

int ceremony_open_journal(struct ceremony_session *s)
{
	if (s->journal)
		return 0;
	char dir[TC_CFG_STR + 32], path[TC_CFG_STR + 64], err[TC_CFG_STR + 256];
	if (tc_config_data_path(s->cfg, "journal", dir, sizeof(dir)) != 0 ||
	    tc_config_data_path(s->cfg, "journal/audit.jsonl", path, sizeof(path)) != 0) {
		tc_ctl_error("server.data_dir is too long");
		return -1;
	}
	/* The data directory holds public artefacts; the journal names every
	 * signature the CA made and stays private to its owner. */
	if (tc_ctl_mkdirs(s->cfg->server.data_dir, 0755, err, sizeof(err)) != 0 ||
	    tc_ctl_mkdirs(dir, 0700, err, sizeof(err)) != 0) {
		tc_ctl_error("%s", err);
		return -1;
	}
	s->journal = tc_journal_open(path, err, sizeof(err));
	if (!s->journal) {
		tc_ctl_error("%s", err);
		return -1;
	}
	return 0;
}

json_t *ceremony_transcript_base(const struct ceremony_session *s, const char *step)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	char when[32];
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_pack("{s:i, s:s, s:s, s:s, s:b, s:s}", "format", 1, "step", step, "operator",
			 s->ctl->operator_name, "time", when, "dev", s->dev, "config",
			 s->cfg->path[0] ? s->cfg->path : "(built-in dev defaults)");
}

int ceremony_journal(struct ceremony_session *s, const char *step, const char *key_label,
		     const char *data, const char *detail, unsigned long long *seq)
{
	char op[96];
	snprintf(op, sizeof(op), "ceremony:%s", step);
	struct tc_journal_entry e = {
		.peer = "ceremony",
		.op = op,
		.key = key_label,
		.data = (const unsigned char *)data,
		.data_len = strlen(data),
		.result = "ok",
		.detail = detail,
	};
	uint64_t n = tc_journal_append(s->journal, &e);
	if (n == 0) {
		tc_ctl_error("cannot append the %s record to the audit journal", step);
		return -1;
	}
	if (seq)
		*seq = (unsigned long long)n;
	return 0;
}

int ceremony_so_pin_path(const struct tc_config *cfg, char *out, size_t outlen)
{
	return tc_config_data_path(cfg, "hsm/so.pin", out, outlen);
}
