#include "acme/acme_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <leveldb/c.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "acme/b64url.h"
#include "common/log.h"

#define LOCK_STRIPES 256
#define KEY_MAX 512
#define PENDING_SLOTS 65536
/* More than the numbered writes that can be in LevelDB at once (one per
 * thread of the process). */
#define INFLIGHT_RING 4096

struct tc_acme_store {
	leveldb_t *db;
	leveldb_options_t *opts;
	leveldb_readoptions_t *ropts;
	leveldb_writeoptions_t *wopts_nosync;
	pthread_mutex_t locks[LOCK_STRIPES];
	/* Group commit (acme_store.h). */
	int dirfd;                   /* the database directory */
	unsigned long last_log;      /* highest log file number seen synced */
	/* Numbered writes get their sequence and mark their keys pending
	 * before LevelDB makes them visible, so a reader that sees one always
	 * finds its mark; `written` is the highest sequence up to which every
	 * numbered write has returned from LevelDB, what a sync covers. */
	atomic_uint_fast64_t reserved; /* numbered writes begun (their sequence) */
	atomic_uint_fast64_t written;  /* every numbered write up to this one done */
	pthread_mutex_t done_lock;     /* done[] and advancing written */
	uint8_t done[INFLIGHT_RING];   /* by sequence: returned, above written */
	pthread_mutex_t sync_lock;
	pthread_cond_t sync_cond;
	uint64_t durable;            /* writes up to this one are on disk */
	uint64_t syncs;
	/* By a hash of the key: the sequence of the latest numbered write of
	 * a key hashing here (0: none). A reader raises its answer's floor to
	 * the slots of what it read; a collision only makes it wait longer. */
	atomic_uint_fast64_t pending[PENDING_SLOTS];
	struct waiter *waiters;
	int stopping;
	int syncer_running;
	pthread_t syncer;
};

struct waiter {
	struct waiter *next;
	uint64_t seq;
	void (*fn)(void *arg, int ok);
	void *arg;
};

static int make_key(char kind, const char *id, char out[KEY_MAX], size_t *len);

static _Thread_local uint64_t answer_seq;
/* The pending-table slots of the records this thread read since its
 * answer began (tc_acme_store_answer_begin), looked up when the answer's
 * floor is taken, not at the read: a later write of a record read is
 * covered too. A write marks its slots before LevelDB shows it, so no
 * read sees data without its mark. More reads than fit: the answer waits
 * for every write begun so far. */
#define READ_SLOTS 32
static _Thread_local uint32_t read_slots[READ_SLOTS];
static _Thread_local unsigned n_read, read_overflow;

struct tc_acme_batch {
	leveldb_writebatch_t *wb;
	int failed;
	/* The pending-table slots of the keys written, so a numbered commit
	 * marks them (all_slots: no memory to list them, mark every slot). */
	uint32_t *slots;
	size_t n_slots, cap;
	int all_slots;
};

static uint32_t key_slot(const char *key, size_t kl)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < kl; i++)
		h = (h ^ (unsigned char)key[i]) * 16777619u;
	return h % PENDING_SLOTS;
}

static void batch_note(struct tc_acme_batch *b, const char *key, size_t kl)
{
	if (b->n_slots == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 8;
		uint32_t *n = realloc(b->slots, cap * sizeof(*n));
		if (!n) {
			b->all_slots = 1;
			return;
		}
		b->slots = n;
		b->cap = cap;
	}
	b->slots[b->n_slots++] = key_slot(key, kl);
}

/* A numbered write's keys now wait for seq's sync when read. */
static void mark_pending(struct tc_acme_store *s, const struct tc_acme_batch *b, uint64_t seq)
{
	size_t n = b->all_slots ? PENDING_SLOTS : b->n_slots;
	for (size_t i = 0; i < n; i++) {
		atomic_uint_fast64_t *p = &s->pending[b->all_slots ? i : b->slots[i]];
		uint64_t cur = atomic_load(p);
		while (cur < seq && !atomic_compare_exchange_weak(p, &cur, seq))
			;
	}
}

/* This thread read key: its answer shows what the key's pending write
 * wrote. */
static void note_read(struct tc_acme_store *s, const char *key, size_t kl)
{
	(void)s;
	uint32_t slot = key_slot(key, kl);
	for (unsigned i = 0; i < n_read; i++)
		if (read_slots[i] == slot)
			return;
	if (n_read < READ_SLOTS)
		read_slots[n_read++] = slot;
	else
		read_overflow = 1;
}


