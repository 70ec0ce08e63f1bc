#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_int.h"

/* The web console's tables for the SQLite backend (issue 8): sessions and set-up links hold
 * only SHA-256 hashes of their secrets, so a copy of the database lets no one in. Both go
 * with their tenant (ON DELETE CASCADE); an operator session has no tenant (NULL). */

#define SQL(text) text, sizeof(text) - 1

const char sqlite_console_migration[] =
    "CREATE TABLE console_sessions ("
    "  id_hash TEXT PRIMARY KEY,"
    "  tenant_id INTEGER REFERENCES tenants(id) ON DELETE CASCADE,"
    "  user_id TEXT NOT NULL DEFAULT '',"
    "  created_ms INTEGER NOT NULL,"
    "  last_seen_ms INTEGER NOT NULL,"
    "  idle_ms INTEGER NOT NULL,"
    "  expires_ms INTEGER NOT NULL);"
    "CREATE INDEX console_sessions_by_expiry ON console_sessions(expires_ms);"
    "CREATE TABLE setup_links ("
    "  hash TEXT PRIMARY KEY,"
    "  tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
    "  user_id TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  expires_ms INTEGER NOT NULL,"
    "  used_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX setup_links_by_expiry ON setup_links(expires_ms);"
    /* A user's history on the console reads events by resource. */
    "CREATE INDEX events_by_resource ON events(tenant_id, resource_id, seq);";

int
sqlite_console_session_insert(struct store *s, const struct store_console_session *cs,
                              struct err *err)
{
    struct conn *c;
    sqlite3_stmt *st =
        sqlite_prepared(s, &c,
                        SQL("INSERT INTO console_sessions(id_hash, tenant_id, user_id,"
                            " created_ms, last_seen_ms, idle_ms, expires_ms)"
                            " VALUES(?,?,?,?,?,?,?)"),
                        err);
    if (st == NULL)
        return -1;
    sqlite_bind_text(st, 1, cs->id_hash);
    if (cs->tenant_id > 0)
        sqlite3_bind_int64(st, 2, cs->tenant_id);
    else
        sqlite3_bind_null(st, 2);
    sqlite_bind_text(st, 3, cs->user_id);
    sqlite3_bind_int64(st, 4, cs->created_ms);
    sqlite3_bind_int64(st, 5, cs->last_seen_ms);
    sqlite3_bind_int64(st, 6, cs->idle_ms);
    sqlite3_bind_int64(st, 7, cs->expires_ms);
    return sqlite_step_done(c, st, "insert console session", err);
}

int
sqlite_console_session_get(struct store *s, const char *id_hash, struct store_console_session *out,
                           struct err *err)
{
    struct conn *c;
    sqlite3_stmt *st =
        sqlite_prepared(s, &c,
                        SQL("SELECT id_hash, coalesce(tenant_id, 0), user_id, created_ms,"
                            " last_seen_ms, idle_ms, expires_ms"
                            " FROM console_sessions WHERE id_hash = ?"),
                        err);
    if (st == NULL)
        return -1;
    sqlite_bind_text(st, 1, id_hash);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = (struct store_console_session){ 0 };
        sqlite_col_copy(st, 0, out->id_hash, sizeof(out->id_hash));
        out->tenant_id = sqlite3_column_int64(st, 1);
        sqlite_col_copy(st, 2, out->user_id, sizeof(out->user_id));
        out->created_ms = sqlite3_column_int64(st, 3);
        out->last_seen_ms = sqlite3_column_int64(st, 4);
        out->idle_ms = sqlite3_column_int64(st, 5);
        out->expires_ms = sqlite3_column_int64(st, 6);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return err_set(err, ERR_NOT_FOUND, "no such session");
    return rc == SQLITE_ROW ? 0 : sqlite_fail(c->db, rc, "read console session", err);
}

