/* Listing resources on PostgreSQL, with the semantics of sqlite/list.c: the default order is
 * seq, a page that ends remembers where (sqlgen cursors, and the page_cursors table that all
 * instances share) so the next startIndex seeks past it, and totals come from
 * resource_counts when there is no filter. Generated text holds "?"
 * in bind order (sqlgen.h); it is renumbered to $n here. */
#include "store/postgres/postgres_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "base/xmalloc.h"

#define RES_COLS_R                                                                    \
    "r.id, r.tenant_id, r.type, r.version, r.created_ms, r.modified_ms, r.user_name," \
    " r.external_id, r.display_name, r.active, r.doc_text, r.seq"

#define MAX_VALUES (4 * 256 + 16)

/* Values of one generated statement, in the order of their "?" in its text. */
struct values {
    const char *v[MAX_VALUES];
    char num[MAX_VALUES][32];
    int n;
};

static int
add_value(struct values *vs, const struct sql_bind *b, struct err *err)
{
    if (vs->n >= MAX_VALUES)
        return err_set(err, ERR_INVALID_FILTER, "filter has too many values");
    char *num = vs->num[vs->n];
    switch (b->type) {
    case BIND_TEXT:
        vs->v[vs->n] = b->text;
        break;
    case BIND_INT:
        snprintf(num, sizeof(vs->num[0]), "%lld", (long long)b->i);
        vs->v[vs->n] = num;
        break;
    case BIND_REAL:
        snprintf(num, sizeof(vs->num[0]), "%.17g", b->r);
        vs->v[vs->n] = num;
        break;
    default:
        vs->v[vs->n] = NULL;
        break;
    }
    vs->n++;
    return 0;
}

static int
add_int(struct values *vs, int64_t i, struct err *err)
{
    return add_value(vs, &(struct sql_bind){ .type = BIND_INT, .i = i }, err);
}

static int
add_binds(struct values *vs, const struct sql_binds *b, int from, int to, struct err *err)
{
    for (int i = from; i < to; i++)
        if (add_value(vs, &b->v[i], err) < 0)
            return -1;
    return 0;
}

/* Copies text with each "?" replaced by $1, $2, … (no fragment holds a literal "?"). */
static int
renumber(struct buf *out, const struct buf *in, struct err *err)
{
    int k = 0;
    const char *p = in->data, *end = in->data + in->len;
    while (p < end) {
        const char *q = memchr(p, '?', (size_t)(end - p));
        size_t n = q ? (size_t)(q - p) : (size_t)(end - p);
        if (buf_append(out, p, n, err) < 0)
            return -1;
        if (q == NULL)
            break;
        if (buf_printf(out, err, "$%d", ++k) < 0)
            return -1;
        p = q + 1;
    }
    return 0;
}

/* Runs generated text (with "?") with vs. */
static PGresult *
run_generated(struct pg_conn *c, const struct buf *text, const struct values *vs, const char *what,
              struct err *err)
{
    struct buf sql;
    buf_init(&sql, 128 * 1024);
    PGresult *res = NULL;
    if (renumber(&sql, text, err) == 0)
        res = pg_run_sql(c, sql.data, vs->n, vs->v, what, err);
    buf_cleanup(&sql);
    return res;
}

static int
count_total(struct pg_conn *c, const struct store_list_query *q, const struct buf *where,
            const struct sql_binds *wb, int n_binds, int64_t *total, struct err *err)
{
    PGresult *res = NULL;
    if (q->filter == NULL && q->role == NULL) {
        struct pg_params p = { .n = 0 };
        pg_param_int(&p, q->tenant_id);
        pg_param_int(&p, (int64_t)q->type);
        res = pg_run(c, PG_COUNT_GET, &p, "count", err);
    } else {
        struct buf sql;
        struct values *vs = xmalloc(sizeof(*vs));
        vs->n = 0;
        buf_init(&sql, 64 * 1024);
        if (buf_printf(&sql, err,
                       "SELECT count(*) FROM resources r WHERE r.tenant_id = ?"
                       " AND r.type = %d AND %s",
                       (int)q->type, where->data) == 0 &&
            add_int(vs, q->tenant_id, err) == 0 && add_binds(vs, wb, 0, n_binds, err) == 0)
            res = run_generated(c, &sql, vs, "count", err);
        buf_cleanup(&sql);
        free(vs);
    }
    if (res == NULL)
        return -1;
    *total = PQntuples(res) ? pg_int(res, 0, 0) : 0;
    PQclear(res);
    return 0;
}

/* Where a listing continued at start_index resumes: this instance's cache, else the shared
 * table (a page another instance served). False when neither knows. */
