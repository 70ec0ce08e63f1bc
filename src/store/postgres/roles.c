#include <stdlib.h>

#include "base/str.h"
#include "base/xmalloc.h"
#include "store/postgres/postgres_int.h"

/* Roles and audit events, the PostgreSQL dialect of sqlite/roles.c. */

int
pg_event_insert(struct store *s, const struct store_event *e, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, e->tenant_id);
    pg_param_int(&p, e->created_ms);
    pg_param_text(&p, e->actor);
    pg_param_text(&p, e->kind);
    pg_param_int(&p, (int64_t)e->rtype);
    pg_param_text(&p, e->resource_id);
    pg_param_text(&p, e->data ? e->data : "{}");
    return pg_write(
        s,
        "INSERT INTO events(tenant_id, created_ms, actor, kind, rtype, resource_id, data)"
        " VALUES($1, $2, $3, $4, $5, $6, $7)",
        &p, "insert event", err);
}

int
pg_event_list(struct store *s, int64_t tenant_id, int64_t after_seq, size_t limit,
              struct store_event **out, size_t *n, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, tenant_id);
    pg_param_int(&p, after_seq);
    pg_param_int(&p, (int64_t)limit);
    *out = NULL;
    *n = 0;
    PGresult *res =
        pg_query(s,
                 "SELECT seq, tenant_id, created_ms, actor, kind, rtype, resource_id, data"
                 " FROM events WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                 &p, "list events", err);
    if (res == NULL)
        return -1;
    pg_read_events(res, out, n);
    return 0;
}

void
pg_read_events(PGresult *res, struct store_event **out, size_t *n)
{
    int rows = PQntuples(res);
    struct store_event *v = xcalloc(rows ? (size_t)rows : 1, sizeof(*v));
    for (int i = 0; i < rows; i++) {
        v[i].seq = pg_int(res, i, 0);
        v[i].tenant_id = pg_int(res, i, 1);
        v[i].created_ms = pg_int(res, i, 2);
        str_copy(v[i].actor, sizeof(v[i].actor), PQgetvalue(res, i, 3));
        str_copy(v[i].kind, sizeof(v[i].kind), PQgetvalue(res, i, 4));
        v[i].rtype = (enum store_rtype)pg_int(res, i, 5);
        str_copy(v[i].resource_id, sizeof(v[i].resource_id), PQgetvalue(res, i, 6));
        v[i].data = pg_dup(res, i, 7);
    }
    PQclear(res);
    *out = v;
    *n = (size_t)rows;
}

int
pg_role_map_get(struct store *s, int64_t tenant_id, struct store_role_rule **out, size_t *n,
                struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, tenant_id);
    *out = NULL;
    *n = 0;
    PGresult *res = pg_query(s,
                             "SELECT group_name, role, priority FROM role_map WHERE tenant_id = $1"
                             " ORDER BY priority",
                             &p, "read role map", err);
    if (res == NULL)
        return -1;
    int rows = PQntuples(res);
    struct store_role_rule *v = xcalloc(rows ? (size_t)rows : 1, sizeof(*v));
    for (int i = 0; i < rows; i++) {
        str_copy(v[i].group, sizeof(v[i].group), PQgetvalue(res, i, 0));
        str_copy(v[i].role, sizeof(v[i].role), PQgetvalue(res, i, 1));
        v[i].priority = pg_int(res, i, 2);
    }
    PQclear(res);
    *out = v;
    *n = (size_t)rows;
    return 0;
}

int
pg_role_map_set(struct store *s, int64_t tenant_id, const struct store_role_rule *v, size_t n,
                struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, tenant_id);
    if (pg_write(s, "DELETE FROM role_map WHERE tenant_id = $1", &p, "clear role map", err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct pg_params q = { .n = 0 };
        pg_param_int(&q, tenant_id);
        pg_param_text(&q, v[i].group);
        pg_param_text(&q, v[i].role);
        pg_param_int(&q, v[i].priority);
        if (pg_write(s,
                     "INSERT INTO role_map(tenant_id, group_key, group_name, role, priority)"
                     " VALUES($1, lower($2::text COLLATE \"C\"), $2, $3, $4)",
                     &q, "write role map", err) < 0)
            return err->code == ERR_UNIQUENESS
                       ? err_set(err, ERR_CONFLICT,
                                 "role map names group \"%.100s\" or priority %lld twice",
                                 v[i].group, (long long)v[i].priority)
                       : -1;
    }
    return 0;
}

int
pg_user_role_set(struct store *s, int64_t tenant_id, const char *user_id, const char *direct,
                 const char *dflt, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, tenant_id);
    pg_param_text(&p, user_id);
    pg_param_text(&p, direct);
    pg_param_text(&p, dflt);
    return pg_write(
        s,
        "INSERT INTO user_roles(tenant_id, user_id, direct_role, role, source)"
        " VALUES($1, $2, $3::text, coalesce($3::text, $4::text, ''),"
        " CASE WHEN $3::text IS NULL THEN 'default' ELSE 'direct' END)"
        " ON CONFLICT (tenant_id, user_id) DO UPDATE SET direct_role = excluded.direct_role",
        &p, "set user role", err);
}

