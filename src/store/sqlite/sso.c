/* SQLite statements of the single sign-on store operations (issue 7); tables from
 * migration 5 in migrate.c. Every value is bound to a placeholder. */
#include "store/sqlite/sso.h"

#include <string.h>

#include "base/str.h"
#include "store/sqlite/sqlite_int.h"

#define RES_COLS                                                                     \
    "id, tenant_id, type, version, created_ms, modified_ms, user_name, external_id," \
    " display_name, active, doc"

static struct conn *
conn_of(struct store *s, struct err *err)
{
    return sqlite_conn((struct sqlite_store *)s, err);
}

/* The connection's cached statement for a constant SQL text. */
static sqlite3_stmt *
stmt(struct conn *c, const char *sql, struct err *err)
{
    return sqlite_cached_stmt(c, sql, strlen(sql), err);
}

/* Runs a purge or other statement with (now) bound as ?1. */
static int
purge(struct conn *c, const char *sql, int64_t now_ms, struct err *err)
{
    sqlite3_stmt *st = stmt(c, sql, err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, now_ms);
    return sqlite_step_done(c, st, "purge expired sso rows", err);
}

int
sqlite_sso_conn_put(struct store *s, const struct store_sso_conn *v, struct err *err)
{
    struct conn *c = conn_of(s, err);
    sqlite3_stmt *st = c ? stmt(c,
                                "INSERT INTO sso_connections(tenant_id, protocol, config, secret,"
                                " enabled, verified_ms, created_ms, updated_ms)"
                                " VALUES(?1,?2,?3,?4,?5,0,?6,?6)"
                                " ON CONFLICT(tenant_id, protocol) DO UPDATE SET"
                                " config=excluded.config, secret=excluded.secret,"
                                " enabled=excluded.enabled, updated_ms=excluded.updated_ms,"
                                " verified_ms=CASE WHEN ?7 THEN 0 ELSE verified_ms END",
                                err)
                         : NULL;
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, v->tenant_id);
    sqlite_bind_text(st, 2, v->protocol);
    sqlite_bind_text(st, 3, v->config);
    sqlite_bind_text(st, 4, v->secret);
    sqlite3_bind_int(st, 5, v->enabled ? 1 : 0);
    sqlite3_bind_int64(st, 6, v->updated_ms);
    sqlite3_bind_int(st, 7, v->reset_verified ? 1 : 0);
    return sqlite_step_done(c, st, "put sso connection", err);
}

int
sqlite_sso_conn_get(struct store *s, int64_t tenant_id, const char *protocol,
                    struct store_sso_conn *out, struct err *err)
{
    struct conn *c = conn_of(s, err);
    sqlite3_stmt *st = c ? stmt(c,
                                "SELECT config, secret, enabled, verified_ms, created_ms,"
                                " updated_ms FROM sso_connections"
                                " WHERE tenant_id=? AND protocol=?",
                                err)
                         : NULL;
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, tenant_id);
    sqlite_bind_text(st, 2, protocol);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = (struct store_sso_conn){ .tenant_id = tenant_id };
        str_copy(out->protocol, sizeof(out->protocol), protocol);
        out->config = sqlite_col_dup(st, 0);
        out->secret = sqlite_col_dup(st, 1);
        out->enabled = sqlite3_column_int(st, 2) != 0;
        out->verified_ms = sqlite3_column_int64(st, 3);
        out->created_ms = sqlite3_column_int64(st, 4);
        out->updated_ms = sqlite3_column_int64(st, 5);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return err_set(err, ERR_NOT_FOUND, "the tenant has no %s connection", protocol);
    return rc == SQLITE_ROW ? 0 : sqlite_fail(c->db, rc, "get sso connection", err);
}

