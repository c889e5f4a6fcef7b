/* The zone journal: every accepted dynamic update, appended and synced to
 * <data_dir>/dns/zone.journal before the client is answered, replayed over
 * the configured zone at every start. A record is
 *   "TCZJ" | payload length (4, big endian) | SHA-256 of payload (32) | payload
 * where the payload is the update's changes as update.h encodes them. A
 * torn or damaged tail (a crash inside a write) ends the journal: reading
 * stops at the first record that does not check, and opening cuts the file
 * there, so every update answered NOERROR (synced) is kept and nothing
 * half-written is ever applied. */
#ifndef TC_RESOLVER_ZONE_JOURNAL_H
#define TC_RESOLVER_ZONE_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#define TC_ZONE_JOURNAL_MAX_RECORD (1024 * 1024)

/* The length of the longest prefix of buf made of whole, checked records;
 * their payloads, concatenated, go to out (cap octets; may be NULL to only
 * measure) and their total length to *out_len. *records counts them. */
size_t tc_zone_journal_scan(const uint8_t *buf, size_t len, uint8_t *out, size_t cap,
			    size_t *out_len, size_t *records);

struct tc_zone_journal;

/* Opens (creating, mode 0600) path, reads every good record's payload into
 * a malloc'ed *ops (free it) and cuts a bad tail. -1 with err. */
int tc_zone_journal_open(const char *path, struct tc_zone_journal **out, uint8_t **ops,
			 size_t *ops_len, size_t *records, char *err, size_t errlen);
/* Appends one record and waits until it is on disk (fdatasync). 0 or -1. */
int tc_zone_journal_append(struct tc_zone_journal *j, const uint8_t *payload, size_t len);
void tc_zone_journal_close(struct tc_zone_journal *j);

/* Compaction: replaces the whole journal at path (the file j appends to)
 * with ops, the history folded into its net changes (tc_update_fold), cut
 * into records of at most TC_ZONE_JOURNAL_MAX_RECORD at change boundaries;
 * durably (temporary file, fdatasync, rename, directory sync), so a crash
 * leaves the old journal or the new one, each replaying to the same zone.
 * j then appends to the new file. 0, or -1 with err: the old journal is
 * then still in use, unless the new one was renamed in place but cannot
 * be opened (j then refuses appends: updates fail instead of being lost). */
int tc_zone_journal_compact(struct tc_zone_journal *j, const char *path, const uint8_t *ops, size_t len,
			    char *err, size_t errlen);

#endif
