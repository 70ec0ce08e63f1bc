/* SCIM resources (users and groups) and their per-tenant counts. The listing is in list.c. */
#include <stdint.h>

#include "store/db.h"
#include "store/rows.h"
#include "store/store_int.h"

/* The planner chooses by table statistics, which autovacuum refreshes only after a minute or
 * so; a first import of thousands of users would run that long with plans made for an empty
 * table (a userName filter scanning the tenant in seq order). So the store has the table
 * analyzed (db_analyze_soon: PostgreSQL only) whenever a tenant's users or groups reach this
 * many times a power of two. */
#define ANALYZE_FIRST_ROWS 1000

void
rows_read_resource(struct db_stmt *st, int first, struct store_resource *r)
{
    *r = (struct store_resource){ 0 };
    db_copy(st, first, r->id, sizeof(r->id));
    r->tenant_id = db_int(st, first + 1);
    r->type = (enum store_rtype)db_int(st, first + 2);
    r->version = db_int(st, first + 3);
    r->created_ms = db_int(st, first + 4);
    r->modified_ms = db_int(st, first + 5);
    r->user_name = db_dup(st, first + 6);
    r->external_id = db_dup(st, first + 7);
    r->display_name = db_dup(st, first + 8);
    r->active = (int)db_int(st, first + 9);
    r->doc = db_dup(st, first + 10);
}

static void
read_resource(struct db_stmt *st, void *row)
{
    rows_read_resource(st, 0, row);
}

void
rows_read_int(struct db_stmt *st, void *row)
{
    *(int64_t *)row = db_int(st, 0);
}

int
rows_count(struct db_stmt *st, int64_t *n, struct err *err)
{
    *n = 0;
    int rc = db_first(st, rows_read_int, n, err);
    if (rc < 0)
        return -1;
    return rc ? 0 : err_set(err, ERR_INTERNAL, "count returned no row");
}

/* True when a tenant's count of one type reaches ANALYZE_FIRST_ROWS × 2^k. */
static bool
analyze_due(int64_t n)
{
    int64_t k = n / ANALYZE_FIRST_ROWS;
    return n >= ANALYZE_FIRST_ROWS && n % ANALYZE_FIRST_ROWS == 0 && (k & (k - 1)) == 0;
}

/* q prepared with (tenant, type) bound as its parameters 1 and 2, the key of every resource
 * statement; NULL with err. */
static struct db_stmt *
prepare_keyed(struct store *s, struct db_sql *q, int64_t tenant_id, enum store_rtype type,
              struct err *err)
{
    struct db_stmt *st = db_prepare(s, q, err);
    if (st) {
        db_bind_int(st, 1, tenant_id);
        db_bind_int(st, 2, (int64_t)type);
    }
    return st;
}

/* resource_counts keeps each tenant's number of users and groups, so an unfiltered listing's
 * total (and the group count read on authentication) costs a sum over a few rows, not a
 * count. Every create and delete adds to it in its own transaction, so totals are exact; on
 * PostgreSQL it adds to the row of its connection's shard (the server process id modulo
 * COUNT_SHARDS), so that concurrent writers of one tenant do not all queue on one row's lock
 * until they commit, nor pile up its dead versions (measured, bench/RESULTS.md: at 8
 * connections the single row cost 617 µs of PostgreSQL CPU per create instead of ~350). A
 * shard's own count (RETURNING n) decides when statistics are due: an import over one
 * connection counts in one shard. */
#define COUNT_SHARDS "16"
#define COUNT_UPSERT(shard)                                                                 \
    "INSERT INTO resource_counts(tenant_id, type, shard, n) VALUES(?1,?2," shard ",?3)"     \
    " ON CONFLICT(tenant_id, type, shard) DO UPDATE SET n = resource_counts.n + excluded.n" \
    " RETURNING n"

static int
count_add(struct store *s, int64_t tenant_id, enum store_rtype type, int delta, struct err *err)
{
    static struct db_sql q =
        DB_SQL2(COUNT_UPSERT("0"), COUNT_UPSERT("pg_backend_pid() % " COUNT_SHARDS));
    struct db_stmt *st = prepare_keyed(s, &q, tenant_id, type, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 3, delta);
    int64_t n = 0;
    if (db_first(st, rows_read_int, &n, err) < 0)
        return -1;
    if (delta > 0 && analyze_due(n))
        db_analyze_soon(s);
    return 0;
}