int
sqlite_sso_conn_delete(struct store *s, int64_t tenant_id, const char *protocol, struct err *err)
{
    struct conn *c = conn_of(s, err);
    sqlite3_stmt *st =
        c ? stmt(c, "DELETE FROM sso_connections WHERE tenant_id=? AND protocol=?", err) : NULL;
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, tenant_id);
    sqlite_bind_text(st, 2, protocol);
    if (sqlite_step_done(c, st, "delete sso connection", err) < 0)
        return -1;
    if (sqlite3_changes(c->db) == 0)
        return err_set(err, ERR_NOT_FOUND, "the tenant has no %s connection", protocol);
    return 0;
}

int
sqlite_sso_conn_verified(struct store *s, int64_t tenant_id, const char *protocol, int64_t now_ms,
                         struct err *err)
{
    struct conn *c = conn_of(s, err);
    sqlite3_stmt *st = c ? stmt(c,
                                "UPDATE sso_connections SET verified_ms=?3"
                                " WHERE tenant_id=?1 AND protocol=?2 AND verified_ms=0",
                                err)
                         : NULL;
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, tenant_id);
    sqlite_bind_text(st, 2, protocol);
    sqlite3_bind_int64(st, 3, now_ms);
    return sqlite_step_done(c, st, "mark sso connection verified", err);
}

int
sqlite_sso_tx_insert(struct store *s, const struct store_sso_tx *t, struct err *err)
{
    struct conn *c = conn_of(s, err);
    sqlite3_stmt *st = c ? stmt(c,
                                "INSERT INTO sso_transactions(handle, tenant_id, protocol,"
                                " binding, data, expires_ms) VALUES(?,?,?,?,?,?)",
                                err)
                         : NULL;
    if (st == NULL)
        return -1;
    sqlite_bind_text(st, 1, t->handle);
    sqlite3_bind_int64(st, 2, t->tenant_id);
    sqlite_bind_text(st, 3, t->protocol);
    sqlite_bind_text(st, 4, t->binding);
    sqlite_bind_text(st, 5, t->data);
    sqlite3_bind_int64(st, 6, t->expires_ms);
    return sqlite_step_done(c, st, "insert sso transaction", err);
}

int
sqlite_sso_tx_take(struct store *s, const char *handle, int64_t now_ms, struct store_sso_tx *out,
                   struct err *err)
{
    struct conn *c = conn_of(s, err);
    if (c == NULL ||
        purge(c, "DELETE FROM sso_transactions WHERE expires_ms <= ?1", now_ms, err) < 0)
        return -1;
    /* DELETE … RETURNING: two requests with one handle cannot both get the row. */
    sqlite3_stmt *st = stmt(c,
                            "DELETE FROM sso_transactions WHERE handle=?"
                            " RETURNING tenant_id, protocol, binding, data, expires_ms",
                            err);
    if (st == NULL)
        return -1;
    sqlite_bind_text(st, 1, handle);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = (struct store_sso_tx){ 0 };
        str_copy(out->handle, sizeof(out->handle), handle);
        out->tenant_id = sqlite3_column_int64(st, 0);
        sqlite_col_copy(st, 1, out->protocol, sizeof(out->protocol));
        sqlite_col_copy(st, 2, out->binding, sizeof(out->binding));
        out->data = sqlite_col_dup(st, 3);
        out->expires_ms = sqlite3_column_int64(st, 4);
        rc = sqlite3_step(st);
        rc = rc == SQLITE_DONE ? SQLITE_ROW : rc;
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return err_set(err, ERR_NOT_FOUND, "no such sign-in transaction");
    return rc == SQLITE_ROW ? 0 : sqlite_fail(c->db, rc, "take sso transaction", err);
}

int
sqlite_sso_replay_insert(struct store *s, int64_t tenant_id, const char *issuer, const char *id,
                         int64_t expires_ms, int64_t now_ms, struct err *err)
{
    struct conn *c = conn_of(s, err);
    if (c == NULL || purge(c, "DELETE FROM sso_replay WHERE expires_ms <= ?1", now_ms, err) < 0)
        return -1;
    sqlite3_stmt *st = stmt(c,
                            "INSERT INTO sso_replay(issuer, assertion_id, tenant_id, expires_ms)"
                            " VALUES(?,?,?,?)",
                            err);
    if (st == NULL)
        return -1;
    sqlite_bind_text(st, 1, issuer);
    sqlite_bind_text(st, 2, id);
    sqlite3_bind_int64(st, 3, tenant_id);
    sqlite3_bind_int64(st, 4, expires_ms);
    return sqlite_step_done(c, st, "insert sso replay entry", err);
}

