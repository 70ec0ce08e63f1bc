/* Audit events: append-only, numbered by seq (the cursor of the events API and of webhook
 * delivery), which the database assigns: INTEGER PRIMARY KEY AUTOINCREMENT on SQLite, an
 * identity column on PostgreSQL.
 *
 * A reader that has passed seq n must never see an event below n appear later. SQLite has one
 * writer at a time, so events commit in seq order. PostgreSQL numbers an event when it is
 * inserted but shows it when its transaction commits, and concurrent transactions commit in
 * any order: a reader could pass seq 10 while seq 9 is still uncommitted and never deliver 9
 * (seen: a webhook test of three instances lost an event under load). So every transaction
 * that writes a tenant's events holds a shared advisory lock of that tenant from its first
 * event to its commit (EVENT_BARRIER in rows.h, taken by the inserting statement), and a cursor
 * read first takes and drops that lock exclusively (store_event_list): it waits until every
 * event numbered so far has committed or rolled back, and events numbered after it get
 * higher numbers. Writers never wait for each other; a read waits for the writes in flight. */
#include <stdint.h>
#include <stdlib.h>

#include "store/db.h"
#include "store/rows.h"
#include "store/store_int.h"

/* PostgreSQL: takes the event lock of tenant ?1 exclusively (waiting for its writers, above)
 * and drops it. */
#define TENANT_EVENT_KEY EVENT_LOCK_KEY("?1")
#define EVENT_SETTLE                                                        \
    "SELECT CAST(pg_advisory_unlock(" TENANT_EVENT_KEY ") AS INTEGER) FROM" \
    " (SELECT pg_advisory_lock(" TENANT_EVENT_KEY ") OFFSET 0) AS l"

void
store_events_free(struct store_event *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i].data);
    free(v);
}

static void
read_event(struct db_stmt *st, void *row)
{
    struct store_event *e = row;
    e->seq = db_int(st, 0);
    e->tenant_id = db_int(st, 1);
    e->created_ms = db_int(st, 2);
    db_copy(st, 3, e->actor, sizeof(e->actor));
    db_copy(st, 4, e->kind, sizeof(e->kind));
    e->rtype = (enum store_rtype)db_int(st, 5);
    db_copy(st, 6, e->resource_id, sizeof(e->resource_id));
    e->data = db_dup(st, 7);
}

static void
drop_event(void *row)
{
    free(((struct store_event *)row)->data);
}

static int
collect_events(struct db_stmt *st, size_t limit, struct store_event **out, size_t *n,
               struct err *err)
{
    return db_collect(st, sizeof(**out), limit, read_event, drop_event, (void **)out, n, err);
}

int
store_event_insert(struct store *s, const struct store_event *e, struct err *err)
{
    static struct db_sql q =
        DB_SQL2("INSERT INTO events(tenant_id, created_ms, actor, kind, rtype, resource_id, data)"
                " VALUES(?1,?2,?3,?4,?5,?6,?7)",
                "INSERT INTO events(tenant_id, created_ms, actor, kind, rtype, resource_id, data)"
                " SELECT CAST(?1 AS BIGINT), CAST(?2 AS BIGINT), CAST(?3 AS TEXT),"
                " CAST(?4 AS TEXT), CAST(?5 AS INTEGER), CAST(?6 AS TEXT), CAST(?7 AS TEXT)"
                " FROM " EVENT_BARRIER("?1"));
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, e->tenant_id);
    db_bind_int(st, 2, e->created_ms);
    db_bind_text(st, 3, e->actor);
    db_bind_text(st, 4, e->kind);
    db_bind_int(st, 5, (int64_t)e->rtype);
    db_bind_text(st, 6, e->resource_id);
    db_bind_text(st, 7, e->data ? e->data : "{}");
    return db_exec(st, err) < 0 ? -1 : 0;
}

