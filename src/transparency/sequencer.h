/* Accepts entries and turns them into tree growth.
 *
 * Submission (asynchronous: no thread waits for one): a duplicate gets its
 * original SCT back; otherwise the entry is timestamped and queued for the
 * committer thread, which appends everything queued to the tree in one
 * synced write (the group commit), giving each entry its leaf index:
 * static-ct-api's leaf_index extension is part of the leaf, so the index is
 * fixed at the durable write and no later. Then the batch's SCTs, carrying
 * that extension, are asked of the signer all at once (pipelined on its
 * link), and each answer completes its submission: an SCT always names a
 * durable, sequenced entry, and costs no wait beyond the one synced write
 * and one signature round trip. A submission that needs no SCT
 * (want_sct 0: the gateway logging a final certificate) is stored the
 * same way without the signature; a later submission of it that wants one
 * gets an SCT signed then, with the timestamp and index of the leaf
 * already logged.
 *
 * Durability cost: every submission is answered after its batch's synced
 * write, and everything queued during one sync goes into the next. Syncs
 * run back to back (~2 ms each on the test machine), so their number per
 * second stays flat and the batch grows with the load. Holding writes back
 * to group more would only add latency at low load and change nothing at
 * high load.
 *
 * Tree heads (one thread): every interval_ms, or as soon as batch_max
 * entries were committed, a new tree head is signed and stored. Entries an
 * earlier version left in the pending area (accepted before an upgrade, SCTs
 * without a leaf index) are sequenced at start, before any new one. An idle log still
 * signs a fresh tree head (same size, new timestamp) every sth_refresh_ms,
 * as RFC 6962 3.5 requires at least once per maximum merge delay.
 *
 * Publication (same thread, after each flush): the newest tree head goes
 * to the tile publisher (tile_publisher.h), which writes the new tiles and
 * then the checkpoint; a failure is logged and retried at the next flush
 * (submissions and the RFC 6962 API never wait for it). */
#ifndef TC_TRANSPARENCY_SEQUENCER_H
#define TC_TRANSPARENCY_SEQUENCER_H

#include <stddef.h>
#include <stdint.h>

#include "transparency/ct_encode.h"
#include "transparency/ct_store.h"
#include "transparency/log_signer.h"
#include "transparency/tile_publisher.h"

#define TC_SCT_MAX_LEN 512 /* a serialized SCT with an ECDSA signature is ~120 bytes */

struct tc_sequencer;

struct tc_sequencer_config {
	uint32_t interval_ms;
	uint32_t batch_max;
	uint64_t sth_refresh_ms;       /* re-sign an unchanged tree head this often (0: never) */
	const char *legacy_index_path; /* an older stand-alone duplicate index to import, or NULL */
	struct tc_tile_publisher *tiles; /* static-ct-api files written after each flush, or NULL */
	int frozen; /* read-only log: no new entries; one last tree head, never refreshed */
};

/* tc_sequencer_submit's answer for a new entry to a frozen log. */
#define TC_SEQUENCER_FROZEN (-2)

int tc_sequencer_start(struct tc_ct_store *st, struct tc_log_signer *ls, const struct tc_sequencer_config *cfg,
		       struct tc_sequencer **out, char *err, size_t errlen);

/* Submits an entry: e->type, cert, issuer_key_hash (precerts) are used; the
 * timestamp is set here. extra is the chain returned with it by get-entries.
 * Writes the serialized SCT (at most TC_SCT_MAX_LEN bytes), or none
 * (*sct_len 0) when want_sct is 0 and no earlier submission got one, and
 * the entry's timestamp (the SCT's) and, unless NULL, *leaf_index (the
 * entry's index, UINT64_MAX for an entry of an earlier version whose leaf
 * does not carry it). 0, or -1 with err set when the entry could not be
 * made durable or signed, or TC_SEQUENCER_FROZEN (err set) when the log is
 * frozen and the entry (or its SCT) is not in it already. */
int tc_sequencer_submit(struct tc_sequencer *q, const struct tc_ct_entry *e, const unsigned char *extra,
			size_t extra_len, int want_sct, unsigned char sct[TC_SCT_MAX_LEN], size_t *sct_len,
			uint64_t *timestamp, uint64_t *leaf_index, char *err, size_t errlen);

/* What a submission got: rc 0, -1 (err says why: the entry could not be
 * made durable or signed) or TC_SEQUENCER_FROZEN (err set); sct (NULL and
 * sct_len 0 when none: want_sct 0 and no earlier submission got one), the
 * entry's timestamp and leaf index (UINT64_MAX for an entry of an earlier
 * version whose leaf does not carry it). Valid during the call only. */
struct tc_sequencer_result {
	int rc;
	const char *err;
	const unsigned char *sct;
	size_t sct_len;
	uint64_t timestamp;
	uint64_t leaf_index;
};

/* Called exactly once per submission, on the submitting thread (an answer
 * known at once: a duplicate, a refusal), the committer thread or the
 * signer link's reader thread: it must not block. */
typedef void (*tc_sequencer_done_fn)(void *arg, const struct tc_sequencer_result *r);

/* tc_sequencer_submit without waiting: done(arg, ...) gets the answer. e's
 * buffers (cert) and extra must stay valid until done is called. 0, or -1
 * when out of memory (done is then not called). */
int tc_sequencer_submit_async(struct tc_sequencer *q, const struct tc_ct_entry *e, const unsigned char *extra,
			      size_t extra_len, int want_sct, tc_sequencer_done_fn done, void *arg);

/* The log ID (SHA-256 of the log key's SubjectPublicKeyInfo). */
const unsigned char *tc_sequencer_log_id(const struct tc_sequencer *q);

/* Waits until every submission is answered, stops the threads after
 * sequencing everything still pending (as far as the signer allows) and
 * frees q. */
void tc_sequencer_stop(struct tc_sequencer *q);

#endif
