/* The web console's store operations (issue 8), the PostgreSQL dialect of sqlite/console.c;
 * tables from migration 6 in migrate.c. A set-up link is used by one UPDATE … WHERE
 * used_ms = 0: of two instances using one link at once, the second waits for the first's
 * row lock and then finds it used. */
#include "base/str.h"
#include "store/postgres/postgres_int.h"

int
pg_console_session_insert(struct store *s, const struct store_console_session *cs, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_text(&p, cs->id_hash);
    if (cs->tenant_id > 0)
        pg_param_int(&p, cs->tenant_id);
    else
        pg_param_text(&p, NULL); /* an operator session */
    pg_param_text(&p, cs->user_id);
    pg_param_int(&p, cs->created_ms);
    pg_param_int(&p, cs->last_seen_ms);
    pg_param_int(&p, cs->idle_ms);
    pg_param_int(&p, cs->expires_ms);
    return pg_write(s,
                    "INSERT INTO console_sessions(id_hash, tenant_id, user_id, created_ms,"
                    " last_seen_ms, idle_ms, expires_ms) VALUES($1, $2, $3, $4, $5, $6, $7)",
                    &p, "insert console session", err);
}

int
pg_console_session_get(struct store *s, const char *id_hash, struct store_console_session *out,
                       struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_text(&p, id_hash);
    PGresult *res = pg_query(s,
                             "SELECT id_hash, coalesce(tenant_id, 0), user_id, created_ms,"
                             " last_seen_ms, idle_ms, expires_ms"
                             " FROM console_sessions WHERE id_hash = $1",
                             &p, "read console session", err);
    if (res == NULL)
        return -1;
    int found = PQntuples(res) == 1;
    if (found) {
        *out = (struct store_console_session){ 0 };
        str_copy(out->id_hash, sizeof(out->id_hash), PQgetvalue(res, 0, 0));
        out->tenant_id = pg_int(res, 0, 1);
        str_copy(out->user_id, sizeof(out->user_id), PQgetvalue(res, 0, 2));
        out->created_ms = pg_int(res, 0, 3);
        out->last_seen_ms = pg_int(res, 0, 4);
        out->idle_ms = pg_int(res, 0, 5);
        out->expires_ms = pg_int(res, 0, 6);
    }
    PQclear(res);
    return found ? 0 : err_set(err, ERR_NOT_FOUND, "no such session");
}

int
pg_console_session_touch(struct store *s, const char *id_hash, int64_t now_ms, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, now_ms);
    pg_param_text(&p, id_hash);
    return pg_write(s, "UPDATE console_sessions SET last_seen_ms = $1 WHERE id_hash = $2", &p,
                    "touch console session", err);
}

int
pg_console_session_delete(struct store *s, const char *id_hash, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_text(&p, id_hash);
    return pg_write(s, "DELETE FROM console_sessions WHERE id_hash = $1", &p,
                    "delete console session", err);
}

int
pg_console_session_purge(struct store *s, int64_t now_ms, struct err *err)
{
    /* Every sign-in purges: rows another instance is purging at the same moment are skipped,
     * not waited for, so two purges never block or deadlock each other. */
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, now_ms);
    if (pg_write(s,
                 "DELETE FROM console_sessions WHERE id_hash IN (SELECT id_hash"
                 " FROM console_sessions WHERE expires_ms <= $1 OR last_seen_ms + idle_ms <= $1"
                 " FOR UPDATE SKIP LOCKED)",
                 &p, "purge console sessions", err) < 0)
        return -1;
    /* Expired links stay a day, so opening one late says "expired", not "unknown". */
    struct pg_params q = { .n = 0 };
    pg_param_int(&q, now_ms - 86400 * 1000);
    return pg_write(s,
                    "DELETE FROM setup_links WHERE hash IN (SELECT hash FROM setup_links"
                    " WHERE expires_ms <= $1 FOR UPDATE SKIP LOCKED)",
                    &q, "purge set-up links", err);
}

int
pg_setup_link_insert(struct store *s, const struct store_setup_link *l, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_text(&p, l->hash);
    pg_param_int(&p, l->tenant_id);
    pg_param_text(&p, l->user_id);
    pg_param_int(&p, l->created_ms);
    pg_param_int(&p, l->expires_ms);
    pg_param_int(&p, l->used_ms);
    return pg_write(s,
                    "INSERT INTO setup_links(hash, tenant_id, user_id, created_ms, expires_ms,"
                    " used_ms) VALUES($1, $2, $3, $4, $5, $6)",
                    &p, "insert set-up link", err);
}

int
pg_setup_link_get(struct store *s, const char *hash, struct store_setup_link *out, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_text(&p, hash);
    PGresult *res = pg_query(s,
                             "SELECT hash, tenant_id, user_id, created_ms, expires_ms, used_ms"
                             " FROM setup_links WHERE hash = $1",
                             &p, "read set-up link", err);
    if (res == NULL)
        return -1;
    int found = PQntuples(res) == 1;
    if (found) {
        *out = (struct store_setup_link){ 0 };
        str_copy(out->hash, sizeof(out->hash), PQgetvalue(res, 0, 0));
        out->tenant_id = pg_int(res, 0, 1);
        str_copy(out->user_id, sizeof(out->user_id), PQgetvalue(res, 0, 2));
        out->created_ms = pg_int(res, 0, 3);
        out->expires_ms = pg_int(res, 0, 4);
        out->used_ms = pg_int(res, 0, 5);
    }
    PQclear(res);
    return found ? 0 : err_set(err, ERR_NOT_FOUND, "no such set-up link");
}

int
pg_setup_link_use(struct store *s, const char *hash, int64_t now_ms, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, now_ms);
    pg_param_text(&p, hash);
    int n = pg_changed(s, "UPDATE setup_links SET used_ms = $1 WHERE hash = $2 AND used_ms = 0", &p,
                       "use set-up link", err);
    return n < 0 ? -1 : n == 1;
}