/* LevelDB's own sync is an fdatasync of its current log file. The syncer
 * does the same to every log file in the directory: a write that went to
 * a log which LevelDB has since replaced (memtable switch) is in the older
 * file until its table is compacted, and a synced write to the new log
 * would not cover it. A log file that appeared since the last pass also
 * needs its directory entry on disk. */
static int sync_logs(struct tc_acme_store *s)
{
	int dup = fcntl(s->dirfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
	if (!d) {
		if (dup >= 0)
			close(dup);
		return -1;
	}
	rewinddir(d);
	int rc = 0, new_log = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".log") != 0)
			continue;
		unsigned long num = strtoul(e->d_name, NULL, 10);
		int fd = openat(s->dirfd, e->d_name, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue; /* compacted into a (synced) table and removed */
		if (fdatasync(fd) != 0)
			rc = -1;
		close(fd);
		if (num > s->last_log) {
			s->last_log = num;
			new_log = 1;
		}
	}
	closedir(d);
	if (new_log && fsync(s->dirfd) != 0)
		rc = -1;
	return rc;
}

/* Takes the waiters whose writes are covered by seq (all when stopping). */
static struct waiter *take_covered(struct tc_acme_store *s, uint64_t seq)
{
	struct waiter *done = NULL, **pp = &s->waiters;
	while (*pp) {
		struct waiter *w = *pp;
		if (w->seq <= seq) {
			*pp = w->next;
			w->next = done;
			done = w;
		} else {
			pp = &w->next;
		}
	}
	return done;
}

/* One sync per round for every write done before it started: the waiters
 * that queue while a sync runs share the next one (group commit). */
static void *syncer_main(void *arg)
{
	struct tc_acme_store *s = arg;
	pthread_mutex_lock(&s->sync_lock);
	for (;;) {
		while (!s->waiters && !s->stopping)
			pthread_cond_wait(&s->sync_cond, &s->sync_lock);
		if (!s->waiters && s->stopping)
			break;
		uint64_t upto = atomic_load(&s->written);
		if (upto <= s->durable && !s->stopping) {
			/* The waiters wait for writes still in LevelDB: nothing new
			 * to sync yet. They are done within microseconds. */
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 200000;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&s->sync_cond, &s->sync_lock, &ts);
			continue;
		}
		pthread_mutex_unlock(&s->sync_lock);
		int ok = sync_logs(s) == 0;
		if (!ok)
			tc_err("acme store: syncing LevelDB's log failed: the writes waiting for it are refused");
		pthread_mutex_lock(&s->sync_lock);
		if (ok && upto > s->durable)
			s->durable = upto;
		s->syncs++;
		struct waiter *done = take_covered(s, upto);
		pthread_cond_broadcast(&s->sync_cond);
		pthread_mutex_unlock(&s->sync_lock);
		while (done) {
			struct waiter *next = done->next;
			done->fn(done->arg, ok);
			free(done);
			done = next;
		}
		pthread_mutex_lock(&s->sync_lock);
	}
	pthread_mutex_unlock(&s->sync_lock);
	return NULL;
}

int tc_acme_store_when_durable(struct tc_acme_store *s, uint64_t seq, void (*fn)(void *arg, int ok), void *arg)
{
	pthread_mutex_lock(&s->sync_lock);
	if (seq <= s->durable) {
		pthread_mutex_unlock(&s->sync_lock);
		fn(arg, 1);
		return 1;
	}
	struct waiter *w = malloc(sizeof(*w));
	if (!w) {
		pthread_mutex_unlock(&s->sync_lock);
		return -1;
	}
	*w = (struct waiter){.next = s->waiters, .seq = seq, .fn = fn, .arg = arg};
	s->waiters = w;
	pthread_cond_broadcast(&s->sync_cond);
	pthread_mutex_unlock(&s->sync_lock);
	return 0;
}

struct blocked {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done, ok;
};

