/* Remembers the SCT given for each distinct submission, so a resubmitted
 * certificate gets its original SCT back instead of a second log entry.
 * A small LevelDB of its own (only this process opens it): key = SHA-256 of
 * the entry's identity (type, certificate or TBS, issuer key hash), value =
 * the serialized SCT. An index entry is written only after its pending
 * entry is durable, so every SCT it returns is for a logged entry. */
#ifndef TC_TRANSPARENCY_SUBMISSION_INDEX_H
#define TC_TRANSPARENCY_SUBMISSION_INDEX_H

#include <stddef.h>

#include "transparency/ct_encode.h"

#define TC_SUBMISSION_ID_LEN 32

struct tc_submission_index;

int tc_submission_index_open(const char *path, struct tc_submission_index **out, char *err, size_t errlen);
void tc_submission_index_close(struct tc_submission_index *ix);

/* The identity of entry e (its timestamp and extensions do not count). */
void tc_submission_id(const struct tc_ct_entry *e, unsigned char id[TC_SUBMISSION_ID_LEN]);

/* 1 and the SCT when id is known, 0 when not, -1 on a read error. */
int tc_submission_index_get(struct tc_submission_index *ix, const unsigned char id[TC_SUBMISSION_ID_LEN],
			    unsigned char *sct, size_t cap, size_t *sct_len);
/* 0 or -1. Not synced: losing it in a crash only costs a duplicate entry. */
int tc_submission_index_put(struct tc_submission_index *ix, const unsigned char id[TC_SUBMISSION_ID_LEN],
			    const unsigned char *sct, size_t sct_len);

#endif
