/* trustchainctl backup --out FILE: an online snapshot of the data directory,
 * signed by the audit key (format: ctl/backup.h).
 *
 * Why each part is consistent while the server runs:
 * - The CT log is read through its public RFC 6962 API (export ct), never
 *   from its LevelDB, which only the transparency process opens (copying
 *   LevelDB files under a live process catches compactions half done). The
 *   export is defined by a signed tree head and rebuilds exactly its root,
 *   so it is a consistent point-in-time state by construction. Before it,
 *   the backup waits until the log has sequenced everything accepted before
 *   the backup began (two tree heads newer than that moment, or a log that
 *   stayed idle), so every SCT issued before the backup started is in it.
 * - The audit journal and ca/revocations.log are append-only line files:
 *   the copy ends at the last complete line, a prefix of the hash chain.
 * - dns/zone.journal is append-only with per-record checksums; the server
 *   cuts a torn last record when it replays the journal.
 * - dns/zone.serial (the serials reserved) is replaced whole by rename;
 *   restore continues far above it (ctl/dns_restore_serial.h).
 * - The rest (certificates, public keys, transcripts) is written once. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/hex.h"
#include "ctl/backup.h"
#include "ctl/ceremony.h"
#include "ctl/export.h"
#include "ctl/status_probe.h"
#include "ctl/transcript.h"
#include "signer/hsm.h"

#define MAX_MEMBERS 512
#define SETTLE_POLL_MS 50

struct member {
	char name[256];      /* path in the bundle */
	char staged[PATH_MAX];
	uint64_t size;
	char sha256[65];
};

struct backup {
	struct tc_ctl *ctl;
	char staging[PATH_MAX];
	struct member m[MAX_MEMBERS];
	size_t n;
};

/* The data directory's members: append-only line files are cut at their
 * last complete line. */
static const struct {
	const char *path;
	int lines;
} data_files[] = {
	{"journal/audit.jsonl", 1}, {"ca/revocations.log", 1}, {"dns/zone.journal", 0},
	{"ca/root.pem", 0},         {"ca/intermediate.pem", 0}, {"ca/chain.pem", 0},
	{"ct/log_public_key.pem", 0}, {"ct/log_id.txt", 0},   {"dns/zone_key.pem", 0},
	{"audit/audit_public_key.pem", 0}, {"dns/zone.serial", 0},
};

static int sha256_file(const char *path, uint64_t *size, char hex[65])
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char buf[65536], digest[32];
	size_t n;
	*size = 0;
	int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
	while (ok && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
		ok = EVP_DigestUpdate(md, buf, n) == 1;
		*size += n;
	}
	ok = ok && !ferror(f) && EVP_DigestFinal_ex(md, digest, NULL) == 1;
	EVP_MD_CTX_free(md);
	fclose(f);
	if (ok)
		tc_hex_encode(digest, sizeof(digest), hex);
	return ok ? 0 : -1;
}

/* Adds the staged file as member name. */
static int add_member(struct backup *b, const char *name, const char *staged)
{
	if (b->n == MAX_MEMBERS) {
		tc_ctl_error("backup: more than %d files", MAX_MEMBERS);
		return -1;
	}
	struct member *m = &b->m[b->n];
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->staged, sizeof(m->staged), "%s", staged);
	if (sha256_file(staged, &m->size, m->sha256) != 0) {
		tc_ctl_error("backup: %s: %s", staged, strerror(errno));
		return -1;
	}
	b->n++;
	return 0;
}

/* Copies what src holds now into the staging area as member name; with
 * lines, only up to the last '\n' (an append in progress is left out).
 * A missing source is skipped (0). */
