/* The supervisor's part of /metrics (design: common/metrics_proc.h). Root
 * never reads what a child wrote: a descriptor is checked with fstat and
 * F_GET_SEALS only, then passed on to trustchain-metrics under the name of
 * the channel it came on. What root itself writes (restarts, who is up) it
 * sends the same way, as the source "server". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/metrics_proc.h"
#include "server/children.h"

static uint64_t next_tick_ms;
static unsigned refused_logged[TC_CHILD_COUNT];
/* Children push once every TC_METRICS_PUSH_MS: one that sends far more
 * often (taken over, making trustchain-metrics parse all day) has the
 * extra ones dropped unread. */
#define MIN_GAP_MS (TC_METRICS_PUSH_MS / 4)
static uint64_t last_ms[TC_CHILD_COUNT];

static struct tc_metric *restarts(void)
{
	return tc_pm_counter("trustchain_child_restarts_total",
			     "Children restarted by the supervisor after they exited or were killed.", "child");
}

static struct tc_metric *refused(void)
{
	return tc_pm_counter("trustchain_metrics_relay_refused_total",
			     "Expositions the supervisor refused unread (not a sealed memfd, or too large), by child.",
			     "child");
}

void tc_metrics_count_restart(const char *child)
{
	tc_metric_add(restarts(), child, 1);
}

static void send_to_metrics(struct tc_supervisor *s, const char *source, int fd)
{
	struct tc_child_proc *m = &s->child[TC_CHILD_METRICS];
	if (m->pid <= 0 || m->sup_fd < 0)
		return;
	/* A stuck (or taken over) trustchain-metrics that stops reading must
	 * never block the supervisor: our end of its channel does not block,
	 * and when its queue is full this round's figures are dropped. */
	int fl = fcntl(m->sup_fd, F_GETFL);
	if (fl >= 0 && !(fl & O_NONBLOCK))
		fcntl(m->sup_fd, F_SETFL, fl | O_NONBLOCK);
	if (tc_sup_send(m->sup_fd, TC_SUP_METRICS, source, fd) != 0 && errno != EAGAIN)
		tc_debug("metrics: cannot pass on the figures of %s: %s", source, strerror(errno));
}

void tc_metrics_relay(struct tc_supervisor *s, enum tc_child_kind from, int fd)
{
	if (from == TC_CHILD_METRICS) {
		if (fd >= 0)
			close(fd); /* it has nothing to report through us */
		return;
	}
	if (fd < 0) {
		last_ms[from] = 0; /* the next process starts afresh */
		send_to_metrics(s, s->child[from].name, -1);
		return;
	}
	uint64_t now = tc_now_ms();
	if (last_ms[from] && now - last_ms[from] < MIN_GAP_MS) {
		tc_metric_add(tc_pm_counter("trustchain_metrics_relay_dropped_total",
					    "Expositions dropped unread because the child sent them too often.", "child"),
			      s->child[from].name, 1);
		close(fd);
		return;
	}
	last_ms[from] = now;
	const char *why = NULL;
	if (tc_metrics_fd_check(fd, TC_METRICS_MAX_BYTES, &why) < 0) {
		tc_metric_add(refused(), s->child[from].name, 1);
		if (refused_logged[from]++ == 0)
			tc_log_event(TC_LOG_WARN, "metrics_refused", TC_KV("child", s->child[from].name, "reason", why),
				     "%s: exposition refused unread: %s", s->child[from].name, why);
		close(fd);
		return;
	}
	send_to_metrics(s, s->child[from].name, fd);
	close(fd);
}

int tc_metrics_relay_tick(struct tc_supervisor *s)
{
	if (!s->child[TC_CHILD_METRICS].enabled)
		return -1;
	uint64_t now = tc_now_ms();
	if (now < next_tick_ms)
		return (int)(next_tick_ms - now);
	next_tick_ms = now + TC_METRICS_PUSH_MS;
	struct tc_metric *up = tc_pm_gauge("trustchain_child_up", "1 when the child runs and said it is ready.", "child");
	for (int k = 0; k < TC_CHILD_COUNT; k++) {
		if (!s->child[k].enabled)
			continue;
		tc_metric_add(restarts(), s->child[k].name, 0); /* present from the start */
		tc_metric_add(refused(), s->child[k].name, 0);
		tc_metric_set(up, s->child[k].name, s->child[k].pid > 0 && s->child[k].ready);
	}
	int fd = tc_metrics_memfd(tc_metrics_proc());
	if (fd >= 0) {
		send_to_metrics(s, "server", fd);
		close(fd);
	}
	return TC_METRICS_PUSH_MS;
}
