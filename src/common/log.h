/* Leveled logging to stderr or syslog, shared by every process.
 *
 * Two formats (server.log_format):
 *   text  "2026-12-06T16:05:35.123Z signer[42] warn: message [event k=v ...]"
 *   json  one object a line, for log collectors:
 *         {"time":"2026-12-06T16:05:35.123Z","level":"warn","process":"signer",
 *          "pid":42,"event":"signer_refusal","fields":{"msg":"...","k":"v"}}
 * A plain tc_log() line has the event "log". Security events (refusals,
 * authentication failures, policy violations, child restarts) are logged with
 * tc_log_event() under a stable event name that alerting can match; the
 * names in use are listed in README "Operating". */
#ifndef TC_COMMON_LOG_H
#define TC_COMMON_LOG_H

enum tc_log_level { TC_LOG_ERROR = 0, TC_LOG_WARN, TC_LOG_INFO, TC_LOG_DEBUG };
enum tc_log_format { TC_LOG_TEXT = 0, TC_LOG_JSON };

/* The environment variable through which a process hands its log format to
 * the processes it starts (trustchain-server to its children, as it hands
 * TC_DATA_DIR): tc_log_init() reads it. */
#define TC_LOG_FORMAT_ENV "TC_LOG_FORMAT"

/* ident names the process in every line ("signer", "gateway", ...). The
 * format is taken from TC_LOG_FORMAT when set (text otherwise). */
void tc_log_init(const char *ident, enum tc_log_level level, int use_syslog);
void tc_log_set_level(enum tc_log_level level);
enum tc_log_level tc_log_get_level(void);
/* Parses "error", "warn", "info", "debug"; returns -1 on anything else. */
int tc_log_level_parse(const char *name, enum tc_log_level *out);
/* Parses "text", "json"; returns -1 on anything else. */
int tc_log_format_parse(const char *name, enum tc_log_format *out);
/* Sets this process's format ("text" or "json", as tc_log_format_parse)
 * and exports it in TC_LOG_FORMAT for the processes it starts from now on.
 * Returns 0, or -1 (nothing changed) for another name. */
int tc_log_set_format(const char *name);

void tc_log(enum tc_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A NULL-terminated list of key, value string pairs for tc_log_event():
 * TC_KV("peer", name, "op", op). */
#define TC_KV(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Logs the event named event (lower_snake_case, stable), with the fields
 * kv (TC_KV(...) or NULL; values are any bytes: escaped on output) and a
 * human message made from fmt. */
void tc_log_event(enum tc_log_level level, const char *event, const char *const *kv, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define tc_err(...) tc_log(TC_LOG_ERROR, __VA_ARGS__)
#define tc_warn(...) tc_log(TC_LOG_WARN, __VA_ARGS__)
#define tc_info(...) tc_log(TC_LOG_INFO, __VA_ARGS__)
#define tc_debug(...) tc_log(TC_LOG_DEBUG, __VA_ARGS__)

#endif
