/* LevelDB storage of the CT log; key space and threading in ct_store.h. */
#include "transparency/ct_store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include <leveldb/c.h>

#include "common/log.h"
#include "transparency/be_bytes.h"

#define STORE_FORMAT "1"
#define MAX_LEVELS 64
/* Sizes stay below 2^63 so that climbing the tree from any leaf index
 * never leaves the 64-entry frontier. */
#define MAX_TREE_SIZE (UINT64_MAX >> 1)
/* Node hashes kept in memory: the top of the tree, as many levels as fit
 * (32 MiB). At 10^6 leaves that is every level but the leaves, so a proof
 * costs one LevelDB read per leaf-level sibling plus the hash lookup; at
 * 10^9 leaves the 12 lowest levels are read from LevelDB. */
#define NODE_CACHE_MAX_NODES (1u << 20)

static const char KEY_FORMAT[] = "Mformat";
static const char KEY_SIZE[] = "Msize";
static const char KEY_LATEST_STH[] = "Mlatest_sth";

struct tc_ct_store {
	leveldb_t *db;
	leveldb_options_t *options;
	leveldb_cache_t *cache;
	leveldb_filterpolicy_t *filter;
	leveldb_readoptions_t *read;
	leveldb_writeoptions_t *write_sync;
	leveldb_writeoptions_t *write_nosync;
	char *path;
	/* Set by the first failed write (see tc_ct_store_write_failed). */
	atomic_int write_failed;

	/* Serializes append_batch; guards frontier. */
	pthread_mutex_t write_lock;
	/* Serializes put_sth (latest). Not write_lock: a tree head names a
	 * size already durable, so its write need not wait for an append
	 * (nor an append for its root and synced write, ten times a second
	 * on the issuance path); LevelDB orders and groups the two writes. */
	pthread_mutex_t sth_write_lock;
	/* frontier[l] is node (l, (size >> l) - 1) for each bit l set in size:
	 * the left siblings still waiting for a right half. */
	unsigned char frontier[MAX_LEVELS][TC_MERKLE_HASH_LEN];
	/* Published after the write that made it durable (see ct_store.h). */
	_Atomic uint64_t size;
	_Atomic uint64_t next_pending_id;

	/* The newest tree head, the bound of every API read: kept in memory
	 * so a read costs no LevelDB lookups for it. Written under sth_write_lock
	 * and sth_lock after the write that made it durable. */
	pthread_rwlock_t sth_lock;
	struct tc_ct_sth latest;
	int have_latest;

	/* level[l][i] is node (l, i) for every level l >= min_level and every
	 * complete node of the published size. Appended by the writer (under
	 * write_lock) after the write that made the nodes durable; readers
	 * take cache_lock. min_level only grows. */
	struct {
		pthread_rwlock_t lock;
		unsigned min_level;
		unsigned char (*level[MAX_LEVELS])[TC_MERKLE_HASH_LEN];
		uint64_t count[MAX_LEVELS], cap[MAX_LEVELS];
	} nodes;
};

/* A node completed by an append, for the cache once the write succeeded. */
struct new_node {
	unsigned level;
	uint64_t index;
	unsigned char hash[TC_MERKLE_HASH_LEN];
};

struct new_nodes {
	struct new_node *v;
	size_t n, cap;
	unsigned min_level; /* only levels the cache keeps are collected */
	int oom;
};

static int cache_load(struct tc_ct_store *st, uint64_t size);

const char *tc_ct_store_strerror(int status)
{
	switch (status) {
	case TC_CT_STORE_OK: return "ok";
	case TC_CT_STORE_ERR_IO: return "storage I/O error";
	case TC_CT_STORE_ERR_NOT_FOUND: return "not found";
	case TC_CT_STORE_ERR_RANGE: return "index or tree size beyond the log";
	case TC_CT_STORE_ERR_CORRUPT: return "stored record is corrupt";
	case TC_CT_STORE_ERR_ARG: return "invalid argument";
	case TC_CT_STORE_ERR_NOMEM: return "out of memory";
	case TC_CT_STORE_ERR_SPACE: return "proof buffer too small";
	case TC_CT_STORE_ERR_MISMATCH: return "tree head root does not match the stored tree";
	default: return "unknown error";
	}
}

/* ---- keys ---- */

static void key_u64(unsigned char key[9], char prefix, uint64_t v)
{
	key[0] = (unsigned char)prefix;
	tc_be_put(key + 1, v, 8);
}

static void key_node(unsigned char key[10], unsigned level, uint64_t index)
{
	key[0] = 'N';
	key[1] = (unsigned char)level;
	tc_be_put(key + 2, index, 8);
}

static void key_hash(unsigned char key[1 + TC_MERKLE_HASH_LEN], const unsigned char hash[TC_MERKLE_HASH_LEN])
{
	key[0] = 'H';
	memcpy(key + 1, hash, TC_MERKLE_HASH_LEN);
}

/* ---- LevelDB helpers ---- */

/* Logs and frees a LevelDB error; returns TC_CT_STORE_ERR_IO when there was one. */
static int check_err(const struct tc_ct_store *st, char *errptr, const char *what)
{
	if (!errptr)
		return TC_CT_STORE_OK;
	tc_err("ct store %s: %s: %s", st->path, what, errptr);
	leveldb_free(errptr);
	return TC_CT_STORE_ERR_IO;
}

/* *val is LevelDB-allocated (leveldb_free) on TC_CT_STORE_OK. */
static int db_get(struct tc_ct_store *st, const void *key, size_t klen, char **val, size_t *vlen)
{
	char *errptr = NULL;
	*val = leveldb_get(st->db, st->read, key, klen, vlen, &errptr);
	int rc = check_err(st, errptr, "read");
	if (rc != TC_CT_STORE_OK) {
		leveldb_free(*val);
		*val = NULL;
		return rc;
	}
	return *val ? TC_CT_STORE_OK : TC_CT_STORE_ERR_NOT_FOUND;
}

