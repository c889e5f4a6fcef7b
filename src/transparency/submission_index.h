/* The duplicate-submission index: a resubmitted certificate gets its
 * original SCT back instead of a second log entry. The records live in the
 * log store itself (key "S", see ct_store.h) and are written in the same
 * synced batch as the entry's pending record, so after any crash an SCT the
 * index returns always names a durable entry, and an entry that is durable
 * always has its index record (no duplicate entry after a restart).
 *
 * Earlier versions kept the index in a LevelDB of its own (ct/submissions,
 * written without sync); tc_submission_index_import() moves such an index
 * into the store once. */
#ifndef TC_TRANSPARENCY_SUBMISSION_INDEX_H
#define TC_TRANSPARENCY_SUBMISSION_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "transparency/ct_encode.h"
#include "transparency/ct_store.h"

#define TC_SUBMISSION_ID_LEN TC_CT_STORE_SUBMISSION_ID_LEN

/* The identity of entry e (its timestamp and extensions do not count). */
void tc_submission_id(const struct tc_ct_entry *e, unsigned char id[TC_SUBMISSION_ID_LEN]);

/* An entry logged without an SCT (log_only) has, in place of its SCT, a
 * record of 0xff and the entry's timestamp (8 bytes, big-endian): a
 * serialized v1 SCT starts with version 0, so the two never mix up. */
#define TC_SUBMISSION_LOGGED_LEN 9
void tc_submission_logged_record(uint64_t timestamp, unsigned char out[TC_SUBMISSION_LOGGED_LEN]);

/* An entry sequenced at its durable write (static-ct-api: its leaf carries
 * the leaf_index extension) has, until its SCT replaces it, a record of
 * 0xfe, the timestamp (8 bytes) and the leaf index (5 bytes, big-endian):
 * enough to sign its SCT again. */
#define TC_SUBMISSION_LOGGED_AT_LEN 14
void tc_submission_logged_at_record(uint64_t timestamp, uint64_t leaf_index,
				    unsigned char out[TC_SUBMISSION_LOGGED_AT_LEN]);

enum {
	TC_SUBMISSION_UNKNOWN = 0,
	TC_SUBMISSION_HAS_SCT = 1, /* the SCT is in sct */
	TC_SUBMISSION_LOGGED = 2,  /* logged without an SCT at *timestamp */
};
/* What the index knows about id, or -1 on a read error. */
int tc_submission_index_get(struct tc_ct_store *st, const unsigned char id[TC_SUBMISSION_ID_LEN],
			    unsigned char *sct, size_t cap, size_t *sct_len, uint64_t *timestamp);
/* The same, with the leaf index of a TC_SUBMISSION_LOGGED entry when its
 * record has one (else *leaf_index is UINT64_MAX: an older entry whose
 * leaf has no extension). */
int tc_submission_index_get_at(struct tc_ct_store *st, const unsigned char id[TC_SUBMISSION_ID_LEN],
			       unsigned char *sct, size_t cap, size_t *sct_len, uint64_t *timestamp,
			       uint64_t *leaf_index);

/* Copies the records of an old stand-alone index at legacy_path (if that
 * directory exists) into the store and renames the directory to
 * "<legacy_path>.imported". 0 when done or nothing to do, -1 with err. */
int tc_submission_index_import(struct tc_ct_store *st, const char *legacy_path, char *err, size_t errlen);

#endif