static void unblock(void *arg, int ok)
{
	struct blocked *b = arg;
	pthread_mutex_lock(&b->lock);
	b->done = 1;
	b->ok = ok;
	pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

int tc_acme_store_wait_durable(struct tc_acme_store *s, uint64_t seq)
{
	struct blocked b = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
	int rc = tc_acme_store_when_durable(s, seq, unblock, &b);
	if (rc < 0) /* no memory for a waiter: sync on this thread */
		return sync_logs(s);
	pthread_mutex_lock(&b.lock);
	while (!b.done)
		pthread_cond_wait(&b.cond, &b.lock);
	pthread_mutex_unlock(&b.lock);
	pthread_mutex_destroy(&b.lock);
	pthread_cond_destroy(&b.cond);
	return b.ok ? 0 : -1;
}

int tc_acme_store_flush(struct tc_acme_store *s)
{
	return tc_acme_store_wait_durable(s, atomic_load(&s->reserved));
}

uint64_t tc_acme_store_syncs(struct tc_acme_store *s)
{
	pthread_mutex_lock(&s->sync_lock);
	uint64_t n = s->syncs;
	pthread_mutex_unlock(&s->sync_lock);
	return n;
}

uint64_t tc_acme_store_answer_peek(void) { return answer_seq; }

void tc_acme_store_answer_begin(void)
{
	answer_seq = 0;
	n_read = read_overflow = 0;
}

void tc_acme_store_note_read(struct tc_acme_store *s, char kind, const char *id)
{
	char key[KEY_MAX];
	size_t kl;
	if (make_key(kind, id, key, &kl) == 0)
		note_read(s, key, kl);
	else
		read_overflow = 1; /* cannot tell: wait for all */
}

uint64_t tc_acme_store_answer_floor(struct tc_acme_store *s, uint64_t seq)
{
	uint64_t shown = read_overflow ? atomic_load(&s->reserved) : 0;
	for (unsigned i = 0; i < n_read; i++) {
		uint64_t p = atomic_load(&s->pending[read_slots[i]]);
		if (p > shown)
			shown = p;
	}
	n_read = read_overflow = 0;
	if (shown > seq)
		seq = shown;
	if (!seq)
		return 0;
	pthread_mutex_lock(&s->sync_lock);
	int durable = seq <= s->durable;
	pthread_mutex_unlock(&s->sync_lock);
	return durable ? 0 : seq;
}

uint64_t tc_acme_store_answer_seq(void)
{
	uint64_t seq = answer_seq;
	answer_seq = 0;
	return seq;
}

int tc_acme_store_open(const char *dir, struct tc_acme_store **out, char *err, size_t errlen)
{
	struct tc_acme_store *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->opts = leveldb_options_create();
	leveldb_options_set_create_if_missing(s->opts, 1);
	s->ropts = leveldb_readoptions_create();
	s->wopts_nosync = leveldb_writeoptions_create();
	char *lerr = NULL;
	s->db = leveldb_open(s->opts, dir, &lerr);
	if (!s->db) {
		snprintf(err, errlen, "LevelDB %s: %s", dir, lerr ? lerr : "cannot open");
		leveldb_free(lerr);
		leveldb_options_destroy(s->opts);
		leveldb_readoptions_destroy(s->ropts);
		leveldb_writeoptions_destroy(s->wopts_nosync);
		free(s);
		return -1;
	}
	for (int i = 0; i < LOCK_STRIPES; i++)
		pthread_mutex_init(&s->locks[i], NULL);
	pthread_mutex_init(&s->sync_lock, NULL);
	pthread_mutex_init(&s->done_lock, NULL);
	pthread_cond_init(&s->sync_cond, NULL);
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0 || pthread_create(&s->syncer, NULL, syncer_main, s) != 0) {
		snprintf(err, errlen, "LevelDB %s: cannot start its syncer", dir);
		tc_acme_store_close(s);
		return -1;
	}
	s->syncer_running = 1;
	*out = s;
	return 0;
}

void tc_acme_store_close(struct tc_acme_store *s)
{
	if (!s)
		return;
	if (s->syncer_running) {
		/* It syncs and answers every waiter before it stops. */
		pthread_mutex_lock(&s->sync_lock);
		s->stopping = 1;
		pthread_cond_broadcast(&s->sync_cond);
		pthread_mutex_unlock(&s->sync_lock);
		pthread_join(s->syncer, NULL);
	}
	if (s->dirfd >= 0)
		close(s->dirfd);
	pthread_mutex_destroy(&s->sync_lock);
	pthread_mutex_destroy(&s->done_lock);
	pthread_cond_destroy(&s->sync_cond);
	leveldb_close(s->db);
	leveldb_options_destroy(s->opts);
	leveldb_readoptions_destroy(s->ropts);
	leveldb_writeoptions_destroy(s->wopts_nosync);
	for (int i = 0; i < LOCK_STRIPES; i++)
		pthread_mutex_destroy(&s->locks[i]);
	free(s);
}

