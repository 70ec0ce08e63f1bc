#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_int.h"

/* Roles and audit events for the SQLite backend. The statements are prepared once per
 * connection through the statement cache. */

#define SQL(text) text, sizeof(text) - 1

/* The role of the user's mapped group with the lowest priority number, for a user_roles
 * row aliased `ur`. Groups are matched by lower(displayName) like their unique index. */
#define GROUP_ROLE                                                                             \
    "(SELECT rm.role FROM members m"                                                           \
    " JOIN resources g ON g.tenant_id = m.tenant_id AND g.type = 2 AND g.id = m.group_id"      \
    " JOIN role_map rm ON rm.tenant_id = m.tenant_id AND rm.group_key = lower(g.display_name)" \
    " WHERE m.tenant_id = ur.tenant_id AND m.member_id = ur.user_id"                           \
    " ORDER BY rm.priority LIMIT 1)"

/* The users in `scope` (a condition on ur; ?1 is the tenant) with their recomputed role and
 * its source; ?3 is the configured default role (NULL: none, stored as ''). One text per
 * scope: "?2 IS NULL OR ur.user_id = ?2" would scan the tenant. */
#define RECOMPUTED(scope)                                                                  \
    "SELECT x.user_id, x.role AS old_role, coalesce(x.g, x.direct_role, ?3, '') AS role,"  \
    " CASE WHEN x.g IS NOT NULL THEN 'group' WHEN x.direct_role IS NOT NULL THEN 'direct'" \
    " ELSE 'default' END AS source"                                                        \
    " FROM (SELECT ur.user_id, ur.role, ur.direct_role, " GROUP_ROLE " AS g"               \
    " FROM user_roles ur WHERE ur.tenant_id = ?1 AND " scope ") x"

/* Records a role_changed event for each user in scope whose role moves (?2 user, ?3 default
 * role, ?4 time, ?5 actor), then moves them. Events first: they need the old role. */
#define ROLE_EVENTS(scope)                                                                   \
    "INSERT INTO events(tenant_id, created_ms, actor, kind, rtype, resource_id, data)"       \
    " SELECT ?1, ?4, ?5, 'user.role_changed', 1, user_id,"                                   \
    " json_object('role', json_object('before', old_role, 'after', role), 'source', source)" \
    " FROM (" RECOMPUTED(scope) ") WHERE role IS NOT old_role ORDER BY user_id"
#define ROLE_UPDATE(scope)                                                           \
    "UPDATE user_roles AS u SET role = n.role, source = n.source FROM (" RECOMPUTED( \
        scope) ") AS n WHERE u.tenant_id = ?1 AND u.user_id = n.user_id"             \
               " AND (u.role IS NOT n.role OR u.source IS NOT n.source)"
#define SCOPE_USER "ur.user_id = ?2"
#define SCOPE_ALL  "?2 IS NULL"

static const struct {
    const char *sql;
    size_t len;
} refresh_sql[2][2] = {
    /* [all users][update] */
    { { SQL(ROLE_EVENTS(SCOPE_USER)) }, { SQL(ROLE_UPDATE(SCOPE_USER)) } },
    { { SQL(ROLE_EVENTS(SCOPE_ALL)) }, { SQL(ROLE_UPDATE(SCOPE_ALL)) } },
};

/* The thread's connection in *c and the statement for sql, with ?1 bound to the tenant:
 * every statement here is about one tenant. */
static sqlite3_stmt *
tenant_stmt(struct store *s, struct conn **c, const char *sql, size_t len, int64_t tenant_id,
            struct err *err)
{
    sqlite3_stmt *st = sqlite_prepared(s, c, sql, len, err);
    if (st)
        sqlite3_bind_int64(st, 1, tenant_id);
    return st;
}

