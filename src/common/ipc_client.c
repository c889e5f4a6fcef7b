/* Callers write their request frame under a write lock and sleep on their
 * own condition variable; one reader thread matches each response to its
 * waiter by id. An asynchronous caller leaves a callback instead of
 * sleeping; its frame goes out without blocking (the rest queued for the
 * reader thread to push), so a callback that sends on another client never
 * waits on a full socket (two readers doing that to each other's peers
 * would deadlock). Messages are handled through their protobuf-c
 * descriptors, so one implementation serves every Request/Response
 * protocol. */
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

/* How often the reader wakes without traffic once asynchronous calls are
 * used, to expire them and push queued frames; and the largest queue of
 * unsent frames before sends are refused (a peer that stopped reading). */
#define ASYNC_TICK_MS 50
#define OUTQ_MAX (16u * 1024u * 1024u)

struct waiter {
	uint64_t id;
	pthread_cond_t cond; /* synchronous callers */
	ProtobufCMessage *resp;
	int done;
	tc_ipc_done_fn cb;    /* asynchronous callers: malloc'd waiter */
	void *arg;
	uint64_t deadline_ms; /* CLOCK_MONOTONIC */
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
	int async_armed; /* SO_RCVTIMEO set: the reader ticks */
	size_t max_answer; /* largest answer frame taken */
	/* Frames the socket did not take yet, under write_lock. */
	uint8_t *outq;
	size_t outq_len, outq_cap;
	/* On the held list of the reader thread that queued frames for it
	 * (under write_lock). */
	int held;
	struct tc_ipc_client *held_next;
};

/* Sends made by callbacks while a reader thread delivers the responses of
 * one read are held and leave together once that read is done: the
 * answers of one batch of the signer (one group commit) go on to the log
 * in one write, not one per answer, and the other side reads them at one
 * wake-up. The reader's list of clients with held frames: */
static __thread int holding;
static __thread struct tc_ipc_client *held_list;

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Sends what the queue holds without blocking; under write_lock. -1 on a
 * socket error (the reader then sees the connection fail). */