static int stage_copy(struct backup *b, const char *src, const char *name, int lines)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		if (errno == ENOENT)
			return 0;
		tc_ctl_error("backup: %s: %s", src, strerror(errno));
		return -1;
	}
	char dst[PATH_MAX], flat[256];
	snprintf(flat, sizeof(flat), "%s", name);
	for (char *p = flat; *p; p++)
		if (*p == '/')
			*p = '_';
	if (snprintf(dst, sizeof(dst), "%s/%04zu-%s", b->staging, b->n, flat) >= (int)sizeof(dst)) {
		tc_ctl_error("backup: %s: path too long", b->staging);
		close(in);
		return -1;
	}
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	struct stat st;
	if (out < 0 || fstat(in, &st) != 0) {
		tc_ctl_error("backup: %s: %s", out < 0 ? dst : src, strerror(errno));
		close(in);
		if (out >= 0)
			close(out);
		return -1;
	}
	/* What the file held when we looked: later appends are not ours. */
	off_t left = st.st_size, copied = 0, last_nl = -1;
	char buf[65536];
	int rc = 0;
	while (left > 0) {
		ssize_t n = read(in, buf, left < (off_t)sizeof(buf) ? (size_t)left : sizeof(buf));
		if (n <= 0) {
			rc = n < 0 ? -1 : 0;
			break;
		}
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == '\n')
				last_nl = copied + i;
		if (write(out, buf, (size_t)n) != n) {
			rc = -1;
			break;
		}
		copied += n;
		left -= n;
	}
	if (rc == 0 && lines && ftruncate(out, last_nl + 1) != 0)
		rc = -1;
	if (rc != 0)
		tc_ctl_error("backup: copying %s: %s", src, strerror(errno));
	close(in);
	close(out);
	return rc == 0 ? add_member(b, name, dst) : -1;
}

static int stage_data_dir(struct backup *b)
{
	const struct tc_config *cfg = &b->ctl->cfg;
	char src[PATH_MAX];
	for (size_t i = 0; i < sizeof(data_files) / sizeof(data_files[0]); i++)
		if (tc_config_data_path(cfg, data_files[i].path, src, sizeof(src)) != 0 ||
		    stage_copy(b, src, data_files[i].path, data_files[i].lines) != 0)
			return -1;
	char dir[PATH_MAX];
	if (tc_config_data_path(cfg, "ceremonies", dir, sizeof(dir)) != 0)
		return -1;
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		const char *d = names[i]->d_name;
		size_t len = strlen(d);
		int rc = 0;
		if (len > 5 && strcmp(d + len - 5, ".json") == 0 && d[0] != '.') {
			char name[300];
			if (snprintf(src, sizeof(src), "%s/%s", dir, d) >= (int)sizeof(src))
				rc = -1;
			snprintf(name, sizeof(name), "ceremonies/%s", d);
			if (rc == 0)
				rc = stage_copy(b, src, name, 0);
		}
		free(names[i]);
		if (rc != 0) {
			while (++i < n)
				free(names[i]);
			free(names);
			return -1;
		}
	}
	if (n >= 0)
		free(names);
	if (b->ctl->config_path && stage_copy(b, b->ctl->config_path, TC_BACKUP_CONFIG_MEMBER, 0) != 0)
		return -1;
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Waits until every entry the log accepted before t0 is in a signed tree
 * head: a flush started after a tree head signed after t0 takes all that was
 * pending then; a log whose head does not move for three sequencing
 * intervals has nothing pending. */
static int wait_sequenced(struct backup *b, const char *url, uint64_t t0)
{
	uint64_t interval = b->ctl->cfg.ct.sequence_interval_ms, first_after = 0, last_ts = 0, last_change = t0;
	uint64_t deadline = t0 + 30000 + 10 * interval;
	char err[512];
	for (;;) {
		uint64_t size, ts, now = now_ms();
		if (tc_status_ct_sth(url, &size, &ts, err, sizeof(err)) != 0) {
			tc_ctl_error("backup: CT log: %s", err);
			return -1;
		}
		if (ts != last_ts) {
			last_ts = ts;
			last_change = now;
		}
		if (ts > t0 && !first_after)
			first_after = ts;
		if (first_after && ts > first_after)
			return 0;
		if (now - last_change > 3 * interval + 200)
			return 0;
		if (now > deadline) {
			tc_ctl_error("backup: the CT log signed no tree head covering the entries before the backup");
			return -1;
		}
		struct timespec d = {0, SETTLE_POLL_MS * 1000000L};
		nanosleep(&d, NULL);
	}
}

/* One CT log through its API: the single log (name "") at the root as
 * member ct.export, a shard of ct.logs under /<name> as ct/shards/<name>.export. */
static int stage_ct_log(struct backup *b, const char *name)
{
	char addr[300], url[360], out[PATH_MAX], member[TC_CFG_STR];
	tc_status_local_addr(b->ctl->cfg.ct.http_listen, addr, sizeof(addr));
	snprintf(url, sizeof(url), "http://%s%s%s", addr, name[0] ? "/" : "", name);
	if (name[0])
		snprintf(member, sizeof(member), "%s%s.export", TC_BACKUP_CT_SHARD_PREFIX, name);
	else
		snprintf(member, sizeof(member), "%s", TC_BACKUP_CT_MEMBER);
	if (snprintf(out, sizeof(out), "%s/%s%s.export", b->staging, name[0] ? "ct-" : "ct", name) >= (int)sizeof(out))
		return -1;
	if (wait_sequenced(b, url, now_ms()) != 0)
		return -1;
	char *argv[] = {"ct", "--url", url, "--out", out, NULL};
	if (tc_ctl_export_ct(b->ctl, 5, argv) != TC_CTL_OK)
		return -1;
	return add_member(b, member, out);
}