int
sqlite_sso_link_find(struct store *s, int64_t tenant_id, const char *issuer, const char *subject,
                     char user_id[37], struct err *err)
{
    struct conn *c = conn_of(s, err);
    sqlite3_stmt *st = c ? stmt(c,
                                "SELECT user_id FROM sso_links"
                                " WHERE tenant_id=? AND issuer=? AND subject=?",
                                err)
                         : NULL;
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, tenant_id);
    sqlite_bind_text(st, 2, issuer);
    sqlite_bind_text(st, 3, subject);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        sqlite_col_copy(st, 0, user_id, 37);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return err_set(err, ERR_NOT_FOUND, "no linked user");
    return rc == SQLITE_ROW ? 0 : sqlite_fail(c->db, rc, "find sso link", err);
}

int
sqlite_sso_link_of_user(struct store *s, int64_t tenant_id, const char *issuer, const char *user_id,
                        char subject[256], struct err *err)
{
    struct conn *c = conn_of(s, err);
    sqlite3_stmt *st = c ? stmt(c,
                                "SELECT subject FROM sso_links"
                                " WHERE tenant_id=? AND issuer=? AND user_id=?",
                                err)
                         : NULL;
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, tenant_id);
    sqlite_bind_text(st, 2, issuer);
    sqlite_bind_text(st, 3, user_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        sqlite_col_copy(st, 0, subject, 256);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return err_set(err, ERR_NOT_FOUND, "user not linked");
    return rc == SQLITE_ROW ? 0 : sqlite_fail(c->db, rc, "find sso link of user", err);
}

int
sqlite_sso_link_insert(struct store *s, int64_t tenant_id, const char *issuer, const char *subject,
                       const char *user_id, int64_t now_ms, struct err *err)
{
    struct conn *c = conn_of(s, err);
    sqlite3_stmt *st = c ? stmt(c,
                                "INSERT INTO sso_links(tenant_id, issuer, subject, user_id,"
                                " created_ms) VALUES(?,?,?,?,?)",
                                err)
                         : NULL;
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, tenant_id);
    sqlite_bind_text(st, 2, issuer);
    sqlite_bind_text(st, 3, subject);
    sqlite_bind_text(st, 4, user_id);
    sqlite3_bind_int64(st, 5, now_ms);
    return sqlite_step_done(c, st, "insert sso link", err);
}

int
sqlite_sso_links_of_user(struct store *s, int64_t tenant_id, const char *user_id,
                         struct store_sso_link *out, size_t max, size_t *n, struct err *err)
{
    struct conn *c = conn_of(s, err);
    sqlite3_stmt *st = c ? stmt(c,
                                "SELECT issuer, subject, created_ms FROM sso_links"
                                " WHERE tenant_id=?1 AND user_id=?2"
                                " ORDER BY created_ms, issuer LIMIT ?3",
                                err)
                         : NULL;
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, tenant_id);
    sqlite_bind_text(st, 2, user_id);
    sqlite3_bind_int64(st, 3, (int64_t)max);
    *n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
        struct store_sso_link *l = &out[(*n)++];
        *l = (struct store_sso_link){ .created_ms = sqlite3_column_int64(st, 2) };
        sqlite_col_copy(st, 0, l->issuer, sizeof(l->issuer));
        sqlite_col_copy(st, 1, l->subject, sizeof(l->subject));
        str_copy(l->user_id, sizeof(l->user_id), user_id);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        *n = 0;
        return sqlite_fail(c->db, rc, "list sso links of user", err);
    }
    return 0;
}

