/* store_copy: a whole database from SQLite into an empty PostgreSQL one (`scimd migrate`).
 * The source is read from one snapshot, the target written in one transaction, and every
 * table counted on both sides before the commit: all or nothing. The halves are
 * sqlite/export.c and postgres/import.c; nothing here knows SQL. */
#include "store/copy.h"

#include <string.h>

#include "base/clock.h"
#include "store/copy_int.h"
#include "store/postgres/postgres.h"
#include "store/sqlite/sqlite.h"

const struct copy_table_info copy_tables[COPY__COUNT] = {
    [COPY_TENANTS] = { "tenants", 11 },
    [COPY_TOKENS] = { "tokens", 9 },
    [COPY_RESOURCES] = { "resources", 13 },
    [COPY_RESOURCE_COUNTS] = { "resource_counts", 4 },
    [COPY_MEMBERS] = { "members", 3 },
    [COPY_ROLE_MAP] = { "role_map", 5 },
    [COPY_USER_ROLES] = { "user_roles", 5 },
    [COPY_EVENTS] = { "events", 8 },
    [COPY_WEBHOOKS] = { "webhooks", 15 },
    [COPY_WEBHOOK_ATTEMPTS] = { "webhook_attempts", 8 },
    [COPY_SSO_CONNECTIONS] = { "sso_connections", 8 },
    [COPY_SSO_LINKS] = { "sso_links", 5 },
    [COPY_SSO_REPLAY] = { "sso_replay", 4 },
    [COPY_SET_KEYS] = { "set_keys", 4 },
    [COPY_WEBHOOK_ACKS] = { "webhook_acks", 2 },
    [COPY_WEBHOOK_BACKLOG] = { "webhook backlog", 0 },
};

_Static_assert(COPY__COUNT <= STORE_COPY_MAX_COUNTS, "the report holds every count");

struct row_ctx {
    struct pg_import *imp;
    enum copy_table t;
};

static int
copy_row(void *ctx, const char *const *values, struct err *err)
{
    const struct row_ctx *x = ctx;
    return pg_import_row(x->imp, x->t, values, err);
}

/* Fills the report's source counts and which tables the target lacks, and refuses a target
 * that holds anything. */
static int
prepare(struct store *from, struct store *to, int64_t now_ms, struct store_copy_report *out,
        struct err *err)
{
    for (int t = 0; t < COPY__COUNT; t++) {
        struct store_copy_count *c = &out->counts[out->n++];
        bool has;
        c->name = copy_tables[t].name;
        if (sqlite_export_count(from, (enum copy_table)t, now_ms, &c->source, err) < 0 ||
            pg_import_has_table(to, (enum copy_table)t, &has, err) < 0)
            return -1;
        if (!has) {
            if (c->source > 0)
                return err_set(err, ERR_NOT_IMPLEMENTED,
                               "the source has %lld rows in %s, a table this scimd's"
                               " PostgreSQL schema does not have",
                               (long long)c->source, c->name);
            c->absent = true;
            continue;
        }
        int64_t existing = 0;
        if (copy_tables[t].ncols > 0 && pg_import_count(to, (enum copy_table)t, &existing, err) < 0)
            return -1;
        if (existing > 0)
            return err_set(err, ERR_CONFLICT,
                           "the target database is not empty (%s has %lld rows): migrate"
                           " copies into an empty database only",
                           c->name, (long long)existing);
    }
    return 0;
}

/* Copies the rows (every table's sent and confirmed before the next is read). */
static int
copy_rows(struct store *from, struct store *to, int64_t now_ms, const struct store_copy_report *out,
          struct err *err)
{
    struct pg_import *imp = pg_import_start(to, err);
    if (imp == NULL)
        return -1;
    int rc = 0;
    for (int t = 0; t < COPY__COUNT && rc == 0; t++) {
        struct row_ctx x = { imp, (enum copy_table)t };
        if (out->counts[t].absent)
            continue;
        if (sqlite_export_rows(from, x.t, now_ms, copy_row, &x, err) < 0 ||
            pg_import_flush(imp, err) < 0)
            rc = -1;
    }
    pg_import_end(imp);
    return rc;
}

/* Copies everything and counts the target; the caller's transaction is open on `to`. */
static int
copy_all(struct store *from, struct store *to, int64_t now_ms, struct store_copy_report *out,
         struct err *err)
{
    if (copy_rows(from, to, now_ms, out, err) < 0 || pg_import_finish(to, err) < 0)
        return -1;
    for (int t = 0; t < COPY__COUNT; t++) {
        struct store_copy_count *c = &out->counts[t];
        if (!c->absent && pg_import_count(to, (enum copy_table)t, &c->target, err) < 0)
            return -1;
        if (c->target != c->source)
            out->mismatch = true;
    }
    out->checked = true;
    if (out->mismatch)
        return err_set(err, ERR_CONFLICT, "the counts differ: nothing was copied");
    return 0;
}

int
store_copy(struct store *from, struct store *to, struct store_copy_report *out, struct err *err)
{
    *out = (struct store_copy_report){ 0 };
    if (from->be != &sqlite_backend || to->be != &postgres_backend)
        return err_set(err, ERR_NOT_IMPLEMENTED,
                       "migrate copies a SQLite database into PostgreSQL only (not %s into %s)",
                       from->be->name, to->be->name);
    int64_t now_ms = clock_now_ms();
    /* One snapshot of the source for the counts and every row. */
    if (store_read_begin(from, err) < 0)
        return -1;
    if (store_tx_begin(to, err) < 0) {
        store_read_end(from);
        return -1;
    }
    int rc = prepare(from, to, now_ms, out, err);
    if (rc == 0)
        rc = copy_all(from, to, now_ms, out, err);
    if (rc == 0)
        rc = store_tx_commit(to, err);
    else
        store_tx_rollback(to);
    store_read_end(from);
    if (rc == 0) {
        struct err ignored;
        pg_import_analyze(to, &ignored); /* best effort: logged */
    }
    return rc;
}
