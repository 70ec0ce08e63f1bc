/* Roles: a tenant's role map (group → role) and each user's direct and effective role. */
#include <stdint.h>

#include "store/db.h"
#include "store/rows.h"
#include "store/store_int.h"

static void
read_rule(struct db_stmt *st, void *row)
{
    struct store_role_rule *r = row;
    db_copy(st, 0, r->group, sizeof(r->group));
    db_copy(st, 1, r->role, sizeof(r->role));
    r->priority = db_int(st, 2);
}

int
store_role_map_get(struct store *s, int64_t tenant_id, struct store_role_rule **out, size_t *n,
                   struct err *err)
{
    static struct db_sql q = DB_SQL("SELECT group_name, role, priority FROM role_map"
                                    " WHERE tenant_id = ? ORDER BY priority");
    *out = NULL;
    *n = 0;
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    return db_collect(st, sizeof(**out), SIZE_MAX, read_rule, NULL, (void **)out, n, err);
}

int
store_role_map_set(struct store *s, int64_t tenant_id, const struct store_role_rule *v, size_t n,
                   struct err *err)
{
    static struct db_sql clear = DB_SQL("DELETE FROM role_map WHERE tenant_id = ?");
    /* group_key is lower(group) as the lookup computes it from a group's displayName: ASCII
     * only, which on PostgreSQL takes the "C" collation (SQLite's lower() is ASCII only). */
    static struct db_sql insert =
        DB_SQL2("INSERT INTO role_map(tenant_id, group_key, group_name, role, priority)"
                " VALUES(?1, lower(?2), ?2, ?3, ?4)",
                "INSERT INTO role_map(tenant_id, group_key, group_name, role, priority)"
                " VALUES(?1, lower(CAST(?2 AS TEXT) COLLATE \"C\"), ?2, ?3, ?4)");
    struct db_stmt *st = db_prepare(s, &clear, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    if (db_exec(st, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        st = db_prepare(s, &insert, err);
        if (st == NULL)
            return -1;
        db_bind_int(st, 1, tenant_id);
        db_bind_text(st, 2, v[i].group);
        db_bind_text(st, 3, v[i].role);
        db_bind_int(st, 4, v[i].priority);
        if (db_exec(st, err) < 0)
            return err->code == ERR_UNIQUENESS
                       ? err_set(err, ERR_CONFLICT,
                                 "role map names group \"%.100s\" or priority %lld twice",
                                 v[i].group, (long long)v[i].priority)
                       : -1;
    }
    return 0;
}

int
store_user_role_set(struct store *s, int64_t tenant_id, const char *user_id, const char *direct,
                    const char *dflt, struct err *err)
{
    static struct db_sql q =
        DB_SQL("INSERT INTO user_roles(tenant_id, user_id, direct_role, role, source)"
               " VALUES(?1, ?2, CAST(?3 AS TEXT), coalesce(CAST(?3 AS TEXT), CAST(?4 AS TEXT), ''),"
               " CASE WHEN CAST(?3 AS TEXT) IS NULL THEN 'default' ELSE 'direct' END)"
               " ON CONFLICT(tenant_id, user_id) DO UPDATE SET direct_role = excluded.direct_role");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    db_bind_text(st, 2, user_id);
    db_bind_text(st, 3, direct);
    db_bind_text(st, 4, dflt);
    return db_exec(st, err) < 0 ? -1 : 0;
}

static void
read_user_role(struct db_stmt *st, void *row)
{
    struct store_user_role *r = row;
    db_copy(st, 0, r->direct, sizeof(r->direct));
    db_copy(st, 1, r->role, sizeof(r->role));
    db_copy(st, 2, r->source, sizeof(r->source));
}

int
store_user_role_get(struct store *s, int64_t tenant_id, const char *user_id,
                    struct store_user_role *out, struct err *err)
{
    static struct db_sql q = DB_SQL("SELECT coalesce(direct_role, ''), role, source"
                                    " FROM user_roles WHERE tenant_id = ? AND user_id = ?");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    db_bind_text(st, 2, user_id);
    int rc = db_first(st, read_user_role, out, err);
    if (rc < 0)
        return -1;
    return rc ? 0 : err_set(err, ERR_NOT_FOUND, "user %s has no role", user_id);
}

int
store_user_role_delete(struct store *s, int64_t tenant_id, const char *user_id, struct err *err)
{
    static struct db_sql q = DB_SQL("DELETE FROM user_roles WHERE tenant_id = ? AND user_id = ?");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    db_bind_text(st, 2, user_id);
    return db_exec(st, err) < 0 ? -1 : 0;
}

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
    "SELECT x.user_id, x.role AS old_role, x.source AS old_source,"                        \
    " coalesce(x.g, x.direct_role, CAST(?3 AS TEXT), '') AS role,"                         \
    " CASE WHEN x.g IS NOT NULL THEN 'group' WHEN x.direct_role IS NOT NULL THEN 'direct'" \
    " ELSE 'default' END AS source"                                                        \
    " FROM (SELECT ur.user_id, ur.role, ur.source, ur.direct_role, " GROUP_ROLE " AS g"    \
    " FROM user_roles ur WHERE ur.tenant_id = ?1 AND " scope ") x"

/* Records a role_changed event for each user in scope whose role moves (?2 user, ?3 default
 * role, ?4 time, ?5 actor), then moves them. Events first: they need the old role. Roles and
 * sources are never NULL (NOT NULL columns, coalesce to ''), so `<>` compares them. `json`
 * names the JSON object builder: SQLite's json_object, PostgreSQL's json_build_object (which
 * keeps the keys in the order given, as SQLite's does). */
#define ROLE_EVENTS(scope, json, barrier)                                                   \
    "INSERT INTO events(tenant_id, created_ms, actor, kind, rtype, resource_id, data)"      \
    " SELECT ?1, ?4, ?5, 'user.role_changed', 1, user_id,"                                  \
    " CAST(" json "('role', " json "('before', old_role, 'after', role), 'source', source)" \
    " AS TEXT) FROM (" RECOMPUTED(scope) ") r" barrier " WHERE role <> old_role ORDER BY user_id"
#define ROLE_UPDATE(scope)                                                           \
    "UPDATE user_roles AS u SET role = n.role, source = n.source FROM (" RECOMPUTED( \
        scope) ") AS n WHERE u.tenant_id = ?1 AND u.user_id = n.user_id"             \
               " AND (u.role <> n.role OR u.source <> n.source)"
/* Every statement takes ?2 so the parameter lists agree; the "all" scope ignores it. */
#define SCOPE_USER "ur.user_id = ?2"
#define SCOPE_ALL  "CAST(?2 AS TEXT) IS NULL"
#define ROLE_EVENTS_SQL(scope)                     \
    DB_SQL2(ROLE_EVENTS(scope, "json_object", ""), \
            ROLE_EVENTS(scope, "json_build_object", " CROSS JOIN " EVENT_BARRIER("?1")))

/* The users whose role or its source is about to move (?2 NULL: every user, ?3 the default
 * role, ?4 the time); for store_roles_bump_moved. */
#define ROLE_MOVED                      \
    "SELECT user_id FROM (" RECOMPUTED( \
        SCOPE_ALL) ") n"                \
                   " WHERE n.role <> n.old_role OR n.source <> n.old_source"

int
store_roles_bump_moved(struct store *s, int64_t tenant_id, const char *dflt, int64_t now_ms,
                       struct err *err)
{
    static struct db_sql q =
        DB_SQL2(BUMP_SQLITE("= 1", ROLE_MOVED, "?4"), BUMP_PG("= 1", ROLE_MOVED, "?4"));
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    db_bind_text(st, 2, NULL);
    db_bind_text(st, 3, dflt);
    db_bind_int(st, 4, now_ms);
    return (int)db_exec(st, err);
}

int
store_roles_refresh(struct store *s, int64_t tenant_id, const char *user_id, const char *dflt,
                    const char *actor, int64_t now_ms, struct err *err)
{
    /* [all users][update] */
    static struct db_sql sql[2][2] = {
        { ROLE_EVENTS_SQL(SCOPE_USER), DB_SQL(ROLE_UPDATE(SCOPE_USER)) },
        { ROLE_EVENTS_SQL(SCOPE_ALL), DB_SQL(ROLE_UPDATE(SCOPE_ALL)) },
    };
    int all = user_id == NULL;
    for (int step = 0; step < 2; step++) {
        struct db_stmt *st = db_prepare(s, &sql[all][step], err);
        if (st == NULL)
            return -1;
        db_bind_int(st, 1, tenant_id);
        db_bind_text(st, 2, user_id);
        db_bind_text(st, 3, dflt);
        if (step == 0) {
            db_bind_int(st, 4, now_ms);
            db_bind_text(st, 5, actor);
        }
        if (db_exec(st, err) < 0)
            return -1;
    }
    return 0;
}