/* Reads a value that must be exactly len bytes. */
static int db_get_fixed(struct tc_ct_store *st, const void *key, size_t klen, unsigned char *out, size_t len)
{
	char *val;
	size_t vlen;
	int rc = db_get(st, key, klen, &val, &vlen);
	if (rc != TC_CT_STORE_OK)
		return rc;
	if (vlen == len)
		memcpy(out, val, len);
	else
		rc = TC_CT_STORE_ERR_CORRUPT;
	leveldb_free(val);
	return rc;
}

static int db_get_u64(struct tc_ct_store *st, const void *key, size_t klen, uint64_t *v)
{
	unsigned char buf[8];
	int rc = db_get_fixed(st, key, klen, buf, sizeof(buf));
	if (rc == TC_CT_STORE_OK)
		*v = tc_be_get(buf, 8);
	return rc;
}

/* A write that failed (ENOSPC, EIO) may have left part of its record in
 * LevelDB's log file, and LevelDB goes on appending after it: when the log
 * is next opened, recovery stops at the torn record and drops the records
 * written after it, acknowledged ones included (seen with a full disk).
 * So after one failure this handle writes nothing more; the process reopens
 * the store by restarting (tc_ct_store_write_failed). */
static int db_write_opt(struct tc_ct_store *st, const leveldb_writeoptions_t *opt, leveldb_writebatch_t *wb,
			const char *what)
{
	if (atomic_load(&st->write_failed))
		return TC_CT_STORE_ERR_IO;
	char *errptr = NULL;
	leveldb_write(st->db, opt, wb, &errptr);
	int rc = check_err(st, errptr, what);
	if (rc != TC_CT_STORE_OK && !atomic_exchange(&st->write_failed, 1))
		tc_err("ct store %s: refusing further writes until the store is reopened", st->path);
	return rc;
}

static int db_write(struct tc_ct_store *st, leveldb_writebatch_t *wb, const char *what)
{
	return db_write_opt(st, st->write_sync, wb, what);
}

int tc_ct_store_write_failed(struct tc_ct_store *st, uint64_t *free_bytes)
{
	if (!atomic_load(&st->write_failed))
		return 0;
	struct statvfs sv;
	*free_bytes = statvfs(st->path, &sv) == 0 ? (uint64_t)sv.f_bavail * sv.f_frsize : 0;
	return 1;
}

/* ---- leaf and pending records: leaf_len(4) leaf_input extra_data ---- */

static int record_check(const struct tc_ct_store_entry *e)
{
	if ((e->leaf_len && !e->leaf_input) || (e->extra_len && !e->extra_data))
		return TC_CT_STORE_ERR_ARG;
	if (e->leaf_len > TC_CT_STORE_MAX_LEAF || e->extra_len > SIZE_MAX - 4 - e->leaf_len)
		return TC_CT_STORE_ERR_ARG;
	return TC_CT_STORE_OK;
}

/* Encodes into *buf (grown as needed); returns the length or 0 on OOM. */
static size_t record_encode(const struct tc_ct_store_entry *e, unsigned char **buf, size_t *cap)
{
	size_t len = 4 + e->leaf_len + e->extra_len;
	if (len > *cap) {
		unsigned char *nb = realloc(*buf, len);
		if (!nb)
			return 0;
		*buf = nb;
		*cap = len;
	}
	tc_be_put(*buf, e->leaf_len, 4);
	if (e->leaf_len)
		memcpy(*buf + 4, e->leaf_input, e->leaf_len);
	if (e->extra_len)
		memcpy(*buf + 4 + e->leaf_len, e->extra_data, e->extra_len);
	return len;
}

/* Points rec into val (not copied, raw stays NULL). */
static int record_view(const char *val, size_t vlen, struct tc_ct_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	if (vlen < 4)
		return TC_CT_STORE_ERR_CORRUPT;
	uint64_t leaf_len = tc_be_get((const unsigned char *)val, 4);
	if (leaf_len > vlen - 4)
		return TC_CT_STORE_ERR_CORRUPT;
	rec->leaf_input = (unsigned char *)val + 4;
	rec->leaf_len = (size_t)leaf_len;
	rec->extra_data = (unsigned char *)val + 4 + leaf_len;
	rec->extra_len = vlen - 4 - (size_t)leaf_len;
	return TC_CT_STORE_OK;
}

void tc_ct_record_free(struct tc_ct_record *r)
{
	if (!r)
		return;
	leveldb_free(r->raw);
	memset(r, 0, sizeof(*r));
}

/* A stored tree head: timestamp(8) root(32) signature. */
static int read_sth(struct tc_ct_store *st, uint64_t tree_size, struct tc_ct_sth *out)
{
	memset(out, 0, sizeof(*out));
	unsigned char key[9];
	key_u64(key, 'T', tree_size);
	char *val;
	size_t vlen;
	int rc = db_get(st, key, sizeof(key), &val, &vlen);
	if (rc != TC_CT_STORE_OK)
		return rc;
	if (vlen < 8 + TC_MERKLE_HASH_LEN || vlen - 8 - TC_MERKLE_HASH_LEN > TC_CT_STORE_MAX_SIGNATURE) {
		rc = TC_CT_STORE_ERR_CORRUPT;
	} else {
		out->tree_size = tree_size;
		out->timestamp = tc_be_get((const unsigned char *)val, 8);
		memcpy(out->root, val + 8, TC_MERKLE_HASH_LEN);
		out->signature_len = vlen - 8 - TC_MERKLE_HASH_LEN;
		memcpy(out->signature, val + 8 + TC_MERKLE_HASH_LEN, out->signature_len);
	}
	leveldb_free(val);
	return rc;
}

/* ---- open / close ---- */

