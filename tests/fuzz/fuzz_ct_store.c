/* Fuzz target: the CT store's record decoders (src/transparency/ct_store.c)
 * on a LevelDB someone else wrote: a disk error, a restored backup, an
 * attacker with the log user's file access. A real store (24 leaves, a
 * tree head, a pending entry, a submission) is changed by the input's
 * puts and deletes through LevelDB itself, then opened and read the way
 * the log does; afterwards the changes are undone for the next input.
 *
 * One LevelDB handle serves every input: the store's leveldb_open and
 * leveldb_close are wrapped at link time (-Wl,--wrap, tests/trust_fuzz.cmake)
 * so that tc_ct_store_open gets this handle and its close leaves it open.
 * Everything of the store's above LevelDB runs per input (load_state's
 * checks of the format, size, tree edge, pending ids, newest tree head and
 * node cache, then every read), but no open replays a log or writes a
 * table: reopening LevelDB three times per input held the target at ~155
 * executions a second. The handle has the store's own options (bloom
 * filter, block cache), made here because the store destroys its copies.
 *
 * Input: records of op(1) key_len(1) key val_len(2, big-endian) value.
 * op bit 0: delete instead of put; op >> 1 picks the key's first byte from
 * the store's prefixes (L H N T P S M) or, past them, takes it from the
 * input; key_len bytes follow.
 * Invariants: no crash, leak or hang; the store either refuses to open or
 * every read returns a status from ct_store.h, and a proof that is
 * returned has at most TC_MERKLE_MAX_PROOF hashes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <leveldb/c.h>

#include "transparency/ct_store.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ASan's quarantine, 256 MB by default, holds freed chunks back from reuse
 * to catch a use after free; LevelDB's and the store's allocations per
 * input then land on memory last touched long ago (page faults, TLB
 * shootdowns). 32 MB, still the frees of many whole inputs, doubles the
 * rate. ASAN_OPTIONS in the environment still overrides it. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "quarantine_size_mb=32";
}

static char dir[64];

#define COMPACT_EVERY 1024

/* The handle every input shares, with the options the store would use. */
static leveldb_t *shared;
static leveldb_options_t *shared_opt;
static leveldb_filterpolicy_t *shared_filter;
static leveldb_cache_t *shared_cache;
static leveldb_readoptions_t *ro;
static leveldb_writeoptions_t *wo;

leveldb_t *__real_leveldb_open(const leveldb_options_t *options, const char *name, char **errptr);
void __real_leveldb_close(leveldb_t *db);
leveldb_t *__wrap_leveldb_open(const leveldb_options_t *options, const char *name, char **errptr);
void __wrap_leveldb_close(leveldb_t *db);

leveldb_t *__wrap_leveldb_open(const leveldb_options_t *options, const char *name, char **errptr)
{
	if (shared && strcmp(name, dir) == 0)
		return shared;
	return __real_leveldb_open(options, name, errptr);
}

void __wrap_leveldb_close(leveldb_t *db)
{
	if (db != shared)
		__real_leveldb_close(db);
}

static void die(const char *what)
{
	fprintf(stderr, "fuzz_ct_store: %s\n", what);
	abort();
}

static void remove_dir(void)
{
	if (shared) {
		__real_leveldb_close(shared);
		shared = NULL;
		leveldb_options_destroy(shared_opt);
		leveldb_filterpolicy_destroy(shared_filter);
		leveldb_cache_destroy(shared_cache);
		leveldb_readoptions_destroy(ro);
		leveldb_writeoptions_destroy(wo);
	}
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_ct_store: could not remove %s\n", dir);
}

/* libFuzzer checks for a leak after every input that allocated more than
 * it freed (it runs the input again, then LeakSanitizer over the whole
 * heap): with the LevelDB handle kept open, whose memtable and caches grow
 * across inputs, that is nearly every input, three times the cost. Leaks
 * are still reported: the store frees all it allocates per input, so one
 * of its leaks grows with the run and LeakSanitizer finds it at exit
 * (ASAN_OPTIONS detect_leaks=1, as ops/fuzz.sh sets). -detect_leaks=1 on
 * the command line keeps the per-input check. */
