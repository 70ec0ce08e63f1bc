#ifndef SCIMD_BASE_BUF_H
#define SCIMD_BASE_BUF_H

#include <stddef.h>

#include "base/err.h"

/* Growing output with a hard maximum (curl's dynbuf): appending past `max` fails with
 * ERR_TOO_LARGE and leaves the buffer unchanged. The content is always NUL-terminated. */
struct buf {
    char *data; /* owned */
    size_t len;
    size_t cap;
    size_t max;
};

void buf_init(struct buf *b, size_t max);
void buf_cleanup(struct buf *b);
void buf_reset(struct buf *b);
int buf_append(struct buf *b, const void *p, size_t n, struct err *err);
int buf_append_cstr(struct buf *b, const char *s, struct err *err);
int buf_printf(struct buf *b, struct err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Hands the content (NUL-terminated, owned by the caller) out and resets the buffer. */
char *buf_take(struct buf *b, size_t *len);

#endif