static int outq_push(struct tc_ipc_client *c)
{
	while (c->outq_len > 0) {
		ssize_t n = send(c->fd, c->outq, c->outq_len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		memmove(c->outq, c->outq + n, c->outq_len - (size_t)n);
		c->outq_len -= (size_t)n;
	}
	return 0;
}

/* The queue written out before a synchronous frame (blocking), so frames
 * keep their order; under write_lock. */
static int outq_drain(struct tc_ipc_client *c)
{
	while (c->outq_len > 0) {
		ssize_t n = send(c->fd, c->outq, c->outq_len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		memmove(c->outq, c->outq + n, c->outq_len - (size_t)n);
		c->outq_len -= (size_t)n;
	}
	return 0;
}

static int outq_append(struct tc_ipc_client *c, const uint8_t *data, size_t len)
{
	if (c->outq_len + len > OUTQ_MAX) {
		errno = ENOBUFS;
		return -1;
	}
	if (c->outq_len + len > c->outq_cap) {
		size_t cap = c->outq_cap ? c->outq_cap : 16384;
		while (cap < c->outq_len + len)
			cap *= 2;
		uint8_t *b = realloc(c->outq, cap);
		if (!b) {
			errno = ENOMEM;
			return -1;
		}
		c->outq = b;
		c->outq_cap = cap;
	}
	memcpy(c->outq + c->outq_len, data, len);
	c->outq_len += len;
	return 0;
}

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
	/* A synchronous waiter lives on its caller's stack: not touched once
	 * the lock is released. */
	int async = w && w->cb;
	if (w && !async) {
		w->resp = resp;
		w->done = 1;
		pthread_cond_signal(&w->cond);
	}
	pthread_mutex_unlock(&c->lock);
	if (!w) /* its caller timed out and left */
		protobuf_c_message_free_unpacked(resp, NULL);
	else if (async) {
		w->cb(w->arg, resp, NULL);
		free(w);
	}
	return 0;
}

/* Fails the asynchronous calls whose time is up (all of them with every
 * set), callbacks run outside the lock. Synchronous waiters are woken
 * when every is set (the connection is gone). */
static void expire(struct tc_ipc_client *c, int every, const char *why)
{
	uint64_t now = mono_ms();
	struct waiter *gone = NULL;
	pthread_mutex_lock(&c->lock);
	for (struct waiter **pp = &c->waiters; *pp;) {
		struct waiter *w = *pp;
		if (w->cb && (every || now >= w->deadline_ms)) {
			*pp = w->next;
			w->next = gone;
			gone = w;
			continue;
		}
		if (every) {
			w->done = 1;
			pthread_cond_signal(&w->cond);
			*pp = w->next;
			continue;
		}
		pp = &w->next;
	}
	pthread_mutex_unlock(&c->lock);
	while (gone) {
		struct waiter *w = gone;
		gone = w->next;
		char err[96];
		snprintf(err, sizeof(err), every ? "%s %s" : "%s did not answer in time", c->peer, why);
		w->cb(w->arg, NULL, err);
		free(w);
	}
}

/* Between reads: expire late asynchronous calls and push queued frames,
 * at most once a tick (a write in progress is not waited for). */
static void tick(struct tc_ipc_client *c, uint64_t *next_tick)
{
	uint64_t now = mono_ms();
	if (now < *next_tick)
		return;
	*next_tick = now + ASYNC_TICK_MS;
	expire(c, 0, "");
	if (pthread_mutex_trylock(&c->write_lock) == 0) {
		if (outq_push(c) != 0)
			shutdown(c->fd, SHUT_RDWR); /* the read below then ends the connection */
		pthread_mutex_unlock(&c->write_lock);
	}
}

static void flush_held(void)
{
	struct tc_ipc_client *c = held_list;
	held_list = NULL;
	while (c) {
		pthread_mutex_lock(&c->write_lock);
		struct tc_ipc_client *next = c->held_next;
		c->held = 0;
		/* What the socket does not take now the owner's reader pushes
		 * at its next tick, as for any asynchronous send. */
		if (outq_push(c) != 0)
			shutdown(c->fd, SHUT_RDWR);
		pthread_mutex_unlock(&c->write_lock);
		c = next;
	}
}

/* Reads whatever the socket holds and answers every complete frame in it:
 * one read() per wake-up however many responses arrived together, instead
 * of two per frame (header, then body). */
static void *reader_main(void *arg)
{
	struct tc_ipc_client *c = arg;
	struct tc_frame_reader fr;
	tc_frame_reader_init_max(&fr, c->max_answer);
	uint8_t chunk[65536];
	int open = 1;
	uint64_t next_tick = 0;
	while (open) {
		ssize_t n = read(c->fd, chunk, sizeof(chunk));
		int armed = __atomic_load_n(&c->async_armed, __ATOMIC_ACQUIRE);
		if (armed)
			tick(c, &next_tick);
		if (n < 0 && (errno == EINTR || (armed && (errno == EAGAIN || errno == EWOULDBLOCK))))
			continue;
		if (n <= 0)
			break;
		if (tc_frame_reader_append(&fr, chunk, (size_t)n) != 0) {
			tc_err("%s client: answer too large or out of memory; closing the connection", c->peer);
			break;
		}
		const uint8_t *frame;
		size_t len;
		const char *why = NULL;
		enum tc_frame_status st = TC_FRAME_NEED_MORE;
		holding = 1;
		while (open && (st = tc_frame_reader_next(&fr, &frame, &len, &why)) == TC_FRAME_READY)
			open = deliver(c, frame, len) == 0;
		holding = 0;
		flush_held();
		if (st == TC_FRAME_ERROR) {
			tc_err("%s client: bad frame (%s); closing the connection", c->peer, why ? why : "?");
			break;
		}
	}
	tc_frame_reader_free(&fr);
	pthread_mutex_lock(&c->lock);
	c->alive = 0; /* no waiter joins from now on */
	pthread_mutex_unlock(&c->lock);
	expire(c, 1, "connection closed");
	pthread_mutex_lock(&c->write_lock);
	c->outq_len = 0;
	pthread_mutex_unlock(&c->write_lock);
	return NULL;
}

struct tc_ipc_client *tc_ipc_client_new(int fd, const ProtobufCMessageDescriptor *request,
					const ProtobufCMessageDescriptor *response, const char *peer)
{
	return tc_ipc_client_new_max(fd, request, response, peer, TC_IPC_MAX_FRAME);
}

struct tc_ipc_client *tc_ipc_client_new_max(int fd, const ProtobufCMessageDescriptor *request,
					    const ProtobufCMessageDescriptor *response, const char *peer,
					    size_t max_answer)
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
	c->max_answer = max_answer;
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
	free(c->outq);
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
		wrc = outq_drain(c) == 0 ? tc_frame_write(c->fd, buf, len) : -1;
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

int tc_ipc_call_async(struct tc_ipc_client *c, ProtobufCMessage *req, int timeout_ms, tc_ipc_done_fn done,
		      void *arg, char *err, size_t errlen)
{
	if (req->descriptor != c->req_desc) {
		snprintf(err, errlen, "wrong request type for the %s", c->peer);
		return -1;
	}
	struct waiter *w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	w->cb = done;
	w->arg = arg;
	w->deadline_ms = mono_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	pthread_mutex_lock(&c->lock);
	if (!c->alive) {
		pthread_mutex_unlock(&c->lock);
		free(w);
		snprintf(err, errlen, "%s connection is closed", c->peer);
		return -1;
	}
	if (!c->async_armed) {
		/* From now on the reader wakes every tick to expire calls and
		 * push the queue, even when nothing arrives. */
		struct timeval tv = {.tv_sec = 0, .tv_usec = ASYNC_TICK_MS * 1000};
		/* Armed first: a read timing out must find it set. */
		__atomic_store_n(&c->async_armed, 1, __ATOMIC_RELEASE);
		setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	w->id = c->next_id++;
	uint64_t id = w->id;
	*id_field(req, c->req_id_offset) = id;
	w->next = c->waiters;
	c->waiters = w;
	pthread_mutex_unlock(&c->lock);

	size_t len = protobuf_c_message_get_packed_size(req);
	uint8_t *buf = len && len <= TC_IPC_MAX_FRAME ? malloc(4 + len) : NULL;
	int rc = -1;
	if (buf) {
		buf[0] = (uint8_t)(len >> 24);
		buf[1] = (uint8_t)(len >> 16);
		buf[2] = (uint8_t)(len >> 8);
		buf[3] = (uint8_t)len;
		protobuf_c_message_pack(req, buf + 4);
		pthread_mutex_lock(&c->write_lock);
		/* Behind queued frames, or straight to the socket and whatever
		 * it does not take queued; on a reader thread delivering a
		 * batch, held for one write after it. */
		size_t sent = 0;
		rc = holding ? 0 : outq_push(c);
		if (rc == 0 && holding && !c->held) {
			c->held = 1;
			c->held_next = held_list;
			held_list = c;
		}
		if (rc == 0 && c->outq_len == 0 && !holding) {
			ssize_t n;
			do
				n = send(c->fd, buf, 4 + len, MSG_DONTWAIT | MSG_NOSIGNAL);
			while (n < 0 && errno == EINTR);
			if (n >= 0)
				sent = (size_t)n;
			else if (errno != EAGAIN && errno != EWOULDBLOCK)
				rc = -1;
		}
		if (rc == 0 && sent < 4 + len)
			rc = outq_append(c, buf + sent, 4 + len - sent);
		if (rc != 0 && sent > 0) /* half a frame is on the wire: the stream is lost */
			shutdown(c->fd, SHUT_RDWR);
		pthread_mutex_unlock(&c->write_lock);
		free(buf);
	} else {
		errno = len ? ENOMEM : EMSGSIZE;
	}
	if (rc == 0)
		return 0;
	int e = errno;
	pthread_mutex_lock(&c->lock);
	struct waiter *mine = take_waiter(c, id);
	pthread_mutex_unlock(&c->lock);
	if (!mine) /* the reader already failed it: done has run */
		return 0;
	free(mine);
	snprintf(err, errlen, "cannot send to the %s: %s", c->peer, strerror(e));
	return -1;
}
