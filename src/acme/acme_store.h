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
 * striped mutexes, never held across a gRPC call or a validation. */
#ifndef TC_ACME_STORE_H
#define TC_ACME_STORE_H

#include <jansson.h>
#include <stddef.h>

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
/* Writes the batch (synced) and frees it. 0 or -1. */
int tc_acme_batch_commit(struct tc_acme_store *s, struct tc_acme_batch *b);
/* The same without waiting for the disk: for states nobody relies on
 * after a machine crash (a challenge or order "processing", which fall
 * back to what the synced record before them said). Still durable across
 * a crash of the process: the data is in the kernel's page cache. */
int tc_acme_batch_commit_nosync(struct tc_acme_store *s, struct tc_acme_batch *b);
void tc_acme_batch_free(struct tc_acme_batch *b);

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