static bool
cursor_find(struct pg_store *s, struct pg_conn *c, uint64_t qkey, int64_t start_index,
            int64_t *seek)
{
    uint64_t key = sqlgen_slot_key(qkey, start_index);
    if (sqlgen_cursor_find(s->cursors, key, seek))
        return true;
    struct pg_params p = { .n = 0 };
    struct err ignored;
    pg_param_int(&p, (int64_t)(key % LIMIT_PAGE_CURSORS));
    pg_param_int(&p, (int64_t)key);
    PGresult *res = pg_run(c, PG_CURSOR_GET, &p, "find page cursor", &ignored);
    bool found = res && PQntuples(res) == 1;
    if (found)
        *seek = pg_int(res, 0, 0);
    PQclear(res);
    return found;
}

/* Remembers where the page that ends before start_index stopped, here and for the others.
 * Best effort: a failure costs the next page an OFFSET, never an answer. */
static void
cursor_put(struct pg_store *s, struct pg_conn *c, uint64_t qkey, int64_t start_index,
           int64_t last_seq)
{
    uint64_t key = sqlgen_slot_key(qkey, start_index);
    sqlgen_cursor_put(s->cursors, key, last_seq);
    struct pg_params p = { .n = 0 };
    struct err ignored;
    pg_param_int(&p, (int64_t)(key % LIMIT_PAGE_CURSORS));
    pg_param_int(&p, (int64_t)key);
    pg_param_int(&p, last_seq);
    PQclear(pg_run(c, PG_CURSOR_PUT, &p, "remember page cursor", &ignored));
}

/* The page query's text and values: tenant, filter values, [seek], sort values, limit,
 * [offset], in the order they appear. */
static int
page_query(const struct store_list_query *q, const struct buf *where, struct sql_binds *wb,
           bool seeking, int64_t seek, struct buf *sql, struct values *vs, struct err *err)
{
    const int n_filter = wb->n;
    if (buf_printf(sql, err,
                   "SELECT " RES_COLS_R " FROM resources r WHERE r.tenant_id = ?"
                   " AND r.type = %d AND %s",
                   (int)q->type, where->data) < 0 ||
        add_int(vs, q->tenant_id, err) < 0 || add_binds(vs, wb, 0, n_filter, err) < 0)
        return -1;
    if (seeking && (buf_append_cstr(sql, " AND r.seq > ?", err) < 0 || add_int(vs, seek, err) < 0))
        return -1;
    if (buf_append_cstr(sql, " ORDER BY ", err) < 0)
        return -1;
    /* RFC 7644 §3.4.2.3: resources without the value sort last ascending, first descending. */
    if (q->sort) {
        if (sqlgen_sort_expr(&pg_dialect, sql, q->sort, wb, err) < 0 ||
            buf_append_cstr(sql, q->descending ? " DESC NULLS FIRST, " : " ASC NULLS LAST, ", err) <
                0 ||
            add_binds(vs, wb, n_filter, wb->n, err) < 0)
            return -1;
    }
    if (buf_append_cstr(sql, "r.seq LIMIT ?", err) < 0 || add_int(vs, q->count, err) < 0)
        return -1;
    if (!seeking && q->start_index > 1 &&
        (buf_append_cstr(sql, " OFFSET ?", err) < 0 || add_int(vs, q->start_index - 1, err) < 0))
        return -1;
    return 0;
}

int
pg_resource_list(struct store *st_, const struct store_list_query *q, struct store_list_result *out,
                 struct err *err)
{
    struct pg_store *s = (struct pg_store *)st_;
    struct pg_conn *c = pg_conn(s, err);
    struct buf where, sql;
    struct sql_binds *wb = xcalloc(1, sizeof(*wb));
    struct values *vs = xmalloc(sizeof(*vs));
    PGresult *res = NULL;
    int rc = -1;

    vs->n = 0;
    *out = (struct store_list_result){ 0 };
    buf_init(&where, 64 * 1024);
    buf_init(&sql, 64 * 1024);
    if (c == NULL)
        goto done;
    if (sqlgen_where(&pg_dialect, &where, wb, q, err) < 0)
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
    uint64_t qkey = sqlgen_list_key(q, &where, wb, n_filter);
    int64_t seek = 0;
    bool seeking =
        q->sort == NULL && q->start_index > 1 && cursor_find(s, c, qkey, q->start_index, &seek);
    if (page_query(q, &where, wb, seeking, seek, &sql, vs, err) < 0)
        goto done;
    res = run_generated(c, &sql, vs, "list", err);
    if (res == NULL)
        goto done;
    int rows = PQntuples(res);
    out->rows = xmalloc((rows ? (size_t)rows : 1) * sizeof(*out->rows));
    for (int i = 0; i < rows; i++)
        pg_read_resource(res, i, &out->rows[out->n++]);
    if (q->sort == NULL && rows > 0)
        cursor_put(s, c, qkey, q->start_index + rows, pg_int(res, rows - 1, 11));
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
    PQclear(res);
    buf_cleanup(&where);
    buf_cleanup(&sql);
    free(wb);
    free(vs);
    return rc;
}
