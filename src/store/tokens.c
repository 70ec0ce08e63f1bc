/* Bearer tokens of identity providers: only their hash is stored. */
#include <stdint.h>

#include "store/db.h"
#include "store/rows.h"
#include "store/store_int.h"

void
rows_read_token(struct db_stmt *st, struct store_token *t)
{
    *t = (struct store_token){ 0 };
    db_copy(st, 0, t->id, sizeof(t->id));
    t->tenant_id = db_int(st, 1);
    db_copy(st, 2, t->hash, sizeof(t->hash));
    db_copy(st, 3, t->prefix, sizeof(t->prefix));
    db_copy(st, 4, t->label, sizeof(t->label));
    t->created_ms = db_int(st, 5);
    t->last_used_ms = db_int(st, 6);
    t->revoked_ms = db_int(st, 7);
    t->expires_ms = db_int(st, 8);
}

static void
read_token(struct db_stmt *st, void *row)
{
    rows_read_token(st, row);
}

int
store_token_insert(struct store *s, const struct store_token *t, struct err *err)
{
    static struct db_sql q = DB_SQL("INSERT INTO tokens(" TOKEN_COLS ") VALUES(?,?,?,?,?,?,?,?,?)");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, t->id);
    db_bind_int(st, 2, t->tenant_id);
    db_bind_text(st, 3, t->hash);
    db_bind_text(st, 4, t->prefix);
    db_bind_text(st, 5, t->label);
    db_bind_int(st, 6, t->created_ms);
    db_bind_int(st, 7, t->last_used_ms);
    db_bind_int(st, 8, t->revoked_ms);
    db_bind_int(st, 9, t->expires_ms);
    return db_exec(st, err) < 0 ? -1 : 0;
}

struct auth_row {
    struct store_token *tok;
    struct store_tenant *tenant;
};

static void
read_auth(struct db_stmt *st, void *row)
{
    struct auth_row *a = row;
    rows_read_token(st, a->tok);
    rows_read_tenant(st, 9, a->tenant);
    a->tenant->group_count = db_int(st, 20);
}

int
store_token_auth_lookup(struct store *s, const char *hash, struct store_token *tok,
                        struct store_tenant *tenant, struct err *err)
{
    /* The hot path of every SCIM request: token, tenant and group count in one read. */
    static struct db_sql q =
        DB_SQL("SELECT t.id, t.tenant_id, t.hash, t.prefix, t.label, t.created_ms,"
               " t.last_used_ms, t.revoked_ms, t.expires_ms, n.id, n.slug, n.display_name,"
               " n.plan, n.mode, n.deactivation, n.integration_enabled, n.saml_required,"
               " n.created_ms, n.updated_ms, n.public_url,"
               " (SELECT coalesce(sum(c.n), 0) FROM resource_counts c"
               "  WHERE c.tenant_id = t.tenant_id AND c.type = 2)"
               " FROM tokens t JOIN tenants n ON n.id = t.tenant_id WHERE t.hash=?");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, hash);
    struct auth_row a = { tok, tenant };
    int rc = db_first(st, read_auth, &a, err);
    if (rc < 0)
        return -1;
    return rc ? 0 : err_set(err, ERR_NOT_FOUND, "no such token");
}

int
store_token_get(struct store *s, int64_t tenant_id, const char *id, struct store_token *out,
                struct err *err)
{
    static struct db_sql q = DB_SQL("SELECT " TOKEN_COLS " FROM tokens WHERE tenant_id=? AND id=?");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    db_bind_text(st, 2, id);
    int rc = db_first(st, read_token, out, err);
    if (rc < 0)
        return -1;
    return rc ? 0 : err_set(err, ERR_NOT_FOUND, "no such token");
}

int
store_token_list(struct store *s, int64_t tenant_id, struct store_token **out, size_t *n,
                 struct err *err)
{
    static struct db_sql q = DB_SQL("SELECT " TOKEN_COLS " FROM tokens WHERE tenant_id=?"
                                    " ORDER BY created_ms DESC, id DESC");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    return db_collect(st, sizeof(**out), SIZE_MAX, read_token, NULL, (void **)out, n, err);
}

int
store_token_update(struct store *s, const struct store_token *t, struct err *err)
{
    static struct db_sql q =
        DB_SQL("UPDATE tokens SET label=?, revoked_ms=?, expires_ms=? WHERE id=?");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, t->label);
    db_bind_int(st, 2, t->revoked_ms);
    db_bind_int(st, 3, t->expires_ms);
    db_bind_text(st, 4, t->id);
    int64_t n = db_exec(st, err);
    if (n < 0)
        return -1;
    return n ? 0 : err_set(err, ERR_NOT_FOUND, "no such token");
}

int
store_token_touch(struct store *s, const char *id, int64_t now_ms, struct err *err)
{
    /* Every request of a busy integration authenticates with the same token: on PostgreSQL
     * an instance that finds the row locked by another's update skips its own instead of
     * queueing (SQLite has one writer at a time anyway). */
    static struct db_sql q =
        DB_SQL2("UPDATE tokens SET last_used_ms=?1 WHERE id=?2 AND last_used_ms < ?1",
                "UPDATE tokens SET last_used_ms=?1 WHERE id = (SELECT id FROM tokens"
                " WHERE id=?2 AND last_used_ms < ?1 FOR UPDATE SKIP LOCKED)");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, now_ms);
    db_bind_text(st, 2, id);
    return db_exec(st, err) < 0 ? -1 : 0;
}
