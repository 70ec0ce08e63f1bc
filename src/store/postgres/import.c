/* The PostgreSQL half of store_copy (copy.c): inserts rows read from another backend with
 * their keys as they were (OVERRIDING SYSTEM VALUE for the identity columns, so resources
 * keep their listing order and events their seq), then moves the identity sequences past
 * them. Each INSERT takes its columns in the order sqlite/export.c reads them. Every value
 * is a bound parameter; the table names are the constants below. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/xmalloc.h"
#include "store/copy_int.h"
#include "store/postgres/postgres_int.h"
#include "store/rows.h"

struct import_sql {
    const char *insert; /* NULL: counted only */
    const char *count;
};

static const struct import_sql import_sql[COPY__COUNT] = {
    [COPY_TENANTS] = { "INSERT INTO tenants(" TENANT_COLS ")"
                       " OVERRIDING SYSTEM VALUE VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
                       "SELECT count(*) FROM tenants" },
    [COPY_TOKENS] = { "INSERT INTO tokens(" TOKEN_COLS ") VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9)",
                      "SELECT count(*) FROM tokens" },
    /* doc_text is the text as written (returned unchanged), doc the jsonb for filters. */
    [COPY_RESOURCES] = { "INSERT INTO resources(seq, tenant_id, type, id, version, created_ms,"
                         " modified_ms, user_name, external_id, display_name, active, doc_text,"
                         " doc, password_hash) OVERRIDING SYSTEM VALUE"
                         " VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12::text,$12::text::jsonb,$13)",
                         "SELECT count(*) FROM resources" },
    [COPY_RESOURCE_COUNTS] = { "INSERT INTO resource_counts(tenant_id, type, shard, n)"
                               " VALUES($1,$2,$3,$4)",
                               "SELECT count(*) FROM resource_counts" },
    [COPY_MEMBERS] = { "INSERT INTO members(tenant_id, group_id, member_id) VALUES($1,$2,$3)",
                       "SELECT count(*) FROM members" },
    [COPY_ROLE_MAP] = { "INSERT INTO role_map(tenant_id, group_key, group_name, role, priority)"
                        " VALUES($1,$2,$3,$4,$5)",
                        "SELECT count(*) FROM role_map" },
    [COPY_USER_ROLES] = { "INSERT INTO user_roles(tenant_id, user_id, direct_role, role, source)"
                          " VALUES($1,$2,$3,$4,$5)",
                          "SELECT count(*) FROM user_roles" },
    [COPY_EVENTS] = { "INSERT INTO events(" EVENT_COLS ") OVERRIDING SYSTEM VALUE"
                      " VALUES($1,$2,$3,$4,$5,$6,$7,$8)",
                      "SELECT count(*) FROM events" },
    [COPY_WEBHOOKS] = { "INSERT INTO webhooks(" HOOK_COLS
                        ") VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)",
                        "SELECT count(*) FROM webhooks" },
    [COPY_WEBHOOK_ATTEMPTS] = { "INSERT INTO webhook_attempts(seq, webhook_id, at_ms,"
                                " first_event, last_event, status, duration_ms, error)"
                                " OVERRIDING SYSTEM VALUE VALUES($1,$2,$3,$4,$5,$6,$7,$8)",
                                "SELECT count(*) FROM webhook_attempts" },
    [COPY_SSO_CONNECTIONS] = { "INSERT INTO sso_connections(" SSO_CONN_COLS ")"
                               " VALUES($1,$2,$3,$4,$5,$6,$7,$8)",
                               "SELECT count(*) FROM sso_connections" },
    [COPY_SSO_LINKS] = { "INSERT INTO sso_links(tenant_id, issuer, subject, user_id, created_ms)"
                         " VALUES($1,$2,$3,$4,$5)",
                         "SELECT count(*) FROM sso_links" },
    [COPY_SSO_REPLAY] = { "INSERT INTO sso_replay(issuer, assertion_id, tenant_id, expires_ms)"
                          " VALUES($1,$2,$3,$4)",
                          "SELECT count(*) FROM sso_replay" },
    [COPY_SET_KEYS] = { "INSERT INTO set_keys(gen, kid, jwk, created_ms) VALUES($1,$2,$3,$4)",
                        "SELECT count(*) FROM set_keys" },
    [COPY_WEBHOOK_ACKS] = { "INSERT INTO webhook_acks(webhook_id, seq) VALUES($1,$2)",
                            "SELECT count(*) FROM webhook_acks" },
    [COPY_WEBHOOK_BACKLOG] = { NULL, "SELECT count(*) FROM webhooks w JOIN events e"
                                     " ON e.tenant_id = w.tenant_id AND e.seq > w.cursor" },
};

