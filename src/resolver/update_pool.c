/* Worker threads for dynamic updates: see update_pool.h. */
#include "resolver/update_pool.h"

#include <pthread.h>
#include <stdlib.h>

struct job {
	void (*fn)(void *);
	void *arg;
	struct job *next;
};

struct tc_update_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *head, **tail;
	unsigned queued, max_queued, nthreads;
	bool stopping;
	pthread_t threads[];
};

static void *worker(void *arg)
{
	struct tc_update_pool *p = arg;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->head && !p->stopping)
			pthread_cond_wait(&p->cond, &p->lock);
		struct job *j = p->head;
		if (!j)
			break;   /* stopping and drained */
		p->head = j->next;
		if (!p->head)
			p->tail = &p->head;
		p->queued--;
		pthread_mutex_unlock(&p->lock);
		j->fn(j->arg);
		free(j);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct tc_update_pool *tc_update_pool_start(unsigned threads, unsigned max_queued)
{
	if (threads == 0)
		return NULL;
	struct tc_update_pool *p = calloc(1, sizeof(*p) + threads * sizeof(pthread_t));
	if (!p)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->tail = &p->head;
	p->max_queued = max_queued;
	for (; p->nthreads < threads; p->nthreads++)
		if (pthread_create(&p->threads[p->nthreads], NULL, worker, p) != 0)
			break;
	if (p->nthreads == 0) {
		tc_update_pool_stop(p);
		return NULL;
	}
	return p;
}

bool tc_update_pool_submit(struct tc_update_pool *p, void (*fn)(void *), void *arg)
{
	struct job *j = malloc(sizeof(*j));
	if (!j)
		return false;
	*j = (struct job){.fn = fn, .arg = arg};
	pthread_mutex_lock(&p->lock);
	bool ok = !p->stopping && p->queued < p->max_queued;
	if (ok) {
		*p->tail = j;
		p->tail = &j->next;
		p->queued++;
		pthread_cond_signal(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	if (!ok)
		free(j);
	return ok;
}

void tc_update_pool_stop(struct tc_update_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
