#include "common/child_runtime.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/proc_env.h"
#include "common/fs_sandbox.h"
#include "common/sandbox.h"
#include "common/metrics_proc.h"
#include "common/sup_channel.h"

/* A link to a peer handed over before anyone registered for it. */
struct peer_slot {
	char name[32];
	int fd;
};

struct tc_child {
	struct tc_config cfg;
	char name[32];
	int sup_fd;
	pthread_t sup_thread;
	int have_sup_thread;
	/* Calls hold the read side for their duration; swapping in a new signer
	 * connection takes the write side, so no call uses a freed client. */
	pthread_rwlock_t signer_lock;
	struct tc_signer_client *signer;
	sigset_t sigs;
	unsigned flags;
	/* Other peers' links: handed to peer_cb, or kept (newest per peer)
	 * until one is registered. */
	pthread_mutex_t peer_lock;
	tc_child_peer_cb peer_cb;
	void *peer_arg;
	struct peer_slot pending[2];
	int config_fd; /* TC_SUP_CONFIG not yet taken (under peer_lock), -1 */
	uint64_t relink_asked_ms; /* last TC_SUP_RELINK (the waiting thread's only) */
};

/* The peers a child other than the signer may be linked to. */
static const char *const peer_names[] = {"acme", "validator"};

static int known_peer(const char *name)
{
	for (size_t i = 0; i < sizeof(peer_names) / sizeof(peer_names[0]); i++)
		if (strcmp(name, peer_names[i]) == 0)
			return 1;
	return 0;
}

/* A new link to peer: to the callback, or kept for it (replacing and
 * closing an older one not yet taken). */
static void peer_link(struct tc_child *c, const char *peer, int fd)
{
	pthread_mutex_lock(&c->peer_lock);
	tc_child_peer_cb cb = c->peer_cb;
	void *arg = c->peer_arg;
	if (!cb) {
		size_t slot = 0;
		while (slot < 2 && c->pending[slot].fd >= 0 && strcmp(c->pending[slot].name, peer) != 0)
			slot++;
		if (slot == 2) {
			close(fd); /* two peers at most: cannot happen */
		} else {
			if (c->pending[slot].fd >= 0)
				close(c->pending[slot].fd);
			snprintf(c->pending[slot].name, sizeof(c->pending[slot].name), "%s", peer);
			c->pending[slot].fd = fd;
		}
	}
	pthread_mutex_unlock(&c->peer_lock);
	if (cb) {
		tc_info("link to %s", peer);
		cb(arg, peer, fd);
	}
}

void tc_child_on_peer_link(struct tc_child *c, tc_child_peer_cb cb, void *arg)
{
	pthread_mutex_lock(&c->peer_lock);
	c->peer_cb = cb;
	c->peer_arg = arg;
	struct peer_slot take[2];
	memcpy(take, c->pending, sizeof(take));
	for (size_t i = 0; i < 2; i++)
		c->pending[i].fd = -1;
	pthread_mutex_unlock(&c->peer_lock);
	for (size_t i = 0; i < 2; i++)
		if (take[i].fd >= 0)
			cb(arg, take[i].name, take[i].fd);
}

static void *supervisor_main(void *arg)
{
	struct tc_child *c = arg;
	for (;;) {
		struct tc_sup_msg msg;
		int fd;
		int rc = tc_sup_recv(c->sup_fd, &msg, &fd);
		if (rc == 0 || (rc < 0 && errno != EPROTO))
			break;
		if (rc < 0)
			continue;
		if (msg.type == TC_SUP_PEER_FD && fd >= 0 && known_peer(msg.name)) {
			peer_link(c, msg.name, fd);
			continue;
		}
		if (msg.type == TC_SUP_CONFIG && fd >= 0) {
			/* Kept for the main thread, woken as by SIGHUP: it
			 * decides what to apply (tc_child_take_config). */
			pthread_mutex_lock(&c->peer_lock);
			if (c->config_fd >= 0)
				close(c->config_fd);
			c->config_fd = fd;
			pthread_mutex_unlock(&c->peer_lock);
			kill(getpid(), SIGHUP);
			continue;
		}
		if (msg.type != TC_SUP_SIGNER_FD || fd < 0 || (c->flags & TC_CHILD_NO_SIGNER)) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		struct tc_signer_client *fresh = tc_signer_client_new(fd);
		if (!fresh) {
			close(fd);
			tc_err("cannot use the new signer connection");
			continue;
		}
		pthread_rwlock_wrlock(&c->signer_lock);
		struct tc_signer_client *old = c->signer;
		c->signer = fresh;
		pthread_rwlock_unlock(&c->signer_lock);
		tc_signer_client_free(old);
		tc_info("connected to the restarted signer");
	}
	tc_warn("supervisor channel closed; stopping");
	kill(getpid(), SIGTERM);
	return NULL;
}

