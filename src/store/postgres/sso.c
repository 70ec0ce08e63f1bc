/* Single sign-on (issue 7), the PostgreSQL dialect of sqlite/sso.c; tables from migration 5
 * in migrate.c. Several instances share these rows, so every single-use take is one
 * DELETE … RETURNING (two requests with one handle or code cannot both get the row), and the
 * replay cache and links rely on their unique keys. Inserts that may meet a row of another
 * instance say ON CONFLICT DO NOTHING and report ERR_UNIQUENESS themselves, so a caller's
 * transaction stays usable after the refusal, as it does on SQLite. */

#include "base/str.h"
#include "store/postgres/postgres_int.h"

#define RES_COLS                                                                      \
    "r.id, r.tenant_id, r.type, r.version, r.created_ms, r.modified_ms, r.user_name," \
    " r.external_id, r.display_name, r.active, r.doc_text"

/* Purges a table's rows that expired by now ($1). Rows another instance is purging or taking
 * are skipped, not waited for: two purges of one table never block or deadlock each other. */
#define PURGE(table, key, cols)                                           \
    "DELETE FROM " table " WHERE " key " IN (SELECT " cols " FROM " table \
    " WHERE expires_ms <= $1 FOR UPDATE SKIP LOCKED)"

static int
purge(struct store *s, const char *sql, int64_t now_ms, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, now_ms);
    return pg_write(s, sql, &p, "purge expired sso rows", err);
}

/* An insert with ON CONFLICT DO NOTHING: ERR_UNIQUENESS when it found the row there. */
static int
insert_new(struct store *s, const char *sql, const struct pg_params *p, const char *what,
           struct err *err)
{
    int n = pg_changed(s, sql, p, what, err);
    if (n < 0)
        return -1;
    return n == 1 ? 0 : err_set(err, ERR_UNIQUENESS, NULL);
}

/* Runs a single-row read or take: 1 with the row in *res, 0 when there is none (res
 * cleared), -1 with err. */
static int
one_row(struct store *s, const char *sql, const struct pg_params *p, const char *what,
        PGresult **res, struct err *err)
{
    *res = pg_query(s, sql, p, what, err);
    if (*res == NULL)
        return -1;
    if (PQntuples(*res) == 1)
        return 1;
    PQclear(*res);
    *res = NULL;
    return 0;
}

int
pg_sso_conn_put(struct store *s, const struct store_sso_conn *v, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, v->tenant_id);
    pg_param_text(&p, v->protocol);
    pg_param_text(&p, v->config);
    pg_param_text(&p, v->secret);
    pg_param_int(&p, v->enabled ? 1 : 0);
    pg_param_int(&p, v->updated_ms);
    pg_param_int(&p, v->reset_verified ? 1 : 0);
    return pg_write(s,
                    "INSERT INTO sso_connections(tenant_id, protocol, config, secret, enabled,"
                    " verified_ms, created_ms, updated_ms) VALUES($1, $2, $3, $4, $5, 0, $6, $6)"
                    " ON CONFLICT (tenant_id, protocol) DO UPDATE SET config = excluded.config,"
                    " secret = excluded.secret, enabled = excluded.enabled,"
                    " updated_ms = excluded.updated_ms,"
                    " verified_ms = CASE WHEN $7 = 1 THEN 0 ELSE sso_connections.verified_ms END",
                    &p, "put sso connection", err);
}

int
pg_sso_conn_get(struct store *s, int64_t tenant_id, const char *protocol,
                struct store_sso_conn *out, struct err *err)
{
    struct pg_params p = { .n = 0 };
    PGresult *res;
    pg_param_int(&p, tenant_id);
    pg_param_text(&p, protocol);
    int rc = one_row(s,
                     "SELECT config, secret, enabled, verified_ms, created_ms, updated_ms"
                     " FROM sso_connections WHERE tenant_id = $1 AND protocol = $2",
                     &p, "get sso connection", &res, err);
    if (rc <= 0)
        return rc < 0 ? -1
                      : err_set(err, ERR_NOT_FOUND, "the tenant has no %s connection", protocol);
    *out = (struct store_sso_conn){ .tenant_id = tenant_id };
    str_copy(out->protocol, sizeof(out->protocol), protocol);
    out->config = pg_dup(res, 0, 0);
    out->secret = pg_dup(res, 0, 1);
    out->enabled = pg_int(res, 0, 2) != 0;
    out->verified_ms = pg_int(res, 0, 3);
    out->created_ms = pg_int(res, 0, 4);
    out->updated_ms = pg_int(res, 0, 5);
    PQclear(res);
    return 0;
}

int
pg_sso_conn_delete(struct store *s, int64_t tenant_id, const char *protocol, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, tenant_id);
    pg_param_text(&p, protocol);
    int n = pg_changed(s, "DELETE FROM sso_connections WHERE tenant_id = $1 AND protocol = $2", &p,
                       "delete sso connection", err);
    if (n < 0)
        return -1;
    return n ? 0 : err_set(err, ERR_NOT_FOUND, "the tenant has no %s connection", protocol);
}