int
sqlite_console_session_touch(struct store *s, const char *id_hash, int64_t now_ms, struct err *err)
{
    struct conn *c;
    sqlite3_stmt *st = sqlite_prepared(
        s, &c, SQL("UPDATE console_sessions SET last_seen_ms = ? WHERE id_hash = ?"), err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, now_ms);
    sqlite_bind_text(st, 2, id_hash);
    return sqlite_step_done(c, st, "touch console session", err);
}

int
sqlite_console_session_delete(struct store *s, const char *id_hash, struct err *err)
{
    struct conn *c;
    sqlite3_stmt *st =
        sqlite_prepared(s, &c, SQL("DELETE FROM console_sessions WHERE id_hash = ?"), err);
    if (st == NULL)
        return -1;
    sqlite_bind_text(st, 1, id_hash);
    return sqlite_step_done(c, st, "delete console session", err);
}

int
sqlite_console_session_purge(struct store *s, int64_t now_ms, struct err *err)
{
    struct conn *c;
    sqlite3_stmt *st = sqlite_prepared(s, &c,
                                       SQL("DELETE FROM console_sessions WHERE expires_ms <= ?1"
                                           " OR last_seen_ms + idle_ms <= ?1"),
                                       err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, now_ms);
    if (sqlite_step_done(c, st, "purge console sessions", err) < 0)
        return -1;
    /* Expired links stay a day, so opening one late says "expired", not "unknown". */
    st = sqlite_prepared(s, &c, SQL("DELETE FROM setup_links WHERE expires_ms <= ?"), err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, now_ms - 86400 * 1000);
    return sqlite_step_done(c, st, "purge set-up links", err);
}

int
sqlite_setup_link_insert(struct store *s, const struct store_setup_link *l, struct err *err)
{
    struct conn *c;
    sqlite3_stmt *st =
        sqlite_prepared(s, &c,
                        SQL("INSERT INTO setup_links(hash, tenant_id, user_id, created_ms,"
                            " expires_ms, used_ms) VALUES(?,?,?,?,?,?)"),
                        err);
    if (st == NULL)
        return -1;
    sqlite_bind_text(st, 1, l->hash);
    sqlite3_bind_int64(st, 2, l->tenant_id);
    sqlite_bind_text(st, 3, l->user_id);
    sqlite3_bind_int64(st, 4, l->created_ms);
    sqlite3_bind_int64(st, 5, l->expires_ms);
    sqlite3_bind_int64(st, 6, l->used_ms);
    return sqlite_step_done(c, st, "insert set-up link", err);
}

int
sqlite_setup_link_get(struct store *s, const char *hash, struct store_setup_link *out,
                      struct err *err)
{
    struct conn *c;
    sqlite3_stmt *st =
        sqlite_prepared(s, &c,
                        SQL("SELECT hash, tenant_id, user_id, created_ms, expires_ms, used_ms"
                            " FROM setup_links WHERE hash = ?"),
                        err);
    if (st == NULL)
        return -1;
    sqlite_bind_text(st, 1, hash);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = (struct store_setup_link){ 0 };
        sqlite_col_copy(st, 0, out->hash, sizeof(out->hash));
        out->tenant_id = sqlite3_column_int64(st, 1);
        sqlite_col_copy(st, 2, out->user_id, sizeof(out->user_id));
        out->created_ms = sqlite3_column_int64(st, 3);
        out->expires_ms = sqlite3_column_int64(st, 4);
        out->used_ms = sqlite3_column_int64(st, 5);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return err_set(err, ERR_NOT_FOUND, "no such set-up link");
    return rc == SQLITE_ROW ? 0 : sqlite_fail(c->db, rc, "read set-up link", err);
}

int
sqlite_setup_link_use(struct store *s, const char *hash, int64_t now_ms, struct err *err)
{
    struct conn *c;
    sqlite3_stmt *st = sqlite_prepared(
        s, &c, SQL("UPDATE setup_links SET used_ms = ? WHERE hash = ? AND used_ms = 0"), err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, now_ms);
    sqlite_bind_text(st, 2, hash);
    if (sqlite_step_done(c, st, "use set-up link", err) < 0)
        return -1;
    return sqlite3_changes(c->db) == 1 ? 1 : 0;
}