static int load_state(struct tc_ct_store *st, char *err, size_t errlen)
{
	char *val;
	size_t vlen;
	int rc = db_get(st, KEY_FORMAT, strlen(KEY_FORMAT), &val, &vlen);
	if (rc == TC_CT_STORE_ERR_NOT_FOUND) {
		/* A new store, unless the directory holds someone else's data. */
		leveldb_iterator_t *it = leveldb_create_iterator(st->db, st->read);
		leveldb_iter_seek_to_first(it);
		int empty = !leveldb_iter_valid(it);
		leveldb_iter_destroy(it);
		if (!empty) {
			snprintf(err, errlen, "%s holds a LevelDB that is not a CT log store", st->path);
			return TC_CT_STORE_ERR_CORRUPT;
		}
		unsigned char zero[8] = { 0 };
		leveldb_writebatch_t *wb = leveldb_writebatch_create();
		leveldb_writebatch_put(wb, KEY_FORMAT, strlen(KEY_FORMAT), STORE_FORMAT, strlen(STORE_FORMAT));
		leveldb_writebatch_put(wb, KEY_SIZE, strlen(KEY_SIZE), (const char *)zero, sizeof(zero));
		rc = db_write(st, wb, "initialize");
		leveldb_writebatch_destroy(wb);
		if (rc != TC_CT_STORE_OK) {
			snprintf(err, errlen, "cannot initialize the store in %s", st->path);
			return rc;
		}
	} else if (rc != TC_CT_STORE_OK) {
		snprintf(err, errlen, "cannot read %s", st->path);
		return rc;
	} else {
		int ok = vlen == strlen(STORE_FORMAT) && memcmp(val, STORE_FORMAT, vlen) == 0;
		leveldb_free(val);
		if (!ok) {
			snprintf(err, errlen, "%s has an unknown store format", st->path);
			return TC_CT_STORE_ERR_CORRUPT;
		}
	}

	uint64_t size;
	rc = db_get_u64(st, KEY_SIZE, strlen(KEY_SIZE), &size);
	if (rc != TC_CT_STORE_OK || size > MAX_TREE_SIZE) {
		snprintf(err, errlen, "%s: tree size unreadable (%s)", st->path,
			 tc_ct_store_strerror(rc ? rc : TC_CT_STORE_ERR_CORRUPT));
		return rc ? rc : TC_CT_STORE_ERR_CORRUPT;
	}
	for (unsigned level = 0; level < MAX_LEVELS; level++) {
		if (!(size >> level & 1))
			continue;
		unsigned char key[10];
		key_node(key, level, (size >> level) - 1);
		rc = db_get_fixed(st, key, sizeof(key), st->frontier[level], TC_MERKLE_HASH_LEN);
		if (rc != TC_CT_STORE_OK) {
			snprintf(err, errlen, "%s: node (%u, %llu) of the tree edge missing (%s)", st->path, level,
				 (unsigned long long)((size >> level) - 1), tc_ct_store_strerror(rc));
			return rc == TC_CT_STORE_ERR_NOT_FOUND ? TC_CT_STORE_ERR_CORRUPT : rc;
		}
	}
	atomic_store(&st->size, size);

	/* Pending ids continue after the largest one still stored. */
	uint64_t next = 1;
	leveldb_iterator_t *it = leveldb_create_iterator(st->db, st->read);
	leveldb_iter_seek(it, "Q", 1);
	if (leveldb_iter_valid(it))
		leveldb_iter_prev(it);
	else
		leveldb_iter_seek_to_last(it);
	if (leveldb_iter_valid(it)) {
		size_t klen;
		const char *key = leveldb_iter_key(it, &klen);
		if (klen == 9 && key[0] == 'P')
			next = tc_be_get((const unsigned char *)key + 1, 8) + 1;
	}
	char *errptr = NULL;
	leveldb_iter_get_error(it, &errptr);
	leveldb_iter_destroy(it);
	if (check_err(st, errptr, "scan pending") != TC_CT_STORE_OK) {
		snprintf(err, errlen, "cannot scan pending entries in %s", st->path);
		return TC_CT_STORE_ERR_IO;
	}
	atomic_store(&st->next_pending_id, next);

	uint64_t latest;
	rc = db_get_u64(st, KEY_LATEST_STH, strlen(KEY_LATEST_STH), &latest);
	if (rc == TC_CT_STORE_OK) {
		rc = read_sth(st, latest, &st->latest);
		if (rc == TC_CT_STORE_ERR_NOT_FOUND)
			rc = TC_CT_STORE_ERR_CORRUPT; /* the pointer and its head are written together */
		st->have_latest = rc == TC_CT_STORE_OK;
	} else if (rc == TC_CT_STORE_ERR_NOT_FOUND) {
		rc = TC_CT_STORE_OK;
	}
	if (rc != TC_CT_STORE_OK) {
		snprintf(err, errlen, "%s: newest tree head unreadable (%s)", st->path, tc_ct_store_strerror(rc));
		return rc;
	}
	rc = cache_load(st, size);
	if (rc != TC_CT_STORE_OK)
		snprintf(err, errlen, "%s: tree nodes unreadable (%s)", st->path, tc_ct_store_strerror(rc));
	return rc;
}

