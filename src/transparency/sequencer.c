#include "transparency/sequencer.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "transparency/be_bytes.h"
#include "transparency/sct.h"
#include "transparency/submission_index.h"

/* Submissions of the same identity are serialized by one of these locks, so
 * two concurrent identical submissions cannot both get an entry; different
 * identities rarely share a lock and proceed in parallel. */
#define IDENTITY_LOCKS 64
/* Room the store's filesystem needs before a failed store is reopened:
 * LevelDB's recovery writes a table and a manifest. */
#define STORE_ROOM_TO_REOPEN (8u << 20)

struct tc_sequencer {
	struct tc_ct_store *st;
	struct tc_log_signer *ls;
	uint32_t interval_ms;
	uint64_t sth_refresh_ms;
	uint32_t batch_max;

	pthread_mutex_t lock; /* guards waiting, stopping, the commit queue and SCT records */
	pthread_cond_t wake;
	uint64_t waiting;     /* entries committed since the last flush */
	int stopping;
	pthread_t thread;

	/* The commit queue (see "committing" below). */
	pthread_cond_t commit_wake; /* the committer: work queued, or stopping */
	pthread_cond_t committed;   /* submitters: their request is done */
	struct commit_req *queue_head, *queue_tail;
	struct sct_record *scts;    /* SCTs to put in place of their entries' records */
	struct sct_record *scts_writing; /* taken by the committer, until written */
	pthread_t committer;
	int commit_stopping; /* set (and the committer joined) before stopping */

	pthread_mutex_t identity[IDENTITY_LOCKS];
	pthread_mutex_t clock_lock;
	uint64_t last_timestamp;

