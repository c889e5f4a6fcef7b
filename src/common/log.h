/* Leveled logging to stderr or syslog, shared by every process. */
#ifndef TC_COMMON_LOG_H
#define TC_COMMON_LOG_H

enum tc_log_level { TC_LOG_ERROR = 0, TC_LOG_WARN, TC_LOG_INFO, TC_LOG_DEBUG };

/* ident names the process in every line ("signer", "gateway", ...). */
void tc_log_init(const char *ident, enum tc_log_level level, int use_syslog);
void tc_log_set_level(enum tc_log_level level);
enum tc_log_level tc_log_get_level(void);
/* Parses "error", "warn", "info", "debug"; returns -1 on anything else. */
int tc_log_level_parse(const char *name, enum tc_log_level *out);

void tc_log(enum tc_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define tc_err(...) tc_log(TC_LOG_ERROR, __VA_ARGS__)
#define tc_warn(...) tc_log(TC_LOG_WARN, __VA_ARGS__)
#define tc_info(...) tc_log(TC_LOG_INFO, __VA_ARGS__)
#define tc_debug(...) tc_log(TC_LOG_DEBUG, __VA_ARGS__)

#endif