int tc_ct_store_open(const char *path, struct tc_ct_store **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!path) {
		snprintf(err, errlen, "no store path");
		return TC_CT_STORE_ERR_ARG;
	}
	struct tc_ct_store *st = calloc(1, sizeof(*st));
	if (!st || !(st->path = strdup(path))) {
		free(st);
		snprintf(err, errlen, "out of memory");
		return TC_CT_STORE_ERR_NOMEM;
	}
	pthread_mutex_init(&st->write_lock, NULL);
	pthread_mutex_init(&st->sth_write_lock, NULL);
	pthread_rwlock_init(&st->sth_lock, NULL);
	pthread_rwlock_init(&st->nodes.lock, NULL);
	st->options = leveldb_options_create();
	/* Bloom filters make find_by_hash misses (every new submission) and the
	 * duplicate check of append_batch cost no disk read. */
	st->filter = leveldb_filterpolicy_create_bloom(10);
	st->cache = leveldb_cache_create_lru(8u << 20);
	st->read = leveldb_readoptions_create();
	st->write_sync = leveldb_writeoptions_create();
	st->write_nosync = leveldb_writeoptions_create();
	leveldb_options_set_create_if_missing(st->options, 1);
	leveldb_options_set_filter_policy(st->options, st->filter);
	leveldb_options_set_cache(st->options, st->cache);
	/* No block compression: entries are mostly DER certificates and hashes,
	 * which snappy barely shrinks, while compressing every flushed and
	 * compacted block (and decompressing every read) cost ~8% of the log's
	 * CPU per issuance (perf, issue 17). Blocks written compressed before
	 * stay readable (each block names its own compression). */
	leveldb_options_set_compression(st->options, leveldb_no_compression);
	leveldb_readoptions_set_verify_checksums(st->read, 1);
	leveldb_writeoptions_set_sync(st->write_sync, 1);

	char *errptr = NULL;
	st->db = leveldb_open(st->options, path, &errptr);
	if (errptr || !st->db) {
		snprintf(err, errlen, "cannot open the CT store %s: %s", path, errptr ? errptr : "unknown error");
		leveldb_free(errptr);
		tc_ct_store_close(st);
		return TC_CT_STORE_ERR_IO;
	}
	int rc = load_state(st, err, errlen);
	if (rc != TC_CT_STORE_OK) {
		tc_ct_store_close(st);
		return rc;
	}
	*out = st;
	return TC_CT_STORE_OK;
}

void tc_ct_store_close(struct tc_ct_store *st)
{
	if (!st)
		return;
	if (st->db)
		leveldb_close(st->db);
	leveldb_options_destroy(st->options);
	leveldb_filterpolicy_destroy(st->filter);
	leveldb_cache_destroy(st->cache);
	leveldb_readoptions_destroy(st->read);
	leveldb_writeoptions_destroy(st->write_sync);
	if (st->write_nosync)
		leveldb_writeoptions_destroy(st->write_nosync);
	pthread_mutex_destroy(&st->write_lock);
	pthread_mutex_destroy(&st->sth_write_lock);
	pthread_rwlock_destroy(&st->sth_lock);
	pthread_rwlock_destroy(&st->nodes.lock);
	for (unsigned l = 0; l < MAX_LEVELS; l++)
		free(st->nodes.level[l]);
	free(st->path);
	free(st);
}

uint64_t tc_ct_store_size(struct tc_ct_store *st)
{
	return atomic_load(&st->size);
}

/* ---- the in-memory top of the tree ---- */

/* The lowest level such that all complete nodes from it up fit the budget. */
static unsigned cache_level_for(uint64_t size)
{
	for (unsigned l = 0; l < MAX_LEVELS; l++) {
		uint64_t total = 0;
		for (unsigned j = l; j < MAX_LEVELS; j++)
			total += size >> j;
		if (total <= NODE_CACHE_MAX_NODES)
			return l;
	}
	return MAX_LEVELS;
}

static int cache_push(struct tc_ct_store *st, unsigned level, uint64_t index, const unsigned char *hash)
{
	if (index != st->nodes.count[level])
		return -1; /* nodes complete left to right; anything else is a bug */
	if (st->nodes.count[level] == st->nodes.cap[level]) {
		uint64_t cap = st->nodes.cap[level] ? st->nodes.cap[level] * 2 : 64;
		void *v = realloc(st->nodes.level[level], cap * TC_MERKLE_HASH_LEN);
		if (!v)
			return -1;
		st->nodes.level[level] = v;
		st->nodes.cap[level] = cap;
	}
	memcpy(st->nodes.level[level][index], hash, TC_MERKLE_HASH_LEN);
	st->nodes.count[level]++;
	return 0;
}

/* Stops caching levels below level (the tree outgrew the budget). */
static void cache_raise(struct tc_ct_store *st, unsigned level)
{
	for (unsigned l = st->nodes.min_level; l < level && l < MAX_LEVELS; l++) {
		free(st->nodes.level[l]);
		st->nodes.level[l] = NULL;
		st->nodes.count[l] = st->nodes.cap[l] = 0;
	}
	st->nodes.min_level = level;
}

/* Writer, after a successful append to new_size. A failure only turns the
 * cache off (proofs then read LevelDB), never the log. */
static void cache_add(struct tc_ct_store *st, const struct new_nodes *nn, uint64_t new_size)
{
	pthread_rwlock_wrlock(&st->nodes.lock);
	int ok = !nn->oom;
	for (size_t i = 0; ok && i < nn->n; i++)
		ok = cache_push(st, nn->v[i].level, nn->v[i].index, nn->v[i].hash) == 0;
	unsigned want = cache_level_for(new_size);
	if (!ok) {
		tc_warn("ct store %s: node cache disabled (out of memory)", st->path);
		want = MAX_LEVELS;
	}
	if (want > st->nodes.min_level)
		cache_raise(st, want);
	pthread_rwlock_unlock(&st->nodes.lock);
}

