/* Session plumbing shared by the ceremony steps: PIN, journal, the common
 * transcript fields and the journal record of a step. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ceremony.h"
#include "common/file_read.h"
#include "common/hex.h"
#include "common/write_full.h"
#include "ctl/files.h"
#include "signer/ceremony_inbox.h"

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

/* 1 when another process holds the journal's lock (a running signer), 0
 * when nobody does (or there is no journal yet), -1 reported. */
static int journal_held(const char *path)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		tc_ctl_error("journal %s: %s", path, strerror(errno));
		return -1;
	}
	int held = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd); /* drops the lock if we got it: tc_journal_open takes it again */
	return held;
}

/* One record through the running signer: a request file in its inbox,
 * then its answer (signer/ceremony_inbox.h). */
static int journal_via_signer(struct ceremony_session *s, const char *step, const char *key_label, const char *data,
			      const char *detail, uint64_t *seq)
{
	char dir[TC_CFG_STR + 64], tmp[TC_CFG_STR + 128], req[TC_CFG_STR + 128], done[TC_CFG_STR + 128];
	char refused[TC_CFG_STR + 128], back[TC_CFG_STR + 128], name[33];
	unsigned char rnd[16];
	if (tc_config_data_path(s->cfg, TC_CEREMONY_INBOX, dir, sizeof(dir)) != 0 || RAND_bytes(rnd, sizeof(rnd)) != 1) {
		tc_ctl_error("cannot name a ceremony request");
		return -1;
	}
	tc_hex_encode(rnd, sizeof(rnd), name);
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, name);
	snprintf(req, sizeof(req), "%s/%s.req", dir, name);
	snprintf(done, sizeof(done), "%s/%s.done", dir, name);
	snprintf(refused, sizeof(refused), "%s/%s.refused", dir, name);
	snprintf(back, sizeof(back), "%s/%s.withdrawn", dir, name);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "step", step, "key", key_label, "data", data, "detail", detail);
	char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	struct stat dst;
	int fd = body && stat(dir, &dst) == 0 ? open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600) : -1;
	size_t len = body ? strlen(body) : 0;
	/* The signer's user must read it: the inbox's owner is that user. */
	int ok = fd >= 0 && (geteuid() != 0 || fchown(fd, dst.st_uid, dst.st_gid) == 0) &&
		 tc_write_full(fd, body, len) == 0 && fsync(fd) == 0;
	if (fd >= 0 && close(fd) != 0)
		ok = 0;
	free(body);
	if (!ok || rename(tmp, req) != 0) {
		tc_ctl_error("cannot write a ceremony request in %s: %s", dir, strerror(errno));
		unlink(tmp);
		return -1;
	}
	for (int i = 0; i < 300; i++) { /* 30 s: the signer polls five times a second */
		char *ans = NULL, err[256];
		size_t n = 0;
		int is_done = access(done, F_OK) == 0;
		if (is_done || access(refused, F_OK) == 0) {
			const char *p = is_done ? done : refused;
			int rd = tc_read_file(p, 512, &ans, &n, err, sizeof(err));
			unlink(p);
			if (rd != 0) {
				tc_ctl_error("ceremony request answer: %s", err);
				return -1;
			}
			while (n && ans[n - 1] == '\n')
				ans[--n] = '\0';
			char *end = NULL;
			unsigned long long v = is_done ? strtoull(ans, &end, 10) : 0;
			if (!is_done || !end || *end || v == 0) {
				tc_ctl_error("the signer refused the %s record: %.*s", step, (int)n, ans);
				free(ans);
				return -1;
			}
			free(ans);
			*seq = v;
			return 0;
		}
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	/* Taken back unless the signer claimed it meanwhile (then wait on). */
	if (rename(req, back) == 0) {
		unlink(back);
		tc_ctl_error("the signer took no %s record within 30 s (is the server's signer running?): nothing journaled",
			     step);
		return -1;
	}
	tc_ctl_error("the signer claimed the %s record late; see %s for its answer", step, dir);
	return -1;
}

int ceremony_open_journal(struct ceremony_session *s)
{
	if (s->journal || s->via_signer)
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
	int held = journal_held(path);
	if (held < 0)
		return -1;
	if (held) {
		/* The server runs: the signer appends the records (ceremony_journal). */
		char inbox[TC_CFG_STR + 64];
		if (tc_config_data_path(s->cfg, TC_CEREMONY_INBOX, inbox, sizeof(inbox)) != 0 ||
		    access(inbox, W_OK) != 0) {
			tc_ctl_error("the audit journal %s is in use by another process that takes no ceremony records (%s: "
				     "%s): stop trustchain-server (or the other trustchainctl) and run the step again",
				     path, inbox, strerror(errno));
			return -1;
		}
		s->via_signer = 1;
		printf("the server is running: the signer journals this ceremony's records\n");
		return 0;
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
	uint64_t n = 0;
	if (s->via_signer) {
		if (journal_via_signer(s, step, key_label, data, detail ? detail : "", &n) != 0)
			return -1;
	} else {
		n = tc_journal_append(s->journal, &e);
	}
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

static uid_t hsm_uid;
static gid_t hsm_gid;

static int reown_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)flag;
	(void)ftw;
	/* Only what this root process made (never a hard link's other name). */
	if (st->st_uid != 0 || (!S_ISDIR(st->st_mode) && !S_ISLNK(st->st_mode) && st->st_nlink > 1))
		return 0;
	return lchown(path, hsm_uid, hsm_gid) == 0 ? 0 : -1;
}

int ceremony_reown_hsm(const struct tc_config *cfg)
{
	char dir[TC_CFG_STR + 16];
	struct stat st;
	if (geteuid() != 0 || tc_config_data_path(cfg, "hsm", dir, sizeof(dir)) != 0 || lstat(dir, &st) != 0 ||
	    !S_ISDIR(st.st_mode) || st.st_uid == 0)
		return 0;
	hsm_uid = st.st_uid;
	hsm_gid = st.st_gid;
	if (nftw(dir, reown_entry, 16, FTW_PHYS) != 0) {
		tc_ctl_error("cannot give the new token objects in %s to the signer's user: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}