/* After the rows: identity sequences continue after the copied keys, and keyset positions
 * left by an earlier life of the database (page_cursors is not among the copied tables, so it
 * may hold some) are forgotten, lest a page seek from a seq of other data. */
static const char *const finish[] = {
    "DELETE FROM page_cursors",
    "SELECT setval(pg_get_serial_sequence('tenants', 'id'),"
    " coalesce(max(id), 0) + 1, false) FROM tenants",
    "SELECT setval(pg_get_serial_sequence('resources', 'seq'),"
    " coalesce(max(seq), 0) + 1, false) FROM resources",
    "SELECT setval(pg_get_serial_sequence('events', 'seq'),"
    " coalesce(max(seq), 0) + 1, false) FROM events",
    "SELECT setval(pg_get_serial_sequence('webhook_attempts', 'seq'),"
    " coalesce(max(seq), 0) + 1, false) FROM webhook_attempts",
};

static struct pg_conn *
conn(struct store *s, struct err *err)
{
    return pg_conn((struct pg_store *)s, err);
}

/* Runs sql with n parameters; the result (PQclear it) or NULL with err. */
static PGresult *
run(struct store *s, const char *sql, int n, const char *const *values, const char *what,
    struct err *err)
{
    struct pg_conn *c = conn(s, err);
    return c ? pg_run_sql(c, sql, n, values, what, err) : NULL;
}

int
pg_import_has_table(struct store *s, enum copy_table t, bool *has, struct err *err)
{
    if (import_sql[t].insert == NULL) {
        *has = true;
        return 0;
    }
    const char *name = copy_tables[t].name;
    PGresult *res =
        run(s, "SELECT to_regclass($1) IS NOT NULL", 1, &name, "import: find table", err);
    if (res == NULL)
        return -1;
    *has = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return 0;
}

int
pg_import_count(struct store *s, enum copy_table t, int64_t *n, struct err *err)
{
    PGresult *res = run(s, import_sql[t].count, 0, NULL, "import: count", err);
    if (res == NULL)
        return -1;
    *n = pg_int(res, 0, 0);
    PQclear(res);
    return 0;
}

/* Rows in flight before the client waits for their results: the results of a batch (~30
 * bytes each) stay far below the socket buffers, so neither side can block the other. */
#define PIPELINE_ROWS 256

struct pg_import {
    struct pg_conn *c;
    bool prepared[COPY__COUNT];
    bool in_pipeline;
    enum copy_table t;  /* of the rows queued */
    int64_t rows;       /* rows of t queued so far */
    int64_t batch_from; /* the position in t of the first row of the batch in flight */
    int queued;
};

struct pg_import *
pg_import_start(struct store *s, struct err *err)
{
    struct pg_conn *c = conn(s, err);
    if (c == NULL)
        return NULL;
    struct pg_import *imp = xcalloc(1, sizeof(*imp));
    imp->c = c;
    imp->t = COPY__COUNT;
    return imp;
}

/* Names the table and row of the failure err holds, with PostgreSQL's primary message when
 * there is a result (it names a constraint or a problem, never a value); returns -1. */
static int
row_failed(const struct pg_import *imp, int64_t row, const PGresult *res, struct err *err)
{
    char detail[sizeof(err->detail)];
    memcpy(detail, err->detail, sizeof(detail));
    const char *why = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    return err_set(err, err->code, "copying %s, row %lld: %s%s%.200s%s", copy_tables[imp->t].name,
                   (long long)row, detail[0] ? detail : err_text(err->code), why ? " (" : "",
                   why ? why : "", why ? ")" : "");
}

#ifdef LIBPQ_HAS_PIPELINING