static int make_key(char kind, const char *id, char out[KEY_MAX], size_t *len)
{
	int n = snprintf(out, KEY_MAX, "%c/%s", kind, id);
	if (n < 0 || n >= KEY_MAX)
		return -1;
	*len = (size_t)n;
	return 0;
}

static char *get_raw(struct tc_acme_store *s, char kind, const char *id, size_t *vl)
{
	char key[KEY_MAX];
	size_t kl;
	if (make_key(kind, id, key, &kl) != 0)
		return NULL;
	char *lerr = NULL;
	char *v = leveldb_get(s->db, s->ropts, key, kl, vl, &lerr);
	leveldb_free(lerr);
	/* Absent records count too: an answer may show that one is gone. */
	note_read(s, key, kl);
	return v;
}

json_t *tc_acme_store_get(struct tc_acme_store *s, char kind, const char *id)
{
	size_t vl = 0;
	char *v = get_raw(s, kind, id, &vl);
	if (!v)
		return NULL;
	json_t *rec = json_loadb(v, vl, 0, NULL);
	leveldb_free(v);
	if (rec && !json_is_object(rec)) {
		json_decref(rec);
		rec = NULL;
	}
	return rec;
}

char *tc_acme_store_get_str(struct tc_acme_store *s, char kind, const char *id)
{
	size_t vl = 0;
	char *v = get_raw(s, kind, id, &vl);
	if (!v)
		return NULL;
	char *out = malloc(vl + 1);
	if (out) {
		memcpy(out, v, vl);
		out[vl] = 0;
		if (strlen(out) != vl) { /* never ours: refuse rather than cut */
			free(out);
			out = NULL;
		}
	}
	leveldb_free(v);
	return out;
}

int tc_acme_store_put(struct tc_acme_store *s, char kind, const char *id, const json_t *rec)
{
	struct tc_acme_batch *b = tc_acme_batch_new();
	if (!b)
		return -1;
	tc_acme_batch_put(b, kind, id, rec);
	return tc_acme_batch_commit(s, b);
}

int tc_acme_store_put_nosync(struct tc_acme_store *s, char kind, const char *id, const json_t *rec)
{
	struct tc_acme_batch *b = tc_acme_batch_new();
	if (!b)
		return -1;
	tc_acme_batch_put(b, kind, id, rec);
	return tc_acme_batch_commit_nosync(s, b);
}

struct tc_acme_batch *tc_acme_batch_new(void)
{
	struct tc_acme_batch *b = calloc(1, sizeof(*b));
	if (b && !(b->wb = leveldb_writebatch_create())) {
		free(b);
		b = NULL;
	}
	return b;
}

int tc_acme_batch_put(struct tc_acme_batch *b, char kind, const char *id, const json_t *rec)
{
	char key[KEY_MAX];
	size_t kl;
	char *text = json_dumps(rec, JSON_COMPACT);
	if (!text || make_key(kind, id, key, &kl) != 0) {
		free(text);
		b->failed = 1;
		return -1;
	}
	leveldb_writebatch_put(b->wb, key, kl, text, strlen(text));
	batch_note(b, key, kl);
	free(text);
	return 0;
}

void tc_acme_batch_put_str(struct tc_acme_batch *b, char kind, const char *id, const char *value)
{
	char key[KEY_MAX];
	size_t kl;
	if (make_key(kind, id, key, &kl) != 0) {
		b->failed = 1;
		return;
	}
	leveldb_writebatch_put(b->wb, key, kl, value, strlen(value));
	batch_note(b, key, kl);
}

void tc_acme_batch_delete(struct tc_acme_batch *b, char kind, const char *id)
{
	char key[KEY_MAX];
	size_t kl;
	if (make_key(kind, id, key, &kl) != 0) {
		b->failed = 1;
		return;
	}
	leveldb_writebatch_delete(b->wb, key, kl);
	batch_note(b, key, kl);
}

/* A numbered write returned from LevelDB (written or failed): written
 * moves over every sequence now done without a gap below it. */
static void numbered_done(struct tc_acme_store *s, uint64_t seq)
{
	pthread_mutex_lock(&s->done_lock);
	s->done[seq % INFLIGHT_RING] = 1;
	uint64_t w = atomic_load(&s->written);
	while (s->done[(w + 1) % INFLIGHT_RING]) {
		s->done[(w + 1) % INFLIGHT_RING] = 0;
		w++;
	}
	atomic_store(&s->written, w);
	pthread_mutex_unlock(&s->done_lock);
}