int
pg_user_role_get(struct store *s, int64_t tenant_id, const char *user_id,
                 struct store_user_role *out, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, tenant_id);
    pg_param_text(&p, user_id);
    PGresult *res = pg_query(s,
                             "SELECT coalesce(direct_role, ''), role, source FROM user_roles"
                             " WHERE tenant_id = $1 AND user_id = $2",
                             &p, "get user role", err);
    if (res == NULL)
        return -1;
    int found = PQntuples(res) == 1;
    if (found) {
        str_copy(out->direct, sizeof(out->direct), PQgetvalue(res, 0, 0));
        str_copy(out->role, sizeof(out->role), PQgetvalue(res, 0, 1));
        str_copy(out->source, sizeof(out->source), PQgetvalue(res, 0, 2));
    }
    PQclear(res);
    return found ? 0 : err_set(err, ERR_NOT_FOUND, "user %s has no role", user_id);
}

int
pg_user_role_delete(struct store *s, int64_t tenant_id, const char *user_id, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, tenant_id);
    pg_param_text(&p, user_id);
    return pg_write(s, "DELETE FROM user_roles WHERE tenant_id = $1 AND user_id = $2", &p,
                    "delete user role", err);
}

/* As sqlite/roles.c: the role of the user's mapped group with the lowest priority number. */
#define GROUP_ROLE                                                                             \
    "(SELECT rm.role FROM members m"                                                           \
    " JOIN resources g ON g.tenant_id = m.tenant_id AND g.type = 2 AND g.id = m.group_id"      \
    " JOIN role_map rm ON rm.tenant_id = m.tenant_id AND rm.group_key = lower(g.display_name)" \
    " WHERE m.tenant_id = ur.tenant_id AND m.member_id = ur.user_id"                           \
    " ORDER BY rm.priority LIMIT 1)"

/* $3 is the configured default role (NULL: none, stored as ''). */
#define RECOMPUTED(scope)                                                                       \
    "SELECT x.user_id, x.role AS old_role, coalesce(x.g, x.direct_role, $3::text, '') AS role," \
    " CASE WHEN x.g IS NOT NULL THEN 'group' WHEN x.direct_role IS NOT NULL THEN 'direct'"      \
    " ELSE 'default' END AS source"                                                             \
    " FROM (SELECT ur.user_id, ur.role, ur.direct_role, " GROUP_ROLE " AS g"                    \
    " FROM user_roles ur WHERE ur.tenant_id = $1 AND " scope ") x"

#define ROLE_EVENTS(scope)                                                               \
    "INSERT INTO events(tenant_id, created_ms, actor, kind, rtype, resource_id, data)"   \
    " SELECT $1, $4, $5, 'user.role_changed', 1, user_id,"                               \
    " jsonb_build_object('role', jsonb_build_object('before', old_role, 'after', role)," \
    " 'source', source)::text FROM (" RECOMPUTED(                                        \
        scope) ") r"                                                                     \
               " WHERE role IS DISTINCT FROM old_role ORDER BY user_id"
#define ROLE_UPDATE(scope)                                                           \
    "UPDATE user_roles AS u SET role = n.role, source = n.source FROM (" RECOMPUTED( \
        scope) ") AS n WHERE u.tenant_id = $1 AND u.user_id = n.user_id"             \
               " AND (u.role IS DISTINCT FROM n.role OR u.source IS DISTINCT FROM n.source)"
/* Every statement takes $2 so the parameter lists agree; the "all" scope ignores it. */
#define SCOPE_USER "ur.user_id = $2"
#define SCOPE_ALL  "$2::text IS NULL"

int
pg_roles_refresh(struct store *s, int64_t tenant_id, const char *user_id, const char *dflt,
                 const char *actor, int64_t now_ms, struct err *err)
{
    static const char *const sql[2][2] = {
        { ROLE_EVENTS(SCOPE_USER), ROLE_UPDATE(SCOPE_USER) },
        { ROLE_EVENTS(SCOPE_ALL), ROLE_UPDATE(SCOPE_ALL) },
    };
    static const char *const what[2] = { "record role changes", "refresh roles" };
    int all = user_id == NULL;
    for (int step = 0; step < 2; step++) {
        struct pg_params p = { .n = 0 };
        pg_param_int(&p, tenant_id);
        pg_param_text(&p, user_id);
        pg_param_text(&p, dflt);
        if (step == 0) {
            pg_param_int(&p, now_ms);
            pg_param_text(&p, actor);
        }
        if (pg_write(s, sql[all][step], &p, what[step], err) < 0)
            return -1;
    }
    return 0;
}