	int frozen;      /* read-only: nothing new is committed or signed */
	int sth_failing; /* only the sequencer thread touches it: log an outage once */
	int reopen_requested; /* the sequencer thread's: reopen_when_writable asked once */
	struct tc_tile_publisher *tiles;
	int tiles_failing; /* the same for publication */
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Timestamps never go backwards within a run, so a tree head signed after
 * an SCT never predates it even if the wall clock steps back. */
static uint64_t next_timestamp(struct tc_sequencer *q)
{
	pthread_mutex_lock(&q->clock_lock);
	uint64_t t = now_ms();
	if (t < q->last_timestamp)
		t = q->last_timestamp;
	q->last_timestamp = t;
	pthread_mutex_unlock(&q->clock_lock);
	return t;
}

/* The timestamp in a MerkleTreeLeaf (version, leaf type, then 8 bytes). */
static uint64_t leaf_timestamp(const unsigned char *leaf, size_t len)
{
	return len >= 10 ? tc_be_get(leaf + 2, 8) : 0;
}

static int newest_pending(void *ctx, uint64_t id, const struct tc_ct_record *rec)
{
	(void)id;
	uint64_t *newest = ctx;
	uint64_t t = leaf_timestamp(rec->leaf_input, rec->leaf_len);
	if (t > *newest)
		*newest = t;
	return 0;
}

/* The newest timestamp the log has handed out before this run: its latest
 * tree head, its last entry and the entries still waiting to be sequenced.
 * next_timestamp starts from it, so a log restarted while the wall clock is
 * behind (stepped back, or a restore) never issues an SCT or a tree head
 * older than one already seen. */
static uint64_t newest_issued_timestamp(struct tc_ct_store *st)
{
	uint64_t newest = 0;
	struct tc_ct_sth sth;
	if (tc_ct_store_latest_sth(st, &sth) == TC_CT_STORE_OK)
		newest = sth.timestamp;
	uint64_t size = tc_ct_store_size(st);
	struct tc_ct_record rec;
	if (size > 0 && tc_ct_store_get_leaf(st, size - 1, &rec) == TC_CT_STORE_OK) {
		uint64_t t = leaf_timestamp(rec.leaf_input, rec.leaf_len);
		if (t > newest)
			newest = t;
		tc_ct_record_free(&rec);
	}
	tc_ct_store_list_pending(st, 0, SIZE_MAX, newest_pending, &newest);
	return newest;
}

/* After a failed store write (a full disk) the store takes no more writes
 * (ct_store.h): submissions get 503, reads go on. Once its filesystem has
 * room again the log stops in order (SIGTERM to itself) and the supervisor
 * starts it again on a freshly opened store, whose recovery drops only the
 * failed write. */
static void reopen_when_writable(struct tc_sequencer *q)
{
	uint64_t room;
	if (!tc_ct_store_write_failed(q->st, &room) || room < STORE_ROOM_TO_REOPEN || q->reopen_requested)
		return;
	q->reopen_requested = 1;
	tc_warn("ct store: %llu bytes free again after a failed write; restarting to reopen the store",
		(unsigned long long)room);
	kill(getpid(), SIGTERM);
}

/* ---- committing: the durable write assigns the leaf index ----
 *
 * static-ct-api SCTs carry the entry's leaf index, and the extension is part
 * of the leaf (TimestampedEntry.extensions), so the index is fixed before the
 * entry is hashed. A submission is therefore appended to the tree by its
 * durable write itself: submitters queue their entry and wait; one committer
 * thread takes everything queued (up to batch_max), gives the entries the
 * next indices, and appends them with their duplicate-index records in ONE
 * synced LevelDB batch. While it syncs, new submissions queue for the next
 * batch: the same group commit LevelDB gave the pending records, so a
 * submission still waits for one synced write and no more. The SCT is signed
 * after the write, so it always names a durable, sequenced entry. */

struct commit_req {
	struct tc_ct_entry *e;          /* e->extensions set by the committer */
	const unsigned char *extra;
	size_t extra_len;
	const unsigned char *id;        /* TC_SUBMISSION_ID_LEN */
	unsigned char ext[TC_SCT_LEAF_INDEX_EXT_LEN];
	uint64_t index;
	int state; /* 0 queued, 1 durable at index, -1 failed */
	char why[128];
	struct commit_req *next;
};

/* An SCT signed after its entry was durable, to replace the entry's
 * "logged at" record so a duplicate gets it back. Written by the committer
 * without sync: a crash loses only the chance to return the same bytes
 * (the duplicate gets an SCT signed again from the durable record). */
struct sct_record {
	unsigned char id[TC_SUBMISSION_ID_LEN];
	unsigned char sct[TC_SCT_MAX_LEN];
	size_t sct_len;
	struct sct_record *next;
};

/* A duplicate's original SCT while its record is not in the store yet
 * (caller holds the identity lock of id). 1 when found. */
static int unwritten_sct(struct tc_sequencer *q, const unsigned char id[TC_SUBMISSION_ID_LEN], unsigned char *sct,
			 size_t *sct_len)
{
	int found = 0;
	pthread_mutex_lock(&q->lock);
	for (int l = 0; l < 2 && !found; l++)
		for (struct sct_record *r = l ? q->scts_writing : q->scts; r && !found; r = r->next)
			if (memcmp(r->id, id, TC_SUBMISSION_ID_LEN) == 0) {
				memcpy(sct, r->sct, r->sct_len);
				*sct_len = r->sct_len;
				found = 1;
			}
	pthread_mutex_unlock(&q->lock);
	return found;
}

static void write_sct_records(struct tc_sequencer *q, struct sct_record *list)
{
	size_t n = 0;
	for (struct sct_record *r = list; r; r = r->next)
		n++;
	struct tc_ct_submission *subs = n ? calloc(n, sizeof(*subs)) : NULL;
	if (subs) {
		size_t i = 0;
		for (struct sct_record *r = list; r; r = r->next, i++)
			subs[i] = (struct tc_ct_submission){.id = r->id, .sct = r->sct, .sct_len = r->sct_len};
		int st = tc_ct_store_put_submissions_nosync(q->st, subs, n);
		if (st != TC_CT_STORE_OK)
			tc_warn("SCTs not kept in the duplicate index: %s", tc_ct_store_strerror(st));
		free(subs);
	}
	pthread_mutex_lock(&q->lock);
	q->scts_writing = NULL;
	pthread_mutex_unlock(&q->lock);
	while (list) {
		struct sct_record *next = list->next;
		free(list);
		list = next;
	}
}

/* Appends the n requests as leaves size .. size + n - 1; marks them. */
static void commit_batch(struct tc_sequencer *q, struct commit_req **reqs, size_t n)
{
	struct tc_ct_store_entry *entries = calloc(n, sizeof(*entries));
	struct tc_ct_submission *subs = calloc(n, sizeof(*subs));
	unsigned char (*logged)[TC_SUBMISSION_LOGGED_AT_LEN] = calloc(n, sizeof(*logged));
	unsigned char **leaves = calloc(n, sizeof(*leaves));
	const char *why = "out of memory";
	/* Only this thread appends once the log runs (tc_sequencer_start
	 * sequenced the older pending entries before starting it), so the
	 * size read here is the first index the append will use. */
	uint64_t base = tc_ct_store_size(q->st);
	int ok = entries && subs && logged && leaves;
	for (size_t i = 0; ok && i < n; i++) {
		struct commit_req *r = reqs[i];
		size_t len = 0;
		if (tc_sct_leaf_index_ext(base + i, r->ext) != 0) {
			why = "the log is full (leaf index beyond 40 bits)";
			ok = 0;
			break;
		}
		r->e->extensions = r->ext;
		r->e->extensions_len = sizeof(r->ext);
		if (tc_ct_encode_leaf(r->e, NULL, 0, &len) != TC_CT_ERR_SPACE || !(leaves[i] = malloc(len)) ||
		    tc_ct_encode_leaf(r->e, leaves[i], len, &len) != TC_CT_OK) {
			why = "entry cannot be encoded";
			ok = 0;
			break;
		}
		tc_submission_logged_at_record(r->e->timestamp, base + i, logged[i]);
		subs[i] = (struct tc_ct_submission){.id = r->id, .sct = logged[i], .sct_len = sizeof(logged[i])};
		entries[i] = (struct tc_ct_store_entry){.leaf_input = leaves[i], .leaf_len = len,
							.extra_data = r->extra, .extra_len = r->extra_len,
							.sub = &subs[i]};
	}
	uint64_t first = 0;
	int st = TC_CT_STORE_OK;
	if (ok && (st = tc_ct_store_append_batch(q->st, entries, n, &first)) != TC_CT_STORE_OK) {
		why = tc_ct_store_strerror(st);
		ok = 0;
	}
	if (ok && first != base) {
		/* cannot happen with one appender; refuse rather than hand out
		 * SCTs naming the wrong index */
		tc_err("sequencer: entries appended at %llu, expected %llu", (unsigned long long)first,
		       (unsigned long long)base);
		why = "leaf index mismatch";
		ok = 0;
	}
	if (!ok)
		tc_err("committing %zu entries: %s", n, why);
	pthread_mutex_lock(&q->lock);
	for (size_t i = 0; i < n; i++) {
		reqs[i]->state = ok ? 1 : -1;
		reqs[i]->index = base + i;
		if (!ok)
			snprintf(reqs[i]->why, sizeof(reqs[i]->why), "entry could not be stored: %s", why);
	}
	if (ok) {
		q->waiting += n;
		if (q->waiting >= q->batch_max)
			pthread_cond_signal(&q->wake);
	}
	pthread_cond_broadcast(&q->committed);
	pthread_mutex_unlock(&q->lock);
	for (size_t i = 0; leaves && i < n; i++)
		free(leaves[i]);
	free(leaves);
	free(logged);
	free(subs);
	free(entries);
}

static void *committer_main(void *arg)
{
	struct tc_sequencer *q = arg;
	struct commit_req **reqs = calloc(q->batch_max, sizeof(*reqs));
	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (!q->queue_head && !q->scts && !q->commit_stopping)
			pthread_cond_wait(&q->commit_wake, &q->lock);
		if (!q->queue_head && !q->scts)
			break; /* stopping with nothing left */
		struct sct_record *scts = q->scts;
		q->scts_writing = scts;
		q->scts = NULL;
		size_t n = 0;
		while (reqs && q->queue_head && n < q->batch_max) {
			reqs[n++] = q->queue_head;
			q->queue_head = q->queue_head->next;
		}
		if (!q->queue_head)
			q->queue_tail = NULL;
		if (!reqs) { /* no batch array: fail what waits rather than hang it */
			for (struct commit_req *r = q->queue_head; r; r = r->next) {
				r->state = -1;
				snprintf(r->why, sizeof(r->why), "sequencer out of memory");
			}
			q->queue_head = q->queue_tail = NULL;
			pthread_cond_broadcast(&q->committed);
		}
		pthread_mutex_unlock(&q->lock);
		/* the SCT records go first: the synced append then makes them
		 * durable too (LevelDB's log is written in order) */
		if (scts)
			write_sct_records(q, scts);
		if (n)
			commit_batch(q, reqs, n);
		pthread_mutex_lock(&q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	free(reqs);
	return NULL;
}

/* Queues e and waits until it is durable; 0 with *index, or -1 with err. */
static int commit_entry(struct tc_sequencer *q, struct tc_ct_entry *e, const unsigned char *extra, size_t extra_len,
			const unsigned char id[TC_SUBMISSION_ID_LEN], uint64_t *index, char *err, size_t errlen)
{
	struct commit_req r = {.e = e, .extra = extra, .extra_len = extra_len, .id = id};
	pthread_mutex_lock(&q->lock);
	if (q->commit_stopping) {
		pthread_mutex_unlock(&q->lock);
		snprintf(err, errlen, "the log is stopping");
		return -1;
	}
	if (q->queue_tail)
		q->queue_tail->next = &r;
	else
		q->queue_head = &r;
	q->queue_tail = &r;
	pthread_cond_signal(&q->commit_wake);
	while (r.state == 0)
		pthread_cond_wait(&q->committed, &q->lock);
	pthread_mutex_unlock(&q->lock);
	if (r.state < 0) {
		snprintf(err, errlen, "%s", r.why);
		return -1;
	}
	*index = r.index;
	return 0;
}

/* Hands a freshly signed SCT to the committer for the duplicate index. */
static void keep_sct(struct tc_sequencer *q, const unsigned char id[TC_SUBMISSION_ID_LEN], const unsigned char *sct,
		     size_t sct_len)
{
	struct sct_record *r = malloc(sizeof(*r));
	if (!r || sct_len > sizeof(r->sct)) {
		free(r);
		return; /* a duplicate will get an SCT signed again */
	}
	memcpy(r->id, id, TC_SUBMISSION_ID_LEN);
	memcpy(r->sct, sct, sct_len);
	r->sct_len = sct_len;
	pthread_mutex_lock(&q->lock);
	r->next = q->scts;
	q->scts = r;
	pthread_cond_signal(&q->commit_wake);
	pthread_mutex_unlock(&q->lock);
}

/* ---- sequencing entries accepted by earlier versions ---- */

struct batch {
	struct tc_ct_store_entry *entries;
	struct tc_ct_record *records;
	size_t n, cap;
};

static int collect_pending(void *ctx, uint64_t id, const struct tc_ct_record *rec)
{
	struct batch *b = ctx;
	struct tc_ct_record *r = &b->records[b->n];
	size_t total = rec->leaf_len + rec->extra_len;
	if (!(r->raw = malloc(total ? total : 1)))
		return -1;
	r->leaf_input = (unsigned char *)r->raw;
	r->leaf_len = rec->leaf_len;
	memcpy(r->leaf_input, rec->leaf_input, rec->leaf_len);
	r->extra_data = r->leaf_input + rec->leaf_len;
	r->extra_len = rec->extra_len;
	memcpy(r->extra_data, rec->extra_data, rec->extra_len);
	b->entries[b->n] = (struct tc_ct_store_entry){.leaf_input = r->leaf_input, .leaf_len = r->leaf_len,
						      .extra_data = r->extra_data, .extra_len = r->extra_len,
						      .pending_id = id};
	b->n++;
	return 0;
}

static void batch_release(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->records[i].raw);
	b->n = 0;
}

/* Appends up to batch_max pending entries; returns how many, or -1. */
static long sequence_one_batch(struct tc_sequencer *q, struct batch *b)
{
	int st = tc_ct_store_list_pending(q->st, 0, b->cap, collect_pending, b);
	long done = -1;
	if (st != TC_CT_STORE_OK) {
		tc_err("reading pending entries: %s", tc_ct_store_strerror(st));
	} else if (b->n == 0) {
		done = 0;
	} else {
		uint64_t first = 0;
		st = tc_ct_store_append_batch(q->st, b->entries, b->n, &first);
		if (st == TC_CT_STORE_OK) {
			tc_debug("sequenced %zu entries at %llu", b->n, (unsigned long long)first);
			done = (long)b->n;
		} else {
			tc_err("sequencing %zu entries: %s", b->n, tc_ct_store_strerror(st));
		}
	}
	batch_release(b);
	return done;
}

/* Signs and stores a tree head for the current size unless the newest one
 * already covers it and is younger than sth_refresh_ms. */
static int sign_tree_head(struct tc_sequencer *q)
{
	struct tc_ct_sth sth;
	uint64_t size = tc_ct_store_size(q->st);
	int st = tc_ct_store_latest_sth(q->st, &sth);
	if (st == TC_CT_STORE_OK && sth.tree_size == size &&
	    (q->sth_refresh_ms == 0 || now_ms() < sth.timestamp + q->sth_refresh_ms))
		return 0;
	memset(&sth, 0, sizeof(sth));
	sth.tree_size = size;
	sth.timestamp = next_timestamp(q);
	if ((st = tc_ct_store_root(q->st, size, sth.root)) != TC_CT_STORE_OK) {
		tc_err("tree root at %llu: %s", (unsigned long long)size, tc_ct_store_strerror(st));
		return -1;
	}
	unsigned char input[TC_CT_STH_SIGNATURE_INPUT_LEN];
	tc_ct_encode_sth_signature_input(sth.timestamp, sth.tree_size, sth.root, input);
	char err[256];
	_Static_assert(TC_LOG_SIGNER_MAX_SIG <= TC_CT_STORE_MAX_SIGNATURE, "signature fits the store");
	if (tc_log_signer_sign(q->ls, input, sizeof(input), sth.signature, TC_LOG_SIGNER_MAX_SIG,
			       &sth.signature_len, err, sizeof(err)) != 0) {
		if (!q->sth_failing)
			tc_warn("tree head %llu not signed yet (retrying): %s", (unsigned long long)size, err);
		q->sth_failing = 1;
		return -1;
	}
	if ((st = tc_ct_store_put_sth(q->st, &sth)) != TC_CT_STORE_OK) {
		tc_err("storing tree head %llu: %s", (unsigned long long)size, tc_ct_store_strerror(st));
		return -1;
	}
	if (q->sth_failing)
		tc_info("tree heads signed again (tree size %llu)", (unsigned long long)size);
	q->sth_failing = 0;
	tc_debug("tree head %llu signed", (unsigned long long)size);
	return 0;
}

/* Writes the tiles and checkpoint of the newest tree head. */
static void publish_tiles(struct tc_sequencer *q)
{
	struct tc_ct_sth sth;
	char err[512];
	if (!q->tiles || tc_ct_store_latest_sth(q->st, &sth) != TC_CT_STORE_OK)
		return;
	if (tc_tile_publisher_publish(q->tiles, q->st, &sth, err, sizeof(err)) != 0) {
		if (!q->tiles_failing)
			tc_err("static-ct-api publication (retrying at each flush): %s", err);
		q->tiles_failing = 1;
		return;
	}
	if (q->tiles_failing)
		tc_info("static-ct-api checkpoint published again (tree size %llu)",
			(unsigned long long)sth.tree_size);
	q->tiles_failing = 0;
}

/* Signs the head of what is committed and publishes it. */
static void flush(struct tc_sequencer *q)
{
	sign_tree_head(q);
	publish_tiles(q);
}

/* Sequences the pending entries an earlier version accepted (durable, with
 * SCTs that carry no leaf index) before the committer appends anything:
 * they keep their place ahead of new entries. 0, or -1 when they could not
 * be read or appended. */
static int sequence_pending(struct tc_sequencer *q)
{
	struct batch b = {.cap = q->batch_max};
	b.entries = calloc(b.cap, sizeof(*b.entries));
	b.records = calloc(b.cap, sizeof(*b.records));
	long n = -1;
	if (b.entries && b.records)
		while ((n = sequence_one_batch(q, &b)) > 0 && (size_t)n == b.cap)
			;
	free(b.entries);
	free(b.records);
	return n < 0 ? -1 : 0;
}

static void *sequencer_main(void *arg)
{
	struct tc_sequencer *q = arg;
	flush(q);
	pthread_mutex_lock(&q->lock);
	while (!q->stopping) {
		if (q->waiting < q->batch_max) {
			struct timespec until;
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_sec += q->interval_ms / 1000;
			until.tv_nsec += (long)(q->interval_ms % 1000) * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			while (!q->stopping && q->waiting < q->batch_max &&
			       pthread_cond_timedwait(&q->wake, &q->lock, &until) != ETIMEDOUT)
				;
		}
		q->waiting = 0;
		pthread_mutex_unlock(&q->lock);
		flush(q);
		reopen_when_writable(q);
		pthread_mutex_lock(&q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	/* the committer has stopped (tc_sequencer_stop joins it first): the
	 * last entries get their tree head and checkpoint */
	flush(q);
	return NULL;
}

/* ---- submission ---- */

/* Signs the SCT of the durable entry e (timestamp and leaf index as in its
 * leaf) and hands it to the committer for the duplicate index. */
static int sign_entry(struct tc_sequencer *q, struct tc_ct_entry *e, uint64_t leaf_index,
		      const unsigned char id[TC_SUBMISSION_ID_LEN], unsigned char *sct, size_t *sct_len, char *err,
		      size_t errlen)
{
	unsigned char ext[TC_SCT_LEAF_INDEX_EXT_LEN];
	e->extensions = NULL;
	e->extensions_len = 0;
	/* an entry sequenced by an earlier version has no index in its leaf */
	if (leaf_index != UINT64_MAX) {
		if (tc_sct_leaf_index_ext(leaf_index, ext) != 0) {
			snprintf(err, errlen, "leaf index beyond 40 bits");
			return -1;
		}
		e->extensions = ext;
		e->extensions_len = sizeof(ext);
	}
	if (tc_sct_issue(q->ls, e, sct, TC_SCT_MAX_LEN, sct_len, err, errlen) != 0)
		return -1;
	keep_sct(q, id, sct, *sct_len);
	return 0;
}

/* The leaf index an SCT carries, or UINT64_MAX (an SCT of an earlier
 * version, issued before its entry was sequenced). */
static uint64_t sct_leaf_index(const struct tc_ct_sct *sct)
{
	uint64_t index;
	return tc_sct_find_leaf_index(sct->extensions, sct->extensions_len, &index) == 1 ? index : UINT64_MAX;
}

static int frozen_refusal(struct tc_sequencer *q, char *err, size_t errlen)
{
	snprintf(err, errlen, "the log is frozen: read-only at tree size %llu, it accepts no new entries",
		 (unsigned long long)tc_ct_store_size(q->st));
	return TC_SEQUENCER_FROZEN;
}

int tc_sequencer_submit(struct tc_sequencer *q, const struct tc_ct_entry *in, const unsigned char *extra,
			size_t extra_len, int want_sct, unsigned char sct[TC_SCT_MAX_LEN], size_t *sct_len,
			uint64_t *timestamp, uint64_t *leaf_index, char *err, size_t errlen)
{
	struct tc_ct_entry e = *in;
	unsigned char id[TC_SUBMISSION_ID_LEN];
	tc_submission_id(&e, id);
	pthread_mutex_t *idlock = &q->identity[id[0] % IDENTITY_LOCKS];
	pthread_mutex_lock(idlock);
	uint64_t logged_at = 0, index = UINT64_MAX;
	struct tc_ct_sct parsed;
	*sct_len = 0;
	int rc = tc_submission_index_get_at(q->st, id, sct, TC_SCT_MAX_LEN, sct_len, &logged_at, &index);
	if (rc < 0) {
		snprintf(err, errlen, "submission index unreadable");
	} else if (rc == TC_SUBMISSION_HAS_SCT) {
		/* a duplicate: its original SCT */
		if ((rc = tc_ct_parse_sct(sct, *sct_len, &parsed) == TC_CT_OK ? 0 : -1) == 0) {
			*timestamp = parsed.timestamp;
			index = sct_leaf_index(&parsed);
		} else {
			snprintf(err, errlen, "stored SCT unreadable");
		}
	} else if (rc == TC_SUBMISSION_LOGGED && unwritten_sct(q, id, sct, sct_len)) {
		/* a duplicate whose SCT the committer has not written yet */
		if ((rc = tc_ct_parse_sct(sct, *sct_len, &parsed) == TC_CT_OK ? 0 : -1) == 0) {
			*timestamp = parsed.timestamp;
			index = sct_leaf_index(&parsed);
		} else {
			snprintf(err, errlen, "kept SCT unreadable");
		}
	} else if (q->frozen && want_sct) {
		/* a frozen log signs nothing new; an entry logged without an SCT
		 * stays so (its SCT would be a new promise) */
		rc = frozen_refusal(q, err, errlen);
	} else if (rc == TC_SUBMISSION_LOGGED) {
		/* logged already (without an SCT, or its SCT lost in a crash) */
		*timestamp = logged_at;
		e.timestamp = logged_at;
		rc = want_sct ? sign_entry(q, &e, index, id, sct, sct_len, err, errlen) : 0;
	} else if (q->frozen) {
		rc = frozen_refusal(q, err, errlen);
	} else {
		e.timestamp = next_timestamp(q);
		e.extensions = NULL;
		e.extensions_len = 0;
		rc = commit_entry(q, &e, extra, extra_len, id, &index, err, errlen);
		if (rc == 0) {
			*timestamp = e.timestamp;
			rc = want_sct ? sign_entry(q, &e, index, id, sct, sct_len, err, errlen) : 0;
			/* a signing failure leaves the entry logged: a retry gets
			 * its SCT from the "logged at" record */
		}
	}
	if (leaf_index)
		*leaf_index = index;
	pthread_mutex_unlock(idlock);
	return rc;
}

const unsigned char *tc_sequencer_log_id(const struct tc_sequencer *q)
{
	return q->ls->log_id;
}

/* ---- life cycle ---- */

int tc_sequencer_start(struct tc_ct_store *st, struct tc_log_signer *ls, const struct tc_sequencer_config *cfg,
		       struct tc_sequencer **out, char *err, size_t errlen)
{
	struct tc_sequencer *q = calloc(1, sizeof(*q));
	if (!q) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	q->st = st;
	q->ls = ls;
	q->interval_ms = cfg->interval_ms ? cfg->interval_ms : 1;
	q->batch_max = cfg->batch_max ? cfg->batch_max : 1;
	q->sth_refresh_ms = cfg->sth_refresh_ms;
	q->tiles = cfg->tiles;
	/* frozen: the first flush signs a head covering every entry if the
	 * newest does not (the final one), and none is signed after it */
	q->frozen = cfg->frozen;
	if (q->frozen)
		q->sth_refresh_ms = 0;
	q->last_timestamp = newest_issued_timestamp(st);
	if (now_ms() < q->last_timestamp)
		tc_warn("the clock is %llu ms behind the log's newest timestamp: SCTs and tree heads keep that "
			"timestamp until it catches up", (unsigned long long)(q->last_timestamp - now_ms()));
	if (cfg->legacy_index_path && tc_submission_index_import(st, cfg->legacy_index_path, err, errlen) != 0) {
		free(q);
		return -1;
	}
	pthread_mutex_init(&q->lock, NULL);
	pthread_mutex_init(&q->clock_lock, NULL);
	for (int i = 0; i < IDENTITY_LOCKS; i++)
		pthread_mutex_init(&q->identity[i], NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->wake, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&q->commit_wake, NULL);
	pthread_cond_init(&q->committed, NULL);
	/* Before the committer appends anything (see commit_batch). Left
	 * pending on failure (a full disk): sequenced at the next start. */
	if (sequence_pending(q) != 0)
		tc_err("entries accepted by an earlier version are still pending (sequenced at the next start)");
	int e = pthread_create(&q->committer, NULL, committer_main, q);
	if (e != 0) {
		snprintf(err, errlen, "cannot start the committer thread: %s", strerror(e));
		free(q);
		return -1;
	}
	e = pthread_create(&q->thread, NULL, sequencer_main, q);
	if (e != 0) {
		snprintf(err, errlen, "cannot start the sequencer thread: %s", strerror(e));
		pthread_mutex_lock(&q->lock);
		q->commit_stopping = 1;
		pthread_cond_signal(&q->commit_wake);
		pthread_mutex_unlock(&q->lock);
		pthread_join(q->committer, NULL);
		free(q);
		return -1;
	}
	*out = q;
	return 0;
}

void tc_sequencer_stop(struct tc_sequencer *q)
{
	if (!q)
		return;
	/* The committer first (it commits what is queued), then the sequencer,
	 * whose last flush signs and publishes those entries too. */
	pthread_mutex_lock(&q->lock);
	q->commit_stopping = 1;
	pthread_cond_signal(&q->commit_wake);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->committer, NULL);
	pthread_mutex_lock(&q->lock);
	q->stopping = 1;
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->thread, NULL);
	pthread_cond_destroy(&q->wake);
	pthread_cond_destroy(&q->commit_wake);
	pthread_cond_destroy(&q->committed);
	pthread_mutex_destroy(&q->lock);
	pthread_mutex_destroy(&q->clock_lock);
	for (int i = 0; i < IDENTITY_LOCKS; i++)
		pthread_mutex_destroy(&q->identity[i]);
	free(q);
}