static void no_per_input_leak_check(int *argc, char ***argv)
{
	static char *args[256];
	static char flag[] = "-detect_leaks=0";
	if (*argc < 1 || *argc > 254)
		return;
	for (int i = 1; i < *argc; i++)
		if (strncmp((*argv)[i], "-detect_leaks=", 14) == 0)
			return;
	memcpy(args, *argv, (size_t)*argc * sizeof(*args));
	args[(*argc)++] = flag;
	args[*argc] = NULL;
	*argv = args;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	no_per_input_leak_check(argc, argv);
	/* In memory where there is a tmpfs: LevelDB's log and tables then cost
	 * no disk. */
	snprintf(dir, sizeof(dir), "/dev/shm/tc-fuzz-ct-store-XXXXXX");
	if (!mkdtemp(dir)) {
		snprintf(dir, sizeof(dir), "/tmp/tc-fuzz-ct-store-XXXXXX");
		if (!mkdtemp(dir))
			die("mkdtemp");
	}
	atexit(remove_dir);
	struct tc_ct_store *st;
	char err[256];
	if (tc_ct_store_open(dir, &st, err, sizeof(err)) != 0)
		die(err);
	unsigned char leaves[24][40];
	struct tc_ct_store_entry e[24];
	for (int i = 0; i < 24; i++) {
		memset(leaves[i], 'a' + i, sizeof(leaves[i]));
		e[i] = (struct tc_ct_store_entry){.leaf_input = leaves[i], .leaf_len = sizeof(leaves[i]),
						   .extra_data = leaves[i], .extra_len = 5};
	}
	uint64_t first, pid;
	struct tc_ct_sth sth = {.tree_size = 24, .timestamp = 1700000000000ull, .signature_len = 8};
	memset(sth.signature, 0x30, sth.signature_len);
	unsigned char sub_id[TC_CT_STORE_SUBMISSION_ID_LEN], sct[10];
	memset(sub_id, 7, sizeof(sub_id));
	memset(sct, 1, sizeof(sct));
	struct tc_ct_submission sub = {.id = sub_id, .sct = sct, .sct_len = sizeof(sct)};
	if (tc_ct_store_append_batch(st, e, 24, &first) != TC_CT_STORE_OK ||
	    tc_ct_store_root(st, 24, sth.root) != TC_CT_STORE_OK || tc_ct_store_put_sth(st, &sth) != TC_CT_STORE_OK ||
	    tc_ct_store_put_pending_submission(st, leaves[0], 20, leaves[1], 4, &sub, &pid) != TC_CT_STORE_OK)
		die("cannot build the store");
	tc_ct_store_close(st);
	/* From here on every open of dir is this handle (see the top). */
	char *lerr = NULL;
	shared_opt = leveldb_options_create();
	shared_filter = leveldb_filterpolicy_create_bloom(10);
	shared_cache = leveldb_cache_create_lru(8u << 20);
	leveldb_options_set_filter_policy(shared_opt, shared_filter);
	leveldb_options_set_cache(shared_opt, shared_cache);
	shared = __real_leveldb_open(shared_opt, dir, &lerr);
	if (!shared)
		die(lerr ? lerr : "leveldb_open");
	ro = leveldb_readoptions_create();
	wo = leveldb_writeoptions_create();
	return 0;
}

static int count_pending(void *ctx, uint64_t id, const struct tc_ct_record *rec)
{
	(void)id;
	if (rec->leaf_len && !rec->leaf_input)
		die("pending record without its bytes");
	++*(int *)ctx;
	return 0;
}

