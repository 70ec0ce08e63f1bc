#ifndef SCIMD_BASE_LOG_H
#define SCIMD_BASE_LOG_H

#include <stddef.h>

/* One key=value line per event on stderr: `ts=… level=… msg="…"`. Messages are escaped
 * (control bytes as \xNN, quotes and backslashes escaped) so input cannot forge lines.
 * Never pass a token, cookie, password or request body. */
enum log_level {
    LOG_DEBUG,
    LOG_INFO,
    LOG_WARN,
    LOG_ERROR
};

void log_set_level(enum log_level level);
/* Parses "debug", "info", "warn", "error"; returns -1 on anything else. */
int log_level_parse(const char *s, enum log_level *out);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes a preformatted key=value line (the access log): fields are the caller's job. */
void log_line(const char *kv);
/* Appends the value escaped for a log line into dst (size > 0); returns dst. */
char *log_escape(char *dst, size_t size, const char *value);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
