/* Bearer tokens of identity providers: only their hash is stored. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/str.h"
#include "base/xmalloc.h"

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
    struct store_user_read *user;
    bool groups_ok;
};

static int
member_by_id(const void *a, const void *b)
{
    return strcmp(((const struct store_member *)a)->id, ((const struct store_member *)b)->id);
}

/* The user's groups as the statement aggregated them: a JSON array of [id, displayName]
 * pairs (NULL or [] for none); sorted by id, as store_member_groups returns them. */
static bool
read_groups(const char *text, struct store_user_read *u)
{
    if (text == NULL)
        return true;
    json_t *a = json_loads(text, 0, NULL);
    if (!json_is_array(a)) {
        json_decref(a);
        return false;
    }
    size_t n = json_array_size(a);
    u->groups = n ? xcalloc(n, sizeof(*u->groups)) : NULL;
    for (size_t i = 0; i < n; i++) {
        const json_t *pair = json_array_get(a, i);
        const char *id = json_string_value(json_array_get(pair, 0));
        const char *display = json_string_value(json_array_get(pair, 1));
        if (id == NULL) {
            json_decref(a);
            return false;
        }
        str_copy(u->groups[u->n_groups].id, sizeof(u->groups[0].id), id);
        u->groups[u->n_groups++].display = display ? xstrdup(display) : NULL;
    }
    json_decref(a);
    qsort(u->groups, u->n_groups, sizeof(*u->groups), member_by_id);
    return true;
}

static void
read_auth(struct db_stmt *st, void *row)
{
    struct auth_row *a = row;
    rows_read_token(st, a->tok);
    rows_read_tenant(st, 9, a->tenant);
    a->tenant->group_count = db_int(st, 20);
    a->groups_ok = true;
    if (a->user == NULL || db_is_null(st, 21))
        return;
    a->user->found = true;
    rows_read_resource(st, 21, &a->user->user);
    a->groups_ok = read_groups(db_is_null(st, 32) ? NULL : db_text(st, 32), a->user);
}

#define AUTH_COLS                                                                          \
    "t.id, t.tenant_id, t.hash, t.prefix, t.label, t.created_ms, t.last_used_ms,"          \
    " t.revoked_ms, t.expires_ms, n.id, n.slug, n.display_name, n.plan, n.mode,"           \
    " n.deactivation, n.integration_enabled, n.saml_required, n.created_ms, n.updated_ms," \
    " n.public_url, (SELECT coalesce(sum(c.n), 0) FROM resource_counts c"                  \
    "  WHERE c.tenant_id = t.tenant_id AND c.type = 2)"
#define AUTH_FROM " FROM tokens t JOIN tenants n ON n.id = t.tenant_id"
/* The user's groups, one [id, displayName] pair each. */
#define USER_GROUPS(agg, pair, order)                                                     \
    "(SELECT " agg "(" pair "(m.group_id, g.display_name)" order ") FROM members m"       \
    " JOIN resources g ON g.tenant_id = m.tenant_id AND g.type = 2 AND g.id = m.group_id" \
    " WHERE m.tenant_id = r.tenant_id AND m.member_id = r.id)"
/* The type is written, not bound: SQLite re-prepares a statement at every execution when a
 * bound value decides whether a partial index (resources_by_user_name: type = 1) applies. */
#define AUTH_USER_FROM                                                             \
    AUTH_FROM " LEFT JOIN resources r ON r.tenant_id = t.tenant_id AND r.type = 1" \
              " AND r.id = ?2 WHERE t.hash = ?1"
#define USER_COLS(doc)         RESOURCE_COLS_OF("r.", doc)
#define AUTH_USER(doc, groups) "SELECT " AUTH_COLS ", " USER_COLS(doc) ", " groups AUTH_USER_FROM

int
store_token_auth_lookup(struct store *s, const char *hash, struct store_token *tok,
                        struct store_tenant *tenant, struct store_user_read *user, struct err *err)
{
    /* The hot path of every SCIM request: token, tenant and group count in one read; for a
     * GET of a user also the user (of the token's tenant only: the join says so) and its
     * groups, so the request is one statement: one round trip to PostgreSQL, one snapshot
     * without a transaction around it. */
    static struct db_sql token_only = DB_SQL("SELECT " AUTH_COLS AUTH_FROM " WHERE t.hash=?");
    static struct db_sql with_user = DB_SQL2(
        AUTH_USER("doc", USER_GROUPS("json_group_array", "json_array", "")),
        AUTH_USER("doc_text", USER_GROUPS("json_agg", "json_build_array", " ORDER BY m.group_id")));
    struct db_stmt *st = db_prepare(s, user ? &with_user : &token_only, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, hash);
    if (user) {
        *user = (struct store_user_read){ .id = user->id };
        db_bind_text(st, 2, user->id);
    }
    struct auth_row a = { tok, tenant, user, true };
    int rc = db_first(st, read_auth, &a, err);
    if (rc < 0)
        return -1;
    if (!a.groups_ok) {
        store_user_read_cleanup(user);
        return err_set(err, ERR_INTERNAL, "unreadable groups of user %s", user->id);
    }
    return rc ? 0 : err_set(err, ERR_NOT_FOUND, "no such token");
}

void
store_user_read_cleanup(struct store_user_read *r)
{
    if (r == NULL)
        return;
    store_resource_cleanup(&r->user);
    store_members_free(r->groups, r->n_groups);
    *r = (struct store_user_read){ .id = r->id };
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
