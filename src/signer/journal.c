#include "signer/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/journal_format.h"
#include "common/hex.h"
#include "common/metrics_proc.h"
#include "common/log.h"
#include "common/write_full.h"
#include "signer/journal_record.h"

static void *flusher_main(void *arg);

struct tc_journal {
	int fd;
	pthread_mutex_t lock;
	pthread_cond_t flushed;
	uint64_t next_seq;
	unsigned char head[TC_JOURNAL_HASH_LEN];
	char *pending;           /* records not yet written */
	size_t pending_len, pending_cap;
	uint64_t pending_upto;   /* last seq in pending */
	uint64_t durable_upto;   /* last seq known to be on disk */
	int failed;
	int closing;
	pthread_t flusher;        /* writes and syncs pending records */
	pthread_cond_t work;      /* records are pending, or closing */
	struct tc_journal_waiter *waiters; /* callbacks for records not yet durable */
	void (*settled_hook)(void *arg);  /* after each run of callbacks */
	void *settled_hook_arg;
	char *spare;             /* a flushed buffer kept for reuse */
	size_t spare_cap;
	off_t durable_bytes;     /* file length up to durable_upto */
	unsigned char durable_head[TC_JOURNAL_HASH_LEN]; /* chain head at durable_upto */
	uint64_t generation;     /* bumped when a failed journal is cut back (recover) */
	time_t retry_at;         /* monotonic second of the next recovery attempt */
	time_t time_sec;         /* the second time_prefix shows */
	char time_prefix[80];    /* room for any int fields, as -Wformat-truncation wants */
};

struct tc_journal *tc_journal_open(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "journal %s: %s", path, strerror(errno));
		return NULL;
	}
	/* One appender at a time: a ceremony writing while the signer runs would
	 * fork the hash chain. The lock is taken before reading the chain head so
	 * nobody can append between our read and our first write. */
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			snprintf(err, errlen,
				 "journal %s is in use by another process (is trustchain-server running?)",
				 path);
		else
			snprintf(err, errlen, "journal %s: cannot lock: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	FILE *f = fdopen(dup(fd), "r");
	struct tc_journal_verify_result vr;
	int vrc = f ? tc_journal_verify(f, &vr) : -1;
	if (f)
		fclose(f);
	if (vrc != 0) {
		snprintf(err, errlen, "journal %s is damaged or tampered with: %s", path,
			 f ? vr.problem : "cannot read");
		close(fd);
		return NULL;
	}
	if (vr.truncated_tail) {
		tc_warn("journal %s: dropping a torn last record (interrupted write)", path);
		if (ftruncate(fd, (off_t)vr.valid_bytes) != 0) {
			snprintf(err, errlen, "journal %s: cannot cut torn record: %s", path, strerror(errno));
			close(fd);
			return NULL;
		}
	}
	struct tc_journal *j = calloc(1, sizeof(*j));
	if (!j) {
		close(fd);
		return NULL;
	}
	j->fd = fd;
	j->next_seq = vr.records + 1;
	j->durable_upto = j->pending_upto = vr.records;
	memcpy(j->head, vr.head, sizeof(j->head));
	memcpy(j->durable_head, vr.head, sizeof(j->durable_head));
	j->durable_bytes = (off_t)vr.valid_bytes;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->flushed, NULL);
	pthread_cond_init(&j->work, NULL);
	if (pthread_create(&j->flusher, NULL, flusher_main, j) != 0) {
		snprintf(err, errlen, "journal %s: cannot start its writer thread", path);
		pthread_mutex_destroy(&j->lock);
		pthread_cond_destroy(&j->flushed);
		pthread_cond_destroy(&j->work);
		close(fd);
		free(j);
		return NULL;
	}
	return j;
}

void tc_journal_close(struct tc_journal *j)
{
	if (!j)
		return;
	/* The writer drains what is pending (and answers its waiters) first. */
	pthread_mutex_lock(&j->lock);
	j->closing = 1;
	pthread_cond_signal(&j->work);
	pthread_mutex_unlock(&j->lock);
	pthread_join(j->flusher, NULL);
	close(j->fd);
	pthread_mutex_destroy(&j->lock);
	pthread_cond_destroy(&j->flushed);
	pthread_cond_destroy(&j->work);
	free(j->pending);
	free(j->spare);
	free(j);
}

/* The record time, "YYYY-MM-DDTHH:MM:SS.uuuuuuZ". The date part is
 * formatted once a second. Called with the lock held (records are in time
 * order). */
static void record_time(struct tc_journal *j, char out[64])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != j->time_sec || !j->time_prefix[0]) {
		struct tm tm;
		gmtime_r(&ts.tv_sec, &tm);
		snprintf(j->time_prefix, sizeof(j->time_prefix), "%04d-%02d-%02dT%02d:%02d:%02d",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		j->time_sec = ts.tv_sec;
	}
	snprintf(out, 64, "%.40s.%06ldZ", j->time_prefix, ts.tv_nsec / 1000);
}

