#include "acme/workq.h"

#include <pthread.h>
#include <stdlib.h>

struct job {
	void (*fn)(void *);
	void *arg;
	struct job *next;
};

struct tc_acme_workq {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *head, *tail;
	int stopping;
	unsigned n;
	pthread_t *threads;
};

static void *run(void *arg)
{
	struct tc_acme_workq *q = arg;
	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (!q->head && !q->stopping)
			pthread_cond_wait(&q->cond, &q->lock);
		struct job *j = q->head;
		if (!j)
			break; /* stopping and drained */
		q->head = j->next;
		if (!q->head)
			q->tail = NULL;
		pthread_mutex_unlock(&q->lock);
		j->fn(j->arg);
		free(j);
		pthread_mutex_lock(&q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

struct tc_acme_workq *tc_acme_workq_new(unsigned threads)
{
	struct tc_acme_workq *q = calloc(1, sizeof(*q));
	if (!q || !(q->threads = calloc(threads ? threads : 1, sizeof(pthread_t)))) {
		free(q);
		return NULL;
	}
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	for (unsigned i = 0; i < (threads ? threads : 1); i++) {
		if (pthread_create(&q->threads[i], NULL, run, q) != 0)
			break;
		q->n++;
	}
	if (q->n == 0) {
		tc_acme_workq_free(q);
		return NULL;
	}
	return q;
}

int tc_acme_workq_push(struct tc_acme_workq *q, void (*fn)(void *), void *arg)
{
	struct job *j = malloc(sizeof(*j));
	if (!j)
		return -1;
	j->fn = fn;
	j->arg = arg;
	j->next = NULL;
	pthread_mutex_lock(&q->lock);
	if (q->stopping) {
		pthread_mutex_unlock(&q->lock);
		free(j);
		return -1;
	}
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

void tc_acme_workq_free(struct tc_acme_workq *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->stopping = 1;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	for (unsigned i = 0; i < q->n; i++)
		pthread_join(q->threads[i], NULL);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
	free(q->threads);
	free(q);
}