/* At open: read the cached levels once (about a million hashes at most). */
static int cache_load(struct tc_ct_store *st, uint64_t size)
{
	st->nodes.min_level = cache_level_for(size);
	leveldb_iterator_t *it = leveldb_create_iterator(st->db, st->read);
	int rc = TC_CT_STORE_OK;
	for (unsigned l = st->nodes.min_level; l < MAX_LEVELS && rc == TC_CT_STORE_OK && (size >> l); l++) {
		unsigned char key[10];
		key_node(key, l, 0);
		uint64_t want = size >> l, i = 0;
		for (leveldb_iter_seek(it, (const char *)key, sizeof(key)); i < want && leveldb_iter_valid(it);
		     leveldb_iter_next(it), i++) {
			size_t klen, vlen;
			const unsigned char *k = (const unsigned char *)leveldb_iter_key(it, &klen);
			const char *v = leveldb_iter_value(it, &vlen);
			if (klen != 10 || k[0] != 'N' || k[1] != l || tc_be_get(k + 2, 8) != i ||
			    vlen != TC_MERKLE_HASH_LEN)
				break;
			if (cache_push(st, l, i, (const unsigned char *)v) != 0) {
				rc = TC_CT_STORE_ERR_NOMEM;
				break;
			}
		}
		if (rc == TC_CT_STORE_OK && i != want)
			rc = TC_CT_STORE_ERR_CORRUPT;
	}
	char *errptr = NULL;
	leveldb_iter_get_error(it, &errptr);
	leveldb_iter_destroy(it);
	if (check_err(st, errptr, "load node cache") != TC_CT_STORE_OK)
		rc = TC_CT_STORE_ERR_IO;
	return rc;
}

/* ---- appending ---- */

static int submission_check(const struct tc_ct_submission *sub);
static void put_submission(leveldb_writebatch_t *wb, const struct tc_ct_submission *sub);

/* Adds the leaf hash -> index entries, last entry first, so that within the
 * batch the earliest duplicate is the one LevelDB keeps; hashes already in
 * the store keep their index. */
static int put_hash_index(struct tc_ct_store *st, leveldb_writebatch_t *wb,
			  const unsigned char (*hashes)[TC_MERKLE_HASH_LEN], size_t n, uint64_t first)
{
	for (size_t i = n; i-- > 0;) {
		unsigned char key[1 + TC_MERKLE_HASH_LEN], val[8];
		key_hash(key, hashes[i]);
		char *old;
		size_t oldlen;
		int rc = db_get(st, key, sizeof(key), &old, &oldlen);
		if (rc == TC_CT_STORE_OK) {
			leveldb_free(old);
			continue;
		}
		if (rc != TC_CT_STORE_ERR_NOT_FOUND)
			return rc;
		tc_be_put(val, first + i, 8);
		leveldb_writebatch_put(wb, (const char *)key, sizeof(key), (const char *)val, sizeof(val));
	}
	return TC_CT_STORE_OK;
}

/* Leaf record, leaf hash and every node the leaf completes; updates the
 * (caller's copy of the) frontier. */
static void note_node(struct new_nodes *nn, unsigned level, uint64_t index, const unsigned char *hash)
{
	if (level < nn->min_level)
		return;
	if (nn->n == nn->cap) {
		size_t cap = nn->cap ? nn->cap * 2 : 1024;
		struct new_node *v = realloc(nn->v, cap * sizeof(*v));
		if (!v) {
			nn->oom = 1;
			return;
		}
		nn->v = v;
		nn->cap = cap;
	}
	nn->v[nn->n].level = level;
	nn->v[nn->n].index = index;
	memcpy(nn->v[nn->n].hash, hash, TC_MERKLE_HASH_LEN);
	nn->n++;
}

static void put_leaf(leveldb_writebatch_t *wb, uint64_t index, const unsigned char *record, size_t record_len,
		     const unsigned char leaf_hash[TC_MERKLE_HASH_LEN],
		     unsigned char (*frontier)[TC_MERKLE_HASH_LEN], struct new_nodes *nn)
{
	unsigned char key[10];
	key_u64(key, 'L', index);
	leveldb_writebatch_put(wb, (const char *)key, 9, (const char *)record, record_len);

	unsigned char node[TC_MERKLE_HASH_LEN];
	memcpy(node, leaf_hash, sizeof(node));
	unsigned level = 0;
	uint64_t pos = index;
	key_node(key, level, pos);
	leveldb_writebatch_put(wb, (const char *)key, sizeof(key), (const char *)node, sizeof(node));
	note_node(nn, level, pos, node);
	/* A node at an odd position is a right child: together with the waiting
	 * left sibling it completes its parent, and so on up. */
	while (pos & 1) {
		tc_merkle_node_hash(frontier[level], node, node);
		level++;
		pos >>= 1;
		key_node(key, level, pos);
		leveldb_writebatch_put(wb, (const char *)key, sizeof(key), (const char *)node, sizeof(node));
		note_node(nn, level, pos, node);
	}
	memcpy(frontier[level], node, sizeof(node));
}