/* The columns insert and update share, bound from parameter `first` on (the document last). */
static void
bind_columns(struct db_stmt *st, int first, const struct store_resource *r)
{
    db_bind_text(st, first, r->user_name);
    db_bind_text(st, first + 1, r->external_id);
    db_bind_text(st, first + 2, r->display_name);
    db_bind_int(st, first + 3, r->active);
    db_bind_text(st, first + 4, r->doc);
}

int
store_resource_insert(struct store *s, const struct store_resource *r, struct err *err)
{
    /* PostgreSQL writes the document twice: as text to read back, as jsonb to filter. */
    static struct db_sql q =
        DB_SQL2("INSERT INTO resources(" RESOURCE_COLS ", password_hash)"
                " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
                "INSERT INTO resources(" RESOURCE_COLS_PG ", doc, password_hash)"
                " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11::text,?11::text::jsonb,?12)");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, r->id);
    db_bind_int(st, 2, r->tenant_id);
    db_bind_int(st, 3, (int64_t)r->type);
    db_bind_int(st, 4, r->version);
    db_bind_int(st, 5, r->created_ms);
    db_bind_int(st, 6, r->modified_ms);
    bind_columns(st, 7, r);
    db_bind_text(st, 12, r->password_hash);
    if (db_exec(st, err) < 0)
        return -1;
    return count_add(s, r->tenant_id, r->type, 1, err);
}

int
store_resource_get(struct store *s, int64_t tenant_id, enum store_rtype type, const char *id,
                   struct store_resource *out, struct err *err)
{
    static struct db_sql q =
        DB_SQL_RESOURCES(" FROM resources WHERE tenant_id=? AND type=? AND id=?");
    struct db_stmt *st = prepare_keyed(s, &q, tenant_id, type, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 3, id);
    int rc = db_first(st, read_resource, out, err);
    if (rc < 0)
        return -1;
    return rc ? 0 : err_set(err, ERR_NOT_FOUND, "resource %s not found", id);
}

#define UPDATE_SQL(doc)                                                               \
    "UPDATE resources SET version=?1, modified_ms=?2, user_name=?3, external_id=?4,"  \
    " display_name=?5, active=?6, " doc ", password_hash=coalesce(?8, password_hash)" \
    " WHERE tenant_id=?9 AND type=?10 AND id=?11 AND version=?12"

int
store_resource_update(struct store *s, const struct store_resource *r, struct err *err)
{
    static struct db_sql q =
        DB_SQL2(UPDATE_SQL("doc=?7"), UPDATE_SQL("doc_text=?7::text, doc=?7::text::jsonb"));
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, r->version);
    db_bind_int(st, 2, r->modified_ms);
    bind_columns(st, 3, r);
    db_bind_text(st, 8, r->password_hash);
    db_bind_int(st, 9, r->tenant_id);
    db_bind_int(st, 10, (int64_t)r->type);
    db_bind_text(st, 11, r->id);
    db_bind_int(st, 12, r->version - 1);
    int64_t n = db_exec(st, err);
    if (n < 0)
        return -1;
    if (n == 0)
        return err_set(err, ERR_PRECONDITION, "resource %s was changed concurrently", r->id);
    return 0;
}

int
store_resource_delete(struct store *s, int64_t tenant_id, enum store_rtype type, const char *id,
                      int64_t version, struct err *err)
{
    static struct db_sql q = DB_SQL("DELETE FROM resources WHERE tenant_id=?1 AND type=?2"
                                    " AND id=?3 AND (CAST(?4 AS BIGINT) < 0 OR version = ?4)");
    struct db_stmt *st = prepare_keyed(s, &q, tenant_id, type, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 3, id);
    db_bind_int(st, 4, version);
    int64_t n = db_exec(st, err);
    if (n < 0)
        return -1;
    if (n == 0) {
        /* Absent, or present with another version: the caller's answer differs (404/412). */
        struct store_resource cur;
        if (version >= 0 && store_resource_get(s, tenant_id, type, id, &cur, err) == 0) {
            store_resource_cleanup(&cur);
            return err_set(err, ERR_PRECONDITION, "resource %s was changed: version W/\"%lld\"", id,
                           (long long)cur.version);
        }
        return err_set(err, ERR_NOT_FOUND, "resource %s not found", id);
    }
    return count_add(s, tenant_id, type, -1, err);
}

int
store_users_inactive_count(struct store *s, int64_t tenant_id, int64_t *n, struct err *err)
{
    static struct db_sql q =
        DB_SQL("SELECT count(*) FROM resources WHERE tenant_id=? AND type=1 AND active=0");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    return rows_count(st, n, err);
}
