#ifndef SCIMD_BASE_ARENA_H
#define SCIMD_BASE_ARENA_H

#include <stddef.h>

#include "base/err.h"

/* A per-request bump allocator with a hard cap: everything parsed from one request (filter
 * ASTs, paths, projection lists) lives here and is freed at once when the request ends. */
struct arena;

/* Creates an arena that will hand out at most `cap` bytes in total. */
struct arena *arena_new(size_t cap);
void arena_free(struct arena *a);

/* Returns zeroed memory aligned for any type, or NULL with ERR_TOO_LARGE when the cap is
 * reached. */
void *arena_alloc(struct arena *a, size_t n, struct err *err);
/* NUL-terminated copy of n bytes of s; NULL with err when the cap is reached. */
char *arena_strndup(struct arena *a, const char *s, size_t n, struct err *err);
char *arena_strdup(struct arena *a, const char *s, struct err *err);

#endif