int tc_ct_store_append_batch(struct tc_ct_store *st, const struct tc_ct_store_entry *entries, size_t n,
			     uint64_t *first_index)
{
	if (!entries || n == 0)
		return TC_CT_STORE_ERR_ARG;
	for (size_t i = 0; i < n; i++)
		if (record_check(&entries[i]) != TC_CT_STORE_OK ||
		    (entries[i].sub && submission_check(entries[i].sub) != TC_CT_STORE_OK))
			return TC_CT_STORE_ERR_ARG;

	unsigned char (*hashes)[TC_MERKLE_HASH_LEN] = malloc(n * sizeof(*hashes));
	unsigned char (*frontier)[TC_MERKLE_HASH_LEN] = malloc(sizeof(st->frontier));
	leveldb_writebatch_t *wb = leveldb_writebatch_create();
	unsigned char *buf = NULL;
	size_t cap = 0;
	int rc = hashes && frontier ? TC_CT_STORE_OK : TC_CT_STORE_ERR_NOMEM;

	pthread_mutex_lock(&st->write_lock);
	struct new_nodes nn = {.min_level = st->nodes.min_level};
	uint64_t size = atomic_load(&st->size);
	if (rc == TC_CT_STORE_OK && n > MAX_TREE_SIZE - size)
		rc = TC_CT_STORE_ERR_RANGE;
	if (rc == TC_CT_STORE_OK)
		memcpy(frontier, st->frontier, sizeof(st->frontier));
	for (size_t i = 0; rc == TC_CT_STORE_OK && i < n; i++) {
		const struct tc_ct_store_entry *e = &entries[i];
		size_t len = record_encode(e, &buf, &cap);
		if (len == 0 || tc_merkle_leaf_hash(e->leaf_input, e->leaf_len, hashes[i]) != 0) {
			rc = TC_CT_STORE_ERR_NOMEM;
			break;
		}
		put_leaf(wb, size + i, buf, len, hashes[i], frontier, &nn);
		if (e->pending_id) {
			unsigned char key[9];
			key_u64(key, 'P', e->pending_id);
			leveldb_writebatch_delete(wb, (const char *)key, sizeof(key));
		}
		if (e->sub)
			put_submission(wb, e->sub);
	}
	if (rc == TC_CT_STORE_OK)
		rc = put_hash_index(st, wb, (const unsigned char (*)[TC_MERKLE_HASH_LEN])hashes, n, size);
	if (rc == TC_CT_STORE_OK) {
		unsigned char val[8];
		tc_be_put(val, size + n, 8);
		leveldb_writebatch_put(wb, KEY_SIZE, strlen(KEY_SIZE), (const char *)val, sizeof(val));
		rc = db_write(st, wb, "append");
	}
	if (rc == TC_CT_STORE_OK) {
		/* Only now is the new size durable: publish it to readers. */
		memcpy(st->frontier, frontier, sizeof(st->frontier));
		cache_add(st, &nn, size + n);
		atomic_store(&st->size, size + n);
		if (first_index)
			*first_index = size;
	}
	pthread_mutex_unlock(&st->write_lock);

	leveldb_writebatch_destroy(wb);
	free(nn.v);
	free(buf);
	free(frontier);
	free(hashes);
	return rc;
}

/* ---- reading leaves and the tree ---- */

int tc_ct_store_get_leaf(struct tc_ct_store *st, uint64_t index, struct tc_ct_record *out)
{
	memset(out, 0, sizeof(*out));
	if (index >= atomic_load(&st->size))
		return TC_CT_STORE_ERR_RANGE;
	unsigned char key[9];
	key_u64(key, 'L', index);
	char *val;
	size_t vlen;
	int rc = db_get(st, key, sizeof(key), &val, &vlen);
	if (rc == TC_CT_STORE_ERR_NOT_FOUND)
		return TC_CT_STORE_ERR_CORRUPT; /* below the size, so it must exist */
	if (rc != TC_CT_STORE_OK)
		return rc;
	rc = record_view(val, vlen, out);
	if (rc != TC_CT_STORE_OK) {
		leveldb_free(val);
		return rc;
	}
	out->raw = val;
	return TC_CT_STORE_OK;
}

int tc_ct_store_leaf_hash(struct tc_ct_store *st, uint64_t index, unsigned char out[TC_MERKLE_HASH_LEN])
{
	if (index >= atomic_load(&st->size))
		return TC_CT_STORE_ERR_RANGE;
	unsigned char key[10];
	key_node(key, 0, index);
	int rc = db_get_fixed(st, key, sizeof(key), out, TC_MERKLE_HASH_LEN);
	return rc == TC_CT_STORE_ERR_NOT_FOUND ? TC_CT_STORE_ERR_CORRUPT : rc;
}

int tc_ct_store_find_by_hash(struct tc_ct_store *st, const unsigned char leaf_hash[TC_MERKLE_HASH_LEN],
			     uint64_t *index)
{
	unsigned char key[1 + TC_MERKLE_HASH_LEN];
	key_hash(key, leaf_hash);
	return db_get_u64(st, key, sizeof(key), index);
}

struct node_reader {
	struct tc_ct_store *st;
	int status; /* why the last fetch failed */
};

static int fetch_node(void *ctx, unsigned level, uint64_t index, unsigned char out[TC_MERKLE_HASH_LEN])
{
	struct node_reader *nr = ctx;
	if (level < MAX_LEVELS) {
		pthread_rwlock_rdlock(&nr->st->nodes.lock);
		int hit = level >= nr->st->nodes.min_level && index < nr->st->nodes.count[level];
		if (hit)
			memcpy(out, nr->st->nodes.level[level][index], TC_MERKLE_HASH_LEN);
		pthread_rwlock_unlock(&nr->st->nodes.lock);
		if (hit) {
			nr->status = TC_CT_STORE_OK;
			return 0;
		}
	}
	unsigned char key[10];
	key_node(key, level, index);
	int rc = db_get_fixed(nr->st, key, sizeof(key), out, TC_MERKLE_HASH_LEN);
	if (rc == TC_CT_STORE_ERR_NOT_FOUND) {
		tc_err("ct store %s: node (%u, %llu) missing", nr->st->path, level, (unsigned long long)index);
		rc = TC_CT_STORE_ERR_CORRUPT;
	}
	nr->status = rc;
	return rc == TC_CT_STORE_OK ? 0 : -1;
}

static int merkle_status(int rc, const struct node_reader *nr)
{
	switch (rc) {
	case TC_MERKLE_OK: return TC_CT_STORE_OK;
	case TC_MERKLE_ERR_RANGE: return TC_CT_STORE_ERR_RANGE;
	case TC_MERKLE_ERR_SPACE: return TC_CT_STORE_ERR_SPACE;
	case TC_MERKLE_ERR_FETCH: return nr->status != TC_CT_STORE_OK ? nr->status : TC_CT_STORE_ERR_IO;
	default: return TC_CT_STORE_ERR_IO;
	}
}

