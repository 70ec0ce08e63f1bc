#ifndef SCIMD_BASE_XMALLOC_H
#define SCIMD_BASE_XMALLOC_H

#include <stddef.h>

/* Allocation that cannot fail: out of memory logs and aborts (as redis and h2o do), so
 * callers and jansson treat NULL as bad input only. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