/* Ends the batch in flight: reads every result up to the sync, then leaves pipeline mode. */
static int
drain(struct pg_import *imp, struct err *err)
{
    PGconn *db = imp->c->db;
    int rc = 0;
    int64_t done = 0;
    bool synced = PQpipelineSync(db) == 1;
    if (!synced)
        rc = pg_fail(db, NULL, "import: sync", err);
    while (synced) {
        PGresult *res = PQgetResult(db);
        if (res == NULL) {
            if (PQstatus(db) == CONNECTION_OK)
                continue; /* the end of one statement's results */
            if (rc == 0)
                rc = pg_fail(db, NULL, "import: insert", err);
            break;
        }
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            break;
        }
        if (st == PGRES_COMMAND_OK) {
            done++;
        } else if (st != PGRES_PIPELINE_ABORTED && rc == 0) {
            pg_fail(db, res, "import: insert", err);
            rc = row_failed(imp, imp->batch_from + done, res, err);
        }
        PQclear(res);
    }
    if (PQexitPipelineMode(db) != 1 && rc == 0)
        rc = pg_fail(db, NULL, "import: end pipeline", err);
    imp->in_pipeline = false;
    imp->queued = 0;
    return rc;
}

int
pg_import_flush(struct pg_import *imp, struct err *err)
{
    return imp->in_pipeline ? drain(imp, err) : 0;
}

static int
prepare(struct pg_import *imp, enum copy_table t, const char *name, struct err *err)
{
    if (imp->prepared[t])
        return 0;
    PGresult *res = PQprepare(imp->c->db, name, import_sql[t].insert, 0, NULL);
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : pg_fail(imp->c->db, res, "import", err);
    PQclear(res);
    imp->prepared[t] = rc == 0;
    return rc;
}

int
pg_import_row(struct pg_import *imp, enum copy_table t, const char *const *values, struct err *err)
{
    PGconn *db = imp->c->db;
    char name[16];
    snprintf(name, sizeof(name), "copy%d", (int)t);
    if (imp->t != t) {
        if (pg_import_flush(imp, err) < 0)
            return -1;
        imp->t = t;
        imp->rows = 0;
    }
    if (!imp->in_pipeline) {
        if (prepare(imp, t, name, err) < 0)
            return -1;
        if (PQenterPipelineMode(db) != 1)
            return pg_fail(db, NULL, "import: pipeline", err);
        imp->in_pipeline = true;
        imp->batch_from = imp->rows + 1;
    }
    imp->rows++;
    if (PQsendQueryPrepared(db, name, copy_tables[t].ncols, values, NULL, NULL, 0) != 1) {
        pg_fail(db, NULL, "import: send", err);
        struct err ignored;
        drain(imp, &ignored);
        return row_failed(imp, imp->rows, NULL, err);
    }
    return ++imp->queued >= PIPELINE_ROWS ? drain(imp, err) : 0;
}

#else /* libpq 13: one round trip per row */

int
pg_import_flush(struct pg_import *imp, struct err *err)
{
    (void)imp;
    (void)err;
    return 0;
}

int
pg_import_row(struct pg_import *imp, enum copy_table t, const char *const *values, struct err *err)
{
    if (imp->t != t) {
        imp->t = t;
        imp->rows = 0;
    }
    imp->rows++;
    PGresult *res = pg_run_sql(imp->c, import_sql[t].insert, copy_tables[t].ncols, values,
                               "import: insert", err);
    PQclear(res);
    return res ? 0 : row_failed(imp, imp->rows, NULL, err);
}

#endif

void
pg_import_end(struct pg_import *imp)
{
    if (imp == NULL)
        return;
    struct err ignored;
    pg_import_flush(imp, &ignored);
    free(imp);
}

int
pg_import_finish(struct store *s, struct err *err)
{
    for (size_t i = 0; i < sizeof(finish) / sizeof(finish[0]); i++) {
        PGresult *res = run(s, finish[i], 0, NULL, "import: finish", err);
        if (res == NULL)
            return -1;
        PQclear(res);
    }
    return 0;
}

int
pg_import_analyze(struct store *s, struct err *err)
{
    struct pg_conn *c = conn(s, err);
    if (c == NULL)
        return -1;
    /* Outside any transaction; a fresh copy would otherwise be planned as empty tables
     * until autovacuum comes round (docs/postgres.md "Plans without statistics"). */
    PGresult *res = PQexec(c->db, "ANALYZE tenants, tokens, resources, resource_counts, members,"
                                  " role_map, user_roles, events, webhooks, webhook_attempts");
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : pg_fail(c->db, res, "analyze", err);
    PQclear(res);
    if (rc < 0)
        log_warn("postgres: ANALYZE after the copy failed; autovacuum will do it later");
    return rc;
}
