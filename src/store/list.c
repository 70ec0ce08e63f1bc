/* Listing resources: filter, sort, page, one engine for both databases. The filter and the
 * sort become SQL in the database's dialect (sqlgen.c); this file adds the paging.
 *
 * Paging by startIndex must stay linear over a whole import (Okta walks startIndex=1,101,201,…
 * to the end), so when a page ends the position (seq) of its last row is remembered under the
 * identity of the listing and the startIndex that continues it, and the next page seeks past
 * it (keyset) instead of scanning OFFSET rows. Without a remembered position (a jump, a sorted
 * listing) OFFSET is used. Positions live in the process's cache (sqlgen cursors); on
 * PostgreSQL also in the page_cursors table that all instances share, so a page another
 * instance served continues by keyset too. Totals come from resource_counts when there is
 * neither filter nor role condition. */
#include <stdint.h>
#include <stdlib.h>

#include "base/buf.h"
#include "base/limits.h"
#include "base/xmalloc.h"
#include "store/db.h"
#include "store/rows.h"
#include "store/sqlgen.h"
#include "store/store_int.h"

/* The resource columns (rows_read_resource's order), then the keyset position. */
#define LIST_COLS    RESOURCE_COLS_OF("r.", "doc") ", r.seq"
#define LIST_COLS_PG RESOURCE_COLS_OF("r.", "doc_text") ", r.seq"
#define SEQ_COL      11

/* The listing's total: the sum of resource_counts' shards without a condition, else count(*) over
 * the condition (binding the filter's n_filter values). */
static int
count_total(struct store *s, const struct store_list_query *q, const struct buf *where,
            const struct sql_binds *wb, int n_filter, int64_t *total, struct err *err)
{
    static struct db_sql counted =
        DB_SQL("SELECT coalesce(sum(n), 0) FROM resource_counts WHERE tenant_id=? AND type=?");
    struct db_stmt *st;
    *total = 0;
    if (q->filter == NULL && q->role == NULL) {
        st = db_prepare(s, &counted, err);
        if (st == NULL)
            return -1;
        db_bind_int(st, 1, q->tenant_id);
        db_bind_int(st, 2, (int64_t)q->type);
    } else {
        struct buf sql;
        buf_init(&sql, 64 * 1024);
        st = buf_printf(&sql, err,
                        "SELECT count(*) FROM resources r WHERE r.tenant_id = ?"
                        " AND r.type = %d AND %s",
                        (int)q->type, where->data) < 0
                 ? NULL
                 : db_prepare_text(s, sql.data, sql.len, err);
        buf_cleanup(&sql);
        if (st == NULL)
            return -1;
        db_bind_int(st, 1, q->tenant_id);
        db_bind_all(st, 2, wb, n_filter);
    }
    return db_first(st, rows_read_int, total, err) < 0 ? -1 : 0;
}

/* Where the listing continued at slot key `key` resumes: this process's cache, else (on
 * PostgreSQL) the shared table, for a page another instance served. False when neither
 * knows. */
static bool
cursor_find(struct store *s, uint64_t key, int64_t *seek)
{
    static struct db_sql q = DB_SQL("SELECT last_seq FROM page_cursors WHERE slot=? AND key=?");
    if (sqlgen_cursor_find(s->cursors, key, seek))
        return true;
    if (db_kind(s) != DB_POSTGRES)
        return false;
    struct err ignored;
    struct db_stmt *st = db_prepare(s, &q, &ignored);
    if (st == NULL)
        return false;
    db_bind_int(st, 1, (int64_t)(key % LIMIT_PAGE_CURSORS));
    db_bind_int(st, 2, (int64_t)key);
    return db_first(st, rows_read_int, seek, &ignored) == 1;
}

/* Remembers where the page continued at slot key `key` starts, here and (on PostgreSQL) for
 * the other instances. Best effort: a failure costs the next page an OFFSET, never an answer. */
static void
cursor_put(struct store *s, uint64_t key, int64_t last_seq)
{
    static struct db_sql q =
        DB_SQL("INSERT INTO page_cursors(slot, key, last_seq) VALUES(?,?,?)"
               " ON CONFLICT(slot) DO UPDATE SET key=excluded.key, last_seq=excluded.last_seq");
    /* Known here already: this process wrote it. Writing it again on every read of the same
     * page would make each read a commit (and every kept answer stale, http/answers.h). */
    int64_t known;
    if (sqlgen_cursor_find(s->cursors, key, &known) && known == last_seq)
        return;
    sqlgen_cursor_put(s->cursors, key, last_seq);
    if (db_kind(s) != DB_POSTGRES)
        return;
    struct err ignored;
    struct db_stmt *st = db_prepare(s, &q, &ignored);
    if (st == NULL)
        return;
    db_bind_int(st, 1, (int64_t)(key % LIMIT_PAGE_CURSORS));
    db_bind_int(st, 2, (int64_t)key);
    db_bind_int(st, 3, last_seq);
    db_exec(st, &ignored);
}

/* The page query's text. Its parameters, in the order they appear: tenant, [seek], the
 * filter's values, the sort expression's (appended to wb), limit, [offset]. */