/* Everything the log reads, on a store opened over the changed database. */
static void read_all(void)
{
	struct tc_ct_store *st;
	char err[256];
	if (tc_ct_store_open(dir, &st, err, sizeof(err)) != 0)
		return;
	uint64_t size = tc_ct_store_size(st);
	struct tc_ct_sth sth;
	(void)tc_ct_store_latest_sth(st, &sth);
	(void)tc_ct_store_get_sth(st, 24, &sth);
	static unsigned char proof[TC_MERKLE_MAX_PROOF][TC_MERKLE_HASH_LEN];
	unsigned char h[TC_MERKLE_HASH_LEN];
	for (uint64_t i = 0; i < size && i < 30; i += 7) {
		struct tc_ct_record rec;
		if (tc_ct_store_get_leaf(st, i, &rec) == TC_CT_STORE_OK)
			tc_ct_record_free(&rec);
		if (tc_ct_store_leaf_hash(st, i, h) == TC_CT_STORE_OK) {
			uint64_t index;
			(void)tc_ct_store_find_by_hash(st, h, &index);
		}
		size_t n = 0;
		if (tc_ct_store_inclusion_proof(st, i, size, proof, TC_MERKLE_MAX_PROOF, &n) == TC_CT_STORE_OK &&
		    n > TC_MERKLE_MAX_PROOF)
			die("inclusion proof too long");
		n = 0;
		if (tc_ct_store_consistency_proof(st, i + 1, size, proof, TC_MERKLE_MAX_PROOF, &n) == TC_CT_STORE_OK &&
		    n > TC_MERKLE_MAX_PROOF)
			die("consistency proof too long");
	}
	(void)tc_ct_store_root(st, size, h);
	(void)tc_ct_store_node_hash(st, 3, 1, h);
	int pending = 0;
	(void)tc_ct_store_list_pending(st, 0, 16, count_pending, &pending);
	unsigned char id[TC_CT_STORE_SUBMISSION_ID_LEN], sct[TC_CT_STORE_MAX_SCT];
	size_t sct_len = 0;
	memset(id, 7, sizeof(id));
	if (tc_ct_store_get_submission(st, id, sct, sizeof(sct), &sct_len) == TC_CT_STORE_OK && sct_len > sizeof(sct))
		die("SCT longer than its buffer");
	tc_ct_store_close(st);
}

struct undo {
	unsigned char key[256];
	size_t klen;
	char *val; /* NULL: the key was absent */
	size_t vlen;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char prefixes[] = "LHNTPSM";
	static struct undo undo[64];
	size_t nundo = 0;
	char *lerr = NULL;
	leveldb_t *db = shared;
	const uint8_t *p = data, *end = data + size;
	while (end - p >= 2 && nundo < 64) {
		uint8_t op = *p++, klen = *p++;
		struct undo *u = &undo[nundo];
		size_t k = 0;
		if ((op >> 1) < sizeof(prefixes) - 1)
			u->key[k++] = (unsigned char)prefixes[op >> 1];
		if ((size_t)(end - p) < klen)
			break;
		memcpy(u->key + k, p, klen);
		p += klen;
		u->klen = k + klen;
		size_t vlen = 0;
		if (end - p >= 2) {
			vlen = (size_t)p[0] << 8 | p[1];
			p += 2;
		}
		if ((size_t)(end - p) < vlen)
			vlen = (size_t)(end - p);
		u->val = leveldb_get(db, ro, (const char *)u->key, u->klen, &u->vlen, &lerr);
		if (lerr)
			die(lerr);
		nundo++;
		if (op & 1)
			leveldb_delete(db, wo, (const char *)u->key, u->klen, &lerr);
		else
			leveldb_put(db, wo, (const char *)u->key, u->klen, (const char *)p, vlen, &lerr);
		if (lerr)
			die(lerr);
		p += vlen;
	}
	read_all();
	/* Back to the original store, newest change undone first. */
	while (nundo > 0) {
		struct undo *u = &undo[--nundo];
		if (u->val)
			leveldb_put(db, wo, (const char *)u->key, u->klen, u->val, u->vlen, &lerr);
		else
			leveldb_delete(db, wo, (const char *)u->key, u->klen, &lerr);
		if (lerr)
			die(lerr);
		leveldb_free(u->val);
	}
	/* Every input writes and undoes its records: the versions pile up in
	 * the memtable, and every iterator of the store steps over them; a
	 * compaction drops them. */
	static unsigned inputs;
	if (++inputs % COMPACT_EVERY == 0)
		leveldb_compact_range(db, NULL, 0, NULL, 0);
	return 0;
}
