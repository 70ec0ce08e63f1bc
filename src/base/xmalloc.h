#ifndef SCIMD_BASE_XMALLOC_H
#define SCIMD_BASE_XMALLOC_H

#include <stddef.h>

/* Allocation that cannot fail: out of memory logs and aborts (as redis and h2o do), so
 * callers and jansson treat NULL as bad input only. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
/* Zeroed n bytes at a multiple of align (a power of two, at least sizeof(void *)), for a
 * struct with _Alignas members; free() releases it. */
void *xcalloc_aligned(size_t align, size_t n);
void *xrealloc(void *p, size_t n);
/* Room for one more element in array p of *cap elements of `size` bytes, all in use: doubles
 * *cap (to `first` when 0) and returns the array moved (overflow is out of memory). */
void *xgrow(void *p, size_t *cap, size_t first, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
