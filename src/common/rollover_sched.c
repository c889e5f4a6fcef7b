#define _GNU_SOURCE /* strptime */
/* The CA key rollover schedule files (rollover_sched.h). */
#include "common/rollover_sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/file_read.h"
#include "common/key_label.h"

#define SCHED_MAX 4096 /* ca/rollover/finalized, as the signer reads it */

int tc_rollover_parse_line(const char *buf, size_t n, char *label, size_t ll, time_t *when, char *why, size_t wl)
{
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	const char *sp = memchr(buf, ' ', n);
	size_t lab = sp ? (size_t)(sp - buf) : 0;
	if (!sp || !tc_key_label_ok(buf, lab) || lab >= ll) {
		snprintf(why, wl, "not \"LABEL CUTOVER\"");
		return -1;
	}
	memcpy(label, buf, lab);
	label[lab] = '\0';
	char t[32];
	size_t tl = n - lab - 1;
	if (tl != 20 || memchr(sp + 1, '\0', tl)) {
		snprintf(why, wl, "cut-over is not YYYY-MM-DDTHH:MM:SSZ");
		return -1;
	}
	memcpy(t, sp + 1, tl);
	t[tl] = '\0';
	struct tm tm = {0};
	char *end = strptime(t, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end) {
		snprintf(why, wl, "cut-over '%s' is not YYYY-MM-DDTHH:MM:SSZ", t);
		return -1;
	}
	*when = timegm(&tm);
	return 0;
}

/* Appends label's certificate file unless listed already or full. */
static void add_label(const struct tc_config *cfg, struct tc_rollover_files *out, const char *label)
{
	char rel[128], path[TC_CFG_STR + 160];
	if (out->n == TC_ROLLOVER_FILES_MAX)
		return;
	snprintf(rel, sizeof(rel), "ca/rollover/%s-chain.pem", label);
	if (tc_config_data_path(cfg, rel, path, sizeof(path)) != 0 || access(path, F_OK) != 0)
		snprintf(rel, sizeof(rel), "ca/rollover/%s.pem", label);
	for (int i = 0; i < out->n; i++)
		if (strcmp(out->rel[i], rel) == 0)
			return;
	snprintf(out->rel[out->n++], sizeof(out->rel[0]), "%s", rel);
}

/* Every parsable line of a schedule file, in order, through add_label. */
static int add_file(const struct tc_config *cfg, struct tc_rollover_files *out, const char *which)
{
	char path[TC_CFG_STR + 64], err[256], label[64], why[128];
	char *buf = NULL;
	size_t n = 0;
	int added = 0;
	if (tc_config_data_path(cfg, which, path, sizeof(path)) != 0 || access(path, F_OK) != 0 ||
	    tc_read_file(path, SCHED_MAX, &buf, &n, err, sizeof(err)) != 0)
		return 0;
	for (size_t off = 0; off < n;) {
		const char *nl = memchr(buf + off, '\n', n - off);
		size_t ln = nl ? (size_t)(nl - (buf + off)) : n - off;
		time_t when;
		int had = out->n;
		if (ln && tc_rollover_parse_line(buf + off, ln, label, sizeof(label), &when, why, sizeof(why)) == 0) {
			add_label(cfg, out, label);
			added = out->n > had;
		}
		off += ln + 1;
	}
	free(buf);
	return added;
}

void tc_rollover_files_read(const struct tc_config *cfg, struct tc_rollover_files *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->rel[out->n++], sizeof(out->rel[0]), "ca/intermediate.pem");
	add_file(cfg, out, "ca/rollover/finalized");
	/* A next one already finalized (finalize-rollover leaves the file) is
	 * not pending: the last finalized one issues. */
	out->next = add_file(cfg, out, "ca/rollover/next");
}
