#define _GNU_SOURCE
#include "acme/validator_server.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/asan_build.h"
#include "common/ipc_frame.h"
#include "common/log.h"
#include "common/metrics_proc.h"

/* trustchain-acme reads its answers on a thread of its own; one that has
 * not taken an answer for this long is stuck, and the link is dropped. */
#define WRITE_TIMEOUT_MS 2000

struct link {
	int fd;
	int refs;      /* the reader + queued/running jobs; guarded by s->lock */
	int dead;      /* guarded by s->lock */
	pthread_mutex_t write_lock;
};

struct job {
	struct link *link;
	struct tc_vrequest req;
	int64_t received_ms;
	struct job *next;
};

struct tc_vserver {
	struct tc_vcheck_cfg cfg;
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct job *head, *tail;
	unsigned queued;
	int stopping;
	struct link *current;  /* the link being served, for interrupt */
	unsigned long answered;
	unsigned nworkers;
	pthread_t *workers;
};

static void link_unref_locked(struct link *l)
{
	if (--l->refs > 0)
		return;
	close(l->fd);
	pthread_mutex_destroy(&l->write_lock);
	free(l);
}

/* trustchain_acme_validations_total{check="<type>:<valid|problem type>"}
 * (acme_metrics.h): one label allowed, both words bounded (the known
 * types, the problem types tc_vresponse_decode accepts). */
static void count_check(const struct tc_vrequest *rq, const struct tc_vresult *res)
{
	char check[96];
	snprintf(check, sizeof(check), "%s:%s", tc_vtype_name(rq->type),
		 res->valid ? "valid" : res->problem_type[0] ? res->problem_type : "invalid");
	tc_metric_add(tc_pm_counter("trustchain_acme_validations_total",
				    "ACME challenge validations by the validator, by type:result.", "check"),
		      check, 1);
}

static void answer(struct tc_vserver *s, struct job *j, const struct tc_vresult *res)
{
	uint8_t *out = NULL;
	size_t out_len = 0;
	if (tc_vresponse_encode(j->req.id, res, &out, &out_len) != 0) {
		tc_err("validator: out of memory encoding an answer");
		return;
	}
	pthread_mutex_lock(&j->link->write_lock);
	int rc = tc_frame_write(j->link->fd, out, out_len);
	int err = errno;
	pthread_mutex_unlock(&j->link->write_lock);
	free(out);
	pthread_mutex_lock(&s->lock);
	if (rc != 0 && !j->link->dead) {
		tc_warn("validator: cannot answer trustchain-acme (%s); dropping the link", strerror(err));
		j->link->dead = 1;
		shutdown(j->link->fd, SHUT_RDWR);
	} else if (rc == 0) {
		s->answered++;
	}
	pthread_mutex_unlock(&s->lock);
	count_check(&j->req, res);
}

static void *worker_main(void *arg)
{
	struct tc_vserver *s = arg;
	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->head && !s->stopping)
			pthread_cond_wait(&s->work, &s->lock);
		struct job *j = s->head;
		if (!j)
			break;
		s->head = j->next;
		if (!s->head)
			s->tail = NULL;
		s->queued--;
		int dead = j->link->dead;
		pthread_mutex_unlock(&s->lock);
		if (!dead) {
			struct tc_vresult res;
			tc_vcheck_run_since(&s->cfg, &j->req, j->received_ms, &res);
			tc_debug("validator: %s %.253s: %s%s%s", tc_vtype_name(j->req.type), j->req.identifier,
				 res.valid ? "valid" : res.problem_type, res.valid ? "" : ": ", res.detail);
			answer(s, j, &res);
		}
		pthread_mutex_lock(&s->lock);
		link_unref_locked(j->link);
		free(j);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

struct tc_vserver *tc_vserver_new(const struct tc_vcheck_cfg *cfg, char *why, size_t whylen)
{
	struct tc_vserver *s = calloc(1, sizeof(*s));
	unsigned n = cfg->concurrency ? cfg->concurrency : 1;
	if (!s || !(s->workers = calloc(n, sizeof(pthread_t)))) {
		free(s);
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->work, NULL);
	/* Checks wait on the network, not the CPU: a small stack each is
	 * enough (OpenSSL and curl need well under 256 KiB), so 64 or more
	 * threads cost little memory. Sanitizer builds need more. */
	pthread_attr_t attr;
	pthread_attr_init(&attr);
#if !TC_ASAN_BUILD
	pthread_attr_setstacksize(&attr, 512 * 1024);
#endif
	for (; s->nworkers < n; s->nworkers++)
		if (pthread_create(&s->workers[s->nworkers], &attr, worker_main, s) != 0) {
			pthread_attr_destroy(&attr);
			snprintf(why, whylen, "cannot start worker threads");
			tc_vserver_free(s);
			return NULL;
		}
	pthread_attr_destroy(&attr);
	return s;
}

