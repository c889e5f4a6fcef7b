/* trustchainctl ceremony finalize-rollover: after the cut-over of the
 * rollover ca/rollover/next schedules, makes its intermediate the one that
 * issues after every restart (signer/issuers.h, gateway/ca_rollover.h) by
 * appending the schedule's line to ca/rollover/finalized, and journals it.
 * No key is made, so there is no transcript: the journal record is the
 * evidence. The schedule file stays (the resolver reads it for the TLSA
 * records of the intermediate). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/file_read.h"
#include "common/file_replace.h"
#include "ctl/ceremony.h"
#include "signer/issuers.h"

#define SCHEDULE_MAX 256

/* The last "LABEL ..." line of the finalized file (buf, n) into label;
 * "" when none. */
static void last_finalized(const char *buf, size_t n, char *label, size_t ll)
{
	label[0] = '\0';
	while (n && buf[n - 1] == '\n')
		n--;
	size_t start = n;
	while (start && buf[start - 1] != '\n')
		start--;
	char why[128];
	time_t when;
	if (n > start && tc_rollover_parse_line(buf + start, n - start, label, ll, &when, why, sizeof(why)) != 0)
		label[0] = '\0';
}

int ceremony_finalize_rollover(struct ceremony_session *s)
{
	const struct tc_config *cfg = s->cfg;
	char next[TC_CFG_STR + 64], fin[TC_CFG_STR + 64], pem[TC_CFG_STR + 160], err[512], rel[128];
	char label[64], iso[32], done[64];
	char *sched = NULL, *old = NULL;
	size_t sn = 0, on = 0;
	time_t when;
	int rc = -1;
	if (tc_config_data_path(cfg, "ca/rollover/next", next, sizeof(next)) != 0 ||
	    tc_config_data_path(cfg, "ca/rollover/finalized", fin, sizeof(fin)) != 0) {
		tc_ctl_error("server.data_dir is too long");
		return -1;
	}
	if (access(next, F_OK) != 0) {
		tc_ctl_error("finalize-rollover: no rollover is scheduled (%s is absent): run "
			     "rollover-intermediate first", next);
		return -1;
	}
	if (tc_read_file(next, SCHEDULE_MAX, &sched, &sn, err, sizeof(err)) != 0 ||
	    tc_rollover_parse_line(sched, sn, label, sizeof(label), &when, err, sizeof(err)) != 0) {
		tc_ctl_error("finalize-rollover: %s: %s", next, err);
		goto out;
	}
	struct tm tm;
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&when, &tm));
	time_t now = time(NULL);
	if (now < when) {
		tc_ctl_error("finalize-rollover: refused: the cut-over of '%s' is at %s, %lld s from now; until then "
			     "the current intermediate issues and the rollover may still be replaced: finalize after it",
			     label, iso, (long long)(when - now));
		goto out;
	}
	snprintf(rel, sizeof(rel), "ca/rollover/%s.pem", label);
	if (tc_config_data_path(cfg, rel, pem, sizeof(pem)) != 0 || access(pem, R_OK) != 0) {
		tc_ctl_error("finalize-rollover: the certificate of '%s' (%s) is missing: %s", label, rel, strerror(errno));
		goto out;
	}
	if (access(fin, F_OK) == 0 && tc_read_file(fin, TC_ROLLOVER_FINALIZED_MAX - 128, &old, &on, err, sizeof(err)) != 0) {
		tc_ctl_error("finalize-rollover: %s", err);
		goto out;
	}
	last_finalized(old ? old : "", on, done, sizeof(done));
	if (strcmp(done, label) == 0) {
		printf("finalize-rollover: '%s' (cut-over %s) is already finalized; nothing to do\n", label, iso);
		rc = 0;
		goto out;
	}
	char line[128], detail[TC_CFG_STR + 256];
	int ln = snprintf(line, sizeof(line), "%s %s\n", label, iso);
	snprintf(detail, sizeof(detail),
		 "%s issues after every restart (ca/rollover/finalized); %s stays loaded and signs its CRL, served at %s",
		 label, cfg->hsm.intermediate_key_label, cfg->ca.crl_url[0] ? cfg->ca.crl_url : "(no ca.crl_url)");
	char *content = malloc(on + (size_t)ln + 2);
	if (!content) {
		tc_ctl_error("out of memory");
		goto out;
	}
	size_t cn = 0;
	if (on) {
		memcpy(content, old, on);
		cn = on;
		if (content[cn - 1] != '\n')
			content[cn++] = '\n';
	}
	memcpy(content + cn, line, (size_t)ln);
	cn += (size_t)ln;
	/* Journaled first: the file then never says more than the journal. */
	unsigned long long seq = 0;
	if (ceremony_open_journal(s) != 0 || ceremony_journal(s, "finalize-rollover", label, line, detail, &seq) != 0) {
		free(content);
		goto out;
	}
	if (tc_file_replace(fin, content, cn, 0644, err, sizeof(err)) != 0) {
		tc_ctl_error("finalize-rollover: journaled (record %llu) but %s", seq, err);
		free(content);
		goto out;
	}
	free(content);
	printf("finalize-rollover: '%s' (cut-over %s) finalized: it issues after every restart\n", label, iso);
	printf("  '%s' stays loaded and signs its CRL (%s) while its leaves may be valid\n",
	       cfg->hsm.intermediate_key_label, cfg->ca.crl_url[0] ? cfg->ca.crl_url : "no ca.crl_url");
	printf("  wrote ca/rollover/finalized; journal record %llu\n", seq);
	rc = 0;
out:
	free(sched);
	free(old);
	return rc;
}
