/* Bearer tokens of identity providers: only their hash is stored. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/xmalloc.h"

#include "store/db.h"
#include "store/rows.h"
#include "store/sqlgen.h"
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

/* The generation column (store_generation) of each statement: after all the others. */
#define AUTH_GEN_COL      21
#define AUTH_USER_GEN_COL 34

struct auth_row {
    struct store_token *tok;
    struct store_tenant *tenant;
    struct store_user_read *user;
    struct store_generation *gen; /* NULL: not asked */
};

static void
read_auth(struct db_stmt *st, void *row)
{
    struct auth_row *a = row;
    rows_read_token(st, a->tok);
    rows_read_tenant(st, 9, a->tenant);
    a->tenant->group_count = db_int(st, 20);
    int gen_col = a->user ? AUTH_USER_GEN_COL : AUTH_GEN_COL;
    if (a->gen && !db_is_null(st, gen_col))
        store_generation_of_text(db_text(st, gen_col), a->gen);
    if (a->user == NULL || db_is_null(st, 21))
        return;
    a->user->found = true;
    rows_read_resource(st, 21, &a->user->user);
}

/* One group of the user from a row of the statement below (none: the row's group is NULL). */
static void
read_group(struct db_stmt *st, struct store_user_read *u, size_t *cap)
{
    if (db_is_null(st, 32))
        return;
    if (u->n_groups == *cap)
        u->groups = xgrow(u->groups, cap, 8, sizeof(*u->groups));
    struct store_member *m = &u->groups[u->n_groups++];
    db_copy(st, 32, m->id, sizeof(m->id));
    m->display = db_dup(st, 33);
}

#define TOKEN_TENANT_COLS                                                                  \
    "t.id, t.tenant_id, t.hash, t.prefix, t.label, t.created_ms, t.last_used_ms,"          \
    " t.revoked_ms, t.expires_ms, n.id, n.slug, n.display_name, n.plan, n.mode,"           \
    " n.deactivation, n.integration_enabled, n.saml_required, n.created_ms, n.updated_ms," \
    " n.public_url"
#define AUTH_COLS                                                              \
    TOKEN_TENANT_COLS ", (SELECT coalesce(sum(c.n), 0) FROM resource_counts c" \
                      "  WHERE c.tenant_id = t.tenant_id AND c.type = 2)"
#define AUTH_FROM " FROM tokens t JOIN tenants n ON n.id = t.tenant_id"
/* One row per group of the user (one row with NULL group columns when it has none, or when
 * the token's tenant has no such user); `user` is the condition on r that picks the user.
 * Unordered: the groups are sorted here (by_group_id). An ORDER BY cost PostgreSQL a sort
 * node set up on every read even for no group at all (a sixth of the statement's rate in
 * pgbench); SQLite gave the order for free, but C sorts a handful of ids for less. The types
 * are written, not bound: SQLite compiles a statement again at every execution when a
 * bound value decides whether a partial index (resources_by_user_name: type = 1) applies. */
#define AUTH_USER_FROM(user)                                                             \
    AUTH_FROM " LEFT JOIN resources r ON r.tenant_id = t.tenant_id AND r.type = 1"       \
              " AND " user                                                               \
              " LEFT JOIN members m ON m.tenant_id = r.tenant_id AND m.member_id = r.id" \
              " LEFT JOIN resources g ON g.tenant_id = m.tenant_id AND g.type = 2"       \
              " AND g.id = m.group_id WHERE t.hash = ?1"
/* The group count is not read (-1): the user's groups come with it, and nothing else of a
 * read of one user needs it (a sum over the count shards: a tenth of the statement's time). */
#define AUTH_USER(doc, user, gen)                                       \
    "SELECT " TOKEN_TENANT_COLS                                         \
    ", -1, " RESOURCE_COLS_OF("r.", doc) ", g.id, g.display_name, " gen \
    AUTH_USER_FROM(user)
/* By userName: the expression of a `userName eq` filter (case-insensitive, with the dialect's
 * fold), so that both find the same user through resources_by_user_name. */
#define BY_ID      "r.id = ?2"
#define BY_NAME    "lower(r.user_name) = " SQLGEN_FOLD_SQLITE("?2")
#define BY_NAME_PG "lower(r.user_name) = " SQLGEN_FOLD_PG("?2")

/* A user's groups in id order, bytewise: what the listing of groups (ORDER BY id, COLLATE "C"
 * on PostgreSQL) and a GET always gave. */
static int
by_group_id(const void *a, const void *b)
{
    return strcmp(((const struct store_member *)a)->id, ((const struct store_member *)b)->id);
}

int
store_token_auth_lookup(struct store *s, const char *hash, struct store_token *tok,
                        struct store_tenant *tenant, struct store_user_read *user,
                        struct store_generation *gen, struct err *err)
{
    /* The hot path of every SCIM request: token, tenant and group count in one read; for a
     * read of one user (GET by id, a userName eq filter) also that user (of the token's
     * tenant only: the join says so) and its groups, so the request is one statement: one
     * round trip to PostgreSQL, one snapshot without a transaction around it. */
    static struct db_sql token_only =
        DB_SQL2("SELECT " AUTH_COLS ", " STORE_GENERATION_SQLITE AUTH_FROM " WHERE t.hash=?",
                "SELECT " AUTH_COLS ", " STORE_GENERATION_PG AUTH_FROM " WHERE t.hash=?");
    static struct db_sql by_id = DB_SQL2(AUTH_USER("doc", BY_ID, STORE_GENERATION_SQLITE),
                                         AUTH_USER("doc_text", BY_ID, STORE_GENERATION_PG));
    static struct db_sql by_name = DB_SQL2(AUTH_USER("doc", BY_NAME, STORE_GENERATION_SQLITE),
                                           AUTH_USER("doc_text", BY_NAME_PG, STORE_GENERATION_PG));
    /* SQLite tells its generation without a statement: read before this one, so no later
     * than what it sees. PostgreSQL's is the statement's own snapshot, in a column. */
    if (gen && !(store_generation_is_local(s) && store_generation(s, gen) == 0))
        gen->known = false;
    struct db_stmt *st = db_prepare(s,
                                    user == NULL ? &token_only
                                    : user->id   ? &by_id
                                                 : &by_name,
                                    err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, hash);
    struct auth_row a = { tok, tenant, user, gen };
    if (user == NULL) {
        int rc = db_first(st, read_auth, &a, err);
        if (rc < 0)
            return -1;
        return rc ? 0 : err_set(err, ERR_NOT_FOUND, "no such token");
    }
    *user = (struct store_user_read){ .id = user->id, .user_name = user->user_name };
    db_bind_text(st, 2, user->id ? user->id : user->user_name);
    int rc = db_step(st, err);
    if (rc == 0)
        return err_set(err, ERR_NOT_FOUND, "no such token");
    size_t cap = 0;
    if (rc == 1)
        read_auth(st, &a);
    /* A user's groups are bounded by what one tenant holds; each row is one of them. */
    while (rc == 1) {
        if (user->found)
            read_group(st, user, &cap);
        rc = db_step(st, err);
    }
    if (rc < 0) {
        store_user_read_cleanup(user);
        return -1;
    }
    if (user->n_groups > 1)
        qsort(user->groups, user->n_groups, sizeof(*user->groups), by_group_id);
    return 0;
}

void
store_user_read_cleanup(struct store_user_read *r)
{
    if (r == NULL)
        return;
    store_resource_cleanup(&r->user);
    store_members_free(r->groups, r->n_groups);
    *r = (struct store_user_read){ .id = r->id, .user_name = r->user_name };
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
