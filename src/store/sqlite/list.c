/* Listing resources: filter, sort, page. Paging by startIndex must stay linear over a whole
 * import (Okta walks startIndex=1,101,201,… to the end), so when a page ends the position of
 * its last row is remembered, and the next page seeks past it instead of scanning OFFSET rows.
 * Without a remembered position (a jump, a sorted listing, another instance) OFFSET is used. */
#include "store/sqlite/sqlite_int.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/xmalloc.h"

#define RES_COLS_R                                                                    \
    "r.id, r.tenant_id, r.type, r.version, r.created_ms, r.modified_ms, r.user_name," \
    " r.external_id, r.display_name, r.active, r.doc, r.seq"

/* Binds the first n anonymous parameters; `first` is the index of the first "?" (named
 * parameters that appear before it in the text take the indices below). */
static int
bind_all(sqlite3_stmt *st, const struct sql_binds *b, int n, int first)
{
    for (int i = 0; i < n; i++) {
        const struct sql_bind *v = &b->v[i];
        int rc, at = first + i;
        switch (v->type) {
        case BIND_TEXT:
            rc = sqlite3_bind_text(st, at, v->text, -1, SQLITE_STATIC);
            break;
        case BIND_INT:
            rc = sqlite3_bind_int64(st, at, v->i);
            break;
        case BIND_REAL:
            rc = sqlite3_bind_double(st, at, v->r);
            break;
        default:
            rc = sqlite3_bind_null(st, at);
            break;
        }
        if (rc != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}

static void
bind_named(sqlite3_stmt *st, const char *name, int64_t v)
{
    int i = sqlite3_bind_parameter_index(st, name);
    if (i > 0)
        sqlite3_bind_int64(st, i, v);
}

/* A cached statement for the generated text, with :tenant bound and the filter's
 * values after them. Every number that varies per request is a parameter, so one filter
 * shape is prepared once per connection. */
static int
prepare(struct conn *c, const struct buf *sql, const struct sql_binds *b, int n,
        const struct store_list_query *q, sqlite3_stmt **st, struct err *err)
{
    *st = sqlite_cached_stmt(c, sql->data, sql->len, err);
    if (*st == NULL)
        return -1;
    bind_named(*st, ":tenant", q->tenant_id);
    /* The type is literal text (two values), so SQLite can use the partial unique indexes
     * on lower(userName) WHERE type = 1 and lower(displayName) WHERE type = 2. */
    int rc = bind_all(*st, b, n, 2);
    if (rc != SQLITE_OK) {
        *st = NULL;
        return sqlite_fail(c->db, rc, "bind list", err);
    }
    return 0;
}

static int
count_total(struct conn *c, const struct store_list_query *q, const struct buf *where,
            const struct sql_binds *wb, int n_binds, int64_t *total, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if (q->filter == NULL && q->role == NULL) {
        st = sqlite_stmt(c, ST_COUNT_GET);
        sqlite3_bind_int64(st, 1, q->tenant_id);
        sqlite3_bind_int(st, 2, (int)q->type);
        rc = sqlite3_step(st);
        *total = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_reset(st);
        return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sqlite_fail(c->db, rc, "count", err);
    }
    struct buf sql;
    buf_init(&sql, 64 * 1024);
    if (buf_printf(&sql, err,
                   "SELECT count(*) FROM resources r WHERE r.tenant_id = :tenant"
                   " AND r.type = %d AND %s",
                   (int)q->type, where->data) < 0 ||
        prepare(c, &sql, wb, n_binds, q, &st, err) < 0) {
        buf_cleanup(&sql);
        return -1;
    }
    buf_cleanup(&sql);
    rc = sqlite3_step(st);
    *total = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : sqlite_fail(c->db, rc, "count", err);
}

static int
read_page(struct conn *c, sqlite3_stmt *st, struct store_list_result *out, int64_t *last_seq,
          struct err *err)
{
    size_t cap = 16;
    out->rows = xmalloc(cap * sizeof(*out->rows));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n == cap)
            out->rows = xrealloc(out->rows, (cap *= 2) * sizeof(*out->rows));
        sqlite_read_resource(st, &out->rows[out->n++]);
        *last_seq = sqlite3_column_int64(st, 11);
    }
    return rc == SQLITE_DONE ? 0 : sqlite_fail(c->db, rc, "list", err);
}

