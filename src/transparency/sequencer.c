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

/* Buckets of the table of submissions in progress, by identity: a second
 * submission of an entry waits for the first one's answer (and is then
 * answered from the records it left) instead of logging it twice. */
#define INFLIGHT_BUCKETS 1024
/* Room the store's filesystem needs before a failed store is reopened:
 * LevelDB's recovery writes a table and a manifest. */
#define STORE_ROOM_TO_REOPEN (8u << 20)
/* The static-ct-api tiles and checkpoint are published at most this often
 * (and at start and stop), however short ct.sequence_interval_ms is. Each
 * publication fsyncs its new tiles, their directories and the checkpoint
 * (~5 fsyncs, most of them a full ext4 journal commit): every 100 ms that was
 * as many forced commits as the log's own group commits, and the synced
 * writes on the issuance path (this log's LevelDB, the signer's journal)
 * waited behind them. Monitors see a new entry at most this much later
 * (publication lag stays under a second, test_ct_tiles); the SCT's
 * promise (max_merge_delay_s) is unchanged. */
#define TILES_PUBLISH_MIN_MS 500

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
	struct sub *queue_head, *queue_tail;
	uint64_t outstanding;  /* submissions not answered yet */
	pthread_cond_t drained; /* outstanding reached 0 */
	struct sct_record *scts;    /* SCTs to put in place of their entries' records */
	struct sct_record *scts_writing; /* taken by the committer, until written */
	pthread_t committer;
	int commit_stopping; /* set (and the committer joined) before stopping */

	pthread_mutex_t inflight_lock;
	struct sub *inflight[INFLIGHT_BUCKETS];
	pthread_mutex_t clock_lock;
	uint64_t last_timestamp;

	int frozen;      /* read-only: nothing new is committed or signed */
	int sth_failing; /* only the sequencer thread touches it: log an outage once */
	int reopen_requested; /* the sequencer thread's: reopen_when_writable asked once */
	struct tc_tile_publisher *tiles;
	int tiles_failing; /* the same for publication */
	uint64_t tiles_published_ms; /* the sequencer thread's: last publication (0: none) */
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
 * durable write itself: submissions are queued (no thread waits for them);
 * one committer thread takes everything queued (up to batch_max), gives the
 * entries the next indices, and appends them with their duplicate-index
 * records in ONE synced LevelDB batch. While it syncs, new submissions queue
 * for the next batch. After the write the committer asks the signer for the
 * batch's SCT signatures all at once (pipelined on the signer link, not one
 * round trip after another) and goes back to the queue; each signature's
 * answer, on the signer link's reader thread, completes its submission. An
 * SCT therefore always names a durable, sequenced entry, and nothing is
 * answered before its entry is durable. */

/* One submission in progress. The entry's buffers (cert, extra) are the
 * caller's, valid until done is called. */
