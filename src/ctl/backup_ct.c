/* Restore's CT half: the log's store rebuilt from a verified export bundle,
 * never behind a tree head the log has published (a restored log must never
 * fork: monitors holding a newer head would see two histories). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/config_ct.h"
#include "ctl/backup.h"
#include "ctl/export.h"
#include "ctl/files.h"
#include "transparency/ct_store.h"

#define BATCH 1024

struct head {
	uint64_t size;
	unsigned char root[TC_MERKLE_HASH_LEN];
	char source[PATH_MAX + 32];
};

static int b64_field(const json_t *o, const char *key, unsigned char **out, size_t *len)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && tc_base64_decode(s, out, len) == 0 ? 0 : -1;
}

/* An RFC 6962 get-sth object: size and root (the signature is not needed
 * here: the operator vouches for the evidence they give). */
static int head_of(const json_t *sth, struct head *h)
{
	json_t *size = json_object_get(sth, "tree_size");
	unsigned char *root = NULL;
	size_t len = 0;
	int rc = json_is_integer(size) && json_integer_value(size) >= 0 && b64_field(sth, "sha256_root_hash", &root, &len) == 0 &&
			 len == TC_MERKLE_HASH_LEN
		     ? 0
		     : -1;
	if (rc == 0) {
		h->size = (uint64_t)json_integer_value(size);
		memcpy(h->root, root, len);
	}
	free(root);
	return rc;
}