int
sqlite_resource_list(struct store *st_, const struct store_list_query *q,
                     struct store_list_result *out, struct err *err)
{
    struct sqlite_store *s = (struct sqlite_store *)st_;
    struct conn *c = sqlite_conn(s, err);
    struct buf where, sql;
    /* ~50 KB: allocated, not zeroed; only n and pool_used need a start value. */
    struct sql_binds *wb = xmalloc(sizeof(*wb));
    wb->n = 0;
    wb->pool_used = 0;
    sqlite3_stmt *st = NULL;
    int rc = -1;

    *out = (struct store_list_result){ 0 };
    buf_init(&where, 64 * 1024);
    buf_init(&sql, 64 * 1024);
    if (c == NULL)
        goto done;
    if (sqlite_sql_where(&where, wb, q, err) < 0)
        goto done;
    const int n_filter = wb->n;
    /* A filtered first page that comes back short holds every match, so its length is the
     * total: the usual existence check (userName eq "x") then costs one indexed read. */
    bool count_after = q->filter && q->start_index == 1 && q->count > 0;
    if (!count_after) {
        if (count_total(c, q, &where, wb, n_filter, &out->total, err) < 0)
            goto done;
        if (q->count <= 0 || q->start_index > out->total) {
            rc = 0;
            goto done;
        }
    }

    /* The page query binds the filter's values, then the sort expression's (appended to the
     * same set: the count query binds only the first n_filter). */
    uint64_t qkey = sqlgen_list_key(q, &where, wb, wb->n);
    int64_t seek = 0;
    bool seeking = q->sort == NULL && q->start_index > 1 &&
                   sqlgen_cursor_find(s->cursors, sqlgen_slot_key(qkey, q->start_index), &seek);
    if (buf_printf(&sql, err,
                   "SELECT " RES_COLS_R " FROM resources r WHERE r.tenant_id = :tenant"
                   " AND r.type = %d AND %s",
                   (int)q->type, where.data) < 0)
        goto done;
    if (seeking && buf_append_cstr(&sql, " AND r.seq > :seek", err) < 0)
        goto done;
    bool unique = sqlgen_unique_match(q->filter, q->type) && q->sort == NULL;
    if (!unique && buf_append_cstr(&sql, " ORDER BY ", err) < 0)
        goto done;
    /* RFC 7644 §3.4.2.3: resources without the value sort last ascending, first descending. */
    if (q->sort) {
        if (sqlite_sql_sort_expr(&sql, q->sort, wb, err) < 0 ||
            buf_append_cstr(&sql, q->descending ? " DESC NULLS FIRST, " : " ASC NULLS LAST, ",
                            err) < 0)
            goto done;
    }
    if (buf_append_cstr(&sql, unique ? " LIMIT :limit" : "r.seq LIMIT :limit", err) < 0)
        goto done;
    if (!seeking && q->start_index > 1 && buf_append_cstr(&sql, " OFFSET :offset", err) < 0)
        goto done;
    if (prepare(c, &sql, wb, wb->n, q, &st, err) < 0)
        goto done;
    bind_named(st, ":seek", seek);
    bind_named(st, ":limit", q->count);
    bind_named(st, ":offset", q->start_index - 1);
    int64_t last_seq = 0;
    if (read_page(c, st, out, &last_seq, err) < 0)
        goto done;
    if (q->sort == NULL && out->n > 0 && !unique)
        sqlgen_cursor_put(s->cursors, sqlgen_slot_key(qkey, q->start_index + (int64_t)out->n),
                          last_seq);
    if (count_after) {
        if ((int64_t)out->n < q->count)
            out->total = (int64_t)out->n;
        else if (count_total(c, q, &where, wb, n_filter, &out->total, err) < 0)
            goto done;
    }
    rc = 0;
done:
    if (rc < 0)
        store_list_result_cleanup(out);
    if (st)
        sqlite3_reset(st);
    buf_cleanup(&where);
    buf_cleanup(&sql);
    free(wb);
    return rc;
}