struct sub {
	struct tc_sequencer *q;
	struct tc_ct_entry e; /* timestamp and extensions set here */
	const unsigned char *extra;
	size_t extra_len;
	int want_sct;
	tc_sequencer_done_fn done;
	void *arg;
	unsigned char id[TC_SUBMISSION_ID_LEN];
	unsigned char ext[TC_SCT_LEAF_INDEX_EXT_LEN];
	uint64_t index; /* UINT64_MAX: not known (an entry of an earlier version) */
	unsigned char sct[TC_SCT_MAX_LEN];
	size_t sct_len;
	char why[160];
	struct sub *next;    /* in-flight bucket */
	struct sub *qnext;   /* commit queue */
	struct sub *waiters; /* identical submissions that came while this one ran */
	struct sub *wnext;
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

/* A duplicate's original SCT while its record is not in the store yet. 1
 * when found. */
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

static void start_sub(struct sub *s);

/* Answers s (rc 0, -1 or TC_SEQUENCER_FROZEN; why set unless 0), lets the
 * identical submissions that waited for it run (they find its records) and
 * frees it. */
static void finish(struct sub *s, int rc)
{
	struct tc_sequencer *q = s->q;
	pthread_mutex_lock(&q->inflight_lock);
	for (struct sub **pp = &q->inflight[s->id[0] | (s->id[1] & 3) << 8]; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	struct sub *waiters = s->waiters;
	pthread_mutex_unlock(&q->inflight_lock);
	struct tc_sequencer_result res = {.rc = rc, .err = rc ? s->why : NULL, .sct = s->sct_len ? s->sct : NULL,
					  .sct_len = s->sct_len, .timestamp = s->e.timestamp,
					  .leaf_index = s->index};
	s->done(s->arg, &res);
	while (waiters) {
		struct sub *w = waiters;
		waiters = w->wnext;
		start_sub(w);
	}
	free(s);
	pthread_mutex_lock(&q->lock);
	if (--q->outstanding == 0)
		pthread_cond_broadcast(&q->drained);
	pthread_mutex_unlock(&q->lock);
}

static void signed_sct(void *arg, const unsigned char *sig, size_t sig_len, const char *err)
{
	struct sub *s = arg;
	if (!sig) {
		snprintf(s->why, sizeof(s->why), "SCT not signed: %s", err);
		finish(s, -1);
		return;
	}
	if (tc_sct_assemble(s->q->ls->log_id, &s->e, sig, sig_len, s->sct, sizeof(s->sct), &s->sct_len, s->why,
			    sizeof(s->why)) != 0) {
		s->sct_len = 0;
		finish(s, -1);
		return;
	}
	keep_sct(s->q, s->id, s->sct, s->sct_len);
	finish(s, 0);
}

/* Asks the signer for the SCT of the durable entry s->e (its timestamp and
 * extensions are the leaf's); the answer finishes s. A signing failure
 * leaves the entry logged: a retry gets its SCT from the "logged at"
 * record. */
static void sign_sub(struct sub *s)
{
	unsigned char *input;
	size_t len = 0;
	if (tc_sct_signature_input(&s->e, &input, &len, s->why, sizeof(s->why)) != 0) {
		finish(s, -1);
		return;
	}
	int rc = tc_log_signer_sign_async(s->q->ls, input, len, signed_sct, s, s->why, sizeof(s->why));
	free(input);
	if (rc != 0)
		finish(s, -1);
}

/* Appends the n submissions as leaves size .. size + n - 1 in one synced
 * write; 0, or -1 with why (for all of them). */
static int commit_batch(struct tc_sequencer *q, struct sub **reqs, size_t n, char *why_out, size_t why_len)
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
		struct sub *r = reqs[i];
		size_t len = 0;
		if (tc_sct_leaf_index_ext(base + i, r->ext) != 0) {
			why = "the log is full (leaf index beyond 40 bits)";
			ok = 0;
			break;
		}
		r->index = base + i;
		r->e.extensions = r->ext;
		r->e.extensions_len = sizeof(r->ext);
		if (tc_ct_encode_leaf(&r->e, NULL, 0, &len) != TC_CT_ERR_SPACE || !(leaves[i] = malloc(len)) ||
		    tc_ct_encode_leaf(&r->e, leaves[i], len, &len) != TC_CT_OK) {
			why = "entry cannot be encoded";
			ok = 0;
			break;
		}
		tc_submission_logged_at_record(r->e.timestamp, base + i, logged[i]);
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
	if (!ok) {
		tc_err("committing %zu entries: %s", n, why);
		snprintf(why_out, why_len, "entry could not be stored: %s", why);
	}
	for (size_t i = 0; leaves && i < n; i++)
		free(leaves[i]);
	free(leaves);
	free(logged);
	free(subs);
	free(entries);
	if (ok) {
		pthread_mutex_lock(&q->lock);
		q->waiting += n;
		if (q->waiting >= q->batch_max)
			pthread_cond_signal(&q->wake);
		pthread_mutex_unlock(&q->lock);
	}
	return ok ? 0 : -1;
}

/* After the batch's write: the signatures are asked (pipelined), the
 * submissions without one answered now. */
static void answer_batch(struct sub **reqs, size_t n, int ok, const char *why)
{
	for (size_t i = 0; i < n; i++) {
		struct sub *s = reqs[i];
		if (!ok) {
			snprintf(s->why, sizeof(s->why), "%s", why);
			finish(s, -1);
		} else if (s->want_sct) {
			sign_sub(s);
		} else {
			finish(s, 0);
		}
	}
}

static void *committer_main(void *arg)
{
	struct tc_sequencer *q = arg;
	struct sub **reqs = calloc(q->batch_max, sizeof(*reqs));
	char why[160];
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
			q->queue_head = q->queue_head->qnext;
		}
		struct sub *unbatched = NULL;
		if (!reqs) { /* no batch array: fail what waits rather than hang it */
			unbatched = q->queue_head;
			q->queue_head = NULL;
		}
		if (!q->queue_head)
			q->queue_tail = NULL;
		pthread_mutex_unlock(&q->lock);
		while (unbatched) {
			struct sub *s = unbatched;
			unbatched = s->qnext;
			snprintf(s->why, sizeof(s->why), "sequencer out of memory");
			finish(s, -1);
		}
		/* the SCT records go first: the synced append then makes them
		 * durable too (LevelDB's log is written in order) */
		if (scts)
			write_sct_records(q, scts);
		if (n) {
			int ok = commit_batch(q, reqs, n, why, sizeof(why)) == 0;
			answer_batch(reqs, n, ok, why);
		}
		pthread_mutex_lock(&q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	free(reqs);
	return NULL;
}

/* Queues s for the committer. */
static void queue_commit(struct sub *s)
{
	struct tc_sequencer *q = s->q;
	pthread_mutex_lock(&q->lock);
	if (q->commit_stopping) {
		pthread_mutex_unlock(&q->lock);
		snprintf(s->why, sizeof(s->why), "the log is stopping");
		finish(s, -1);
		return;
	}
	s->qnext = NULL;
	if (q->queue_tail)
		q->queue_tail->qnext = s;
	else
		q->queue_head = s;
	q->queue_tail = s;
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
static void flush(struct tc_sequencer *q, int force_tiles)
{
	sign_tree_head(q);
	uint64_t now = now_ms();
	if (force_tiles || q->tiles_published_ms == 0 || now - q->tiles_published_ms >= TILES_PUBLISH_MIN_MS) {
		publish_tiles(q);
		q->tiles_published_ms = now ? now : 1;
	}
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
	flush(q, 1);
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
		flush(q, 0);
		reopen_when_writable(q);
		pthread_mutex_lock(&q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	/* the committer has stopped (tc_sequencer_stop joins it first): the
	 * last entries get their tree head and checkpoint */
	flush(q, 1);
	return NULL;
}

/* ---- submission ---- */

/* The leaf index an SCT carries, or UINT64_MAX (an SCT of an earlier
 * version, issued before its entry was sequenced). */
static uint64_t sct_leaf_index(const struct tc_ct_sct *sct)
{
	uint64_t index;
	return tc_sct_find_leaf_index(sct->extensions, sct->extensions_len, &index) == 1 ? index : UINT64_MAX;
}

static void frozen_refusal(struct sub *s)
{
	snprintf(s->why, sizeof(s->why), "the log is frozen: read-only at tree size %llu, it accepts no new entries",
		 (unsigned long long)tc_ct_store_size(s->q->st));
	finish(s, TC_SEQUENCER_FROZEN);
}

/* Answers s with the SCT in s->sct (a duplicate's original one). */
static void answer_kept_sct(struct sub *s)
{
	struct tc_ct_sct parsed;
	if (tc_ct_parse_sct(s->sct, s->sct_len, &parsed) != TC_CT_OK) {
		snprintf(s->why, sizeof(s->why), "stored SCT unreadable");
		s->sct_len = 0;
		finish(s, -1);
		return;
	}
	s->e.timestamp = parsed.timestamp;
	s->index = sct_leaf_index(&parsed);
	finish(s, 0);
}

/* Runs s unless an identical submission is in progress (s then waits for
 * it: finish starts it again, when the first one's records are there). */
static void start_sub(struct sub *s)
{
	struct tc_sequencer *q = s->q;
	struct sub **bucket = &q->inflight[s->id[0] | (s->id[1] & 3) << 8];
	pthread_mutex_lock(&q->inflight_lock);
	for (struct sub *o = *bucket; o; o = o->next)
		if (memcmp(o->id, s->id, TC_SUBMISSION_ID_LEN) == 0) {
			s->wnext = o->waiters;
			o->waiters = s;
			pthread_mutex_unlock(&q->inflight_lock);
			return;
		}
	s->next = *bucket;
	*bucket = s;
	s->waiters = NULL;
	pthread_mutex_unlock(&q->inflight_lock);

	uint64_t logged_at = 0, index = UINT64_MAX;
	s->sct_len = 0;
	s->index = UINT64_MAX;
	s->e.extensions = NULL;
	s->e.extensions_len = 0;
	int rc = tc_submission_index_get_at(q->st, s->id, s->sct, sizeof(s->sct), &s->sct_len, &logged_at, &index);
	if (rc < 0) {
		snprintf(s->why, sizeof(s->why), "submission index unreadable");
		s->sct_len = 0;
		finish(s, -1);
	} else if (rc == TC_SUBMISSION_HAS_SCT) {
		answer_kept_sct(s); /* a duplicate: its original SCT */
	} else if (rc == TC_SUBMISSION_LOGGED && unwritten_sct(q, s->id, s->sct, &s->sct_len)) {
		answer_kept_sct(s); /* its SCT not written by the committer yet */
	} else if (q->frozen && s->want_sct) {
		/* a frozen log signs nothing new; an entry logged without an SCT
		 * stays so (its SCT would be a new promise) */
		frozen_refusal(s);
	} else if (rc == TC_SUBMISSION_LOGGED) {
		/* logged already (without an SCT, or its SCT lost in a crash) */
		s->e.timestamp = logged_at;
		s->index = index;
		/* an entry sequenced by an earlier version has no index in its leaf */
		if (index != UINT64_MAX) {
			if (tc_sct_leaf_index_ext(index, s->ext) != 0) {
				snprintf(s->why, sizeof(s->why), "leaf index beyond 40 bits");
				finish(s, -1);
				return;
			}
			s->e.extensions = s->ext;
			s->e.extensions_len = sizeof(s->ext);
		}
		if (s->want_sct)
			sign_sub(s);
		else
			finish(s, 0);
	} else if (q->frozen) {
		frozen_refusal(s);
	} else {
		s->e.timestamp = next_timestamp(q);
		queue_commit(s);
	}
}

int tc_sequencer_submit_async(struct tc_sequencer *q, const struct tc_ct_entry *e, const unsigned char *extra,
			      size_t extra_len, int want_sct, tc_sequencer_done_fn done, void *arg)
{
	struct sub *s = malloc(sizeof(*s));
	if (!s)
		return -1;
	*s = (struct sub){.q = q, .e = *e, .extra = extra, .extra_len = extra_len, .want_sct = want_sct,
			  .done = done, .arg = arg, .index = UINT64_MAX};
	tc_submission_id(&s->e, s->id);
	pthread_mutex_lock(&q->lock);
	q->outstanding++;
	pthread_mutex_unlock(&q->lock);
	start_sub(s);
	return 0;
}

/* tc_sequencer_submit waits for its answer here. */
struct sync_wait {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done;
	int rc;
	unsigned char *sct;
	size_t *sct_len;
	uint64_t timestamp, leaf_index;
	char *err;
	size_t errlen;
};

static void sync_done(void *arg, const struct tc_sequencer_result *r)
{
	struct sync_wait *w = arg;
	if (r->sct_len && r->sct_len <= TC_SCT_MAX_LEN)
		memcpy(w->sct, r->sct, r->sct_len);
	*w->sct_len = r->sct_len <= TC_SCT_MAX_LEN ? r->sct_len : 0;
	if (r->err)
		snprintf(w->err, w->errlen, "%s", r->err);
	pthread_mutex_lock(&w->lock);
	w->rc = r->rc;
	w->timestamp = r->timestamp;
	w->leaf_index = r->leaf_index;
	w->done = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

int tc_sequencer_submit(struct tc_sequencer *q, const struct tc_ct_entry *in, const unsigned char *extra,
			size_t extra_len, int want_sct, unsigned char sct[TC_SCT_MAX_LEN], size_t *sct_len,
			uint64_t *timestamp, uint64_t *leaf_index, char *err, size_t errlen)
{
	struct sync_wait w = {.sct = sct, .sct_len = sct_len, .err = err, .errlen = errlen};
	*sct_len = 0;
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	if (tc_sequencer_submit_async(q, in, extra, extra_len, want_sct, sync_done, &w) != 0) {
		snprintf(err, errlen, "out of memory");
		w.rc = -1;
	} else {
		pthread_mutex_lock(&w.lock);
		while (!w.done)
			pthread_cond_wait(&w.cond, &w.lock);
		pthread_mutex_unlock(&w.lock);
		*timestamp = w.timestamp;
		if (leaf_index)
			*leaf_index = w.leaf_index;
	}
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.lock);
	return w.rc;
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
	pthread_mutex_init(&q->inflight_lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->wake, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&q->commit_wake, NULL);
	pthread_cond_init(&q->drained, NULL);
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
	/* Every submission answered first (their signatures come back on the
	 * signer link, each within its timeout), then the committer (it
	 * commits what is queued), then the sequencer, whose last flush signs
	 * and publishes those entries too. */
	pthread_mutex_lock(&q->lock);
	while (q->outstanding > 0)
		pthread_cond_wait(&q->drained, &q->lock);
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
	pthread_cond_destroy(&q->drained);
	pthread_mutex_destroy(&q->lock);
	pthread_mutex_destroy(&q->clock_lock);
	pthread_mutex_destroy(&q->inflight_lock);
	free(q);
}
