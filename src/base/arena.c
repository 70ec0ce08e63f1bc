#include "base/arena.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "base/xmalloc.h"

struct chunk {
    struct chunk *next;
    size_t size;
    size_t used;
    alignas(max_align_t) unsigned char data[];
};

struct arena {
    struct chunk *head;
    size_t cap;
    size_t total;
};

#define CHUNK_BYTES 4096

struct arena *
arena_new(size_t cap)
{
    struct arena *a = xcalloc(1, sizeof(*a));
    a->cap = cap;
    return a;
}

void
arena_free(struct arena *a)
{
    if (a == NULL)
        return;
    struct chunk *c = a->head;
    while (c) {
        struct chunk *next = c->next;
        free(c);
        c = next;
    }
    free(a);
}

void *
arena_alloc(struct arena *a, size_t n, struct err *err)
{
    const size_t align = alignof(max_align_t);
    size_t need = (n + align - 1) & ~(align - 1);
    if (need < n || a->total + need > a->cap) {
        err_set(err, ERR_TOO_LARGE, "request needs more than %zu bytes of working memory", a->cap);
        return NULL;
    }
    struct chunk *c = a->head;
    if (c == NULL || c->size - c->used < need) {
        size_t size = need > CHUNK_BYTES ? need : CHUNK_BYTES;
        c = xmalloc(sizeof(*c) + size);
        c->size = size;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += need;
    a->total += need;
    memset(p, 0, n);
    return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n, struct err *err)
{
    char *p = arena_alloc(a, n + 1, err);
    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
arena_strdup(struct arena *a, const char *s, struct err *err)
{
    return arena_strndup(a, s, strlen(s), err);
}