/* A get-sth answer, or an export bundle (its header's sth). */
static int read_published(const char *path, struct head *h)
{
	FILE *f = fopen(path, "r");
	json_t *j = f ? json_loadf(f, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
	if (f)
		fclose(f);
	const json_t *sth = json_object_get(j, "kind") ? json_object_get(j, "sth") : j;
	int rc = sth ? head_of(sth, h) : -1;
	json_decref(j);
	snprintf(h->source, sizeof(h->source), "%s", path);
	return rc;
}

/* The checkpoint of the static-ct-api read path: origin, size, root. */
static int read_checkpoint(const char *tiles_dir, struct head *h)
{
	char path[PATH_MAX], origin[512], size[32], root[128];
	snprintf(path, sizeof(path), "%s/checkpoint", tiles_dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	unsigned char *r = NULL;
	size_t rl = 0;
	char *end;
	int rc = fgets(origin, sizeof(origin), f) && fgets(size, sizeof(size), f) && fgets(root, sizeof(root), f) ? 1 : -1;
	fclose(f);
	if (rc == 1) {
		root[strcspn(root, "\n")] = '\0';
		h->size = strtoull(size, &end, 10);
		if (*end != '\n' || tc_base64_decode(root, &r, &rl) != 0 || rl != TC_MERKLE_HASH_LEN)
			rc = -1;
		else
			memcpy(h->root, r, rl);
	}
	free(r);
	snprintf(h->source, sizeof(h->source), "%s", path);
	return rc;
}

/* Verifies the export with the log key (signature, entries against root). */
static int verify_export(const char *ct_export, const char *log_key, json_t **header)
{
	FILE *kf = fopen(log_key, "r");
	EVP_PKEY *key = kf ? PEM_read_PUBKEY(kf, NULL, NULL, NULL) : NULL;
	if (kf)
		fclose(kf);
	FILE *f = fopen(ct_export, "r");
	char *line = NULL;
	size_t cap = 0, len;
	int rc = -1;
	*header = NULL;
	if (key && f && tc_export_read_line(f, &line, &cap, &len) == 1 && (*header = json_loadb(line, len, 0, NULL)) &&
	    tc_ctl_verify_ct_bundle(f, *header, key, "backup CT log") == TC_CTL_OK)
		rc = 0;
	json_t *e = json_object_get(*header, "entries");
	json_t *sth = json_object_get(*header, "sth");
	if (rc == 0 && (json_integer_value(json_object_get(e, "first")) != 0 ||
			json_integer_value(json_object_get(e, "count")) != json_integer_value(json_object_get(sth, "tree_size")))) {
		tc_ctl_error("restore: REFUSED: the CT export is not the whole tree");
		rc = -1;
	}
	free(line);
	if (f)
		fclose(f);
	EVP_PKEY_free(key);
	return rc;
}

static int flush(struct tc_ct_store *st, struct tc_ct_store_entry *e, unsigned char **bufs, size_t *n)
{
	uint64_t first;
	int rc = *n ? tc_ct_store_append_batch(st, e, *n, &first) : 0;
	for (size_t i = 0; i < 2 * *n; i++)
		free(bufs[i]);
	*n = 0;
	return rc;
}

/* The store at dir from the export's entries, then its tree head. */
static int rebuild(const char *ct_export, const json_t *header, const char *dir)
{
	char err[512];
	struct tc_ct_store *st;
	if (tc_ct_store_open(dir, &st, err, sizeof(err)) != 0) {
		tc_ctl_error("restore: CT store %s: %s", dir, err);
		return -1;
	}
	FILE *f = fopen(ct_export, "r");
	char *line = NULL;
	size_t cap = 0, len, n = 0;
	static struct tc_ct_store_entry e[BATCH];
	static unsigned char *bufs[2 * BATCH];
	int rc = f && tc_export_read_line(f, &line, &cap, &len) == 1 ? 0 : -1; /* the header */
	while (rc == 0 && tc_export_read_line(f, &line, &cap, &len) == 1) {
		json_t *j = json_loadb(line, len, 0, NULL);
		unsigned char *leaf = NULL, *extra = NULL;
		size_t ll = 0, el = 0;
		if (!j || b64_field(j, "leaf_input", &leaf, &ll) != 0 || b64_field(j, "extra_data", &extra, &el) != 0) {
			free(leaf);
			free(extra);
			rc = -1;
		} else {
			e[n] = (struct tc_ct_store_entry){.leaf_input = leaf, .leaf_len = ll, .extra_data = extra, .extra_len = el};
			bufs[2 * n] = leaf;
			bufs[2 * n + 1] = extra;
			if (++n == BATCH)
				rc = flush(st, e, bufs, &n);
		}
		json_decref(j);
	}
	if (rc == 0)
		rc = flush(st, e, bufs, &n);
	else
		flush(st, e, bufs, &n);
	free(line);
	if (f)
		fclose(f);
	/* The signed head as the log stores it: the DER signature inside the
	 * TLS DigitallySigned (hash, signature algorithm, 2-byte length). */
	const json_t *sth = json_object_get(header, "sth");
	struct head h;
	struct tc_ct_sth s = {0};
	unsigned char *sig = NULL;
	size_t sl = 0;
	if (rc == 0 && head_of(sth, &h) == 0 && b64_field(sth, "tree_head_signature", &sig, &sl) == 0 && sl > 4 &&
	    sl - 4 == (size_t)(sig[2] << 8 | sig[3]) && sl - 4 <= sizeof(s.signature)) {
		s.tree_size = h.size;
		s.timestamp = (uint64_t)json_integer_value(json_object_get(sth, "timestamp"));
		memcpy(s.root, h.root, sizeof(s.root));
		memcpy(s.signature, sig + 4, sl - 4);
		s.signature_len = sl - 4;
		/* put_sth checks the root against the rebuilt tree. */
		if (tc_ct_store_size(st) != h.size || tc_ct_store_put_sth(st, &s) != 0)
			rc = -1;
	} else {
		rc = -1;
	}
	free(sig);
	tc_ct_store_close(st);
	if (rc != 0)
		tc_ctl_error("restore: rebuilding the CT log in %s failed (entries or tree head do not fit)", dir);
	return rc;
}

/* 0 when the rebuilt tree extends h (same root at h's size). */
static int check_against(struct tc_ct_store *st, uint64_t size, const struct head *h)
{
	unsigned char root[TC_MERKLE_HASH_LEN];
	if (h->size > size) {
		tc_ctl_error("restore: REFUSED: the bundle's CT tree (%" PRIu64 " entries) is behind the tree head of %" PRIu64
			     " entries published in %s: restoring it would fork the log",
			     size, h->size, h->source);
		return -1;
	}
	if (tc_ct_store_root(st, h->size, root) != 0 || memcmp(root, h->root, sizeof(root)) != 0) {
		tc_ctl_error("restore: REFUSED: the bundle's CT tree is not consistent with the tree head of %" PRIu64
			     " entries in %s (another history)",
			     h->size, h->source);
		return -1;
	}
	printf("restore: CT tree of %" PRIu64 " entries is consistent with %s (%" PRIu64 " entries)\n", size, h->source,
	       h->size);
	return 0;
}

static int rm_tree(const char *dir)
{
	char cmd[PATH_MAX];
	/* A LevelDB directory holds only files. */
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			snprintf(cmd, sizeof(cmd), "%s/%s", dir, de->d_name);
			unlink(cmd);
		}
	if (d)
		closedir(d);
	return rmdir(dir);
}

int tc_backup_ct_restore(const char *ct_export, const char *log_key, char *const *published, int npublished,
			 const char *tiles_dir, const char *store_dir)
{
	json_t *header = NULL;
	if (verify_export(ct_export, log_key, &header) != 0) {
		json_decref(header);
		tc_ctl_error("restore: REFUSED: the CT export does not verify with the log key");
		return -1;
	}
	char fresh[PATH_MAX], parent[PATH_MAX], err[512];
	snprintf(fresh, sizeof(fresh), "%s.restoring", store_dir);
	snprintf(parent, sizeof(parent), "%s", store_dir);
	*strrchr(parent, '/') = '\0';
	if (tc_ctl_mkdirs(parent, 0750, err, sizeof(err)) != 0) {
		json_decref(header);
		tc_ctl_error("restore: %s", err);
		return -1;
	}
	rm_tree(fresh);
	int rc = rebuild(ct_export, header, fresh);
	json_decref(header);
	struct tc_ct_store *st = NULL;
	if (rc == 0 && tc_ct_store_open(fresh, &st, err, sizeof(err)) != 0) {
		tc_ctl_error("restore: %s: %s", fresh, err);
		rc = -1;
	}
	uint64_t size = st ? tc_ct_store_size(st) : 0;
	struct head h;
	for (int i = 0; rc == 0 && i < npublished; i++) {
		if (read_published(published[i], &h) != 0) {
			tc_ctl_error("restore: --published-sth %s: not a get-sth answer or export bundle", published[i]);
			rc = -1;
		} else {
			rc = check_against(st, size, &h);
		}
	}
	int cp = rc == 0 && tiles_dir ? read_checkpoint(tiles_dir, &h) : 0;
	if (cp < 0) {
		tc_ctl_error("restore: %s: unreadable checkpoint", h.source);
		rc = -1;
	} else if (cp > 0) {
		rc = check_against(st, size, &h);
	}
	struct stat sb;
	int existing = stat(store_dir, &sb) == 0;
	if (rc == 0 && existing) {
		struct tc_ct_store *old;
		struct tc_ct_sth s;
		if (tc_ct_store_open(store_dir, &old, err, sizeof(err)) != 0) {
			tc_ctl_error("restore: the existing CT store %s: %s", store_dir, err);
			rc = -1;
		} else {
			if (tc_ct_store_latest_sth(old, &s) == 0) {
				h.size = s.tree_size;
				memcpy(h.root, s.root, sizeof(h.root));
				snprintf(h.source, sizeof(h.source), "the existing store %s", store_dir);
				rc = check_against(st, size, &h);
			}
			tc_ct_store_close(old);
		}
	}
	if (st)
		tc_ct_store_close(st);
	if (rc == 0 && existing) {
		char aside[PATH_MAX + 64];
		snprintf(aside, sizeof(aside), "%s.pre-restore-%lld", store_dir, (long long)time(NULL));
		if (rename(store_dir, aside) != 0) {
			tc_ctl_error("restore: %s: %s", store_dir, strerror(errno));
			rc = -1;
		} else {
			printf("restore: the CT store that was there is kept in %s\n", aside);
		}
	}
	if (rc == 0 && rename(fresh, store_dir) != 0) {
		tc_ctl_error("restore: %s: %s", store_dir, strerror(errno));
		rc = -1;
	}
	if (rc != 0)
		rm_tree(fresh);
	else
		printf("restore: CT log rebuilt in %s: %" PRIu64 " entries, root matches the signed tree head\n", store_dir,
		       size);
	return rc;
}

/* 0 when member is prefix + <shard> + one of the suffixes. */
static int shard_member(const char *member, const char *prefix, const char *const *suffixes, size_t nsuffixes,
			char *shard, size_t shardlen)
{
	size_t plen = strlen(prefix), mlen = strlen(member);
	if (strncmp(member, prefix, plen) != 0)
		return -1;
	for (size_t i = 0; i < nsuffixes; i++) {
		size_t slen = strlen(suffixes[i]);
		char name[64];
		if (mlen <= plen + slen || strcmp(member + mlen - slen, suffixes[i]) != 0 ||
		    mlen - plen - slen >= sizeof(name))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(mlen - plen - slen), member + plen);
		if (!tc_config_ct_log_name_ok(name))
			continue;
		if (shard)
			snprintf(shard, shardlen, "%s", name);
		return 0;
	}
	return -1;
}

int tc_backup_shard_key_member(const char *member, char *shard, size_t shardlen)
{
	/* ".log_id.txt" first: "x.log_id.txt" never ends in ".pem" anyway. */
	static const char *const suffixes[] = {".log_id.txt", ".pem"};
	return shard_member(member, "ct/keys/", suffixes, 2, shard, shardlen);
}

int tc_backup_shard_export_member(const char *member, char *shard, size_t shardlen)
{
	static const char *const suffixes[] = {".export"};
	return shard_member(member, TC_BACKUP_CT_SHARD_PREFIX, suffixes, 1, shard, shardlen);
}
