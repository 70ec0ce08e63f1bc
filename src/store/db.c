/* The store's side of the backend primitives (db.h): statement numbering, typed reads and
 * the row loops every operation shares. */
#include "store/db.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "base/xmalloc.h"
#include "store/store_int.h"

static _Atomic int next_slot;

const struct db_backend *
db_backend(struct store *s)
{
    return s->db;
}

enum db_kind
db_kind(struct store *s)
{
    return s->db->kind;
}

const struct sqlgen_dialect *
db_dialect(struct store *s)
{
    return s->db->dialect;
}

void
db_analyze_soon(struct store *s)
{
    if (s->db->analyze_soon)
        s->db->analyze_soon(s);
}

/* The statement's number, given on its first use; two threads racing agree on one. */
static int
slot_of(struct db_sql *q)
{
    int slot = atomic_load_explicit(&q->slot, memory_order_acquire);
    if (slot)
        return slot;
    int mine = atomic_fetch_add(&next_slot, 1) + 1;
    assert(mine < DB_MAX_STATEMENTS);
    int expected = 0;
    if (atomic_compare_exchange_strong(&q->slot, &expected, mine))
        return mine;
    return expected;
}

struct db_stmt *
db_prepare(struct store *s, struct db_sql *q, struct err *err)
{
    const char *text = s->db->kind == DB_POSTGRES && q->pg ? q->pg : q->text;
    return s->db->prepare(s, slot_of(q), text, err);
}

struct db_stmt *
db_prepare_text(struct store *s, const char *text, size_t len, struct err *err)
{
    return s->db->prepare_text(s, text, len, err);
}

void
db_bind_int(struct db_stmt *st, int i, int64_t v)
{
    st->be->bind_int(st, i, v);
}

void
db_bind_text(struct db_stmt *st, int i, const char *v)
{
    st->be->bind_text(st, i, v);
}

void
db_bind_all(struct db_stmt *st, int first, const struct sql_binds *b, int n)
{
    for (int i = 0; i < n; i++) {
        const struct sql_bind *v = &b->v[i];
        switch (v->type) {
        case BIND_TEXT:
            st->be->bind_text(st, first + i, v->text);
            break;
        case BIND_INT:
            st->be->bind_int(st, first + i, v->i);
            break;
        case BIND_REAL:
            st->be->bind_real(st, first + i, v->r);
            break;
        default:
            st->be->bind_text(st, first + i, NULL);
            break;
        }
    }
}

int
db_step(struct db_stmt *st, struct err *err)
{
    return st->be->step(st, err);
}

void
db_reset(struct db_stmt *st)
{
    st->be->reset(st);
}

int64_t
db_int(struct db_stmt *st, int i)
{
    return st->be->col_int(st, i);
}

const char *
db_text(struct db_stmt *st, int i)
{
    size_t len;
    const char *t = st->be->col_text(st, i, &len);
    return t ? t : "";
}

bool
db_is_null(struct db_stmt *st, int i)
{
    size_t len;
    return st->be->col_text(st, i, &len) == NULL;
}

void
db_copy(struct db_stmt *st, int i, char *dst, size_t size)
{
    str_copy(dst, size, db_text(st, i));
}

char *
db_dup(struct db_stmt *st, int i)
{
    size_t len;
    const char *t = st->be->col_text(st, i, &len);
    return t ? xstrndup(t, len) : NULL;
}

int64_t
db_exec(struct db_stmt *st, struct err *err)
{
    int rc;
    /* A write answers no rows unless it has RETURNING; those rows are not wanted here. */
    for (int guard = 0; (rc = st->be->step(st, err)) == 1 && guard < 1000000; guard++)
        ;
    if (rc == 1)
        st->be->reset(st);
    return rc < 0 ? -1 : st->be->changes(st);
}

int
db_first(struct db_stmt *st, void (*read)(struct db_stmt *st, void *row), void *row,
         struct err *err)
{
    int rc = st->be->step(st, err);
    if (rc == 1) {
        read(st, row);
        st->be->reset(st);
    }
    return rc;
}

int
db_collect(struct db_stmt *st, size_t size, size_t limit,
           void (*read)(struct db_stmt *st, void *row), void (*drop)(void *row), void **out,
           size_t *n, struct err *err)
{
    char *v = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    while (len < limit && (rc = st->be->step(st, err)) == 1) {
        if (len == cap)
            v = xgrow(v, &cap, 16, size);
        memset(v + len * size, 0, size);
        read(st, v + len * size);
        len++;
    }
    if (rc >= 0)
        st->be->reset(st); /* stopped at the limit: release the rest */
    if (rc < 0) {
        for (size_t i = 0; drop && i < len; i++)
            drop(v + i * size);
        free(v);
        *out = NULL;
        *n = 0;
        return -1;
    }
    *out = v;
    *n = len;
    return 0;
}
