#include "base/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/limits.h"

static atomic_int min_level = LOG_INFO;

static const char *const names[] = { "debug", "info", "warn", "error" };

void
log_set_level(enum log_level level)
{
    atomic_store(&min_level, (int)level);
}

int
log_level_parse(const char *s, enum log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

char *
log_escape(char *dst, size_t size, const char *value)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)value; *p && o + 5 < size; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[*p >> 4];
            dst[o++] = hex[*p & 15];
        } else if (*p == '"' || *p == '\\') {
            dst[o++] = '\\';
            dst[o++] = (char)*p;
        } else {
            dst[o++] = (char)*p;
        }
    }
    dst[o] = '\0';
    return dst;
}

static void
timestamp(char *out, size_t size)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, size - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
    if ((int)level < atomic_load(&min_level))
        return;
    char raw[LIMIT_LOG_LINE], esc[LIMIT_LOG_LINE], ts[40];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    log_escape(esc, sizeof(esc), raw);
    timestamp(ts, sizeof(ts));
    /* One fprintf per line: stdio locks the stream, so threads do not interleave. */
    fprintf(stderr, "ts=%s level=%s msg=\"%s\"\n", ts, names[level], esc);
}

void
log_line(const char *kv)
{
    char ts[40];
    timestamp(ts, sizeof(ts));
    fprintf(stderr, "ts=%s %s\n", ts, kv);
}
