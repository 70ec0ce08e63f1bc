#include <stdlib.h>

#include "base/xmalloc.h"
#include "store/sqlite/sqlite_int.h"

int
sqlite_collect(struct conn *c, sqlite3_stmt *st, size_t size, size_t limit,
               void (*read)(sqlite3_stmt *st, void *row), void (*drop)(void *row), void **out,
               size_t *n, const char *what, struct err *err)
{
    size_t cap = 0, len = 0;
    char *v = NULL;
    int rc = SQLITE_DONE;
    while (len < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? 2 * cap : 8;
            v = xrealloc(v, cap * size);
        }
        read(st, v + len++ * size);
    }
    sqlite3_reset(st);
    *out = NULL;
    *n = 0;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        for (size_t i = 0; drop && i < len; i++)
            drop(v + i * size);
        free(v);
        return sqlite_fail(c->db, rc, what, err);
    }
    *out = v;
    *n = len;
    return 0;
}
