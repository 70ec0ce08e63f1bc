#include "core/role.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/limits.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "core/audit.h"
#include "core/tx.h"

static const char *const roles[] = { "admin", "developer", "templates", "reporting" };

/* More moved members than this recompute the whole tenant in one statement instead of one
 * user at a time. */
#define REFRESH_ALL_ABOVE 1000

const char *
role_canonical(const char *name)
{
    for (size_t i = 0; name && i < sizeof(roles) / sizeof(roles[0]); i++)
        if (cstr_ieq(name, roles[i]))
            return roles[i];
    return NULL;
}

const char *
role_direct(const json_t *doc)
{
    json_t *ext = json_object_get(doc, ROLE_EXTENSION_URN);
    const char *r = role_canonical(json_string_value(json_object_get(ext, "role")));
    if (r)
        return r;
    json_t *list = json_object_get(doc, "roles");
    const char *first = NULL;
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        const char *v = role_canonical(json_string_value(json_object_get(e, "value")));
        if (v && json_is_true(json_object_get(e, "primary")))
            return v;
        if (v && first == NULL)
            first = v;
    }
    return first;
}

static int
rule_from_json(const json_t *e, size_t i, struct store_role_rule *r, struct err *err)
{
    const char *group = NULL, *role = NULL;
    json_int_t priority = 0;
    json_error_t je;
    if (json_unpack_ex((json_t *)e, &je, JSON_STRICT, "{s:s, s:s, s:I}", "group", &group, "role",
                       &role, "priority", &priority) < 0)
        return err_set(err, ERR_INVALID_VALUE,
                       "role map entry %zu must be {\"group\": string, \"role\": string, "
                       "\"priority\": integer}: %s",
                       i + 1, je.text);
    size_t len = strlen(group);
    if (len == 0 || len >= sizeof(r->group))
        return err_set(err, ERR_INVALID_VALUE, "role map entry %zu: group must be 1 to %zu bytes",
                       i + 1, sizeof(r->group) - 1);
    const char *canonical = role_canonical(role);
    if (canonical == NULL)
        return err_set(err, ERR_INVALID_VALUE,
                       "role map entry %zu: role must be admin, developer, templates or reporting",
                       i + 1);
    if (priority < 1 || priority > 1000000)
        return err_set(err, ERR_INVALID_VALUE,
                       "role map entry %zu: priority must be an integer from 1 to 1000000", i + 1);
    str_copy(r->group, sizeof(r->group), group);
    str_copy(r->role, sizeof(r->role), canonical);
    r->priority = priority;
    return 0;
}

int
role_map_from_json(const json_t *j, struct store_role_rule **out, size_t *n, struct err *err)
{
    *out = NULL;
    *n = 0;
    if (!json_is_array(j))
        return err_set(err, ERR_INVALID_VALUE, "the role map must be a JSON array");
    size_t len = json_array_size(j);
    if (len > ROLE_MAP_MAX)
        return err_set(err, ERR_INVALID_VALUE, "a role map has at most %d entries", ROLE_MAP_MAX);
    struct store_role_rule *v = xcalloc(len ? len : 1, sizeof(*v));
    for (size_t i = 0; i < len; i++) {
        if (rule_from_json(json_array_get(j, i), i, &v[i], err) < 0)
            goto fail;
        for (size_t k = 0; k < i; k++) {
            if (cstr_ieq(v[k].group, v[i].group)) {
                err_set(err, ERR_INVALID_VALUE, "role map names group \"%.100s\" twice",
                        v[i].group);
                goto fail;
            }
            if (v[k].priority == v[i].priority) {
                err_set(err, ERR_INVALID_VALUE,
                        "role map gives priority %lld twice: priorities decide, so they must "
                        "differ",
                        (long long)v[i].priority);
                goto fail;
            }
        }
    }
    *out = v;
    *n = len;
    return 0;
fail:
    free(v);
    return -1;
}

json_t *
role_map_to_json(const struct store_role_rule *v, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:I}", "group", v[i].group, "role",
                                             v[i].role, "priority", (json_int_t)v[i].priority));
    return arr;
}

int
role_map_get(struct store *s, int64_t tenant_id, struct store_role_rule **out, size_t *n,
             struct err *err)
{
    return store_role_map_get(s, tenant_id, out, n, err);
}

int
role_map_replace(struct store *s, int64_t tenant_id, const struct store_role_rule *v, size_t n,
                 const char *actor, struct err *err)
{
    struct store_role_rule *old = NULL;
    size_t n_old = 0;
    if (store_tx_begin(s, err) < 0)
        return -1;
    if (store_role_map_get(s, tenant_id, &old, &n_old, err) < 0 ||
        store_role_map_set(s, tenant_id, v, n, err) < 0 ||
        audit_record(s, tenant_id, actor, "role_map.changed", 0, NULL,
                     json_pack("{s:o, s:o}", "before", role_map_to_json(old, n_old), "after",
                               role_map_to_json(v, n)),
                     err) < 0 ||
        store_roles_refresh(s, tenant_id, NULL, actor, clock_now_ms(), err) < 0) {
        free(old);
        store_tx_rollback(s);
        return -1;
    }
    free(old);
    return tx_commit(s, err);
}

int
role_of_user(struct store *s, int64_t tenant_id, const char *user_id, struct store_user_role *out,
             struct err *err)
{
    return store_user_role_get(s, tenant_id, user_id, out, err);
}

int
role_user_written(struct store *s, int64_t tenant_id, const char *user_id, const char *old_direct,
                  const char *new_direct, bool created, const char *actor, struct err *err)
{
    if (!created && old_direct == new_direct) /* both canonical statics, or NULL */
        return 0;
    if (store_user_role_set(s, tenant_id, user_id, new_direct, err) < 0)
        return -1;
    return created ? 0 : store_roles_refresh(s, tenant_id, user_id, actor, clock_now_ms(), err);
}

static bool
is_mapped(const struct store_role_rule *v, size_t n, const char *name)
{
    for (size_t i = 0; name && i < n; i++)
        if (cstr_ieq(v[i].group, name))
            return true;
    return false;
}

int
role_group_written(struct store *s, int64_t tenant_id, const char *old_name, const char *new_name,
                   bool renamed, const char *const *ids, size_t n, const char *actor,
                   struct err *err)
{
    if (!renamed && n == 0)
        return 0;
    struct store_role_rule *map = NULL;
    size_t n_map = 0;
    if (store_role_map_get(s, tenant_id, &map, &n_map, err) < 0)
        return -1;
    bool mapped = is_mapped(map, n_map, old_name) || is_mapped(map, n_map, new_name);
    free(map);
    if (!mapped)
        return 0;
    int64_t now = clock_now_ms();
    if (renamed || n > REFRESH_ALL_ABOVE)
        return store_roles_refresh(s, tenant_id, NULL, actor, now, err);
    for (size_t i = 0; i < n; i++)
        if (store_roles_refresh(s, tenant_id, ids[i], actor, now, err) < 0)
            return -1;
    return 0;
}
