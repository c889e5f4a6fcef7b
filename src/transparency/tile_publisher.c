#include "transparency/tile_publisher.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "transparency/checkpoint.h"
#include "transparency/signed_note.h"
#include "transparency/tile_leaf.h"
#include "transparency/tile_path.h"

#define MAX_DIRTY_DIRS 64
#define MAX_KNOWN_ISSUERS 256
#define MAX_PRUNE 64

struct tc_tile_publisher {
	int dirfd;
	char dir[4096];
	char origin[TC_CHECKPOINT_MAX_ORIGIN + 1];
	unsigned char log_id[TC_CT_LOG_ID_LEN];
	struct tc_checkpoint published; /* the checkpoint on disk (tree_size 0 when none) */
	int have_published;
	uint64_t published_ts; /* timestamp of the tree head published by this run (0: none yet) */
	int verified_tree; /* the published root was checked against the store */
	char *last_note;   /* its bytes, to skip rewriting an unchanged one */
	size_t last_note_len;

	/* per publish call */
	char dirty[MAX_DIRTY_DIRS][TC_TILE_PATH_MAX];
	size_t n_dirty;
	int dirty_failed;
	struct {
		int level;
		uint64_t index;
	} prune[MAX_PRUNE];
	size_t n_prune;

	/* The TileLeaf bytes of the first entries of the rightmost data tile,
	 * so each batch encodes only its new entries (not the whole partial). */
	struct {
		uint64_t index;
		unsigned count;
		struct tc_tile_buf buf;
	} tail;

	unsigned char issuers[MAX_KNOWN_ISSUERS][32]; /* published this run */
	size_t n_issuers;
	struct tc_tile_publisher_stats stats;
};

static int sync_dirty(struct tc_tile_publisher *p);

/* ---- files ---- */

static void note_dirty(struct tc_tile_publisher *p, const char *rel);

/* Creates every missing directory of rel's parent; a directory made here
 * is a new entry of its own parent, which must be synced too. */
static int make_parents(struct tc_tile_publisher *p, const char *rel)
{
	char path[TC_TILE_PATH_MAX];
	snprintf(path, sizeof(path), "%s", rel);
	for (char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
		*s = 0;
		if (mkdirat(p->dirfd, path, 0755) == 0)
			note_dirty(p, path);
		else if (errno != EEXIST)
			return -1;
		*s = '/';
	}
	return 0;
}

/* Remembers rel's parent directory for the fsync before the checkpoint. */
static void note_dirty(struct tc_tile_publisher *p, const char *rel)
{
	const char *slash = strrchr(rel, '/');
	char parent[TC_TILE_PATH_MAX];
	snprintf(parent, sizeof(parent), "%.*s", slash ? (int)(slash - rel) : 1, slash ? rel : ".");
	for (size_t i = 0; i < p->n_dirty; i++)
		if (strcmp(p->dirty[i], parent) == 0)
			return;
	if (p->n_dirty == MAX_DIRTY_DIRS && sync_dirty(p) != 0)
		p->dirty_failed = 1; /* reported before the checkpoint */
	snprintf(p->dirty[p->n_dirty++], TC_TILE_PATH_MAX, "%s", parent);
}

