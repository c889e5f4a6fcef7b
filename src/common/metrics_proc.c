#define _GNU_SOURCE
#include "common/metrics_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>

#include "common/sup_channel.h"
#include "common/write_full.h"

static struct tc_metrics *proc_registry;
static pthread_once_t proc_once = PTHREAD_ONCE_INIT;

static void proc_init(void)
{
	proc_registry = tc_metrics_new();
}

struct tc_metrics *tc_metrics_proc(void)
{
	pthread_once(&proc_once, proc_init);
	return proc_registry;
}

/* A concurrent registration of the same name loses the race in add_family:
 * look it up again. */
struct tc_metric *tc_pm_counter(const char *name, const char *help, const char *label)
{
	struct tc_metrics *r = tc_metrics_proc();
	struct tc_metric *m = tc_metrics_find(r, name);
	if (!m && !(m = tc_metrics_counter(r, name, help, label)))
		m = tc_metrics_find(r, name);
	return m;
}

struct tc_metric *tc_pm_gauge(const char *name, const char *help, const char *label)
{
	struct tc_metrics *r = tc_metrics_proc();
	struct tc_metric *m = tc_metrics_find(r, name);
	if (!m && !(m = tc_metrics_gauge(r, name, help, label)))
		m = tc_metrics_find(r, name);
	return m;
}

struct tc_metric *tc_pm_seconds(const char *name, const char *help, const char *label)
{
	static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
					0.1,    0.25,  0.5,    1,     2.5,  5,     10};
	struct tc_metrics *r = tc_metrics_proc();
	struct tc_metric *m = tc_metrics_find(r, name);
	if (!m && !(m = tc_metrics_histogram(r, name, help, label, bounds, sizeof(bounds) / sizeof(bounds[0]))))
		m = tc_metrics_find(r, name);
	return m;
}

void tc_pm_hsm_op(const char *op, int ok, double seconds)
{
	tc_metric_observe(tc_pm_seconds("trustchain_hsm_operation_duration_seconds",
					"PKCS#11 signing operations, by operation.", "op"),
			  op, seconds);
	tc_metric_add(tc_pm_counter("trustchain_hsm_errors_total", "PKCS#11 operations that failed, by operation.",
				    "op"),
		      op, ok ? 0 : 1);
}

void tc_pm_cert_expiry(const char *which, long long not_after)
{
	tc_metric_set(tc_pm_gauge("trustchain_certificate_expiry_timestamp_seconds",
				  "notAfter of the CA's and our own TLS certificates (Unix time), by certificate.",
				  "certificate"),
		      which, (double)not_after);
}

double tc_pm_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define FULL_SEALS (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW)

int tc_metrics_memfd(struct tc_metrics *r)
{
	char *text = NULL;
	size_t len = 0;
	if (!r || tc_metrics_write(r, &text, &len) != 0)
		return -1;
	int fd = memfd_create("trustchain-metrics", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int written = fd >= 0 && tc_write_full(fd, text, len) == 0;
	free(text);
	if (!written || fcntl(fd, F_ADD_SEALS, FULL_SEALS | F_SEAL_SEAL) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		errno = e ? e : EIO;
		return -1;
	}
	return fd;
}

long tc_metrics_fd_check(int fd, size_t max, const char **why)
{
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		return -1;
	}
	/* Unsealed, the sender could change the text after our size check. */
	int seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || (seals & FULL_SEALS) != FULL_SEALS) {
		*why = "not a sealed memfd";
		return -1;
	}
	if (st.st_size < 0 || (unsigned long long)st.st_size > max) {
		*why = "too large";
		return -1;
	}
	return (long)st.st_size;
}

static void *push_main(void *arg)
{
	int chan = (int)(long)arg;
	struct timespec period = {.tv_sec = TC_METRICS_PUSH_MS / 1000,
				  .tv_nsec = (long)(TC_METRICS_PUSH_MS % 1000) * 1000000L};
	for (;;) {
		int fd = tc_metrics_memfd(tc_metrics_proc());
		if (fd >= 0) {
			int rc = tc_sup_send(chan, TC_SUP_METRICS, "", fd);
			int e = errno;
			close(fd);
			/* The channel is gone: the process is on its way out. */
			if (rc != 0 && (e == EPIPE || e == ECONNRESET || e == EBADF || e == ENOTCONN))
				return NULL;
		}
		nanosleep(&period, NULL);
	}
	return NULL;
}

int tc_metrics_push_start(int chan)
{
	/* Once per process, however often a child says it is ready. */
	static atomic_int started;
	if (atomic_exchange(&started, 1))
		return 0;
	/* A descriptor of its own: the caller may close chan while this thread
	 * runs, and the number could then name another file. A shutdown() of
	 * the channel still ends the thread (EPIPE). */
	int mine = chan < 0 ? -1 : fcntl(chan, F_DUPFD_CLOEXEC, 0);
	pthread_t t;
	if (mine < 0)
		return -1;
	if (pthread_create(&t, NULL, push_main, (void *)(long)mine) != 0) {
		close(mine);
		return -1;
	}
	pthread_detach(t);
	return 0;
}
