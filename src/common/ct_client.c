#include "common/ct_client.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>

#include "common/ipc_client.h"
#include "common/log.h"

struct tc_ct_client {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	/* Calls hold the read side for their duration; replacing a dead
	 * connection takes the write side, so no call uses a freed client. */
	pthread_rwlock_t lock;
	struct tc_ipc_client *ipc;
	int logged_down; /* guarded by the write side: log an outage once */
};

struct tc_ct_client *tc_ct_client_new(const char *path)
{
	struct tc_ct_client *c = calloc(1, sizeof(*c));
	if (!c || strlen(path) >= sizeof(c->path)) {
		free(c);
		return NULL;
	}
	memcpy(c->path, path, strlen(path) + 1);
	pthread_rwlock_init(&c->lock, NULL);
	return c;
}

void tc_ct_client_free(struct tc_ct_client *c)
{
	if (!c)
		return;
	tc_ipc_client_free(c->ipc);
	pthread_rwlock_destroy(&c->lock);
	free(c);
}

/* Replaces a missing or dead connection: one attempt. Returns 1 when a live
 * connection is there afterwards. Called without the lock. */
static int reconnect(struct tc_ct_client *c, char *err, size_t errlen)
{
	pthread_rwlock_wrlock(&c->lock);
	if (!c->ipc || !tc_ipc_client_alive(c->ipc)) {
		tc_ipc_client_free(c->ipc);
		c->ipc = tc_ipc_client_connect(c->path, &trustchain__internal__ct__request__descriptor,
					       &trustchain__internal__ct__response__descriptor, "transparency log");
		if (!c->ipc) {
			snprintf(err, errlen, "transparency log unreachable at %s: %s", c->path, strerror(errno));
			if (!c->logged_down)
				tc_warn("%s", err);
			c->logged_down = 1;
		} else if (c->logged_down) {
			tc_info("connected to the transparency log again");
			c->logged_down = 0;
		}
	}
	int up = c->ipc != NULL;
	pthread_rwlock_unlock(&c->lock);
	return up;
}

int tc_ct_client_connect_now(struct tc_ct_client *c)
{
	char err[256];
	return reconnect(c, err, sizeof(err));
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A log that restarts is away for a moment: its socket is missing or
 * refuses until the new process has bound it (run by hand), or connections
 * wait in the supervisor's backlog. Either way a call waits for the link up
 * to its own deadline, retrying the connection with a short back-off,
 * rather than failing at once in that window. */
#define RECONNECT_FIRST_MS 10
#define RECONNECT_MAX_MS 200

Trustchain__Internal__Ct__Response *tc_ct_call(struct tc_ct_client *c, Trustchain__Internal__Ct__Request *req,
					       int timeout_ms, char *err, size_t errlen)
{
	snprintf(err, errlen, "transparency log unreachable");
	uint64_t deadline = now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	unsigned pause_ms = RECONNECT_FIRST_MS;
	for (;;) {
		pthread_rwlock_rdlock(&c->lock);
		int usable = c->ipc && tc_ipc_client_alive(c->ipc);
		pthread_rwlock_unlock(&c->lock);
		if (usable || reconnect(c, err, errlen))
			break;
		uint64_t now = now_ms();
		if (now >= deadline)
			return NULL;
		uint64_t left = deadline - now;
		struct timespec pause = {0, (long)(left < pause_ms ? left : pause_ms) * 1000000L};
		nanosleep(&pause, NULL);
		if (pause_ms < RECONNECT_MAX_MS)
			pause_ms *= 2;
	}
	uint64_t now = now_ms();
	int left = now >= deadline ? 0 : (int)(deadline - now);
	ProtobufCMessage *resp = NULL;
	pthread_rwlock_rdlock(&c->lock);
	if (c->ipc)
		resp = tc_ipc_call(c->ipc, &req->base, left, err, errlen);
	pthread_rwlock_unlock(&c->lock);
	return (Trustchain__Internal__Ct__Response *)resp;
}

int tc_ct_call_async(struct tc_ct_client *c, Trustchain__Internal__Ct__Request *req, int timeout_ms,
		     tc_ipc_done_fn done, void *arg, char *err, size_t errlen)
{
	/* Never connects here: the caller is often another link's reader
	 * thread (the signer's answer moves an issuance on), and a reconnection
	 * would make it wait - for connect(), for the old reader's join, for
	 * the synchronous calls holding the read side - while every other
	 * answer on its link waits too. Without a live link the caller goes to
	 * tc_ct_call on a thread of its own, which connects. */
	int rc = -1;
	pthread_rwlock_rdlock(&c->lock);
	if (c->ipc && tc_ipc_client_alive(c->ipc))
		rc = tc_ipc_call_async(c->ipc, &req->base, timeout_ms, done, arg, err, errlen);
	else
		snprintf(err, errlen, "no live link to the transparency log");
	pthread_rwlock_unlock(&c->lock);
	return rc;
}