int
pg_sso_conn_verified(struct store *s, int64_t tenant_id, const char *protocol, int64_t now_ms,
                     struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, tenant_id);
    pg_param_text(&p, protocol);
    pg_param_int(&p, now_ms);
    return pg_write(s,
                    "UPDATE sso_connections SET verified_ms = $3"
                    " WHERE tenant_id = $1 AND protocol = $2 AND verified_ms = 0",
                    &p, "mark sso connection verified", err);
}

int
pg_sso_tx_insert(struct store *s, const struct store_sso_tx *t, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_text(&p, t->handle);
    pg_param_int(&p, t->tenant_id);
    pg_param_text(&p, t->protocol);
    pg_param_text(&p, t->binding);
    pg_param_text(&p, t->data);
    pg_param_int(&p, t->expires_ms);
    return pg_write(s,
                    "INSERT INTO sso_transactions(handle, tenant_id, protocol, binding, data,"
                    " expires_ms) VALUES($1, $2, $3, $4, $5, $6)",
                    &p, "insert sso transaction", err);
}

int
pg_sso_tx_take(struct store *s, const char *handle, int64_t now_ms, struct store_sso_tx *out,
               struct err *err)
{
    if (purge(s, PURGE("sso_transactions", "handle", "handle"), now_ms, err) < 0)
        return -1;
    struct pg_params p = { .n = 0 };
    PGresult *res;
    pg_param_text(&p, handle);
    int rc = one_row(s,
                     "DELETE FROM sso_transactions WHERE handle = $1"
                     " RETURNING tenant_id, protocol, binding, data, expires_ms",
                     &p, "take sso transaction", &res, err);
    if (rc <= 0)
        return rc < 0 ? -1 : err_set(err, ERR_NOT_FOUND, "no such sign-in transaction");
    *out = (struct store_sso_tx){ 0 };
    str_copy(out->handle, sizeof(out->handle), handle);
    out->tenant_id = pg_int(res, 0, 0);
    str_copy(out->protocol, sizeof(out->protocol), PQgetvalue(res, 0, 1));
    str_copy(out->binding, sizeof(out->binding), PQgetvalue(res, 0, 2));
    out->data = pg_dup(res, 0, 3);
    out->expires_ms = pg_int(res, 0, 4);
    PQclear(res);
    return 0;
}

int
pg_sso_replay_insert(struct store *s, int64_t tenant_id, const char *issuer, const char *id,
                     int64_t expires_ms, int64_t now_ms, struct err *err)
{
    if (purge(s, PURGE("sso_replay", "(issuer, assertion_id)", "issuer, assertion_id"), now_ms,
              err) < 0)
        return -1;
    struct pg_params p = { .n = 0 };
    pg_param_text(&p, issuer);
    pg_param_text(&p, id);
    pg_param_int(&p, tenant_id);
    pg_param_int(&p, expires_ms);
    /* An instance inserting the same assertion at the same moment makes this one wait for its
     * commit, then find the row: one of them is accepted. */
    return insert_new(s,
                      "INSERT INTO sso_replay(issuer, assertion_id, tenant_id, expires_ms)"
                      " VALUES($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                      &p, "insert sso replay entry", err);
}

/* The one text column of the link row matching (tenant, issuer, $3 = key); 1, 0 or -1. */
static int
link_column(struct store *s, const char *sql, int64_t tenant_id, const char *issuer,
            const char *key, char *dst, size_t size, struct err *err)
{
    struct pg_params p = { .n = 0 };
    PGresult *res;
    pg_param_int(&p, tenant_id);
    pg_param_text(&p, issuer);
    pg_param_text(&p, key);
    int rc = one_row(s, sql, &p, "find sso link", &res, err);
    if (rc == 1) {
        str_copy(dst, size, PQgetvalue(res, 0, 0));
        PQclear(res);
    }
    return rc;
}

int
pg_sso_link_find(struct store *s, int64_t tenant_id, const char *issuer, const char *subject,
                 char user_id[37], struct err *err)
{
    int rc = link_column(s,
                         "SELECT user_id FROM sso_links"
                         " WHERE tenant_id = $1 AND issuer = $2 AND subject = $3",
                         tenant_id, issuer, subject, user_id, 37, err);
    if (rc < 0)
        return -1;
    return rc ? 0 : err_set(err, ERR_NOT_FOUND, "no linked user");
}

int
pg_sso_link_of_user(struct store *s, int64_t tenant_id, const char *issuer, const char *user_id,
                    char subject[256], struct err *err)
{
    int rc = link_column(s,
                         "SELECT subject FROM sso_links"
                         " WHERE tenant_id = $1 AND issuer = $2 AND user_id = $3",
                         tenant_id, issuer, user_id, subject, 256, err);
    if (rc < 0)
        return -1;
    return rc ? 0 : err_set(err, ERR_NOT_FOUND, "user not linked");
}

int
pg_sso_link_insert(struct store *s, int64_t tenant_id, const char *issuer, const char *subject,
                   const char *user_id, int64_t now_ms, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, tenant_id);
    pg_param_text(&p, issuer);
    pg_param_text(&p, subject);
    pg_param_text(&p, user_id);
    pg_param_int(&p, now_ms);
    /* Both unique keys (the subject's and the user's link) count as a conflict. */
    return insert_new(s,
                      "INSERT INTO sso_links(tenant_id, issuer, subject, user_id, created_ms)"
                      " VALUES($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                      &p, "insert sso link", err);
}

int
pg_sso_links_of_user(struct store *s, int64_t tenant_id, const char *user_id,
                     struct store_sso_link *out, size_t max, size_t *n, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, tenant_id);
    pg_param_text(&p, user_id);
    pg_param_int(&p, (int64_t)max);
    *n = 0;
    PGresult *res = pg_query(s,
                             "SELECT issuer, subject, created_ms FROM sso_links"
                             " WHERE tenant_id = $1 AND user_id = $2"
                             " ORDER BY created_ms, issuer LIMIT $3",
                             &p, "list sso links of user", err);
    if (res == NULL)
        return -1;
    for (int i = 0; i < PQntuples(res) && *n < max; i++) {
        struct store_sso_link *l = &out[(*n)++];
        *l = (struct store_sso_link){ .created_ms = pg_int(res, i, 2) };
        str_copy(l->issuer, sizeof(l->issuer), PQgetvalue(res, i, 0));
        str_copy(l->subject, sizeof(l->subject), PQgetvalue(res, i, 1));
        str_copy(l->user_id, sizeof(l->user_id), user_id);
    }
    PQclear(res);
    return 0;
}