static int
page_sql(struct store *s, const struct store_list_query *q, const struct buf *where,
         struct sql_binds *wb, bool seeking, bool unique, struct buf *sql, struct err *err)
{
    /* The type is literal text (two values), so SQLite can use the partial unique indexes on
     * lower(userName) WHERE type = 1 and lower(displayName) WHERE type = 2. */
    if (buf_printf(sql, err,
                   "SELECT %s FROM resources r WHERE r.tenant_id = ? AND r.type = %d%s AND %s",
                   db_kind(s) == DB_POSTGRES ? LIST_COLS_PG : LIST_COLS, (int)q->type,
                   seeking ? " AND r.seq > ?" : "", where->data) < 0)
        return -1;
    /* At most one row can match (sqlgen_unique_match): there is no order to keep. */
    if (!unique) {
        if (buf_append_cstr(sql, " ORDER BY ", err) < 0)
            return -1;
        /* RFC 7644 §3.4.2.3: resources without the value sort last ascending, first
         * descending. */
        if (q->sort &&
            (sqlgen_sort_expr(db_dialect(s), sql, q->sort, wb, err) < 0 ||
             buf_append_cstr(sql, q->descending ? " DESC NULLS FIRST, " : " ASC NULLS LAST, ",
                             err) < 0))
            return -1;
        if (buf_append_cstr(sql, "r.seq", err) < 0)
            return -1;
    }
    if (buf_append_cstr(sql, " LIMIT ?", err) < 0)
        return -1;
    if (!seeking && q->start_index > 1 && buf_append_cstr(sql, " OFFSET ?", err) < 0)
        return -1;
    return 0;
}

/* Reads the page's rows (at most limit) into out, and the seq of the last one. The query asks
 * for one row more than the page, so whether another follows (out->more) costs no query. */
static int
read_page(struct db_stmt *st, int64_t limit, struct store_list_result *out, struct err *err)
{
    size_t cap = 0;
    int rc = 0;
    while ((int64_t)out->n < limit && (rc = db_step(st, err)) == 1) {
        if (out->n == cap)
            out->rows = xgrow(out->rows, &cap, 16, sizeof(*out->rows));
        rows_read_resource(st, 0, &out->rows[out->n++]);
        out->last_seq = db_int(st, SEQ_COL);
    }
    if (rc == 1 && (rc = db_step(st, err)) == 1) {
        out->more = true;
        db_reset(st); /* stopped at the limit */
    }
    return rc < 0 ? -1 : 0;
}

int
store_resource_list(struct store *s, const struct store_list_query *q,
                    struct store_list_result *out, struct err *err)
{
    struct buf where, sql;
    /* ~50 KB: allocated, not zeroed; only n and pool_used need a start value. */
    struct sql_binds *wb = xmalloc(sizeof(*wb));
    wb->n = 0;
    wb->pool_used = 0;
    int rc = -1;

    *out = (struct store_list_result){ 0 };
    buf_init(&where, 64 * 1024);
    buf_init(&sql, 64 * 1024);
    if (sqlgen_where(db_dialect(s), &where, wb, q, err) < 0)
        goto done;
    const int n_filter = wb->n;
    /* A cursor continues the default order only: the position is a seq alone. */
    if (q->after_seq > 0 && q->sort) {
        err_set(err, ERR_INVALID_VALUE, "a keyset continuation cannot be sorted");
        goto done;
    }
    /* A filtered first page that comes back short holds every match, so its length is the
     * total: the usual existence check (userName eq "x") then costs one indexed read. */
    bool count_after = q->filter && q->start_index == 1 && q->after_seq <= 0 && q->count > 0;
    if (!count_after) {
        if (count_total(s, q, &where, wb, n_filter, &out->total, err) < 0)
            goto done;
        if (q->count <= 0 || (q->after_seq <= 0 && q->start_index > out->total)) {
            rc = 0;
            goto done;
        }
    }

    uint64_t qkey = sqlgen_list_key(q, &where, wb, n_filter);
    int64_t seek = q->after_seq;
    bool seeking =
        q->after_seq > 0 || (q->sort == NULL && q->start_index > 1 &&
                             cursor_find(s, sqlgen_slot_key(qkey, q->start_index), &seek));
    bool unique = sqlgen_unique_match(q->filter, q->type) && q->sort == NULL;
    if (page_sql(s, q, &where, wb, seeking, unique, &sql, err) < 0)
        goto done;
    struct db_stmt *st = db_prepare_text(s, sql.data, sql.len, err);
    if (st == NULL)
        goto done;
    int k = 1;
    db_bind_int(st, k++, q->tenant_id);
    if (seeking)
        db_bind_int(st, k++, seek);
    db_bind_all(st, k, wb, wb->n);
    k += wb->n;
    db_bind_int(st, k++, q->count + 1);
    if (!seeking && q->start_index > 1)
        db_bind_int(st, k, q->start_index - 1);
    if (read_page(st, q->count, out, err) < 0)
        goto done;
    /* A cursor carries its own position: the startIndex cache is for index paging only. */
    if (q->sort == NULL && out->n > 0 && !unique && q->after_seq <= 0)
        cursor_put(s, sqlgen_slot_key(qkey, q->start_index + (int64_t)out->n), out->last_seq);
    if (count_after) {
        if ((int64_t)out->n < q->count)
            out->total = (int64_t)out->n;
        else if (count_total(s, q, &where, wb, n_filter, &out->total, err) < 0)
            goto done;
    }
    rc = 0;
done:
    if (rc < 0)
        store_list_result_cleanup(out);
    buf_cleanup(&where);
    buf_cleanup(&sql);
    free(wb);
    return rc;
}
