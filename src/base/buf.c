#include "base/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xmalloc.h"

void
buf_init(struct buf *b, size_t max)
{
    *b = (struct buf){ .max = max };
}

void
buf_cleanup(struct buf *b)
{
    free(b->data);
    *b = (struct buf){ .max = b->max };
}

void
buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

int
buf_append(struct buf *b, const void *p, size_t n, struct err *err)
{
    size_t need;
    if (__builtin_add_overflow(b->len, n, &need) || need + 1 > b->max)
        return err_set(err, ERR_TOO_LARGE, "output larger than %zu bytes", b->max);
    if (need + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need + 1)
            cap *= 2;
        if (cap > b->max)
            cap = b->max;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len = need;
    b->data[b->len] = '\0';
    return 0;
}

int
buf_append_cstr(struct buf *b, const char *s, struct err *err)
{
    return buf_append(b, s, strlen(s), err);
}

int
buf_printf(struct buf *b, struct err *err, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return err_set(err, ERR_INTERNAL, "format error");
    if ((size_t)n < sizeof(small))
        return buf_append(b, small, (size_t)n, err);
    char *big = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = buf_append(b, big, (size_t)n, err);
    free(big);
    return rc;
}

char *
buf_take(struct buf *b, size_t *len)
{
    if (b->data == NULL)
        buf_append(b, "", 0, NULL);
    char *d = b->data;
    if (len)
        *len = b->len;
    *b = (struct buf){ .max = b->max };
    return d;
}