int
sqlite_event_insert(struct store *s, const struct store_event *e, struct err *err)
{
    struct conn *c;
    sqlite3_stmt *st = tenant_stmt(s, &c,
                                   SQL("INSERT INTO events(tenant_id, created_ms, actor, kind,"
                                       " rtype, resource_id, data) VALUES(?,?,?,?,?,?,?)"),
                                   e->tenant_id, err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 2, e->created_ms);
    sqlite_bind_text(st, 3, e->actor);
    sqlite_bind_text(st, 4, e->kind);
    sqlite3_bind_int(st, 5, (int)e->rtype);
    sqlite_bind_text(st, 6, e->resource_id);
    sqlite_bind_text(st, 7, e->data ? e->data : "{}");
    return sqlite_step_done(c, st, "insert event", err);
}

void
sqlite_read_event(sqlite3_stmt *st, void *row)
{
    struct store_event *e = row;
    e->seq = sqlite3_column_int64(st, 0);
    e->tenant_id = sqlite3_column_int64(st, 1);
    e->created_ms = sqlite3_column_int64(st, 2);
    sqlite_col_copy(st, 3, e->actor, sizeof(e->actor));
    sqlite_col_copy(st, 4, e->kind, sizeof(e->kind));
    e->rtype = (enum store_rtype)sqlite3_column_int(st, 5);
    sqlite_col_copy(st, 6, e->resource_id, sizeof(e->resource_id));
    e->data = sqlite_col_dup(st, 7);
}

void
sqlite_drop_event(void *row)
{
    free(((struct store_event *)row)->data);
}

int
sqlite_event_list(struct store *s, int64_t tenant_id, int64_t after_seq, size_t limit,
                  struct store_event **out, size_t *n, struct err *err)
{
    *out = NULL;
    *n = 0;
    struct conn *c;
    sqlite3_stmt *st = tenant_stmt(s, &c,
                                   SQL("SELECT seq, tenant_id, created_ms, actor, kind, rtype,"
                                       " resource_id, data FROM events"
                                       " WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?"),
                                   tenant_id, err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 2, after_seq);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
    return sqlite_collect(c, st, sizeof(**out), limit, sqlite_read_event, sqlite_drop_event,
                          (void **)out, n, "list events", err);
}

static void
read_rule(sqlite3_stmt *st, void *row)
{
    struct store_role_rule *r = row;
    sqlite_col_copy(st, 0, r->group, sizeof(r->group));
    sqlite_col_copy(st, 1, r->role, sizeof(r->role));
    r->priority = sqlite3_column_int64(st, 2);
}

int
sqlite_role_map_get(struct store *s, int64_t tenant_id, struct store_role_rule **out, size_t *n,
                    struct err *err)
{
    *out = NULL;
    *n = 0;
    struct conn *c;
    sqlite3_stmt *st = tenant_stmt(s, &c,
                                   SQL("SELECT group_name, role, priority"
                                       " FROM role_map WHERE tenant_id = ?"
                                       " ORDER BY priority"),
                                   tenant_id, err);
    if (st == NULL)
        return -1;
    return sqlite_collect(c, st, sizeof(**out), SIZE_MAX, read_rule, NULL, (void **)out, n,
                          "read role map", err);
}