/* Makes room for need more pending bytes. Called with the lock held. */
static int pending_reserve(struct tc_journal *j, size_t need)
{
	if (j->pending_len + need <= j->pending_cap)
		return 0;
	if (!j->pending && j->spare && need <= j->spare_cap) {
		j->pending = j->spare;
		j->pending_cap = j->spare_cap;
		j->spare = NULL;
		return 0;
	}
	size_t cap = j->pending_cap ? j->pending_cap : 8192;
	while (cap < j->pending_len + need)
		cap *= 2;
	char *nb = realloc(j->pending, cap);
	if (!nb)
		return -1;
	j->pending = nb;
	j->pending_cap = cap;
	return 0;
}

struct tc_journal_waiter {
	uint64_t seq;
	int durable; /* set when settled */
	tc_journal_durable_fn fn;
	void *arg;
	struct tc_journal_waiter *next;
};

/* Takes the waiters whose record is durable (or can no longer become so)
 * off the list, newest registration first (peers match answers by id, not
 * order). Called with the lock held. */
static struct tc_journal_waiter *take_settled(struct tc_journal *j)
{
	struct tc_journal_waiter *done = NULL, **tail = &done, **pp = &j->waiters;
	while (*pp) {
		struct tc_journal_waiter *w = *pp;
		if (w->seq <= j->durable_upto || j->failed) {
			w->durable = w->seq <= j->durable_upto;
			*pp = w->next;
			w->next = NULL;
			*tail = w;
			tail = &w->next;
		} else {
			pp = &w->next;
		}
	}
	return done;
}

/* Runs settled waiters' callbacks, then the settled hook, without the
 * lock (they write sockets). */
static void run_settled(struct tc_journal *j, struct tc_journal_waiter *w)
{
	if (!w)
		return;
	while (w) {
		struct tc_journal_waiter *next = w->next;
		w->fn(w->arg, w->durable);
		free(w);
		w = next;
	}
	pthread_mutex_lock(&j->lock);
	void (*hook)(void *) = j->settled_hook;
	void *hook_arg = j->settled_hook_arg;
	pthread_mutex_unlock(&j->lock);
	if (hook)
		hook(hook_arg);
}

void tc_journal_set_settled_hook(struct tc_journal *j, void (*fn)(void *arg), void *arg)
{
	pthread_mutex_lock(&j->lock);
	j->settled_hook = fn;
	j->settled_hook_arg = arg;
	pthread_mutex_unlock(&j->lock);
}

static time_t mono_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* After a failed write (a full disk, an I/O error), at most once a second:
 * cuts the file back to its last synced record and continues the chain from
 * there. Every record after that point was answered "not durable" (its
 * signature withheld), so nothing acknowledged is dropped; a write that
 * failed is never trusted again (the pages after the cut are discarded, not
 * re-synced). Called with the lock held while failed, when the writer thread
 * writes nothing. Returns 0 when appending may resume. */
static int recover(struct tc_journal *j)
{
	time_t now = mono_seconds();
	if (now < j->retry_at)
		return -1;
	j->retry_at = now + 1;
	if (ftruncate(j->fd, j->durable_bytes) != 0 || fdatasync(j->fd) != 0)
		return -1;
	j->failed = 0;
	j->generation++;
	j->next_seq = j->durable_upto + 1;
	j->pending_upto = j->durable_upto;
	j->pending_len = 0;
	memcpy(j->head, j->durable_head, sizeof(j->head));
	tc_warn("audit journal writable again after %llu records; signing resumes",
		(unsigned long long)j->durable_upto);
	return 0;
}

/* Writes and syncs the pending records. Called with the lock held; drops
 * it while writing, so appenders keep filling the next group. */
static void flush_pending(struct tc_journal *j)
{
	char *buf = j->pending;
	size_t len = j->pending_len, cap = j->pending_cap;
	uint64_t upto = j->pending_upto;
	unsigned char batch_head[TC_JOURNAL_HASH_LEN];
	memcpy(batch_head, j->head, sizeof(batch_head));
	j->pending = NULL;
	j->pending_len = j->pending_cap = 0;
	pthread_mutex_unlock(&j->lock);

	int ok = tc_write_full(j->fd, buf, len) == 0;
	double t0 = tc_pm_now();
	if (ok && fdatasync(j->fd) != 0)
		ok = 0;
	int write_errno = errno; /* before the metric's calls can change it */
	tc_metric_observe(tc_pm_seconds("trustchain_journal_fsync_duration_seconds",
					"fdatasync of one group commit of the audit journal.", NULL),
			  NULL, tc_pm_now() - t0);

	pthread_mutex_lock(&j->lock);
	if (!j->spare) {
		j->spare = buf;
		j->spare_cap = cap;
		buf = NULL;
	}
	if (ok) {
		j->durable_upto = upto;
		j->durable_bytes += (off_t)len;
		memcpy(j->durable_head, batch_head, sizeof(batch_head));
	} else {
		/* A journal we cannot write means no more signatures: fail closed
		 * until recover() cuts it back to its last synced record. */
		j->failed = 1;
		j->retry_at = mono_seconds() + 1;
		tc_log_event(TC_LOG_ERROR, "journal_write_failed", NULL,
			     "audit journal write failed: %s; refusing signatures until it can be written again",
			     strerror(write_errno));
	}
	pthread_cond_broadcast(&j->flushed);
	struct tc_journal_waiter *settled = take_settled(j);
	pthread_mutex_unlock(&j->lock);
	free(buf);
	run_settled(j, settled);
	pthread_mutex_lock(&j->lock);
}

