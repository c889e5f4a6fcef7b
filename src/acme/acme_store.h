/* The ACME state in its own LevelDB (<data_dir>/acme/db): accounts (by id
 * and by key thumbprint), orders, authorizations with their challenges,
 * and certificates (by serial), as JSON records. Every write that an
 * answer acknowledges is synced before the answer leaves; related records
 * change together in one write batch.
 *
 * Keys: "A/<id>" account, "K/<thumbprint>" -> account id, "O/<id>" order,
 * "L/<account>/<order>" (an account's orders), "P/<account>/<order>" (its
 * orders not finalized yet), "Z/<id>" authorization,
 * "C/<serial hex>" certificate, "E/<eab kid>" -> account id.
 *
 * Read-modify-write of one record happens under tc_acme_store_lock(id):
 * striped mutexes, never held across a gRPC call or a validation.
 *
 * Group commit (the HTTP handlers' writes): a handler writes its batch
 * without a sync (visible at once to the next reader under the same lock)
 * and its answer waits, with the connection suspended, until the store's
 * syncer thread made that write durable: one fdatasync of LevelDB's log
 * for every write queued while the previous one ran, instead of one per
 * request on a blocked pool thread. Nothing is acknowledged before it is
 * on disk; a kill -9 loses nothing either way (the data is in the page
 * cache once the write returned). An answer that may show another
 * request's record waits for the pending syncs of the records it read
 * (tc_acme_store_answer_floor), so nothing it showed is lost to a machine
 * crash either. Where an
 * action outside the store depends on a write (finalize's call to the CA),
 * it waits for the sync too (tc_acme_store_when_durable). */
#ifndef TC_ACME_STORE_H
#define TC_ACME_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct tc_acme_store;
struct tc_acme_batch;

int tc_acme_store_open(const char *dir, struct tc_acme_store **out, char *err, size_t errlen);
void tc_acme_store_close(struct tc_acme_store *s);

/* The record kind/id, or NULL when absent (or unreadable). New reference. */
json_t *tc_acme_store_get(struct tc_acme_store *s, char kind, const char *id);
/* A string value (index records), malloc'ed, or NULL. */
char *tc_acme_store_get_str(struct tc_acme_store *s, char kind, const char *id);

/* A synced write of one record. 0 or -1. */
int tc_acme_store_put(struct tc_acme_store *s, char kind, const char *id, const json_t *rec);
/* An unsynced one (see tc_acme_batch_commit_nosync). */
int tc_acme_store_put_nosync(struct tc_acme_store *s, char kind, const char *id, const json_t *rec);

struct tc_acme_batch *tc_acme_batch_new(void);
int tc_acme_batch_put(struct tc_acme_batch *b, char kind, const char *id, const json_t *rec);
void tc_acme_batch_put_str(struct tc_acme_batch *b, char kind, const char *id, const char *value);
void tc_acme_batch_delete(struct tc_acme_batch *b, char kind, const char *id);
/* Writes the batch, waits until it is synced (sharing the group commit's
 * sync) and frees it. 0 or -1. For threads that may block (not the HTTP
 * pool's: see tc_acme_batch_commit_deferred). */
int tc_acme_batch_commit(struct tc_acme_store *s, struct tc_acme_batch *b);
/* The same without waiting for the disk: for states nobody relies on
 * after a machine crash (a challenge or order "processing", which fall
 * back to what the synced record before them said). Still durable across
 * a crash of the process: the data is in the kernel's page cache. */
int tc_acme_batch_commit_nosync(struct tc_acme_store *s, struct tc_acme_batch *b);
void tc_acme_batch_free(struct tc_acme_batch *b);

/* The group-commit form (above): written now without a sync; the write's
 * sequence number is remembered for this thread's current answer
 * (tc_acme_store_answer_seq). 0 or -1. */
int tc_acme_batch_commit_deferred(struct tc_acme_store *s, struct tc_acme_batch *b);
int tc_acme_store_put_deferred(struct tc_acme_store *s, char kind, const char *id, const json_t *rec);

/* A new answer begins on this thread: forgets what earlier ones wrote and
 * read. */
void tc_acme_store_answer_begin(void);
/* This thread's answer shows record kind/id, read elsewhere than through
 * the store (a cache): the same as having read it here. */
void tc_acme_store_note_read(struct tc_acme_store *s, char kind, const char *id);

/* The highest sequence this thread wrote deferred since the last call
 * (0: none), and forgets it: what the answer being built must wait for. */
uint64_t tc_acme_store_answer_seq(void);
/* The same without forgetting it. */
uint64_t tc_acme_store_answer_peek(void);

/* What an answer must wait for before it leaves: seq (its own deferred
 * writes) raised to the pending writes of every record this thread read
 * since the answer began (present or absent; after a scan, every pending
 * write: a scan shows absent keys too), because the
 * answer may show a record another request wrote and whose sync has not
 * run yet (that writer's own answer waits for it; this one must too, or a
 * machine crash could lose what it showed). Forgets the reads. 0 when all
 * of that is durable already, so an answer with nothing pending leaves at
 * once, and an answer is not held by syncs of records it never read. */
uint64_t tc_acme_store_answer_floor(struct tc_acme_store *s, uint64_t seq);

/* Runs fn(arg, ok) once the writes up to seq are durable (ok 1) or their
 * sync failed (ok 0: the caller must not acknowledge them): at once on this
 * thread when they already are (returns 1), else later on the syncer
 * thread (returns 0); -1 out of memory (fn never runs). */
int tc_acme_store_when_durable(struct tc_acme_store *s, uint64_t seq, void (*fn)(void *arg, int ok), void *arg);

/* Blocks until the writes up to seq are durable. 0, or -1 when their
 * sync failed. */
int tc_acme_store_wait_durable(struct tc_acme_store *s, uint64_t seq);

/* Blocks until every deferred write so far is durable (and its waiters
 * ran). 0 or -1. */
int tc_acme_store_flush(struct tc_acme_store *s);

/* Syncs the syncer made so far (tests: many writes, few syncs). */
uint64_t tc_acme_store_syncs(struct tc_acme_store *s);

/* Calls fn for each key "kind/prefix..." (id part after "kind/") with its
 * value, in key order, until fn returns non-zero or limit calls were made.
 * Returns the number of calls. */
size_t tc_acme_store_scan(struct tc_acme_store *s, char kind, const char *prefix, size_t limit,
			  int (*fn)(void *arg, const char *id, size_t id_len, const char *val, size_t val_len),
			  void *arg);

void tc_acme_store_lock(struct tc_acme_store *s, const char *id);
void tc_acme_store_unlock(struct tc_acme_store *s, const char *id);

/* A fresh random identifier (128 bits, base64url, 22 characters). */
int tc_acme_new_id(char out[23]);

#endif