int tc_ct_store_node_hash(struct tc_ct_store *st, unsigned level, uint64_t index,
			  unsigned char out[TC_MERKLE_HASH_LEN])
{
	uint64_t size = atomic_load(&st->size);
	if (level >= 64 || index >= (size >> level))
		return TC_CT_STORE_ERR_RANGE; /* not a complete subtree of the tree */
	struct node_reader nr = { st, TC_CT_STORE_OK };
	return fetch_node(&nr, level, index, out) == 0 ? TC_CT_STORE_OK : nr.status;
}

int tc_ct_store_root(struct tc_ct_store *st, uint64_t tree_size, unsigned char out[TC_MERKLE_HASH_LEN])
{
	if (tree_size > atomic_load(&st->size))
		return TC_CT_STORE_ERR_RANGE;
	struct node_reader nr = { st, TC_CT_STORE_OK };
	return merkle_status(tc_merkle_root(fetch_node, &nr, tree_size, out), &nr);
}

int tc_ct_store_inclusion_proof(struct tc_ct_store *st, uint64_t index, uint64_t tree_size,
				unsigned char (*proof)[TC_MERKLE_HASH_LEN], size_t cap, size_t *len)
{
	*len = 0;
	if (tree_size > atomic_load(&st->size))
		return TC_CT_STORE_ERR_RANGE;
	struct node_reader nr = { st, TC_CT_STORE_OK };
	return merkle_status(tc_merkle_inclusion_proof(fetch_node, &nr, index, tree_size, proof, cap, len), &nr);
}

int tc_ct_store_consistency_proof(struct tc_ct_store *st, uint64_t old_size, uint64_t new_size,
				  unsigned char (*proof)[TC_MERKLE_HASH_LEN], size_t cap, size_t *len)
{
	*len = 0;
	if (new_size > atomic_load(&st->size))
		return TC_CT_STORE_ERR_RANGE;
	struct node_reader nr = { st, TC_CT_STORE_OK };
	return merkle_status(tc_merkle_consistency_proof(fetch_node, &nr, old_size, new_size, proof, cap, len),
			     &nr);
}

/* ---- tree heads: timestamp(8) root(32) signature ---- */

int tc_ct_store_put_sth(struct tc_ct_store *st, const struct tc_ct_sth *sth)
{
	if (!sth || sth->signature_len > TC_CT_STORE_MAX_SIGNATURE)
		return TC_CT_STORE_ERR_ARG;
	unsigned char val[8 + TC_MERKLE_HASH_LEN + TC_CT_STORE_MAX_SIGNATURE];
	tc_be_put(val, sth->timestamp, 8);
	memcpy(val + 8, sth->root, TC_MERKLE_HASH_LEN);
	memcpy(val + 8 + TC_MERKLE_HASH_LEN, sth->signature, sth->signature_len);
	size_t vlen = 8 + TC_MERKLE_HASH_LEN + sth->signature_len;

	pthread_mutex_lock(&st->sth_write_lock);
	unsigned char root[TC_MERKLE_HASH_LEN];
	int rc = tc_ct_store_root(st, sth->tree_size, root);
	if (rc == TC_CT_STORE_OK && memcmp(root, sth->root, sizeof(root)) != 0)
		rc = TC_CT_STORE_ERR_MISMATCH;
	/* Only the writer changes latest, and it holds sth_write_lock. */
	int newest = !st->have_latest || sth->tree_size >= st->latest.tree_size;
	if (rc == TC_CT_STORE_OK) {
		leveldb_writebatch_t *wb = leveldb_writebatch_create();
		unsigned char key[9], size_val[8];
		key_u64(key, 'T', sth->tree_size);
		leveldb_writebatch_put(wb, (const char *)key, sizeof(key), (const char *)val, vlen);
		if (newest) {
			tc_be_put(size_val, sth->tree_size, 8);
			leveldb_writebatch_put(wb, KEY_LATEST_STH, strlen(KEY_LATEST_STH), (const char *)size_val,
					       sizeof(size_val));
		}
		rc = db_write(st, wb, "put tree head");
		leveldb_writebatch_destroy(wb);
	}
	if (rc == TC_CT_STORE_OK && newest) {
		pthread_rwlock_wrlock(&st->sth_lock);
		st->latest = *sth;
		st->have_latest = 1;
		pthread_rwlock_unlock(&st->sth_lock);
	}
	pthread_mutex_unlock(&st->sth_write_lock);
	return rc;
}

int tc_ct_store_get_sth(struct tc_ct_store *st, uint64_t tree_size, struct tc_ct_sth *out)
{
	return read_sth(st, tree_size, out);
}

int tc_ct_store_latest_sth(struct tc_ct_store *st, struct tc_ct_sth *out)
{
	pthread_rwlock_rdlock(&st->sth_lock);
	int have = st->have_latest;
	if (have)
		*out = st->latest;
	else
		memset(out, 0, sizeof(*out));
	pthread_rwlock_unlock(&st->sth_lock);
	return have ? TC_CT_STORE_OK : TC_CT_STORE_ERR_NOT_FOUND;
}

/* ---- pending entries ---- */

static void key_submission(unsigned char key[1 + TC_CT_STORE_SUBMISSION_ID_LEN],
			   const unsigned char id[TC_CT_STORE_SUBMISSION_ID_LEN])
{
	key[0] = 'S';
	memcpy(key + 1, id, TC_CT_STORE_SUBMISSION_ID_LEN);
}

static int submission_check(const struct tc_ct_submission *sub)
{
	return sub->id && sub->sct && sub->sct_len > 0 && sub->sct_len <= TC_CT_STORE_MAX_SCT ? TC_CT_STORE_OK
												 : TC_CT_STORE_ERR_ARG;
}