int tc_vserver_serve(struct tc_vserver *s, int fd, char *why, size_t whylen)
{
	struct link *l = calloc(1, sizeof(*l));
	if (!l || tc_frame_bound_writes(fd, WRITE_TIMEOUT_MS) != 0) {
		snprintf(why, whylen, "cannot set up the link: %s", l ? strerror(errno) : "out of memory");
		free(l);
		close(fd);
		return -1;
	}
	l->fd = fd;
	l->refs = 1;
	pthread_mutex_init(&l->write_lock, NULL);
	pthread_mutex_lock(&s->lock);
	s->current = l;
	pthread_mutex_unlock(&s->lock);
	int rc = 0;
	for (;;) {
		uint8_t *buf = NULL;
		size_t len = 0;
		int r = tc_frame_read(fd, &buf, &len, -1);
		if (r == 0)
			break;
		if (r < 0) {
			pthread_mutex_lock(&s->lock);
			int interrupted = l->dead;
			pthread_mutex_unlock(&s->lock);
			if (interrupted || errno == ECONNRESET || errno == ENOTCONN)
				break;
			snprintf(why, whylen, "bad frame from trustchain-acme: %s", strerror(errno));
			rc = -1;
			break;
		}
		struct job *j = malloc(sizeof(*j));
		if (!j) {
			free(buf);
			snprintf(why, whylen, "out of memory");
			rc = -1;
			break;
		}
		char dwhy[160];
		int drc = tc_vrequest_decode(buf, len, &j->req, dwhy, sizeof(dwhy));
		free(buf);
		if (drc != 0) {
			free(j);
			snprintf(why, whylen, "protocol violation by trustchain-acme: %s", dwhy);
			rc = -1;
			break;
		}
		pthread_mutex_lock(&s->lock);
		if (s->queued >= TC_V_MAX_IN_FLIGHT) {
			pthread_mutex_unlock(&s->lock);
			free(j);
			snprintf(why, whylen, "protocol violation by trustchain-acme: more than %d checks queued",
				 TC_V_MAX_IN_FLIGHT);
			rc = -1;
			break;
		}
		j->link = l;
		j->received_ms = tc_vnow_ms();
		j->next = NULL;
		l->refs++;
		if (s->tail)
			s->tail->next = j;
		else
			s->head = j;
		s->tail = j;
		s->queued++;
		pthread_cond_signal(&s->work);
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_lock(&s->lock);
	l->dead = 1; /* running checks of this link finish unanswered */
	/* Its queued checks go now: the client sends them again on the next
	 * link, and with these still counted that link could exceed
	 * TC_V_MAX_IN_FLIGHT while every worker is busy. */
	for (struct job **pp = &s->head; *pp;) {
		struct job *j = *pp;
		if (j->link != l) {
			pp = &j->next;
			continue;
		}
		*pp = j->next;
		s->queued--;
		l->refs--; /* the reader's own reference keeps l alive here */
		free(j);
	}
	s->tail = NULL;
	for (struct job *j = s->head; j; j = j->next)
		s->tail = j;
	shutdown(fd, SHUT_RDWR);
	if (s->current == l)
		s->current = NULL;
	link_unref_locked(l);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void tc_vserver_interrupt(struct tc_vserver *s)
{
	pthread_mutex_lock(&s->lock);
	if (s->current) {
		s->current->dead = 1;
		shutdown(s->current->fd, SHUT_RDWR);
	}
	pthread_mutex_unlock(&s->lock);
}

unsigned long tc_vserver_answered(struct tc_vserver *s)
{
	pthread_mutex_lock(&s->lock);
	unsigned long n = s->answered;
	pthread_mutex_unlock(&s->lock);
	return n;
}

void tc_vserver_free(struct tc_vserver *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	pthread_cond_broadcast(&s->work);
	pthread_mutex_unlock(&s->lock);
	for (unsigned i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i], NULL);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->work);
	free(s->workers);
	free(s);
}