/* One writer: each pass writes everything appended since the last one with
 * one fdatasync (group commit), however many threads appended it. */
static void *flusher_main(void *arg)
{
	struct tc_journal *j = arg;
	pthread_mutex_lock(&j->lock);
	for (;;) {
		while (j->pending_len == 0 && !j->closing)
			pthread_cond_wait(&j->work, &j->lock);
		if (j->pending_len == 0)
			break; /* closing and drained */
		if (j->failed) {
			/* Nothing more reaches the disk once a write failed. */
			j->pending_len = 0;
			continue;
		}
		flush_pending(j);
	}
	struct tc_journal_waiter *left = take_settled(j);
	pthread_mutex_unlock(&j->lock);
	run_settled(j, left);
	return NULL;
}

/* Set by tc_journal_defer_begin on the thread running one request, and
 * the journal generation its record was appended in. */
static __thread uint64_t *deferred_seq;
static __thread uint64_t deferred_generation;

void tc_journal_defer_begin(uint64_t *last_seq)
{
	*last_seq = 0;
	deferred_seq = last_seq;
}

void tc_journal_defer_end(void)
{
	deferred_seq = NULL;
}

void tc_journal_when_durable(struct tc_journal *j, uint64_t seq, tc_journal_durable_fn fn, void *arg)
{
	struct tc_journal_waiter *w = malloc(sizeof(*w));
	pthread_mutex_lock(&j->lock);
	/* A recovery between the append and now reused seq for another record. */
	int stale = deferred_generation != j->generation;
	int durable = !stale && seq <= j->durable_upto;
	int settled = durable || stale || j->failed || !w;
	void (*hook)(void *) = j->settled_hook;
	void *hook_arg = j->settled_hook_arg;
	if (!settled) {
		w->seq = seq;
		w->fn = fn;
		w->arg = arg;
		w->next = j->waiters;
		j->waiters = w;
	}
	pthread_mutex_unlock(&j->lock);
	if (settled) {
		free(w);
		/* Out of memory before the record is durable: we cannot wait for
		 * it without a waiter, so the answer is "not durable". */
		fn(arg, durable);
		if (hook)
			hook(hook_arg);
	}
}

uint64_t tc_journal_append(struct tc_journal *j, const struct tc_journal_entry *e)
{
	/* Everything that does not depend on the chain (hashing the signed
	 * data, escaping the text) is done before taking the lock. */
	size_t body_len;
	char *body = tc_journal_record_body(e, &body_len);
	if (!body)
		return 0;
	size_t most = tc_journal_record_size(body_len) + 1 + 2 * TC_JOURNAL_HASH_LEN + 2;

	pthread_mutex_lock(&j->lock);
	if ((j->failed && recover(j) != 0) || pending_reserve(j, most) != 0) {
		pthread_mutex_unlock(&j->lock);
		free(body);
		return 0;
	}
	uint64_t seq = j->next_seq;
	char when[64];
	record_time(j, when);
	char *line = j->pending + j->pending_len;
	size_t json_len = tc_journal_record_write(line, seq, when, body, body_len, j->head);
	unsigned char hash[TC_JOURNAL_HASH_LEN];
	SHA256((const unsigned char *)line, json_len, hash);
	line[json_len] = '\t';
	tc_hex_encode(hash, sizeof(hash), line + json_len + 1);
	line[json_len + 1 + 2 * TC_JOURNAL_HASH_LEN] = '\n';
	j->pending_len += json_len + 2 + 2 * TC_JOURNAL_HASH_LEN;
	memcpy(j->head, hash, sizeof(hash));
	j->next_seq++;
	j->pending_upto = seq;
	pthread_cond_signal(&j->work);

	uint64_t rc = seq;
	if (deferred_seq) {
		/* The caller holds its answer until tc_journal_when_durable says
		 * so, instead of a thread sleeping here for each request. */
		*deferred_seq = seq;
		deferred_generation = j->generation;
	} else {
		uint64_t gen = j->generation;
		while (j->durable_upto < seq && !j->failed && gen == j->generation)
			pthread_cond_wait(&j->flushed, &j->lock);
		if (gen != j->generation || (j->failed && j->durable_upto < seq))
			rc = 0;
	}
	pthread_mutex_unlock(&j->lock);
	free(body);
	return rc;
}
