/* The signer's side of ceremony records taken while it runs
 * (ceremony_inbox.h). */
#include "signer/ceremony_inbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file_replace.h"
#include "common/key_label.h"
#include "common/log.h"
#include "signer/signer.h"

#define NAME_MAX_HEX 32

int tc_ceremony_inbox_prepare(struct tc_signer *s, char *err, size_t errlen)
{
	char dir[TC_CFG_STR + 64];
	if (tc_config_data_path(&s->cfg, TC_CEREMONY_INBOX, dir, sizeof(dir)) != 0) {
		snprintf(err, errlen, "server.data_dir is too long");
		return -1;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

static int name_ok(const char *name, size_t *stem)
{
	size_t n = strspn(name, "0123456789abcdef");
	*stem = n;
	return n >= 1 && n <= NAME_MAX_HEX && strcmp(name + n, ".req") == 0;
}

static int step_ok(const char *step, size_t n)
{
	if (n < 1 || n > 48)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((step[i] >= 'a' && step[i] <= 'z') || (step[i] >= '0' && step[i] <= '9') || step[i] == '-'))
			return 0;
	return 1;
}

/* A string member without NUL (jansson keeps \u0000 inside strings). */
static const char *text(json_t *o, const char *k, size_t *len)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_string(v))
		return NULL;
	*len = json_string_length(v);
	return memchr(json_string_value(v), '\0', *len) ? NULL : json_string_value(v);
}

/* Reads the claimed request at fd; appends its record. 0 with *seq, or -1
 * with why. */
static int serve(struct tc_signer *s, int fd, uint64_t *seq, char *why, size_t wl)
{
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return snprintf(why, wl, "not a regular file"), -1;
	/* Written by the operator (root) or by our own user, nobody else. */
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return snprintf(why, wl, "owned by uid %u, neither root nor the signer", (unsigned)st.st_uid), -1;
	if (st.st_size <= 0 || st.st_size > TC_CEREMONY_REQUEST_MAX)
		return snprintf(why, wl, "size %lld out of range", (long long)st.st_size), -1;
	char *buf = malloc((size_t)st.st_size);
	if (!buf)
		return snprintf(why, wl, "out of memory"), -1;
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	json_error_t je;
	json_t *o = got == (size_t)st.st_size ? json_loadb(buf, got, JSON_REJECT_DUPLICATES, &je) : NULL;
	free(buf);
	size_t sl = 0, kl = 0, dl = 0, tl = 0;
	const char *step = o ? text(o, "step", &sl) : NULL, *key = o ? text(o, "key", &kl) : NULL;
	const char *data = o ? text(o, "data", &dl) : NULL, *detail = o ? text(o, "detail", &tl) : NULL;
	int rc = -1;
	if (!o || json_object_size(o) != 4 || !step || !key || !data || !detail)
		snprintf(why, wl, "not {\"step\", \"key\", \"data\", \"detail\"} strings without NUL");
	else if (!step_ok(step, sl))
		snprintf(why, wl, "step is not 1-48 of a-z 0-9 -");
	else if (kl && !tc_key_label_ok(key, kl))
		snprintf(why, wl, "key is not a key label");
	else {
		char op[64];
		snprintf(op, sizeof(op), "ceremony:%s", step);
		struct tc_journal_entry e = {.peer = "ceremony", .op = op, .key = key,
					     .data = (const unsigned char *)data, .data_len = dl,
					     .result = "ok", .detail = detail};
		*seq = tc_journal_append(s->journal, &e);
		if (*seq == 0)
			snprintf(why, wl, "the journal append failed");
		else {
			rc = 0;
			tc_log_event(TC_LOG_INFO, "ceremony_record", TC_KV("op", op, "key", key),
				     "journaled %s for the operator (record %llu)", op, (unsigned long long)*seq);
		}
	}
	json_decref(o);
	return rc;
}

void tc_ceremony_inbox_poll(struct tc_signer *s)
{
	char dir[TC_CFG_STR + 64];
	if (!s->journal || tc_config_data_path(&s->cfg, TC_CEREMONY_INBOX, dir, sizeof(dir)) != 0)
		return;
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t stem;
		if (!name_ok(de->d_name, &stem))
			continue;
		char req[TC_CFG_STR + 340], taken[TC_CFG_STR + 340], ans[TC_CFG_STR + 340], why[256];
		snprintf(req, sizeof(req), "%s/%s", dir, de->d_name);
		snprintf(taken, sizeof(taken), "%s/%.*s.taken", dir, (int)stem, de->d_name);
		if (rename(req, taken) != 0)
			continue; /* the requester gave up and took it back */
		int fd = open(taken, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		uint64_t seq = 0;
		int rc = fd >= 0 ? serve(s, fd, &seq, why, sizeof(why))
				 : (snprintf(why, sizeof(why), "cannot open: %s", strerror(errno)), -1);
		if (fd >= 0)
			close(fd);
		unlink(taken);
		char line[320], err[256];
		int n = rc == 0 ? snprintf(line, sizeof(line), "%llu\n", (unsigned long long)seq)
				: snprintf(line, sizeof(line), "%s\n", why);
		snprintf(ans, sizeof(ans), "%s/%.*s.%s", dir, (int)stem, de->d_name, rc == 0 ? "done" : "refused");
		if (rc != 0)
			tc_log_event(TC_LOG_WARN, "ceremony_record_refused", TC_KV("reason", why),
				     "ceremony request %s refused: %s", de->d_name, why);
		if (tc_file_replace(ans, line, (size_t)n, 0644, err, sizeof(err)) != 0)
			tc_err("ceremony request %s: cannot answer: %s", de->d_name, err);
	}
	closedir(d);
}
