/* Callers write their request frame under a write lock and sleep on their
 * own condition variable; one reader thread matches each response to its
 * waiter by id. Messages are handled through their protobuf-c descriptors,
 * so one implementation serves every Request/Response protocol. */
#include "common/ipc_client.h"

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
	ProtobufCMessage *resp;
	int done;
	struct waiter *next;
};

struct tc_ipc_client {
	int fd;
	const ProtobufCMessageDescriptor *req_desc, *resp_desc;
	size_t req_id_offset, resp_id_offset;
	char peer[32];
	pthread_t reader;
	pthread_mutex_t write_lock;
	pthread_mutex_t lock; /* guards waiters, next_id, alive */
	struct waiter *waiters;
	uint64_t next_id;
	int alive;
};

/* Offset of the uint64 field "id" in messages of desc; 0 when missing
 * (offset 0 is the ProtobufCMessage header, never a field). */
static size_t id_offset(const ProtobufCMessageDescriptor *desc)
{
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(desc, "id");
	if (!f || f->type != PROTOBUF_C_TYPE_UINT64 || f->label == PROTOBUF_C_LABEL_REPEATED)
		return 0;
	return f->offset;
}

static uint64_t *id_field(ProtobufCMessage *m, size_t offset)
{
	return (uint64_t *)((char *)m + offset);
}

static struct waiter *take_waiter(struct tc_ipc_client *c, uint64_t id)
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

/* Hands one response frame to its waiter; -1 when it does not decode. */
static int deliver(struct tc_ipc_client *c, const uint8_t *frame, size_t len)
{
	ProtobufCMessage *resp = protobuf_c_message_unpack(c->resp_desc, NULL, len, frame);
	if (!resp) {
		tc_err("%s client: undecodable response, closing the connection", c->peer);
		return -1;
	}
	pthread_mutex_lock(&c->lock);
	struct waiter *w = take_waiter(c, *id_field(resp, c->resp_id_offset));
	if (w) {
		w->resp = resp;
		w->done = 1;
		pthread_cond_signal(&w->cond);
	}
	pthread_mutex_unlock(&c->lock);
	if (!w) /* its caller timed out and left */
		protobuf_c_message_free_unpacked(resp, NULL);
	return 0;
}

/* Reads whatever the socket holds and answers every complete frame in it:
 * one read() per wake-up however many responses arrived together, instead
 * of two per frame (header, then body). */
static void *reader_main(void *arg)
{
	struct tc_ipc_client *c = arg;
	struct tc_frame_reader fr;
	tc_frame_reader_init(&fr);
	uint8_t chunk[65536];
	int open = 1;
	while (open) {
		ssize_t n = read(c->fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || tc_frame_reader_append(&fr, chunk, (size_t)n) != 0)
			break;
		const uint8_t *frame;
		size_t len;
		enum tc_frame_status st = TC_FRAME_NEED_MORE;
		while (open && (st = tc_frame_reader_next(&fr, &frame, &len, NULL)) == TC_FRAME_READY)
			open = deliver(c, frame, len) == 0;
		if (st == TC_FRAME_ERROR)
			break;
	}
	tc_frame_reader_free(&fr);
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

struct tc_ipc_client *tc_ipc_client_new(int fd, const ProtobufCMessageDescriptor *request,
					const ProtobufCMessageDescriptor *response, const char *peer)
{
	if (fd < 0)
		return NULL;
	size_t req_off = id_offset(request), resp_off = id_offset(response);
	if (!req_off || !resp_off) {
		tc_err("IPC messages %s/%s have no uint64 id", request->name, response->name);
		return NULL;
	}
	struct tc_ipc_client *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->fd = fd;
	c->req_desc = request;
	c->resp_desc = response;
	c->req_id_offset = req_off;
	c->resp_id_offset = resp_off;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
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

struct tc_ipc_client *tc_ipc_client_connect(const char *path, const ProtobufCMessageDescriptor *request,
					    const ProtobufCMessageDescriptor *response, const char *peer)
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
	struct tc_ipc_client *c = tc_ipc_client_new(fd, request, response, peer);
	if (!c) {
		close(fd);
		errno = ENOMEM;
	}
	return c;
}

void tc_ipc_client_free(struct tc_ipc_client *c)
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

int tc_ipc_client_alive(struct tc_ipc_client *c)
{
	pthread_mutex_lock(&c->lock);
	int alive = c->alive;
	pthread_mutex_unlock(&c->lock);
	return alive;
}

ProtobufCMessage *tc_ipc_call(struct tc_ipc_client *c, ProtobufCMessage *req, int timeout_ms, char *err,
			      size_t errlen)
{
	if (req->descriptor != c->req_desc) {
		snprintf(err, errlen, "wrong request type for the %s", c->peer);
		return NULL;
	}
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
		snprintf(err, errlen, "%s connection is closed", c->peer);
		return NULL;
	}
	w.id = c->next_id++;
	*id_field(req, c->req_id_offset) = w.id;
	w.next = c->waiters;
	c->waiters = &w;
	pthread_mutex_unlock(&c->lock);

	size_t len = protobuf_c_message_get_packed_size(req);
	uint8_t *buf = malloc(len ? len : 1);
	int wrc = -1;
	if (buf) {
		protobuf_c_message_pack(req, buf);
		pthread_mutex_lock(&c->write_lock);
		wrc = tc_frame_write(c->fd, buf, len);
		pthread_mutex_unlock(&c->write_lock);
		free(buf);
	} else {
		errno = ENOMEM;
	}

	pthread_mutex_lock(&c->lock);
	if (wrc != 0) {
		int e = errno;
		take_waiter(c, w.id);
		pthread_mutex_unlock(&c->lock);
		pthread_cond_destroy(&w.cond);
		snprintf(err, errlen, "cannot send to the %s: %s", c->peer, strerror(e));
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
	ProtobufCMessage *resp = w.resp;
	int was_done = w.done;
	pthread_mutex_unlock(&c->lock);
	pthread_cond_destroy(&w.cond);
	if (!resp && was_done)
		snprintf(err, errlen, "%s connection closed", c->peer);
	else if (!resp)
		snprintf(err, errlen, "%s did not answer in %d ms", c->peer, timeout_ms);
	return resp;
}
