/* Pipelined, thread-safe client for the signer IPC. Callers write their
 * request frame under a write lock and sleep on their own condition
 * variable; one reader thread matches each response to its waiter by id, so
 * responses may arrive in any order and many calls share one socket. */
#include "common/signer_client.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/ipc_frame.h"
#include "common/log.h"

struct waiter {
	uint64_t id;
	pthread_cond_t cond;
	Trustchain__Internal__Response *resp;
	int done;
	struct waiter *next;
};

struct tc_signer_client {
	int fd;
	pthread_t reader;
	pthread_mutex_t write_lock;
	pthread_mutex_t lock;        /* guards waiters, next_id, alive */
	struct waiter *waiters;
	uint64_t next_id;
	int alive;
};

static struct waiter *take_waiter(struct tc_signer_client *c, uint64_t id)
{
	for (struct waiter **pp = &c->waiters; *pp; pp = &(*pp)->next) {
		if ((*pp)->id == id) {
			struct waiter *w = *pp;
			*pp = w->next;
			return w;
		}
	}
	return NULL;
}

static void *reader_main(void *arg)
{
	struct tc_signer_client *c = arg;
	for (;;) {
		uint8_t *buf = NULL;
		size_t len = 0;
		int rc = tc_frame_read(c->fd, &buf, &len, -1);
		if (rc != 1)
			break;
		Trustchain__Internal__Response *resp =
		    trustchain__internal__response__unpack(NULL, len, buf);
		free(buf);
		if (!resp) {
			tc_err("signer client: undecodable response, closing the connection");
			break;
		}
		pthread_mutex_lock(&c->lock);
		struct waiter *w = take_waiter(c, resp->id);
		if (w) {
			w->resp = resp;
			w->done = 1;
			pthread_cond_signal(&w->cond);
		}
		pthread_mutex_unlock(&c->lock);
		if (!w) /* its caller timed out and left */
			trustchain__internal__response__free_unpacked(resp, NULL);
	}
	pthread_mutex_lock(&c->lock);
	c->alive = 0;
	for (struct waiter *w = c->waiters; w; w = w->next) {
		w->done = 1;
		pthread_cond_signal(&w->cond);
	}
	c->waiters = NULL;
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

struct tc_signer_client *tc_signer_client_new(int fd)
{
	if (fd < 0)
		return NULL;
	struct tc_signer_client *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->fd = fd;
	c->alive = 1;
	c->next_id = 1;
	pthread_mutex_init(&c->write_lock, NULL);
	pthread_mutex_init(&c->lock, NULL);
	if (pthread_create(&c->reader, NULL, reader_main, c) != 0) {
		pthread_mutex_destroy(&c->write_lock);
		pthread_mutex_destroy(&c->lock);
		free(c);
		return NULL;
	}
	return c;
}

struct tc_signer_client *tc_signer_client_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	struct tc_signer_client *c = tc_signer_client_new(fd);
	if (!c)
		close(fd);
	return c;
}

void tc_signer_client_free(struct tc_signer_client *c)
{
	if (!c)
		return;
	shutdown(c->fd, SHUT_RDWR); /* wakes the reader thread */
	pthread_join(c->reader, NULL);
	close(c->fd);
	pthread_mutex_destroy(&c->write_lock);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int tc_signer_client_alive(struct tc_signer_client *c)
{
	pthread_mutex_lock(&c->lock);
	int alive = c->alive;
	pthread_mutex_unlock(&c->lock);
	return alive;
}

Trustchain__Internal__Response *tc_signer_call(struct tc_signer_client *c,
					       Trustchain__Internal__Request *req,
					       int timeout_ms, char *err, size_t errlen)
{
	struct waiter w = {0};
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w.cond, &ca);
	pthread_condattr_destroy(&ca);

	pthread_mutex_lock(&c->lock);
	if (!c->alive) {
		pthread_mutex_unlock(&c->lock);
		pthread_cond_destroy(&w.cond);
		snprintf(err, errlen, "signer connection is closed");
		return NULL;
	}
	w.id = c->next_id++;
	req->id = w.id;
	w.next = c->waiters;
	c->waiters = &w;
	pthread_mutex_unlock(&c->lock);

	size_t len = trustchain__internal__request__get_packed_size(req);
	uint8_t *buf = malloc(len ? len : 1);
	int wrc = -1;
	if (buf) {
		trustchain__internal__request__pack(req, buf);
		pthread_mutex_lock(&c->write_lock);
		wrc = tc_frame_write(c->fd, buf, len);
		pthread_mutex_unlock(&c->write_lock);
		free(buf);
	}

	pthread_mutex_lock(&c->lock);
	if (wrc != 0) {
		take_waiter(c, w.id);
		pthread_mutex_unlock(&c->lock);
		pthread_cond_destroy(&w.cond);
		snprintf(err, errlen, "cannot send to the signer: %s", strerror(errno));
		return NULL;
	}
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	while (!w.done) {
		if (pthread_cond_timedwait(&w.cond, &c->lock, &deadline) == ETIMEDOUT && !w.done) {
			take_waiter(c, w.id);
			break;
		}
	}
	Trustchain__Internal__Response *resp = w.resp;
	int was_done = w.done;
	pthread_mutex_unlock(&c->lock);
	pthread_cond_destroy(&w.cond);
	if (!resp)
		snprintf(err, errlen, was_done ? "signer connection closed" : "signer did not answer in %d ms",
			 timeout_ms);
	return resp;
}
