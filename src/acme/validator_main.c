/* trustchain-validator: makes the outbound ACME challenge checks for
 * trustchain-acme. It holds no key, no credential and no state, reaches
 * nothing of ours but its link to trustchain-acme (a socketpair the
 * supervisor hands over), and opens no listening socket. Everything a
 * remote host sends it is bounded (validator_check.h). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "acme/validator_check.h"
#include "acme/validator_server.h"
#include "common/child_runtime.h"
#include "common/log.h"
#include "common/sandbox.h"

/* After trustchain-acme closed the link, a fresh one normally arrives at
 * once (the supervisor re-links both sides when either restarts). When
 * none comes in this long the link was dropped on purpose (trustchain-acme
 * saw a protocol violation from us): exit, so the supervisor restarts this
 * process and both sides get a new link. */
#define RELINK_WAIT_MS 2000

struct mailbox {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int fd;            /* newest link not yet served, -1 none */
	struct tc_vserver *srv;
};

static void on_link(void *arg, const char *peer, int fd)
{
	struct mailbox *mb = arg;
	pthread_mutex_lock(&mb->lock);
	if (mb->fd >= 0)
		close(mb->fd);
	mb->fd = fd;
	pthread_cond_signal(&mb->cond);
	pthread_mutex_unlock(&mb->lock);
	/* The link being served is stale now: end it so the fresh one is served. */
	tc_vserver_interrupt(mb->srv);
}

/* The next link, waiting at most wait_ms (-1: forever); -1 when none. */
static int next_link(struct mailbox *mb, int wait_ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&mb->lock);
	while (mb->fd < 0)
		if (wait_ms < 0 ? pthread_cond_wait(&mb->cond, &mb->lock) != 0
				: pthread_cond_timedwait(&mb->cond, &mb->lock, &until) != 0)
			break;
	int fd = mb->fd;
	mb->fd = -1;
	pthread_mutex_unlock(&mb->lock);
	return fd;
}

static void *serve_main(void *arg)
{
	struct mailbox *mb = arg;
	int fd = next_link(mb, -1);
	while (fd >= 0) {
		char why[256];
		if (tc_vserver_serve(mb->srv, fd, why, sizeof(why)) != 0) {
			tc_err("%s; exiting", why);
			exit(1);
		}
		fd = next_link(mb, RELINK_WAIT_MS);
	}
	tc_warn("the link to trustchain-acme closed and no new one came; exiting to be re-linked");
	exit(0);
	return NULL;
}

int main(int argc, char **argv)
{
	struct tc_child *c = tc_child_start_opts("validator", argc, argv, TC_CHILD_NO_SIGNER);
	const struct tc_config *cfg = tc_child_config(c);
	char why[512];
	struct tc_vcheck_cfg vcfg;
	if (tc_vcheck_global_init(why, sizeof(why)) != 0 || tc_vcheck_cfg_from_config(cfg, &vcfg, why, sizeof(why)) != 0) {
		tc_err("%s", why);
		tc_child_stop(c);
		return 2;
	}
	/* The runtime installed the children's deny list (PEER); this
	 * second filter, stacked on it, takes away the server side. */
	if (tc_sandbox_apply(TC_SANDBOX_CONNECT_ONLY, why, sizeof(why)) != 0) {
		tc_err("%s", why);
		tc_child_stop(c);
		return 1;
	}
	struct mailbox mb = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER, .fd = -1};
	mb.srv = tc_vserver_new(&vcfg, why, sizeof(why));
	if (!mb.srv) {
		tc_err("%s", why);
		tc_child_stop(c);
		return 1;
	}
	pthread_t server;
	if (pthread_create(&server, NULL, serve_main, &mb) != 0) {
		tc_err("cannot start the link thread");
		return 1;
	}
	pthread_detach(server);
	tc_child_on_peer_link(c, on_link, &mb);
	char what[512];
	snprintf(what, sizeof(what), "checks http-01 (port %u), tls-alpn-01 (port %u), dns-01; resolver %s; %u in flight; "
		 "loopback %s, private %s", vcfg.http_port, vcfg.tls_port, cfg->acme.validation.resolver, vcfg.concurrency,
		 vcfg.rules.allow_loopback ? "allowed" : "refused", vcfg.rules.allow_private ? "allowed" : "refused");
	tc_child_ready(c, what);
	for (;;) {
		int sig = tc_child_wait_signal(c, 0);
		if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	/* Running checks are bounded by their deadline; the process ends
	 * without waiting for them (it keeps nothing). */
	tc_child_stop(c);
	return 0;
}