int
sqlite_sso_links_delete(struct store *s, int64_t tenant_id, const char *user_id, struct err *err)
{
    struct conn *c = conn_of(s, err);
    sqlite3_stmt *st =
        c ? stmt(c, "DELETE FROM sso_links WHERE tenant_id=? AND user_id=?", err) : NULL;
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, tenant_id);
    sqlite_bind_text(st, 2, user_id);
    if (sqlite_step_done(c, st, "delete sso links of user", err) < 0)
        return -1;
    return sqlite3_changes(c->db);
}

int
sqlite_sso_code_insert(struct store *s, const struct store_sso_code *v, struct err *err)
{
    struct conn *c = conn_of(s, err);
    sqlite3_stmt *st = c ? stmt(c,
                                "INSERT INTO sso_codes(hash, tenant_id, user_id, protocol,"
                                " initiated, expires_ms) VALUES(?,?,?,?,?,?)",
                                err)
                         : NULL;
    if (st == NULL)
        return -1;
    sqlite_bind_text(st, 1, v->hash);
    sqlite3_bind_int64(st, 2, v->tenant_id);
    sqlite_bind_text(st, 3, v->user_id);
    sqlite_bind_text(st, 4, v->protocol);
    sqlite_bind_text(st, 5, v->initiated);
    sqlite3_bind_int64(st, 6, v->expires_ms);
    return sqlite_step_done(c, st, "insert sso code", err);
}

int
sqlite_sso_code_take(struct store *s, const char *hash, int64_t now_ms, struct store_sso_code *out,
                     struct err *err)
{
    struct conn *c = conn_of(s, err);
    if (c == NULL || purge(c, "DELETE FROM sso_codes WHERE expires_ms <= ?1", now_ms, err) < 0)
        return -1;
    sqlite3_stmt *st = stmt(c,
                            "DELETE FROM sso_codes WHERE hash=?"
                            " RETURNING tenant_id, user_id, protocol, initiated, expires_ms",
                            err);
    if (st == NULL)
        return -1;
    sqlite_bind_text(st, 1, hash);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = (struct store_sso_code){ 0 };
        str_copy(out->hash, sizeof(out->hash), hash);
        out->tenant_id = sqlite3_column_int64(st, 0);
        sqlite_col_copy(st, 1, out->user_id, sizeof(out->user_id));
        sqlite_col_copy(st, 2, out->protocol, sizeof(out->protocol));
        sqlite_col_copy(st, 3, out->initiated, sizeof(out->initiated));
        out->expires_ms = sqlite3_column_int64(st, 4);
        rc = sqlite3_step(st);
        rc = rc == SQLITE_DONE ? SQLITE_ROW : rc;
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return err_set(err, ERR_NOT_FOUND, "unknown, used or expired sign-in code");
    return rc == SQLITE_ROW ? 0 : sqlite_fail(c->db, rc, "take sso code", err);
}

int
sqlite_sso_users_by_email(struct store *s, int64_t tenant_id, const char *email,
                          struct store_resource *out, size_t max, size_t *n, struct err *err)
{
    struct conn *c = conn_of(s, err);
    /* Known cost (docs/sso.md): the emails[] half scans the tenant's users; an email index table
     * would make it a lookup. userName is indexed (lower(user_name)). */
    sqlite3_stmt *st =
        c ? stmt(c,
                 "SELECT " RES_COLS " FROM resources r WHERE r.tenant_id=?1 AND r.type=1 AND"
                 " (lower(r.user_name)=?2 OR EXISTS (SELECT 1 FROM json_each(r.doc, '$.emails') e"
                 " WHERE lower(json_extract(e.value, '$.value'))=?2)) ORDER BY r.seq LIMIT ?3",
                 err)
          : NULL;
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, tenant_id);
    sqlite_bind_text(st, 2, email);
    sqlite3_bind_int64(st, 3, (int64_t)max);
    *n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max)
        sqlite_read_resource(st, &out[(*n)++]);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        for (size_t i = 0; i < *n; i++)
            store_resource_cleanup(&out[i]);
        *n = 0;
        return sqlite_fail(c->db, rc, "find users by email", err);
    }
    return 0;
}