int
pg_sso_links_delete(struct store *s, int64_t tenant_id, const char *user_id, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, tenant_id);
    pg_param_text(&p, user_id);
    return pg_changed(s, "DELETE FROM sso_links WHERE tenant_id = $1 AND user_id = $2", &p,
                      "delete sso links of user", err);
}

int
pg_sso_code_insert(struct store *s, const struct store_sso_code *v, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_text(&p, v->hash);
    pg_param_int(&p, v->tenant_id);
    pg_param_text(&p, v->user_id);
    pg_param_text(&p, v->protocol);
    pg_param_text(&p, v->initiated);
    pg_param_int(&p, v->expires_ms);
    return pg_write(s,
                    "INSERT INTO sso_codes(hash, tenant_id, user_id, protocol, initiated,"
                    " expires_ms) VALUES($1, $2, $3, $4, $5, $6)",
                    &p, "insert sso code", err);
}

int
pg_sso_code_take(struct store *s, const char *hash, int64_t now_ms, struct store_sso_code *out,
                 struct err *err)
{
    if (purge(s, PURGE("sso_codes", "hash", "hash"), now_ms, err) < 0)
        return -1;
    struct pg_params p = { .n = 0 };
    PGresult *res;
    pg_param_text(&p, hash);
    int rc = one_row(s,
                     "DELETE FROM sso_codes WHERE hash = $1"
                     " RETURNING tenant_id, user_id, protocol, initiated, expires_ms",
                     &p, "take sso code", &res, err);
    if (rc <= 0)
        return rc < 0 ? -1 : err_set(err, ERR_NOT_FOUND, "unknown, used or expired sign-in code");
    *out = (struct store_sso_code){ 0 };
    str_copy(out->hash, sizeof(out->hash), hash);
    out->tenant_id = pg_int(res, 0, 0);
    str_copy(out->user_id, sizeof(out->user_id), PQgetvalue(res, 0, 1));
    str_copy(out->protocol, sizeof(out->protocol), PQgetvalue(res, 0, 2));
    str_copy(out->initiated, sizeof(out->initiated), PQgetvalue(res, 0, 3));
    out->expires_ms = pg_int(res, 0, 4);
    PQclear(res);
    return 0;
}

int
pg_sso_users_by_email(struct store *s, int64_t tenant_id, const char *email,
                      struct store_resource *out, size_t max, size_t *n, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, tenant_id);
    pg_param_text(&p, email);
    pg_param_int(&p, (int64_t)max);
    *n = 0;
    /* As on SQLite, the emails[] half scans the tenant's users (a known cost, docs/sso.md). lower()
     * of COLLATE "C" text folds ASCII only, as SQLite's does. */
    PGresult *res = pg_query(
        s,
        "SELECT " RES_COLS " FROM resources r WHERE r.tenant_id = $1 AND r.type = 1 AND"
        " (lower(r.user_name) = $2::text OR EXISTS (SELECT 1 FROM jsonb_array_elements("
        "CASE jsonb_typeof(r.doc -> 'emails') WHEN 'array' THEN r.doc -> 'emails' END) AS e(value)"
        " WHERE lower((e.value ->> 'value') COLLATE \"C\") = $2::text)) ORDER BY r.seq LIMIT $3",
        &p, "find users by email", err);
    if (res == NULL)
        return -1;
    int rows = PQntuples(res);
    for (int i = 0; i < rows && *n < max; i++)
        pg_read_resource(res, i, &out[(*n)++]);
    PQclear(res);
    return 0;
}