struct tc_child *tc_child_start(const char *name, int argc, char **argv)
{
	return tc_child_start_opts(name, argc, argv, 0);
}

struct tc_child *tc_child_start_opts(const char *name, int argc, char **argv, unsigned flags)
{
	const char *config_path = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config_path = argv[++i];
		} else {
			fprintf(stderr, "usage: trustchain-%s [--config FILE]\n", name);
			exit(2);
		}
	}
	struct tc_child *c = calloc(1, sizeof(*c));
	if (!c)
		exit(1);
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->flags = flags;
	pthread_mutex_init(&c->peer_lock, NULL);
	for (size_t i = 0; i < 2; i++)
		c->pending[i].fd = -1;
	c->config_fd = -1;
	tc_log_init(name, TC_LOG_INFO, 0);
	char err[512];
	if (tc_config_load(&c->cfg, config_path, err, sizeof(err)) != 0) {
		tc_err("%s", err);
		exit(2);
	}
	enum tc_log_level lvl = TC_LOG_INFO;
	tc_log_level_parse(c->cfg.server.log_level, &lvl);
	tc_log_init(name, lvl, c->cfg.server.log_syslog);
	/* Landlock first: the seccomp filter is the outer layer. */
	if (tc_fs_sandbox_apply(name, &c->cfg, config_path, err, sizeof(err)) < 0 ||
	    tc_sandbox_apply(TC_SANDBOX_PEER, err, sizeof(err)) != 0) {
		tc_err("%s", err);
		exit(1);
	}

	sigemptyset(&c->sigs);
	sigaddset(&c->sigs, SIGTERM);
	sigaddset(&c->sigs, SIGINT);
	sigaddset(&c->sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &c->sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	pthread_rwlock_init(&c->signer_lock, NULL);
	int sfd = (flags & TC_CHILD_NO_SIGNER) ? -1 : tc_inherited_fd("SIGNER");
	if (sfd >= 0 && !(c->signer = tc_signer_client_new(sfd))) {
		tc_err("cannot set up the signer connection");
		exit(1);
	}
	for (size_t i = 0; i < sizeof(peer_names) / sizeof(peer_names[0]); i++) {
		char env[48];
		snprintf(env, sizeof(env), "PEER_%s", peer_names[i]);
		for (char *p = env; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		int pfd = tc_inherited_fd(env);
		if (pfd >= 0)
			peer_link(c, peer_names[i], pfd);
	}
	c->sup_fd = tc_inherited_fd("SUPERVISOR");
	if (c->sup_fd >= 0)
		c->have_sup_thread = pthread_create(&c->sup_thread, NULL, supervisor_main, c) == 0;
	return c;
}

const struct tc_config *tc_child_config(const struct tc_child *c) { return &c->cfg; }

int tc_child_take_config(struct tc_child *c)
{
	pthread_mutex_lock(&c->peer_lock);
	int fd = c->config_fd;
	c->config_fd = -1;
	pthread_mutex_unlock(&c->peer_lock);
	return fd;
}

Trustchain__Internal__Response *tc_child_signer_call(struct tc_child *c,
						     Trustchain__Internal__Request *req,
						     int timeout_ms, char *err, size_t errlen)
{
	pthread_rwlock_rdlock(&c->signer_lock);
	Trustchain__Internal__Response *resp = NULL;
	if (c->signer)
		resp = tc_signer_call(c->signer, req, timeout_ms, err, errlen);
	else
		snprintf(err, errlen, "no signer connection yet");
	pthread_rwlock_unlock(&c->signer_lock);
	return resp;
}

int tc_child_signer_call_async(struct tc_child *c, Trustchain__Internal__Request *req, int timeout_ms,
			       tc_ipc_done_fn done, void *arg, char *err, size_t errlen)
{
	pthread_rwlock_rdlock(&c->signer_lock);
	int rc = -1;
	if (c->signer)
		rc = tc_signer_call_async(c->signer, req, timeout_ms, done, arg, err, errlen);
	else
		snprintf(err, errlen, "no signer connection yet");
	pthread_rwlock_unlock(&c->signer_lock);
	return rc;
}

int tc_child_ping_signer(struct tc_child *c, char *err, size_t errlen)
{
	Trustchain__Internal__Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__PingRequest ping = TRUSTCHAIN__INTERNAL__PING_REQUEST__INIT;
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_PING;
	req.ping = &ping;
	Trustchain__Internal__Response *resp = tc_child_signer_call(c, &req, 5000, err, errlen);
	if (!resp)
		return -1;
	int ok = resp->status == TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK;
	if (!ok)
		snprintf(err, errlen, "%s", resp->error ? resp->error : "refused");
	trustchain__internal__response__free_unpacked(resp, NULL);
	return ok ? 0 : -1;
}

void tc_child_ready(struct tc_child *c, const char *what)
{
	tc_info("ready: %s", what);
	if (c->sup_fd >= 0)
		tc_sup_send(c->sup_fd, TC_SUP_READY, what, -1);
	/* Figures to the supervisor (common/metrics_proc.h), when served;
	 * only after READY, which whoever started us reads first. */
	if (c->sup_fd >= 0 && c->cfg.server.metrics_listen[0] && strcmp(c->cfg.server.metrics_listen, "off") != 0)
		tc_metrics_push_start(c->sup_fd);
}

/* A signer link that ended while this child runs (the signer dropped it,
 * or the stream broke) is not replaced by anyone unless the child asks:
 * the supervisor hands a new one (TC_SUP_RELINK). Checked on every wait,
 * asked at most every 2 s; while the signer restarts the supervisor links
 * everyone anyway and the request is ignored. */
static void check_signer_link(struct tc_child *c)
{
	if ((c->flags & TC_CHILD_NO_SIGNER) || c->sup_fd < 0)
		return;
	pthread_rwlock_rdlock(&c->signer_lock);
	int lost = c->signer && !tc_signer_client_alive(c->signer);
	pthread_rwlock_unlock(&c->signer_lock);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	if (!lost || now - c->relink_asked_ms < 2000)
		return;
	c->relink_asked_ms = now;
	tc_warn("signer link ended; asking the supervisor for a new one");
	if (tc_sup_send(c->sup_fd, TC_SUP_RELINK, "signer", -1) != 0)
		tc_warn("cannot ask for a new signer link: %s", strerror(errno));
}

int tc_child_wait_signal(struct tc_child *c, int period_ms)
{
	check_signer_link(c);
	if (period_ms <= 0) {
		int sig = 0;
		return sigwait(&c->sigs, &sig) == 0 ? sig : SIGTERM;
	}
	struct timespec ts = {.tv_sec = period_ms / 1000, .tv_nsec = (long)(period_ms % 1000) * 1000000L};
	int sig = sigtimedwait(&c->sigs, NULL, &ts);
	if (sig < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : SIGTERM;
	return sig;
}

void tc_child_idle_loop(struct tc_child *c, int period_ms)
{
	char err[256];
	int linked = tc_child_ping_signer(c, err, sizeof(err)) == 0;
	int sig;
	while ((sig = tc_child_wait_signal(c, period_ms)) == 0 || sig == SIGHUP) {
		int now = tc_child_ping_signer(c, err, sizeof(err)) == 0;
		if (now && !linked)
			tc_info("signer link ok");
		else if (!now && linked)
			tc_warn("signer link lost: %s", err);
		linked = now;
	}
	tc_info("signal %d: stopping", sig);
}

void tc_child_stop(struct tc_child *c)
{
	if (!c)
		return;
	if (c->have_sup_thread) {
		shutdown(c->sup_fd, SHUT_RDWR);
		pthread_join(c->sup_thread, NULL);
	}
	if (c->sup_fd >= 0)
		close(c->sup_fd);
	tc_signer_client_free(c->signer);
	pthread_rwlock_destroy(&c->signer_lock);
	for (size_t i = 0; i < 2; i++)
		if (c->pending[i].fd >= 0)
			close(c->pending[i].fd);
	if (c->config_fd >= 0)
		close(c->config_fd);
	pthread_mutex_destroy(&c->peer_lock);
	free(c);
}