int
sqlite_role_map_set(struct store *s, int64_t tenant_id, const struct store_role_rule *v, size_t n,
                    struct err *err)
{
    struct conn *c;
    sqlite3_stmt *st =
        tenant_stmt(s, &c, SQL("DELETE FROM role_map WHERE tenant_id = ?"), tenant_id, err);
    if (st == NULL)
        return -1;
    if (sqlite_step_done(c, st, "clear role map", err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        st = sqlite_cached_stmt(c,
                                SQL("INSERT INTO role_map(tenant_id, group_key, group_name,"
                                    " role, priority) VALUES(?1, lower(?2), ?2, ?3, ?4)"),
                                err);
        if (st == NULL)
            return -1;
        sqlite3_bind_int64(st, 1, tenant_id);
        sqlite_bind_text(st, 2, v[i].group);
        sqlite_bind_text(st, 3, v[i].role);
        sqlite3_bind_int64(st, 4, v[i].priority);
        if (sqlite_step_done(c, st, "write role map", err) < 0)
            return err->code == ERR_UNIQUENESS
                       ? err_set(err, ERR_CONFLICT,
                                 "role map names group \"%.100s\" or priority "
                                 "%lld twice",
                                 v[i].group, (long long)v[i].priority)
                       : -1;
    }
    return 0;
}

int
sqlite_user_role_set(struct store *s, int64_t tenant_id, const char *user_id, const char *direct,
                     const char *dflt, struct err *err)
{
    struct conn *c;
    sqlite3_stmt *st = tenant_stmt(s, &c,
                                   SQL("INSERT INTO user_roles(tenant_id, user_id, direct_role,"
                                       " role, source) VALUES(?1, ?2, ?3, coalesce(?3, ?4, ''),"
                                       " CASE WHEN ?3 IS NULL THEN 'default' ELSE 'direct' END)"
                                       " ON CONFLICT(tenant_id, user_id)"
                                       " DO UPDATE SET direct_role = excluded.direct_role"),
                                   tenant_id, err);
    if (st == NULL)
        return -1;
    sqlite_bind_text(st, 2, user_id);
    sqlite_bind_text(st, 3, direct);
    sqlite_bind_text(st, 4, dflt);
    return sqlite_step_done(c, st, "set user role", err);
}

int
sqlite_user_role_get(struct store *s, int64_t tenant_id, const char *user_id,
                     struct store_user_role *out, struct err *err)
{
    struct conn *c;
    sqlite3_stmt *st = tenant_stmt(s, &c,
                                   SQL("SELECT coalesce(direct_role, ''), role,"
                                       " source FROM user_roles"
                                       " WHERE tenant_id = ? AND user_id = ?"),
                                   tenant_id, err);
    if (st == NULL)
        return -1;
    sqlite_bind_text(st, 2, user_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        sqlite_col_copy(st, 0, out->direct, sizeof(out->direct));
        sqlite_col_copy(st, 1, out->role, sizeof(out->role));
        sqlite_col_copy(st, 2, out->source, sizeof(out->source));
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return err_set(err, ERR_NOT_FOUND, "user %s has no role", user_id);
    return rc == SQLITE_ROW ? 0 : sqlite_fail(c->db, rc, "get user role", err);
}

int
sqlite_user_role_delete(struct store *s, int64_t tenant_id, const char *user_id, struct err *err)
{
    struct conn *c;
    sqlite3_stmt *st = tenant_stmt(s, &c,
                                   SQL("DELETE FROM user_roles"
                                       " WHERE tenant_id = ? AND user_id = ?"),
                                   tenant_id, err);
    if (st == NULL)
        return -1;
    sqlite_bind_text(st, 2, user_id);
    return sqlite_step_done(c, st, "delete user role", err);
}

int
sqlite_roles_refresh(struct store *s, int64_t tenant_id, const char *user_id, const char *dflt,
                     const char *actor, int64_t now_ms, struct err *err)
{
    static const char *const what[2] = { "record role changes", "refresh roles" };
    bool all = user_id == NULL;
    for (int step = 0; step < 2; step++) {
        struct conn *c;
        sqlite3_stmt *st = tenant_stmt(s, &c, refresh_sql[all][step].sql,
                                       refresh_sql[all][step].len, tenant_id, err);
        if (st == NULL)
            return -1;
        sqlite_bind_text(st, 2, user_id);
        sqlite_bind_text(st, 3, dflt);
        if (step == 0) {
            sqlite3_bind_int64(st, 4, now_ms);
            sqlite_bind_text(st, 5, actor);
        }
        if (sqlite_step_done(c, st, what[step], err) < 0)
            return -1;
    }
    return 0;
}