/* The single log (with ct.logs: the retired one, still served read-only at
 * the root), then every configured shard. */
static int stage_ct(struct backup *b)
{
	if (stage_ct_log(b, "") != 0)
		return -1;
	for (size_t i = 0; i < b->ctl->cfg.ct.log_count; i++)
		if (stage_ct_log(b, b->ctl->cfg.ct.logs[i].name) != 0)
			return -1;
	return 0;
}

/* The shards' public keys and log IDs (ct/keys/<name>.pem, .log_id.txt),
 * every one there, also of a shard no longer configured: its SCTs stay
 * verifiable after a restore. */
static int stage_shard_keys(struct backup *b)
{
	char dir[PATH_MAX], src[PATH_MAX], name[300];
	if (tc_config_data_path(&b->ctl->cfg, "ct/keys", dir, sizeof(dir)) != 0)
		return -1;
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort), rc = 0;
	for (int i = 0; i < n; i++) {
		const char *d = names[i]->d_name;
		snprintf(name, sizeof(name), "ct/keys/%s", d);
		if (rc == 0 && tc_backup_shard_key_member(name, NULL, 0) == 0) {
			if (snprintf(src, sizeof(src), "%s/%s", dir, d) >= (int)sizeof(src))
				rc = -1;
			else
				rc = stage_copy(b, src, name, 0);
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	return rc;
}

/* The signed tree head in an export bundle's header, or NULL. */
static json_t *export_sth(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, len;
	json_t *sth = NULL;
	if (f && tc_export_read_line(f, &line, &cap, &len) == 1) {
		json_t *h = json_loadb(line, len, 0, NULL);
		sth = json_incref(json_object_get(h, "sth"));
		json_decref(h);
	}
	free(line);
	if (f)
		fclose(f);
	return sth;
}

/* The manifest: what the audit key signs. */
static json_t *manifest(struct backup *b)
{
	json_t *t = json_object(), *members = json_array(), *ct = NULL;
	char when[32];
	tc_export_now(when);
	for (size_t i = 0; i < b->n; i++)
		json_array_append_new(members, json_pack("{s:s, s:I, s:s}", "name", b->m[i].name, "size",
							 (json_int_t)b->m[i].size, "sha256", b->m[i].sha256));
	/* The CT tree heads, for the reader of the manifest (restore checks the
	 * export members themselves). */
	json_t *shards = json_object();
	for (size_t i = 0; i < b->n; i++) {
		const char *nm = b->m[i].name;
		size_t plen = strlen(TC_BACKUP_CT_SHARD_PREFIX);
		int single = strcmp(nm, TC_BACKUP_CT_MEMBER) == 0;
		if (!single && strncmp(nm, TC_BACKUP_CT_SHARD_PREFIX, plen) != 0)
			continue;
		json_t *sth = export_sth(b->m[i].staged);
		if (single) {
			ct = sth;
		} else if (sth) {
			char shard[TC_CFG_STR];
			snprintf(shard, sizeof(shard), "%.*s", (int)(strlen(nm) - plen - strlen(".export")), nm + plen);
			json_object_set_new(shards, shard, sth);
		}
	}
	json_object_set_new(t, "step", json_string("backup"));
	json_object_set_new(t, "operator", json_string(b->ctl->operator_name));
	json_object_set_new(t, "time", json_string(when));
	json_object_set_new(t, "dev", json_boolean(b->ctl->cfg.dev));
	json_object_set_new(t, "data_dir", json_string(b->ctl->cfg.server.data_dir));
	json_object_set_new(t, "ct_sth", ct ? ct : json_null());
	if (json_object_size(shards))
		json_object_set(t, "ct_shard_sths", shards);
	json_decref(shards);
	json_object_set_new(t, "members", members);
	return t;
}

static int sign_manifest(struct backup *b, const json_t *t, char **doc)
{
	struct ceremony_session s;
	ceremony_session_begin(&s, b->ctl);
	int rc = -1;
	char err[512];
	if (ceremony_read_pin(&s) == 0) {
		const struct tc_config *cfg = &b->ctl->cfg;
		struct tc_hsm *h = tc_hsm_open(cfg->hsm.module, cfg->hsm.token_label, s.pin, err, sizeof(err));
		struct tc_hsm_key audit;
		if (!h || tc_hsm_find_key(h, cfg->hsm.audit_key_label, &audit, err, sizeof(err)) != 0)
			tc_ctl_error("backup: audit key: %s", err);
		else if (!(*doc = tc_transcript_sign(t, audit.priv, audit.id, audit.id_len, err, sizeof(err))))
			tc_ctl_error("backup: signing the manifest: %s", err);
		else
			rc = 0;
		if (h)
			tc_hsm_close(h);
	}
	ceremony_session_end(&s);
	return rc;
}

static int append_file(FILE *out, const char *path)
{
	FILE *in = fopen(path, "rb");
	char buf[65536];
	size_t n;
	int rc = in ? 0 : -1;
	while (in && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			rc = -1;
	if (in) {
		if (ferror(in))
			rc = -1;
		fclose(in);
	}
	return rc;
}

static int write_bundle(struct backup *b, const char *doc, const char *out)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s.partial", out);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (!f) {
		tc_ctl_error("backup: %s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	int rc = fprintf(f, "%s%zu\n", TC_BACKUP_MAGIC, strlen(doc)) > 0 && fputs(doc, f) >= 0 ? 0 : -1;
	for (size_t i = 0; rc == 0 && i < b->n; i++)
		rc = append_file(f, b->m[i].staged);
	if (rc == 0 && (fflush(f) != 0 || fsync(fileno(f)) != 0))
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	if (rc == 0 && rename(tmp, out) != 0)
		rc = -1;
	if (rc != 0) {
		tc_ctl_error("backup: writing %s: %s", out, strerror(errno));
		unlink(tmp);
	}
	return rc;
}

static void remove_staging(struct backup *b)
{
	for (size_t i = 0; i < b->n; i++)
		unlink(b->m[i].staged);
	rmdir(b->staging);
}

int tc_ctl_cmd_backup(struct tc_ctl *ctl, int argc, char **argv)
{
	const char *out = NULL;
	if (argc == 3 && strcmp(argv[1], "--out") == 0)
		out = argv[2];
	if (!out) {
		FILE *u = argc == 2 && strcmp(argv[1], "help") == 0 ? stdout : stderr;
		fprintf(u, "usage: trustchainctl [--config FILE] backup --out FILE\n"
			   "  online snapshot of the data directory (CT log through its API, audit journal,\n"
			   "  revocations, zone journal, certificates, transcripts, configuration), signed by\n"
			   "  the audit key on the HSM; restore with 'trustchainctl restore FILE'\n");
		return u == stdout ? TC_CTL_OK : TC_CTL_USAGE;
	}
	static struct backup b; /* 512 members of ~4 KiB: off the stack */
	memset(&b, 0, sizeof(b));
	b.ctl = ctl;
	snprintf(b.staging, sizeof(b.staging), "%s.staging-XXXXXX", out);
	if (!mkdtemp(b.staging)) {
		tc_ctl_error("backup: %s: %s", b.staging, strerror(errno));
		return TC_CTL_FAIL;
	}
	char *doc = NULL;
	json_t *t = NULL;
	int rc = TC_CTL_FAIL;
	/* The CT exports last: their tree heads then cover everything the
	 * journal copy names (the journal is copied first). */
	if (stage_data_dir(&b) == 0 && stage_shard_keys(&b) == 0 && stage_ct(&b) == 0 && (t = manifest(&b)) &&
	    sign_manifest(&b, t, &doc) == 0 && write_bundle(&b, doc, out) == 0) {
		json_t *sth = json_object_get(t, "ct_sth");
		printf("backup %s: %zu files, CT tree size %" JSON_INTEGER_FORMAT ", signed by the audit key\n", out,
		       b.n, json_integer_value(json_object_get(sth, "tree_size")));
		const char *shard;
		json_t *ssth;
		json_object_foreach(json_object_get(t, "ct_shard_sths"), shard, ssth)
			printf("backup %s: CT shard %s tree size %" JSON_INTEGER_FORMAT "\n", out, shard,
			       json_integer_value(json_object_get(ssth, "tree_size")));
		rc = TC_CTL_OK;
	}
	free(doc);
	json_decref(t);
	remove_staging(&b);
	return rc;
}