static int fsync_dir(struct tc_tile_publisher *p, const char *rel)
{
	int fd = openat(p->dirfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/* Every directory that got a new entry (a renamed file, a new directory)
 * made durable, so the checkpoint renamed after this names nothing that a
 * crash could lose. */
static int sync_dirty(struct tc_tile_publisher *p)
{
	int rc = p->dirty_failed ? -1 : 0;
	for (size_t i = 0; i < p->n_dirty && rc == 0; i++)
		rc = fsync_dir(p, p->dirty[i]);
	p->n_dirty = 0;
	p->dirty_failed = 0;
	return rc;
}

static int exists(struct tc_tile_publisher *p, const char *rel)
{
	struct stat sb;
	return fstatat(p->dirfd, rel, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode);
}

/* rel.tmp written and fsync'd, then renamed to rel. */
static int write_atomic(struct tc_tile_publisher *p, const char *rel, const void *data, size_t len)
{
	char tmp[TC_TILE_PATH_MAX + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", rel);
	if (make_parents(p, rel) != 0)
		return -1;
	int fd = openat(p->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -1;
	const unsigned char *b = data;
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(fd, b + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			unlinkat(p->dirfd, tmp, 0);
			return -1;
		}
		done += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0 || renameat(p->dirfd, tmp, p->dirfd, rel) != 0) {
		unlinkat(p->dirfd, tmp, 0);
		return -1;
	}
	note_dirty(p, rel);
	p->stats.files_written++;
	p->stats.bytes_written += len;
	return 0;
}

/* Removes the partial versions of a tile ("<tile path>.p/<W>"), now that
 * the full tile is durable. Best effort: a leftover only costs disk. */
static void prune_partials(struct tc_tile_publisher *p, int level, uint64_t index)
{
	char full[TC_TILE_PATH_MAX], dir[TC_TILE_PATH_MAX + 4];
	if (tc_tile_path(full, sizeof(full), level, index, TC_TILE_WIDTH) != 0)
		return;
	snprintf(dir, sizeof(dir), "%s.p", full);
	int fd = openat(p->dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			unlinkat(fd, de->d_name, 0);
	closedir(d);
	unlinkat(p->dirfd, dir, AT_REMOVEDIR);
}

/* ---- tiles ---- */

static int fail(char *err, size_t errlen, const char *what, const char *path)
{
	snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno ? errno : EIO));
	return -1;
}

static int hash_tile(struct tc_tile_publisher *p, struct tc_ct_store *st, int level, uint64_t index,
		     unsigned width, char *err, size_t errlen)
{
	char path[TC_TILE_PATH_MAX];
	if (tc_tile_path(path, sizeof(path), level, index, width) != 0) {
		snprintf(err, errlen, "tile (%d, %llu) has no path", level, (unsigned long long)index);
		return -1;
	}
	if (width == TC_TILE_WIDTH && exists(p, path))
		return 0; /* published before: immutable */
	unsigned char hashes[TC_TILE_WIDTH][TC_MERKLE_HASH_LEN];
	for (unsigned i = 0; i < width; i++) {
		int rc = tc_ct_store_node_hash(st, (unsigned)(TC_TILE_HEIGHT * level), index * TC_TILE_WIDTH + i,
					       hashes[i]);
		if (rc != TC_CT_STORE_OK) {
			snprintf(err, errlen, "tile %s: node %u of the store: %s", path, i, tc_ct_store_strerror(rc));
			return -1;
		}
	}
	errno = 0;
	if (write_atomic(p, path, hashes, (size_t)width * TC_MERKLE_HASH_LEN) != 0)
		return fail(err, errlen, "writing", path);
	if (width == TC_TILE_WIDTH && p->n_prune < MAX_PRUNE) {
		p->prune[p->n_prune].level = level;
		p->prune[p->n_prune++].index = index;
	}
	return 0;
}

struct issuer_ctx {
	struct tc_tile_publisher *p;
	char *err;
	size_t errlen;
};

static int publish_issuer(void *ctx, const unsigned char *der, size_t len, const unsigned char fp[32])
{
	struct issuer_ctx *ic = ctx;
	struct tc_tile_publisher *p = ic->p;
	for (size_t i = 0; i < p->n_issuers; i++)
		if (memcmp(p->issuers[i], fp, 32) == 0)
			return 0;
	char path[80];
	tc_tile_issuer_path(path, sizeof(path), fp);
	errno = 0;
	if (!exists(p, path) && write_atomic(p, path, der, len) != 0)
		return fail(ic->err, ic->errlen, "writing", path);
	if (p->n_issuers < MAX_KNOWN_ISSUERS)
		memcpy(p->issuers[p->n_issuers++], fp, 32);
	return 0;
}

static int data_tile(struct tc_tile_publisher *p, struct tc_ct_store *st, uint64_t index, unsigned width, char *err,
		     size_t errlen)
{
	char path[TC_TILE_PATH_MAX];
	if (tc_tile_path(path, sizeof(path), TC_TILE_DATA_LEVEL, index, width) != 0) {
		snprintf(err, errlen, "data tile %llu has no path", (unsigned long long)index);
		return -1;
	}
	if (width == TC_TILE_WIDTH && exists(p, path))
		return 0;
	if (p->tail.index != index || p->tail.count > width) {
		p->tail.index = index;
		p->tail.count = 0;
		p->tail.buf.len = 0;
	}
	struct issuer_ctx ic = {p, err, errlen};
	int rc = 0;
	for (unsigned i = p->tail.count; i < width && rc == 0; i++) {
		struct tc_ct_record rec;
		uint64_t leaf = index * TC_TILE_WIDTH + i;
		int sst = tc_ct_store_get_leaf(st, leaf, &rec);
		if (sst != TC_CT_STORE_OK) {
			snprintf(err, errlen, "leaf %llu: %s", (unsigned long long)leaf, tc_ct_store_strerror(sst));
			rc = -1;
			break;
		}
		err[0] = 0;
		if (tc_tile_leaf_append(&p->tail.buf, rec.leaf_input, rec.leaf_len, rec.extra_data, rec.extra_len,
					publish_issuer, &ic) != 0) {
			if (!err[0])
				snprintf(err, errlen, "leaf %llu cannot be encoded as a TileLeaf",
					 (unsigned long long)leaf);
			rc = -1;
		} else {
			p->tail.count = i + 1;
		}
		tc_ct_record_free(&rec);
	}
	errno = 0;
	if (rc == 0 && write_atomic(p, path, p->tail.buf.data, p->tail.buf.len) != 0)
		rc = fail(err, errlen, "writing", path);
	if (rc != 0 || width == TC_TILE_WIDTH) {
		/* start the next tile (or this one again) from scratch */
		p->tail.index = index + (rc == 0);
		p->tail.count = 0;
		p->tail.buf.len = 0;
	}
	if (rc == 0 && width == TC_TILE_WIDTH && p->n_prune < MAX_PRUNE) {
		p->prune[p->n_prune].level = TC_TILE_DATA_LEVEL;
		p->prune[p->n_prune++].index = index;
	}
	return rc;
}

/* The tiles of one level (and, at level 0, the data tiles) for growth
 * from old_size to new_size entries. */
static int publish_level(struct tc_tile_publisher *p, struct tc_ct_store *st, int level, uint64_t old_size,
			 uint64_t new_size, char *err, size_t errlen)
{
	uint64_t first = tc_tile_full_count(old_size, level), end = tc_tile_full_count(new_size, level);
	for (uint64_t n = first; n < end; n++) {
		if (hash_tile(p, st, level, n, TC_TILE_WIDTH, err, errlen) != 0 ||
		    (level == 0 && data_tile(p, st, n, TC_TILE_WIDTH, err, errlen) != 0))
			return -1;
		if (p->n_prune == MAX_PRUNE && sync_dirty(p) == 0) {
			/* a long catch-up: prune as we go (the full tiles are durable) */
			for (size_t i = 0; i < p->n_prune; i++)
				prune_partials(p, p->prune[i].level, p->prune[i].index);
			p->n_prune = 0;
		}
	}
	unsigned width = tc_tile_partial_width(new_size, level);
	/* a partial tile of a given width never changes: write it when the
	 * level's width moved (or nothing was published yet) */
	int moved = !p->have_published || tc_tile_partial_width(old_size, level) != width || first != end;
	if (width && moved &&
	    (hash_tile(p, st, level, end, width, err, errlen) != 0 ||
	     (level == 0 && data_tile(p, st, end, width, err, errlen) != 0)))
		return -1;
	return 0;
}

static int publish_checkpoint(struct tc_tile_publisher *p, const struct tc_ct_sth *sth, char *err, size_t errlen)
{
	char *note = NULL;
	size_t len = 0;
	if (tc_checkpoint_format(p->origin, p->log_id, sth->tree_size, sth->timestamp, sth->root, sth->signature,
				 sth->signature_len, &note, &len) != 0) {
		snprintf(err, errlen, "checkpoint for tree size %llu cannot be encoded",
			 (unsigned long long)sth->tree_size);
		return -1;
	}
	errno = 0;
	if (write_atomic(p, "checkpoint", note, len) != 0 || fsync(p->dirfd) != 0) {
		free(note);
		return fail(err, errlen, "writing", "checkpoint");
	}
	p->n_dirty = 0;
	free(p->last_note);
	p->last_note = note;
	p->last_note_len = len;
	p->published.tree_size = sth->tree_size;
	memcpy(p->published.root, sth->root, TC_CT_HASH_LEN);
	p->have_published = 1;
	p->published_ts = sth->timestamp;
	p->stats.checkpoints++;
	return 0;
}

/* The checkpoint on disk must describe this store's tree. */
static int check_same_tree(struct tc_tile_publisher *p, struct tc_ct_store *st, char *err, size_t errlen)
{
	if (p->verified_tree || !p->have_published)
		return 0;
	unsigned char root[TC_CT_HASH_LEN];
	int rc = tc_ct_store_root(st, p->published.tree_size, root);
	if (rc != TC_CT_STORE_OK || memcmp(root, p->published.root, TC_CT_HASH_LEN) != 0) {
		snprintf(err, errlen,
			 "%s/checkpoint (tree size %llu) is not this log's tree (%s): tiles_dir holds another log; "
			 "move it away to publish this one",
			 p->dir, (unsigned long long)p->published.tree_size,
			 rc == TC_CT_STORE_OK ? "different root" : tc_ct_store_strerror(rc));
		return -1;
	}
	p->verified_tree = 1;
	return 0;
}

int tc_tile_publisher_publish(struct tc_tile_publisher *p, struct tc_ct_store *st, const struct tc_ct_sth *sth,
			      char *err, size_t errlen)
{
	if (p->have_published && p->published.tree_size == sth->tree_size && p->published_ts == sth->timestamp)
		return 0; /* this tree head is the checkpoint already */
	if (check_same_tree(p, st, err, errlen) != 0)
		return -1;
	uint64_t old_size = p->have_published ? p->published.tree_size : 0, new_size = sth->tree_size;
	if (new_size < old_size) {
		snprintf(err, errlen, "tree head %llu is older than the published checkpoint (%llu)",
			 (unsigned long long)new_size, (unsigned long long)old_size);
		return -1;
	}
	p->n_dirty = 0;
	p->dirty_failed = 0;
	p->n_prune = 0;
	if (new_size > old_size || !p->have_published)
		for (int level = 0; level <= TC_TILE_MAX_LEVEL; level++) {
			if (tc_tile_full_count(new_size, level) == 0 && tc_tile_partial_width(new_size, level) == 0)
				break;
			if (publish_level(p, st, level, old_size, new_size, err, errlen) != 0)
				return -1;
		}
	errno = 0;
	if (sync_dirty(p) != 0)
		return fail(err, errlen, "syncing", p->dir);
	if (publish_checkpoint(p, sth, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < p->n_prune; i++)
		prune_partials(p, p->prune[i].level, p->prune[i].index);
	p->n_prune = 0;
	return 0;
}

/* ---- life cycle ---- */

static int mkdir_p(const char *dir)
{
	char path[4096];
	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return -1;
	for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = 0;
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/* What the checkpoint on disk says (its text: the signature was ours). */
static void load_published(struct tc_tile_publisher *p)
{
	int fd = openat(p->dirfd, "checkpoint", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	char buf[8192];
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	struct tc_note note;
	if (n > 0 && tc_note_parse(buf, (size_t)n, &note) == 0 &&
	    tc_checkpoint_parse_text(note.text, note.text_len, &p->published) == 0) {
		p->have_published = 1;
	} else {
		tc_warn("%s/checkpoint unreadable: publishing everything again", p->dir);
		memset(&p->published, 0, sizeof(p->published));
	}
	tc_note_free(&note);
}

int tc_tile_publisher_open(const char *dir, const char *origin, const unsigned char log_id[TC_CT_LOG_ID_LEN],
			   struct tc_tile_publisher **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!origin[0] || strlen(origin) > TC_CHECKPOINT_MAX_ORIGIN || strpbrk(origin, " +\n")) {
		snprintf(err, errlen, "checkpoint origin \"%s\" is not a valid note key name", origin);
		return -1;
	}
	struct tc_tile_publisher *p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(p->dir, sizeof(p->dir), "%s", dir);
	snprintf(p->origin, sizeof(p->origin), "%s", origin);
	memcpy(p->log_id, log_id, TC_CT_LOG_ID_LEN);
	if (mkdir_p(dir) != 0 || (p->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "tiles directory %s: %s", dir, strerror(errno));
		free(p);
		return -1;
	}
	load_published(p);
	*out = p;
	return 0;
}

void tc_tile_publisher_close(struct tc_tile_publisher *p)
{
	if (!p)
		return;
	close(p->dirfd);
	free(p->last_note);
	tc_tile_buf_free(&p->tail.buf);
	free(p);
}

uint64_t tc_tile_publisher_size(const struct tc_tile_publisher *p)
{
	return p->have_published ? p->published.tree_size : 0;
}

void tc_tile_publisher_stats(const struct tc_tile_publisher *p, struct tc_tile_publisher_stats *out)
{
	*out = p->stats;
}
