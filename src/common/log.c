#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static char log_ident[32] = "trustchain";
static enum tc_log_level log_level = TC_LOG_INFO;
static enum tc_log_format log_format = TC_LOG_TEXT;
static int log_syslog;

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static const char *const format_names[] = {"text", "json"};

void tc_log_init(const char *ident, enum tc_log_level level, int use_syslog)
{
	snprintf(log_ident, sizeof(log_ident), "%s", ident);
	log_level = level;
	log_syslog = use_syslog;
	const char *env = getenv(TC_LOG_FORMAT_ENV);
	enum tc_log_format f;
	if (env && tc_log_format_parse(env, &f) == 0)
		log_format = f;
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

int tc_log_format_parse(const char *name, enum tc_log_format *out)
{
	for (int i = 0; i <= TC_LOG_JSON; i++) {
		if (strcmp(name, format_names[i]) == 0) {
			*out = (enum tc_log_format)i;
			return 0;
		}
	}
	return -1;
}

int tc_log_set_format(const char *name)
{
	enum tc_log_format f;
	if (tc_log_format_parse(name, &f) != 0)
		return -1;
	log_format = f;
	return setenv(TC_LOG_FORMAT_ENV, format_names[f], 1);
}

/* A line under construction; appends past the end are dropped (a line is
 * cut, never overrun). One write per line keeps lines of concurrent
 * processes and threads from interleaving. */
struct line {
	char buf[6144];
	size_t len;
};

static void put(struct line *l, const char *s, size_t n)
{
	size_t room = sizeof(l->buf) - 1 - l->len;
	if (n > room)
		n = room;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void puts_(struct line *l, const char *s) { put(l, s, strlen(s)); }

static size_t room(const struct line *l) { return sizeof(l->buf) - 1 - l->len; }

/* What a JSON line keeps free for closing what is open: a string's quote,
 * "}}" and the newline, so a cut line still parses. */
#define JSON_RESERVE 16

static void putf(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct line *l, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(l, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs,
 * no surrogates, at most U+10FFFF), 0 when there is none. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	if (s[0] < 0x80)
		return 1;
	size_t len;
	unsigned lo = 0x80, hi = 0xbf;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* A JSON string. Written here rather than with jansson: a log value may be
 * any bytes (a name off the network), which jansson refuses unless UTF-8;
 * ill-formed bytes become U+FFFD so the line always parses. */
static void put_json_str(struct line *l, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	put(l, "\"", 1);
	for (size_t i = 0; i < n && room(l) > JSON_RESERVE + 8;) {
		unsigned char c = p[i];
		if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};
			put(l, esc, 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			putf(l, "\\u%04x", c);
			i++;
		} else {
			size_t k = utf8_seq(p + i, n - i);
			if (k == 0) {
				puts_(l, "\\ufffd");
				i++;
			} else {
				put(l, s + i, k);
				i += k;
			}
		}
	}
	put(l, "\"", 1);
}

/* A text-format value: printable ASCII as is, anything else \xHH, quoted
 * when it holds a space, quote or backslash (so a value cannot fake
 * another field or line). */
static void put_text_value(struct line *l, const char *s)
{
	int quote = s[0] == '\0' || strpbrk(s, " \"\\=") != NULL;
	if (quote)
		put(l, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			char esc[2] = {'\\', (char)*p};
			put(l, esc, 2);
		} else if (*p < 0x20 || *p >= 0x7f)
			putf(l, "\\x%02x", *p);
		else
			put(l, (const char *)p, 1);
	}
	if (quote)
		put(l, "\"", 1);
}

static void put_time(struct line *l)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	putf(l, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	     tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

static void emit(enum tc_log_level level, const char *event, const char *const *kv, const char *msg)
{
	struct line l;
	l.len = 0;
	if (log_format == TC_LOG_JSON) {
		puts_(&l, "{\"time\":\"");
		put_time(&l);
		putf(&l, "\",\"level\":\"%s\",\"process\":", level_names[level]);
		put_json_str(&l, log_ident);
		putf(&l, ",\"pid\":%d,\"event\":", (int)getpid());
		put_json_str(&l, event);
		puts_(&l, ",\"fields\":{\"msg\":");
		put_json_str(&l, msg);
		for (size_t i = 0; kv && kv[i] && kv[i + 1] && room(&l) > 4 * JSON_RESERVE; i += 2) {
			put(&l, ",", 1);
			put_json_str(&l, kv[i]);
			put(&l, ":", 1);
			put_json_str(&l, kv[i + 1]);
		}
		puts_(&l, "}}");
	} else {
		if (!log_syslog) {
			put_time(&l);
			putf(&l, " %s[%d] %s: ", log_ident, (int)getpid(), level_names[level]);
		}
		puts_(&l, msg);
		if (kv || strcmp(event, "log") != 0) {
			puts_(&l, " [");
			puts_(&l, event);
			for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2) {
				put(&l, " ", 1);
				puts_(&l, kv[i]);
				put(&l, "=", 1);
				put_text_value(&l, kv[i + 1]);
			}
			put(&l, "]", 1);
		}
	}
	l.buf[l.len] = '\0';
	if (log_syslog) {
		static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
		syslog(prio[level], "%s", l.buf);
		return;
	}
	put(&l, "\n", 1);
	fwrite(l.buf, 1, l.len, stderr);
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
	emit(level, "log", NULL, msg);
}

void tc_log_event(enum tc_log_level level, const char *event, const char *const *kv, const char *fmt, ...)
{
	if (level > log_level)
		return;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(level, event, kv, msg);
}
