#define _GNU_SOURCE
#include "acme/validator_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/ipc_frame.h"
#include "common/log.h"

/* A validator that does not take a request for this long is stuck. */
#define WRITE_TIMEOUT_MS 1000

struct pending {
	struct tc_vrequest req;
	int64_t deadline_ms;
	tc_vclient_done cb;
	void *arg;
	struct pending *next;
};

struct tc_vclient {
	pthread_mutex_t lock;
	int fd;         /* the link in use; only the reader thread closes it */
	int new_fd;     /* handed over by set_link, installed by the reader */
	uint64_t next_id;
	struct pending *head;
	unsigned n;
	int stop;
	int wake[2];
	pthread_t reader;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wake(struct tc_vclient *v)
{
	char b = 1;
	if (write(v->wake[1], &b, 1) < 0 && errno != EAGAIN)
		tc_warn("acme: cannot wake the validator client");
}

/* With lock held: a write failure means the link is gone; the reader sees
 * it as EOF and checks in flight wait for the next link. */
static int send_locked(struct tc_vclient *v, const struct tc_vrequest *r)
{
	if (v->fd < 0)
		return -1;
	uint8_t *buf;
	size_t len;
	if (tc_vrequest_encode(r, &buf, &len) != 0)
		return -1;
	int rc = tc_frame_write(v->fd, buf, len);
	free(buf);
	if (rc != 0) {
		tc_warn("acme: cannot send a check to the validator (%s)", strerror(errno));
		shutdown(v->fd, SHUT_RDWR);
	}
	return rc;
}

static void close_link_locked(struct tc_vclient *v, struct tc_frame_reader *fr)
{
	if (v->fd >= 0)
		close(v->fd);
	v->fd = -1;
	tc_frame_reader_free(fr);
	tc_frame_reader_init(fr);
}

static struct pending *take_locked(struct tc_vclient *v, uint64_t id)
{
	for (struct pending **pp = &v->head; *pp; pp = &(*pp)->next)
		if ((*pp)->req.id == id) {
			struct pending *p = *pp;
			*pp = p->next;
			v->n--;
			return p;
		}
	return NULL;
}

/* Decodes every complete frame; -1 on a protocol violation. */
static int read_answers(struct tc_vclient *v, struct tc_frame_reader *fr)
{
	for (;;) {
		const uint8_t *payload;
		size_t len;
		const char *err = NULL;
		enum tc_frame_status st = tc_frame_reader_next(fr, &payload, &len, &err);
		if (st == TC_FRAME_NEED_MORE)
			return 0;
		if (st == TC_FRAME_ERROR) {
			tc_warn("acme: bad frame from the validator (%s); dropping the link", err ? err : "?");
			return -1;
		}
		uint64_t id;
		struct tc_vresult res;
		char why[160];
		if (tc_vresponse_decode(payload, len, &id, &res, why, sizeof(why)) != 0) {
			tc_warn("acme: protocol violation by the validator (%s); dropping the link", why);
			return -1;
		}
		pthread_mutex_lock(&v->lock);
		struct pending *p = take_locked(v, id);
		pthread_mutex_unlock(&v->lock);
		if (!p)
			continue; /* answer to a check already timed out, or sent twice across links */
		p->cb(p->arg, &res);
		free(p);
	}
}

static void *reader_main(void *arg)
{
	struct tc_vclient *v = arg;
	struct tc_frame_reader fr;
	tc_frame_reader_init(&fr);
	uint8_t *buf = malloc(16384);
	pthread_mutex_lock(&v->lock);
	while (!v->stop && buf) {
		if (v->new_fd >= 0) {
			close_link_locked(v, &fr);
			v->fd = v->new_fd;
			v->new_fd = -1;
			if (tc_frame_bound_writes(v->fd, WRITE_TIMEOUT_MS) != 0)
				tc_warn("acme: cannot bound writes to the validator: %s", strerror(errno));
			for (struct pending *p = v->head; p && v->fd >= 0; p = p->next)
				if (send_locked(v, &p->req) != 0)
					break;
		}
		/* Fail the checks past their deadline, outside the lock. */
		int64_t now = now_ms(), next = now + 60000;
		struct pending *expired = NULL;
		for (struct pending **pp = &v->head; *pp;) {
			struct pending *p = *pp;
			if (p->deadline_ms <= now) {
				*pp = p->next;
				v->n--;
				p->next = expired;
				expired = p;
				continue;
			}
			if (p->deadline_ms < next)
				next = p->deadline_ms;
			pp = &p->next;
		}
		if (expired) {
			pthread_mutex_unlock(&v->lock);
			while (expired) {
				struct pending *p = expired;
				expired = p->next;
				struct tc_vresult res = {0};
				tc_vresult_fail(&res, "serverInternal", "the validator did not answer in time");
				p->cb(p->arg, &res);
				free(p);
			}
			pthread_mutex_lock(&v->lock);
			continue;
		}
		int fd = v->fd;
		pthread_mutex_unlock(&v->lock);
		struct pollfd pfd[2] = {{.fd = v->wake[0], .events = POLLIN}, {.fd = fd, .events = POLLIN}};
		int timeout = (int)(next - now) + 1;
		int rc = poll(pfd, fd >= 0 ? 2 : 1, timeout);
		if (rc > 0 && pfd[0].revents) {
			char drain[64];
			while (read(v->wake[0], drain, sizeof(drain)) > 0) {
			}
		}
		int drop = 0;
		if (rc > 0 && fd >= 0 && pfd[1].revents) {
			ssize_t n = recv(fd, buf, 16384, MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
				drop = 2; /* closed: said below unless a new link replaced it */
			} else if (n > 0 && (tc_frame_reader_append(&fr, buf, (size_t)n) != 0 || read_answers(v, &fr) != 0)) {
				drop = 1;
			}
		}
		pthread_mutex_lock(&v->lock);
		if (drop == 2 && v->new_fd < 0)
			tc_warn("acme: the link to the validator closed; %u check(s) wait for the next link", v->n);
		if (drop && v->fd == fd)
			close_link_locked(v, &fr);
	}
	close_link_locked(v, &fr);
	pthread_mutex_unlock(&v->lock);
	free(buf);
	return NULL;
}

struct tc_vclient *tc_vclient_new(void)
{
	struct tc_vclient *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->fd = v->new_fd = -1;
	v->next_id = 1;
	pthread_mutex_init(&v->lock, NULL);
	if (pipe2(v->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		pthread_mutex_destroy(&v->lock);
		free(v);
		return NULL;
	}
	if (pthread_create(&v->reader, NULL, reader_main, v) != 0) {
		close(v->wake[0]);
		close(v->wake[1]);
		pthread_mutex_destroy(&v->lock);
		free(v);
		return NULL;
	}
	return v;
}

void tc_vclient_set_link(struct tc_vclient *v, int fd)
{
	pthread_mutex_lock(&v->lock);
	/* A link handed over before the reader installed the previous one was
	 * never used: close it here. The one in use is shut down now (its
	 * answers are of no use any more) and closed by the reader. */
	if (v->new_fd >= 0)
		close(v->new_fd);
	v->new_fd = fd;
	if (v->fd >= 0)
		shutdown(v->fd, SHUT_RDWR);
	pthread_mutex_unlock(&v->lock);
	wake(v);
}

int tc_vclient_submit(struct tc_vclient *v, const struct tc_vcheck *c, uint32_t timeout_ms, tc_vclient_done cb,
		      void *arg)
{
	struct pending *p = calloc(1, sizeof(*p));
	if (!p || !c || !cb)
		goto fail;
	p->req.type = tc_vtype_from_name(c->type);
	p->req.is_ip = c->identifier_is_ip != 0;
	if (!c->identifier || c->identifier_len > TC_V_MAX_IDENTIFIER || !c->token || !c->key_authorization ||
	    strlen(c->token) > TC_V_MAX_TOKEN || strlen(c->key_authorization) > TC_V_MAX_KEY_AUTH)
		goto fail;
	memcpy(p->req.identifier, c->identifier, c->identifier_len);
	p->req.identifier_len = c->identifier_len;
	strcpy(p->req.token, c->token);
	strcpy(p->req.key_authorization, c->key_authorization);
	p->req.timeout_ms = timeout_ms;
	p->cb = cb;
	p->arg = arg;
	/* The validator bounds the check by its own timeout when ours is 0. */
	p->deadline_ms = now_ms() + (timeout_ms ? timeout_ms : 60000) + TC_VCLIENT_GRACE_MS;
	pthread_mutex_lock(&v->lock);
	p->req.id = v->next_id++;
	char why[128];
	/* A link handed over but not yet installed by the reader counts: the
	 * reader sends every check in flight when it installs it. */
	if ((v->fd < 0 && v->new_fd < 0) || v->n >= TC_V_MAX_IN_FLIGHT ||
	    tc_vrequest_check(&p->req, why, sizeof(why)) != 0) {
		pthread_mutex_unlock(&v->lock);
		goto fail;
	}
	/* Oldest first, so a new link gets the checks in the order they came. */
	struct pending **tail = &v->head;
	while (*tail)
		tail = &(*tail)->next;
	*tail = p;
	v->n++;
	/* A failed send leaves the check in flight: it goes out again on the
	 * next link, or times out. */
	if (v->new_fd < 0)
		send_locked(v, &p->req);
	pthread_mutex_unlock(&v->lock);
	wake(v); /* the reader's next deadline may now be earlier */
	return 0;
fail:
	free(p);
	return -1;
}

unsigned tc_vclient_in_flight(struct tc_vclient *v)
{
	pthread_mutex_lock(&v->lock);
	unsigned n = v->n;
	pthread_mutex_unlock(&v->lock);
	return n;
}

void tc_vclient_free(struct tc_vclient *v)
{
	if (!v)
		return;
	pthread_mutex_lock(&v->lock);
	v->stop = 1;
	pthread_mutex_unlock(&v->lock);
	wake(v);
	pthread_join(v->reader, NULL);
	if (v->new_fd >= 0)
		close(v->new_fd);
	while (v->head) {
		struct pending *p = v->head;
		v->head = p->next;
		free(p);
	}
	close(v->wake[0]);
	close(v->wake[1]);
	pthread_mutex_destroy(&v->lock);
	free(v);
}
