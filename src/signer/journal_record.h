/* The JSON text of one audit journal record (common/journal_format.h),
 * written by hand: byte for byte what jansson's json_dumps() gave with
 * JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII (keys in the
 * order seq, time, peer, op, key, digest, result, detail, prev), without
 * building a JSON tree for every signature.
 *
 * A record is cut in two so that the journal lock only covers what the
 * hash chain needs: the body (everything from "peer" to "detail", with the
 * hash of the signed data) is built before the lock is taken; seq, time
 * and prev are added under it. */
#ifndef TC_SIGNER_JOURNAL_RECORD_H
#define TC_SIGNER_JOURNAL_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "common/journal_format.h"
#include "signer/journal.h"

/* "peer":"…","op":"…","key":"…","digest":"<hex>","result":"…","detail":"…"
 * as a malloc'ed string (its length in *len). NULL when a text field is
 * not valid UTF-8 (jansson refused those too) or out of memory. */
char *tc_journal_record_body(const struct tc_journal_entry *e, size_t *len);

/* Writes {"seq":…,"time":"…",<body>,"prev":"<hex>"} into out (room for
 * tc_journal_record_size(body_len) bytes plus a NUL) and returns its
 * length. when is the record time as text (no characters to escape). */
size_t tc_journal_record_size(size_t body_len);
size_t tc_journal_record_write(char *out, uint64_t seq, const char *when, const char *body, size_t body_len,
			       const unsigned char prev[TC_JOURNAL_HASH_LEN]);

/* Appends JSON string s (quotes included) to out, escaped as jansson does
 * with JSON_ENSURE_ASCII; returns the length written, or -1 when s is not
 * valid UTF-8. out needs room for 6 * strlen(s) + 2 bytes (a control byte takes 6). */
long tc_json_quote_ascii(const char *s, char *out);

#endif