/* Writes b and frees it. numbered: the write gets the next sequence
 * (returned in *seq) and its keys are marked pending with it before the
 * write: a reader can see the data only after its mark, so its answer
 * waits for this write's sync (tc_acme_store_answer_floor). */
static int commit(struct tc_acme_store *s, struct tc_acme_batch *b, const leveldb_writeoptions_t *wo, int numbered,
		  uint64_t *seq)
{
	int rc = -1;
	uint64_t n = 0;
	if (numbered && !b->failed) {
		n = atomic_fetch_add(&s->reserved, 1) + 1;
		mark_pending(s, b, n);
	}
	if (!b->failed) {
		char *lerr = NULL;
		leveldb_write(s->db, wo, b->wb, &lerr);
		rc = lerr ? -1 : 0;
		leveldb_free(lerr);
	}
	if (n) {
		numbered_done(s, n); /* failed too: later writes must not wait on it */
		if (rc == 0)
			*seq = n;
	}
	tc_acme_batch_free(b);
	return rc;
}

/* Through the group commit too: a background writer (verdicts, the
 * issuer) shares the syncer's fdatasync with the handlers' writes instead
 * of a LevelDB sync of its own, and blocks only its own thread. */
int tc_acme_batch_commit(struct tc_acme_store *s, struct tc_acme_batch *b)
{
	uint64_t seq = 0;
	if (commit(s, b, s->wopts_nosync, 1, &seq) != 0)
		return -1;
	return tc_acme_store_wait_durable(s, seq);
}

int tc_acme_batch_commit_nosync(struct tc_acme_store *s, struct tc_acme_batch *b)
{
	return commit(s, b, s->wopts_nosync, 0, NULL);
}

int tc_acme_batch_commit_deferred(struct tc_acme_store *s, struct tc_acme_batch *b)
{
	uint64_t seq = 0;
	if (commit(s, b, s->wopts_nosync, 1, &seq) != 0)
		return -1;
	answer_seq = seq;
	return 0;
}

int tc_acme_store_put_deferred(struct tc_acme_store *s, char kind, const char *id, const json_t *rec)
{
	struct tc_acme_batch *b = tc_acme_batch_new();
	if (!b)
		return -1;
	tc_acme_batch_put(b, kind, id, rec);
	return tc_acme_batch_commit_deferred(s, b);
}

void tc_acme_batch_free(struct tc_acme_batch *b)
{
	if (!b)
		return;
	leveldb_writebatch_destroy(b->wb);
	free(b->slots);
	free(b);
}

size_t tc_acme_store_scan(struct tc_acme_store *s, char kind, const char *prefix, size_t limit,
			  int (*fn)(void *arg, const char *id, size_t id_len, const char *val, size_t val_len),
			  void *arg)
{
	char key[KEY_MAX];
	size_t kl;
	if (make_key(kind, prefix, key, &kl) != 0)
		return 0;
	/* A scan shows which keys are absent too (deleted by a pending
	 * write, say): its answer waits for every write so far. */
	read_overflow = 1;
	leveldb_iterator_t *it = leveldb_create_iterator(s->db, s->ropts);
	size_t calls = 0;
	for (leveldb_iter_seek(it, key, kl); leveldb_iter_valid(it) && calls < limit; leveldb_iter_next(it)) {
		size_t l, vl;
		const char *k = leveldb_iter_key(it, &l);
		if (l < kl || memcmp(k, key, kl) != 0)
			break;
		const char *v = leveldb_iter_value(it, &vl);
		calls++;
		if (fn(arg, k + 2, l - 2, v, vl))
			break;
	}
	leveldb_iter_destroy(it);
	return calls;
}

static unsigned stripe(const char *id)
{
	unsigned h = 2166136261u; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % LOCK_STRIPES;
}

void tc_acme_store_lock(struct tc_acme_store *s, const char *id) { pthread_mutex_lock(&s->locks[stripe(id)]); }

void tc_acme_store_unlock(struct tc_acme_store *s, const char *id)
{
	pthread_mutex_unlock(&s->locks[stripe(id)]);
}

int tc_acme_new_id(char out[23])
{
	unsigned char raw[16];
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	char *t = tc_b64url_encode(raw, sizeof(raw));
	if (!t)
		return -1;
	memcpy(out, t, 22);
	out[22] = 0;
	free(t);
	return 0;
}
