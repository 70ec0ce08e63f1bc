/* The SQLite half of store_copy (copy.c): reads every durable table, row by row, as text.
 * The caller holds one read transaction (store_read_begin), so all tables come from one
 * snapshot even while a daemon writes. Each SELECT lists its columns in the order
 * postgres/import.c inserts them. */
#include <stdint.h>

#include "store/copy_int.h"
#include "store/rows.h"
#include "store/sqlite/sqlite_int.h"

struct export_sql {
    const char *rows;  /* NULL: counted only */
    const char *count; /* ?1 is now_ms where the rows depend on it */
};

#define TABLE(cols, from, order)                                            \
    {                                                                       \
        "SELECT " cols " " from " ORDER BY " order, "SELECT count(*) " from \
    }

static const struct export_sql export_sql[COPY__COUNT] = {
    [COPY_TENANTS] = TABLE(TENANT_COLS, "FROM tenants", "id"),
    [COPY_TOKENS] = TABLE(TOKEN_COLS, "FROM tokens", "created_ms, id"),
    /* seq is the default listing order and the paging keyset: it is copied as it is. */
    [COPY_RESOURCES] = TABLE("seq, tenant_id, type, id, version, created_ms, modified_ms,"
                             " user_name, external_id, display_name, active, doc, password_hash",
                             "FROM resources", "seq"),
    [COPY_RESOURCE_COUNTS] =
        TABLE("tenant_id, type, shard, n", "FROM resource_counts", "tenant_id, type, shard"),
    [COPY_MEMBERS] =
        TABLE("tenant_id, group_id, member_id", "FROM members", "tenant_id, group_id, member_id"),
    [COPY_ROLE_MAP] = TABLE("tenant_id, group_key, group_name, role, priority", "FROM role_map",
                            "tenant_id, priority"),
    [COPY_USER_ROLES] = TABLE("tenant_id, user_id, direct_role, role, source", "FROM user_roles",
                              "tenant_id, user_id"),
    [COPY_EVENTS] = TABLE(EVENT_COLS, "FROM events", "seq"),
    /* The delivery lease (lease_owner, lease_until_ms) belongs to a running process. */
    [COPY_WEBHOOKS] = TABLE(HOOK_COLS, "FROM webhooks", "created_ms, id"),
    [COPY_WEBHOOK_ATTEMPTS] = TABLE("seq, webhook_id, at_ms, first_event, last_event, status,"
                                    " duration_ms, error",
                                    "FROM webhook_attempts", "seq"),
    [COPY_SSO_CONNECTIONS] = TABLE(SSO_CONN_COLS, "FROM sso_connections", "tenant_id, protocol"),
    [COPY_SSO_LINKS] = TABLE("tenant_id, issuer, subject, user_id, created_ms", "FROM sso_links",
                             "tenant_id, issuer, subject"),
    /* Live entries only: an expired one can no longer stop a replay. */
    [COPY_SSO_REPLAY] = TABLE("issuer, assertion_id, tenant_id, expires_ms",
                              "FROM sso_replay WHERE expires_ms > ?1", "issuer, assertion_id"),
    /* The SET signing keys: receivers keep verifying with the JWKS they know. */
    [COPY_SET_KEYS] = TABLE("gen, kid, jwk, created_ms", "FROM set_keys", "gen"),
    [COPY_WEBHOOK_ACKS] = TABLE("webhook_id, seq", "FROM webhook_acks", "webhook_id, seq"),
    [COPY_WEBHOOK_BACKLOG] = { NULL, "SELECT count(*) FROM webhooks w JOIN events e"
                                     " ON e.tenant_id = w.tenant_id AND e.seq > w.cursor" },
};

static sqlite3_stmt *
prepare(struct store *s, struct conn **c, const char *sql, int64_t now_ms, struct err *err)
{
    *c = sqlite_conn((struct sqlite_store *)s, err);
    if (*c == NULL)
        return NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2((*c)->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite_fail((*c)->db, rc, "export: prepare", err);
        return NULL;
    }
    if (sqlite3_bind_parameter_count(st) > 0)
        sqlite3_bind_int64(st, 1, now_ms);
    return st;
}

int
sqlite_export_count(struct store *s, enum copy_table t, int64_t now_ms, int64_t *n, struct err *err)
{
    struct conn *c;
    sqlite3_stmt *st = prepare(s, &c, export_sql[t].count, now_ms, err);
    if (st == NULL)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : sqlite_fail(c->db, rc, "export: count", err);
}

int
sqlite_export_rows(struct store *s, enum copy_table t, int64_t now_ms, copy_row_fn row, void *ctx,
                   struct err *err)
{
    if (export_sql[t].rows == NULL)
        return 0;
    struct conn *c;
    sqlite3_stmt *st = prepare(s, &c, export_sql[t].rows, now_ms, err);
    if (st == NULL)
        return -1;
    int ncols = sqlite3_column_count(st);
    if (ncols != copy_tables[t].ncols || ncols > COPY_MAX_COLS) {
        sqlite3_finalize(st);
        return err_set(err, ERR_INTERNAL, "export: %s has %d columns, expected %d",
                       copy_tables[t].name, ncols, copy_tables[t].ncols);
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *values[COPY_MAX_COLS];
        for (int i = 0; i < ncols; i++)
            values[i] = (const char *)sqlite3_column_text(st, i); /* NULL for SQL NULL */
        if (row(ctx, values, err) < 0) {
            sqlite3_finalize(st);
            return -1;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sqlite_fail(c->db, rc, "export: read", err);
}
