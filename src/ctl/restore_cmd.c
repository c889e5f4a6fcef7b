/* trustchainctl restore FILE: puts a backup bundle (ctl/backup.h) back into
 * the configured data directory of a STOPPED server.
 *
 * Refuses: a server running on that data directory (its lock is held); a
 * bundle whose manifest does not verify with the audit public key (from
 * --audit-key, else the one already in the data directory: never the one in
 * the bundle, which an attacker would simply replace) or any byte that does
 * not match the signed hashes; a file that exists in the data directory with
 * other content; a CT log behind or inconsistent with a tree head the log
 * has published (backup_ct.c). Nothing is written before the whole bundle
 * has been verified into a staging directory inside the data directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hex.h"
#include "ctl/backup.h"
#include "ctl/dns_restore_serial.h"
#include "ctl/files.h"
#include "ctl/transcript.h"

#define MAX_PUBLISHED 16
#define MAX_MEMBERS 512

struct staged {
	char name[256];
	char path[PATH_MAX];
};

/* A member name is a relative path of plain components from a known set;
 * nothing in a bundle names a place outside the data directory. */
static int member_name_ok(const char *n)
{
	static const char *const fixed[] = {
		"journal/audit.jsonl", "ca/revocations.log", "dns/zone.journal", "ca/root.pem",
		"ca/intermediate.pem", "ca/chain.pem", "ct/log_public_key.pem", "ct/log_id.txt",
		"dns/zone_key.pem", "audit/audit_public_key.pem", TC_BACKUP_CT_MEMBER, TC_BACKUP_CONFIG_MEMBER,
		"dns/zone.serial",
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (strcmp(n, fixed[i]) == 0)
			return 1;
	if (tc_backup_shard_key_member(n, NULL, 0) == 0 || tc_backup_shard_export_member(n, NULL, 0) == 0)
		return 1;
	if (strncmp(n, "ceremonies/", 11) != 0 || strlen(n) < 17 || strcmp(n + strlen(n) - 5, ".json") != 0)
		return 0;
	for (const char *p = n + 11; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
			return 0;
	return n[11] != '.';
}

/* Copies size bytes of in to path, checking their SHA-256 against hex. */
static int extract(FILE *in, uint64_t size, const char *hex, const char *path)
{
	FILE *out = fopen(path, "wbx");
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char buf[65536], digest[32];
	char got[65];
	int ok = out && md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
	while (ok && size > 0) {
		size_t want = size < sizeof(buf) ? (size_t)size : sizeof(buf);
		size_t n = fread(buf, 1, want, in);
		ok = n == want && EVP_DigestUpdate(md, buf, n) == 1 && fwrite(buf, 1, n, out) == n;
		size -= n;
	}
	ok = ok && EVP_DigestFinal_ex(md, digest, NULL) == 1;
	EVP_MD_CTX_free(md);
	if (out && fclose(out) != 0)
		ok = 0;
	if (!ok)
		return -1;
	tc_hex_encode(digest, sizeof(digest), got);
	return strcmp(got, hex) == 0 ? 0 : -1;
}

static EVP_PKEY *read_pubkey(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k = f ? PEM_read_PUBKEY(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	return k;
}

/* Reads and verifies the manifest; returns it (the signed transcript). */
static json_t *read_manifest(FILE *in, const char *file, EVP_PKEY *audit)
{
	char magic[sizeof(TC_BACKUP_MAGIC)], lenline[32];
	size_t len = 0;
	char *end;
	if (!fgets(magic, sizeof(magic), in) || strcmp(magic, TC_BACKUP_MAGIC) != 0 ||
	    !fgets(lenline, sizeof(lenline), in) || (len = strtoul(lenline, &end, 10)) == 0 || *end != '\n' ||
	    len > TC_BACKUP_MAX_MANIFEST) {
		tc_ctl_error("restore: %s is not a TrustChain backup bundle", file);
		return NULL;
	}
	char *doc = malloc(len);
	if (!doc || fread(doc, 1, len, in) != len) {
		tc_ctl_error("restore: %s: truncated manifest", file);
		free(doc);
		return NULL;
	}
	struct tc_transcript_info info;
	char err[512];
	json_t *t = NULL;
	if (tc_transcript_verify(doc, len, audit, &info, err, sizeof(err)) != 0)
		tc_ctl_error("restore: %s: REFUSED: manifest: %s", file, err);
	else if (strcmp(info.step, "backup") != 0)
		tc_ctl_error("restore: %s: REFUSED: a signed '%s' transcript, not a backup", file, info.step);
	else {
		json_t *root = json_loadb(doc, len, 0, NULL);
		t = json_incref(json_object_get(root, "transcript"));
		json_decref(root);
	}
	free(doc);
	if (t)
		printf("restore: %s: manifest signed by the audit key (%s, by %s)\n", file, info.time, info.operator_name);
	return t;
}

/* Verifies every member into staging; fills st. */
static int extract_all(FILE *in, const char *file, json_t *members, const char *staging, struct staged *st, size_t *n)
{
	size_t i;
	json_t *m;
	*n = 0;
	json_array_foreach(members, i, m) {
		const char *name = json_string_value(json_object_get(m, "name"));
		const char *sha = json_string_value(json_object_get(m, "sha256"));
		json_t *size = json_object_get(m, "size");
		if (!name || !sha || !json_is_integer(size) || json_integer_value(size) < 0 || !member_name_ok(name) ||
		    *n == MAX_MEMBERS) {
			tc_ctl_error("restore: %s: REFUSED: member %zu is malformed or not restorable", file, i);
			return -1;
		}
		snprintf(st[*n].name, sizeof(st[*n].name), "%s", name);
		snprintf(st[*n].path, sizeof(st[*n].path), "%s/%zu", staging, i);
		if (extract(in, (uint64_t)json_integer_value(size), sha, st[*n].path) != 0) {
			tc_ctl_error("restore: %s: REFUSED: %s does not match its signed SHA-256 (altered or truncated)",
				     file, name);
			return -1;
		}
		(*n)++;
	}
	if (fgetc(in) != EOF) {
		tc_ctl_error("restore: %s: REFUSED: bytes after the last member", file);
		return -1;
	}
	return 0;
}

static int same_file(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	int same = fa && fb;
	while (same) {
		int ca = fgetc(fa), cb = fgetc(fb);
		if (ca != cb)
			same = 0;
		if (ca == EOF || cb == EOF)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same;
}

static const char *find(const struct staged *st, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(st[i].name, name) == 0)
			return st[i].path;
	return NULL;
}

static void rm_staging(const char *staging, const struct staged *st, size_t n)
{
	for (size_t i = 0; i < n; i++)
		unlink(st[i].path);
	char p[PATH_MAX];
	for (size_t i = 0; i < MAX_MEMBERS; i++) {
		snprintf(p, sizeof(p), "%s/%zu", staging, i);
		unlink(p);
	}
	rmdir(staging);
}

/* Each shard's log (ct/shards/<name>.export) into ct/logs/<name>/log, checked
 * as the single log's is (against its key from the bundle, its checkpoint in
 * <tiles>/<name>/ and a store already there); --published-sth names the
 * single log's tree heads only. A configured shard the bundle lacks is
 * named: it starts empty. */
static int restore_shards(const struct tc_config *cfg, const struct staged *st, size_t n, const char *tiles)
{
	char shard[64], rel[PATH_MAX], store[PATH_MAX], shard_tiles[PATH_MAX];
	for (size_t i = 0; i < n; i++) {
		if (tc_backup_shard_export_member(st[i].name, shard, sizeof(shard)) != 0)
			continue;
		snprintf(rel, sizeof(rel), "ct/keys/%s.pem", shard);
		const char *key = find(st, n, rel);
		if (!key) {
			tc_ctl_error("restore: REFUSED: the bundle has CT shard %s but not its key %s", shard, rel);
			return -1;
		}
		snprintf(rel, sizeof(rel), "ct/logs/%s/log", shard);
		tc_config_data_path(cfg, rel, store, sizeof(store));
		if (tiles[0])
			snprintf(shard_tiles, sizeof(shard_tiles), "%s/%s", tiles, shard);
		printf("restore: CT shard %s\n", shard);
		if (tc_backup_ct_restore(st[i].path, key, NULL, 0, tiles[0] ? shard_tiles : NULL, store) != 0)
			return -1;
	}
	for (size_t i = 0; i < cfg->ct.log_count; i++) {
		snprintf(rel, sizeof(rel), "%s%s.export", TC_BACKUP_CT_SHARD_PREFIX, cfg->ct.logs[i].name);
		if (!find(st, n, rel))
			printf("restore: CT shard %s of ct.logs is not in the bundle: it starts empty\n",
			       cfg->ct.logs[i].name);
	}
	return 0;
}

static void restore_usage(FILE *out)
{
	fprintf(out, "usage: trustchainctl [--config FILE] restore BUNDLE [--audit-key PEM] [--published-sth FILE]...\n"
		     "  into the configured data directory of a stopped server. --audit-key: the audit\n"
		     "  public key from a trusted source (default: <data_dir>/audit/audit_public_key.pem);\n"
		     "  --published-sth: a tree head the CT log published (get-sth answer or export\n"
		     "  bundle): a bundle behind it, or not consistent with it, is refused\n");
}

int tc_ctl_cmd_restore(struct tc_ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{"audit-key", required_argument, NULL, 'a'},
		{"published-sth", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *audit_path = NULL;
	char *published[MAX_PUBLISHED];
	int npub = 0, c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'a')
			audit_path = optarg;
		else if (c == 'p' && npub < MAX_PUBLISHED)
			published[npub++] = optarg;
		else {
			restore_usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? TC_CTL_OK : TC_CTL_USAGE;
		}
	}
	if (optind != argc - 1) {
		restore_usage(stderr);
		return TC_CTL_USAGE;
	}
	const char *file = argv[optind];
	const struct tc_config *cfg = &ctl->cfg;
	char err[512], lock[PATH_MAX], def_key[PATH_MAX];
	if (tc_ctl_mkdirs(cfg->server.data_dir, 0750, err, sizeof(err)) != 0) {
		tc_ctl_error("restore: %s", err);
		return TC_CTL_FAIL;
	}
	/* The server's own lock (server.lock): held until we are done, so it
	 * cannot start half-way through either. */
	tc_config_data_path(cfg, "server.lock", lock, sizeof(lock));
	int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd < 0 || flock(lfd, LOCK_EX | LOCK_NB) != 0) {
		tc_ctl_error("restore: REFUSED: %s: %s", lock,
			     errno == EWOULDBLOCK ? "trustchain-server runs on this data directory: stop it first"
						  : strerror(errno));
		if (lfd >= 0)
			close(lfd);
		return TC_CTL_FAIL;
	}
	tc_config_data_path(cfg, "audit/audit_public_key.pem", def_key, sizeof(def_key));
	if (!audit_path && access(def_key, F_OK) == 0)
		audit_path = def_key;
	EVP_PKEY *audit = audit_path ? read_pubkey(audit_path) : NULL;
	FILE *in = fopen(file, "rb");
	int rc = TC_CTL_FAIL;
	static struct staged st[MAX_MEMBERS];
	size_t n = 0;
	char staging[PATH_MAX] = "";
	json_t *t = NULL;
	if (!audit) {
		tc_ctl_error("restore: REFUSED: %s", audit_path ? "--audit-key: not a PEM public key"
								: "no audit public key: give --audit-key (from a trusted source)");
		goto out;
	}
	if (!in) {
		tc_ctl_error("restore: %s: %s", file, strerror(errno));
		goto out;
	}
	if (!(t = read_manifest(in, file, audit)))
		goto out;
	tc_config_data_path(cfg, ".restore-XXXXXX", staging, sizeof(staging));
	if (!mkdtemp(staging)) {
		tc_ctl_error("restore: %s: %s", staging, strerror(errno));
		staging[0] = '\0';
		goto out;
	}
	if (extract_all(in, file, json_object_get(t, "members"), staging, st, &n) != 0)
		goto out;
	const char *ct = find(st, n, TC_BACKUP_CT_MEMBER), *log_key = find(st, n, "ct/log_public_key.pem");
	if (!ct || !log_key) {
		tc_ctl_error("restore: %s: REFUSED: no CT log in the bundle", file);
		goto out;
	}
	/* Every data file: absent, or already the same. */
	char dst[PATH_MAX];
	int clash = 0;
	for (size_t i = 0; i < n; i++) {
		if (st[i].path == ct || strcmp(st[i].name, TC_BACKUP_CONFIG_MEMBER) == 0 ||
		    strcmp(st[i].name, "dns/zone.serial") == 0 || tc_backup_shard_export_member(st[i].name, NULL, 0) == 0)
			continue;
		tc_config_data_path(cfg, st[i].name, dst, sizeof(dst));
		if (access(dst, F_OK) == 0 && !same_file(dst, st[i].path)) {
			tc_ctl_error("restore: REFUSED: %s exists with other content", dst);
			clash = 1;
		}
	}
	if (clash)
		goto out;
	char store[PATH_MAX], tiles[PATH_MAX];
	tc_config_data_path(cfg, "ct/log", store, sizeof(store));
	if (strcmp(cfg->ct.tiles_dir, "off") == 0)
		tiles[0] = '\0';
	else if (cfg->ct.tiles_dir[0])
		snprintf(tiles, sizeof(tiles), "%s", cfg->ct.tiles_dir);
	else
		tc_config_data_path(cfg, "ct/tiles", tiles, sizeof(tiles));
	if (tc_backup_ct_restore(ct, log_key, published, npub, tiles[0] ? tiles : NULL, store) != 0 ||
	    restore_shards(cfg, st, n, tiles) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (st[i].path == ct || strcmp(st[i].name, "dns/zone.serial") == 0 ||
		    tc_backup_shard_export_member(st[i].name, NULL, 0) == 0)
			continue;
		const char *name = strcmp(st[i].name, TC_BACKUP_CONFIG_MEMBER) == 0 ? "restored-trustchain.yaml" : st[i].name;
		char dir[PATH_MAX];
		tc_config_data_path(cfg, name, dst, sizeof(dst));
		snprintf(dir, sizeof(dir), "%s", dst);
		*strrchr(dir, '/') = '\0';
		if (access(dst, F_OK) == 0)
			continue; /* the same content, checked above */
		err[0] = '\0';
		if (tc_ctl_mkdirs(dir, 0750, err, sizeof(err)) != 0 || rename(st[i].path, dst) != 0) {
			tc_ctl_error("restore: %s: %s", dst, err[0] ? err : strerror(errno));
			goto out;
		}
	}
	/* Never a serial the backed-up server may have served. */
	char dnsdir[PATH_MAX];
	uint32_t serial_floor;
	tc_config_data_path(cfg, "dns", dnsdir, sizeof(dnsdir));
	err[0] = '\0';
	if (tc_ctl_mkdirs(dnsdir, 0750, err, sizeof(err)) != 0 ||
	    tc_ctl_dns_restore_serial(cfg, find(st, n, "dns/zone.serial"), &serial_floor, err, sizeof(err)) != 0) {
		tc_ctl_error("restore: zone serial: %s", err);
		goto out;
	}
	printf("restore: zone serials continue above %u\n", serial_floor);
	printf("restore: %zu files into %s; the configuration in the bundle is in restored-trustchain.yaml\n"
	       "restore: start trustchain-server (it repairs owners and modes), then run 'trustchainctl journal verify'\n",
	       n, cfg->server.data_dir);
	rc = TC_CTL_OK;
out:
	if (staging[0])
		rm_staging(staging, st, n);
	if (in)
		fclose(in);
	json_decref(t);
	EVP_PKEY_free(audit);
	close(lfd);
	return rc;
}
