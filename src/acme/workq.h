/* A small pool of threads for work that must not run where it arrives:
 * the validator client's reader thread hands each verdict over here, so
 * storing it (a synced LevelDB write, milliseconds on a real disk) does
 * not hold up the next verdict, and concurrent writes share a log sync. */
#ifndef TC_ACME_WORKQ_H
#define TC_ACME_WORKQ_H

struct tc_acme_workq;

struct tc_acme_workq *tc_acme_workq_new(unsigned threads);

/* Queues fn(arg). 0, or -1 when the queue is stopping or out of memory
 * (the caller then runs fn itself). */
int tc_acme_workq_push(struct tc_acme_workq *q, void (*fn)(void *), void *arg);

/* Runs what is queued, then stops the threads. */
void tc_acme_workq_free(struct tc_acme_workq *q);

#endif
