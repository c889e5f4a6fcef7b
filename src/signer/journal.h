/* Append-only, hash-chained audit journal of every signing operation and
 * every refusal. tc_journal_append() returns only once the record is on disk
 * (fdatasync); concurrent appenders share one sync (group commit). */
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

#endif
