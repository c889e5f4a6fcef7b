#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static char log_ident[32] = "trustchain";
static enum tc_log_level log_level = TC_LOG_INFO;
static int log_syslog;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void tc_log_init(const char *ident, enum tc_log_level level, int use_syslog)
{
	snprintf(log_ident, sizeof(log_ident), "%s", ident);
	log_level = level;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void tc_log_set_level(enum tc_log_level level) { log_level = level; }
enum tc_log_level tc_log_get_level(void) { return log_level; }

int tc_log_level_parse(const char *name, enum tc_log_level *out)
{
	for (int i = 0; i <= TC_LOG_DEBUG; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum tc_log_level)i;
			return 0;
		}
	}
	return -1;
}

void tc_log(enum tc_log_level level, const char *fmt, ...)
{
	if (level > log_level)
		return;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_syslog) {
		static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
		syslog(prio[level], "%s", msg);
		return;
	}
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	/* One fprintf per line so lines from concurrent processes do not interleave. */
	fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%d] %s: %s\n",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		tm.tm_sec, ts.tv_nsec / 1000000, log_ident, (int)getpid(),
		level_names[level], msg);
}
