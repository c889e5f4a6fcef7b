/* Append-only, hash-chained audit journal of every signing operation and
 * every refusal. One writer thread writes what has been appended since its
 * last pass with one fdatasync (group commit). tc_journal_append() returns
 * once its record is on disk, unless the calling thread deferred that wait
 * (tc_journal_defer_begin): then the caller holds back what the record
 * covers until tc_journal_when_durable() says the record is on disk, and no
 * thread sleeps per request. */
#ifndef TC_SIGNER_JOURNAL_H
#define TC_SIGNER_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

struct tc_journal;

/* Opens (creating) path, verifies the existing chain and continues it. A
 * torn last line (crash mid-write, never acknowledged) is cut off; any other
 * damage refuses to open. */
struct tc_journal *tc_journal_open(const char *path, char *err, size_t errlen);
void tc_journal_close(struct tc_journal *j);

struct tc_journal_entry {
	const char *peer;
	const char *op;
	const char *key;             /* key label, "" if none */
	const unsigned char *data;   /* what was signed or asked for (hashed here) */
	size_t data_len;
	const char *result;          /* "ok", "denied", "policy", "error", ... */
	const char *detail;          /* free text, may be "" */
};

/* Returns the record's sequence number, or 0 on failure (the caller must then
 * not release the signature). */
uint64_t tc_journal_append(struct tc_journal *j, const struct tc_journal_entry *e);

/* From begin to end, tc_journal_append() on this thread returns without
 * waiting for the disk and stores the newest sequence number it appended in
 * *last_seq (0 when none). The caller must then release nothing the records
 * cover before tc_journal_when_durable(last_seq) reports them durable. */
void tc_journal_defer_begin(uint64_t *last_seq);
void tc_journal_defer_end(void);

/* Calls fn(arg, 1) once records up to seq are on disk, or fn(arg, 0) when
 * they never will be (the journal failed): now, from this thread, when that
 * is already known; otherwise later from the journal's writer thread. fn
 * must not append to the journal. */
typedef void (*tc_journal_durable_fn)(void *arg, int durable);
void tc_journal_when_durable(struct tc_journal *j, uint64_t seq, tc_journal_durable_fn fn, void *arg);

/* Calls fn(arg) on the same thread right after each run of durable
 * callbacks (all those one group commit settled, or the one
 * tc_journal_when_durable ran at once), so that what they gathered (the
 * answers of one commit) can leave in one write per peer. Set once,
 * before any tc_journal_when_durable. */
void tc_journal_set_settled_hook(struct tc_journal *j, void (*fn)(void *arg), void *arg);

#endif