int
store_event_list(struct store *s, int64_t tenant_id, int64_t after_seq, size_t limit,
                 struct store_event **out, size_t *n, struct err *err)
{
    static struct db_sql q = DB_SQL("SELECT " EVENT_COLS " FROM events"
                                    " WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?");
    /* Waits for the tenant's event writes in flight; a statement of its own, so that the
     * listing's snapshot is taken after the wait. */
    static struct db_sql settle = DB_SQL(EVENT_SETTLE);
    *out = NULL;
    *n = 0;
    if (db_kind(s) == DB_POSTGRES) {
        struct db_stmt *b = db_prepare(s, &settle, err);
        if (b == NULL)
            return -1;
        db_bind_int(b, 1, tenant_id);
        int64_t ignored;
        if (db_first(b, rows_read_int, &ignored, err) < 0)
            return -1;
    }
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    db_bind_int(st, 2, after_seq);
    db_bind_int(st, 3, (int64_t)limit);
    return collect_events(st, limit, out, n, err);
}

static void
read_int(struct db_stmt *st, void *row)
{
    *(int64_t *)row = db_int(st, 0);
}

/* Runs a one-integer read (an aggregate, so it always has its row). */
static int
one_int(struct db_stmt *st, int64_t *v, struct err *err)
{
    *v = 0;
    return db_first(st, read_int, v, err) < 0 ? -1 : 0;
}

int
store_event_last_seq(struct store *s, int64_t tenant_id, int64_t *seq, struct err *err)
{
    static struct db_sql q = DB_SQL("SELECT coalesce(max(seq), 0) FROM events WHERE tenant_id = ?");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    return one_int(st, seq, err);
}

int
store_event_count_after(struct store *s, int64_t tenant_id, int64_t after_seq, int64_t *n,
                        struct err *err)
{
    static struct db_sql q = DB_SQL("SELECT count(*) FROM events WHERE tenant_id = ? AND seq > ?");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    db_bind_int(st, 2, after_seq);
    return one_int(st, n, err);
}

/* One statement per order; each condition is "?n = '' OR …" so the text never depends on
 * the request. A kind ending in '.' is a prefix ("user."): substr compares it exactly, where
 * LIKE would treat '_' and '%' in it as wildcards. The casts give PostgreSQL the parameters'
 * types where nothing else does (a parameter compared only with a literal). */
#define KIND   "CAST(?4 AS TEXT)"
#define RES_ID "CAST(?5 AS TEXT)"
#define EVENT_QUERY                                                                          \
    "SELECT " EVENT_COLS " FROM events WHERE tenant_id = ?1 AND seq > ?2"                    \
    " AND (CAST(?3 AS BIGINT) = 0 OR seq < ?3)"                                              \
    " AND (" KIND " = '' OR kind = " KIND " OR (substr(" KIND ", length(" KIND "), 1) = '.'" \
    " AND substr(kind, 1, length(" KIND ")) = " KIND "))"                                    \
    " AND (" RES_ID " = '' OR resource_id = " RES_ID ")"

int
store_event_query(struct store *s, const struct store_event_query *q, struct store_event **out,
                  size_t *n, struct err *err)
{
    static struct db_sql oldest = DB_SQL(EVENT_QUERY " ORDER BY seq LIMIT ?6");
    static struct db_sql newest = DB_SQL(EVENT_QUERY " ORDER BY seq DESC LIMIT ?6");
    *out = NULL;
    *n = 0;
    struct db_stmt *st = db_prepare(s, q->newest_first ? &newest : &oldest, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, q->tenant_id);
    db_bind_int(st, 2, q->after_seq);
    db_bind_int(st, 3, q->before_seq);
    db_bind_text(st, 4, q->kind ? q->kind : "");
    db_bind_text(st, 5, q->resource_id ? q->resource_id : "");
    db_bind_int(st, 6, (int64_t)q->limit);
    return collect_events(st, q->limit, out, n, err);
}

/* One statement for both databases: the subquery picks the batch through events_by_created
 * (migration 8), so a pass walks only old rows, never the recent history it keeps. */
int
store_event_prune(struct store *s, int64_t before_ms, size_t limit, int64_t *n, struct err *err)
{
    static struct db_sql q =
        DB_SQL("DELETE FROM events WHERE seq IN (SELECT e.seq FROM events e"
               " WHERE e.created_ms < ?1 AND NOT EXISTS (SELECT 1 FROM webhooks w"
               " WHERE w.tenant_id = e.tenant_id AND w.cursor < e.seq)"
               " ORDER BY e.created_ms LIMIT ?2)");
    *n = 0;
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, before_ms);
    db_bind_int(st, 2, (int64_t)limit);
    int64_t changed = db_exec(st, err);
    if (changed < 0)
        return -1;
    *n = changed;
    return 0;
}