static void put_submission(leveldb_writebatch_t *wb, const struct tc_ct_submission *sub)
{
	unsigned char key[1 + TC_CT_STORE_SUBMISSION_ID_LEN];
	key_submission(key, sub->id);
	leveldb_writebatch_put(wb, (const char *)key, sizeof(key), (const char *)sub->sct, sub->sct_len);
}

int tc_ct_store_put_pending_submission(struct tc_ct_store *st, const unsigned char *leaf_input, size_t leaf_len,
				       const unsigned char *extra_data, size_t extra_len,
				       const struct tc_ct_submission *sub, uint64_t *id)
{
	struct tc_ct_store_entry e = { leaf_input, leaf_len, extra_data, extra_len, 0, NULL };
	if (!id || record_check(&e) != TC_CT_STORE_OK || (sub && submission_check(sub) != TC_CT_STORE_OK))
		return TC_CT_STORE_ERR_ARG;
	unsigned char *buf = NULL;
	size_t cap = 0;
	size_t len = record_encode(&e, &buf, &cap);
	if (len == 0)
		return TC_CT_STORE_ERR_NOMEM;
	uint64_t pid = atomic_fetch_add(&st->next_pending_id, 1);
	unsigned char key[9];
	key_u64(key, 'P', pid);
	leveldb_writebatch_t *wb = leveldb_writebatch_create();
	leveldb_writebatch_put(wb, (const char *)key, sizeof(key), (const char *)buf, len);
	if (sub)
		put_submission(wb, sub);
	int rc = db_write(st, wb, "put pending");
	leveldb_writebatch_destroy(wb);
	free(buf);
	if (rc == TC_CT_STORE_OK)
		*id = pid;
	return rc;
}

int tc_ct_store_put_pending(struct tc_ct_store *st, const unsigned char *leaf_input, size_t leaf_len,
			    const unsigned char *extra_data, size_t extra_len, uint64_t *id)
{
	return tc_ct_store_put_pending_submission(st, leaf_input, leaf_len, extra_data, extra_len, NULL, id);
}

int tc_ct_store_get_submission(struct tc_ct_store *st, const unsigned char id[TC_CT_STORE_SUBMISSION_ID_LEN],
			       unsigned char *sct, size_t cap, size_t *sct_len)
{
	unsigned char key[1 + TC_CT_STORE_SUBMISSION_ID_LEN];
	key_submission(key, id);
	char *val;
	size_t vlen;
	int rc = db_get(st, key, sizeof(key), &val, &vlen);
	if (rc != TC_CT_STORE_OK)
		return rc;
	if (vlen == 0 || vlen > TC_CT_STORE_MAX_SCT)
		rc = TC_CT_STORE_ERR_CORRUPT;
	else if (vlen > cap)
		rc = TC_CT_STORE_ERR_SPACE;
	else {
		memcpy(sct, val, vlen);
		*sct_len = vlen;
	}
	leveldb_free(val);
	return rc;
}

static int put_submissions(struct tc_ct_store *st, const leveldb_writeoptions_t *opt,
			   const struct tc_ct_submission *subs, size_t n)
{
	if (n && !subs)
		return TC_CT_STORE_ERR_ARG;
	for (size_t i = 0; i < n; i++)
		if (submission_check(&subs[i]) != TC_CT_STORE_OK)
			return TC_CT_STORE_ERR_ARG;
	leveldb_writebatch_t *wb = leveldb_writebatch_create();
	for (size_t i = 0; i < n; i++)
		put_submission(wb, &subs[i]);
	int rc = n ? db_write_opt(st, opt, wb, "put submissions") : TC_CT_STORE_OK;
	leveldb_writebatch_destroy(wb);
	return rc;
}

int tc_ct_store_put_submissions(struct tc_ct_store *st, const struct tc_ct_submission *subs, size_t n)
{
	return put_submissions(st, st->write_sync, subs, n);
}

int tc_ct_store_put_submissions_nosync(struct tc_ct_store *st, const struct tc_ct_submission *subs, size_t n)
{
	return put_submissions(st, st->write_nosync, subs, n);
}

int tc_ct_store_list_pending(struct tc_ct_store *st, uint64_t after_id, size_t max, tc_ct_pending_fn fn,
			     void *ctx)
{
	if (!fn)
		return TC_CT_STORE_ERR_ARG;
	if (after_id == UINT64_MAX || max == 0)
		return TC_CT_STORE_OK;
	unsigned char start[9];
	key_u64(start, 'P', after_id + 1);
	leveldb_iterator_t *it = leveldb_create_iterator(st->db, st->read);
	int rc = TC_CT_STORE_OK;
	size_t seen = 0;
	for (leveldb_iter_seek(it, (const char *)start, sizeof(start)); leveldb_iter_valid(it) && seen < max;
	     leveldb_iter_next(it)) {
		size_t klen, vlen;
		const char *key = leveldb_iter_key(it, &klen);
		if (klen == 0 || key[0] != 'P')
			break;
		if (klen != 9) {
			rc = TC_CT_STORE_ERR_CORRUPT;
			break;
		}
		const char *val = leveldb_iter_value(it, &vlen);
		struct tc_ct_record rec;
		rc = record_view(val, vlen, &rec);
		if (rc != TC_CT_STORE_OK)
			break;
		seen++;
		if (fn(ctx, tc_be_get((const unsigned char *)key + 1, 8), &rec) != 0)
			break;
	}
	char *errptr = NULL;
	leveldb_iter_get_error(it, &errptr);
	leveldb_iter_destroy(it);
	int io = check_err(st, errptr, "list pending");
	return io != TC_CT_STORE_OK ? io : rc;
}

int tc_ct_store_delete_pending(struct tc_ct_store *st, uint64_t id)
{
	unsigned char key[9];
	key_u64(key, 'P', id);
	char *errptr = NULL;
	leveldb_delete(st->db, st->write_sync, (const char *)key, sizeof(key), &errptr);
	return check_err(st, errptr, "delete pending");
}
