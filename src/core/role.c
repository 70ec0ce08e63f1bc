#include "core/role.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/clock.h"
#include "base/limits.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "core/audit.h"
#include "core/fields.h"
#include "core/tx.h"

/* The process-wide catalogue: written once by role_catalogue_set before threads start,
 * read-only afterwards. Until then: no roles. */
static struct role_catalogue catalogue = { .default_index = -1, .admin_index = -1 };

/* More moved members than this recompute the whole tenant in one statement instead of one
 * user at a time. */
#define REFRESH_ALL_ABOVE 1000

static bool
is_name_byte(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

static bool
is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Index of name in c (case-insensitive), or -1. */
static int
index_of(const struct role_catalogue *c, const char *name)
{
    for (size_t i = 0; name && i < c->n; i++)
        if (cstr_ieq(name, c->names[i]))
            return (int)i;
    return -1;
}

static int
parse_names(const char *roles, struct role_catalogue *out, struct err *err)
{
    const char *p = roles ? roles : "";
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0')
        return 0; /* no roles at all */
    for (;;) {
        const char *start = p, *end = p + strcspn(p, ",");
        while (start < end && (*start == ' ' || *start == '\t'))
            start++;
        const char *stop = end;
        while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t'))
            stop--;
        size_t len = (size_t)(stop - start);
        size_t k = out->n + 1;
        if (len == 0)
            return err_set(err, ERR_INVALID_VALUE, "roles: role %zu is empty", k);
        if (out->n == LIMIT_ROLES_MAX)
            return err_set(err, ERR_INVALID_VALUE, "roles: more than %d roles", LIMIT_ROLES_MAX);
        if (len > LIMIT_ROLE_NAME_BYTES)
            return err_set(err, ERR_INVALID_VALUE,
                           "roles: role %zu (\"%.*s…\") is longer than %d bytes", k,
                           LIMIT_ROLE_NAME_BYTES, start, LIMIT_ROLE_NAME_BYTES);
        for (size_t i = 0; i < len; i++)
            if (!is_name_byte(start[i]))
                return err_set(err, ERR_INVALID_VALUE,
                               "roles: role %zu (\"%.*s\") may hold only letters, digits, "
                               "'_', '.' and '-'",
                               k, (int)len, start);
        memcpy(out->names[out->n], start, len);
        out->names[out->n][len] = '\0';
        if (index_of(out, out->names[out->n]) >= 0)
            return err_set(err, ERR_INVALID_VALUE, "roles: \"%s\" is named twice",
                           out->names[out->n]);
        out->n++;
        if (*end == '\0')
            return 0;
        p = end + 1;
    }
}

/* Names of the URNs a role extension must not take: the SCIM core schemas and messages are
 * RFC 7643/7644's, and the enterprise extension has its own attributes. */
static bool
is_reserved_urn(const char *u)
{
    static const char *const prefixes[] = { "urn:ietf:params:scim:schemas:core:",
                                            "urn:ietf:params:scim:api:" };
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncasecmp(u, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return cstr_ieq(u, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User");
}

/* RFC 8141 shape, narrowed to what SCIM attribute paths can carry (RFC 7644 §3.10: the URN
 * and the attribute name are split at the last ':'): "urn:" NID ":" segments. */
static int
check_schema(const char *u, struct err *err)
{
    if (u == NULL || u[0] == '\0')
        return err_set(err, ERR_INVALID_VALUE, "role_schema is empty");
    if (strlen(u) > LIMIT_ROLE_SCHEMA_BYTES)
        return err_set(err, ERR_INVALID_VALUE, "role_schema is longer than %d bytes",
                       LIMIT_ROLE_SCHEMA_BYTES);
    if (strncasecmp(u, "urn:", 4) != 0)
        return err_set(err, ERR_INVALID_VALUE,
                       "role_schema must be a URN such as "
                       "urn:ietf:params:scim:schemas:extension:example:2.0:User");
    size_t segments = 0;
    for (const char *p = u + 4;; segments++) {
        size_t len = strcspn(p, ":");
        if (len == 0 || (segments == 0 && !is_letter(p[0])))
            return err_set(err, ERR_INVALID_VALUE,
                           "role_schema: each ':'-separated part must be non-empty, the first "
                           "(the namespace) starting with a letter (\"%.80s\")",
                           u);
        for (size_t i = 0; i < len; i++)
            if (!is_name_byte(p[i]))
                return err_set(err, ERR_INVALID_VALUE,
                               "role_schema may hold only letters, digits, ':', '_', '.' and "
                               "'-' (\"%.80s\")",
                               u);
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    if (segments + 1 < 3)
        return err_set(err, ERR_INVALID_VALUE,
                       "role_schema must have the shape of a SCIM schema URN, such as "
                       "urn:ietf:params:scim:schemas:extension:example:2.0:User (\"%.80s\")",
                       u);
    if (is_reserved_urn(u))
        return err_set(err, ERR_INVALID_VALUE,
                       "role_schema must not be a SCIM core, message or enterprise schema URN "
                       "(\"%.80s\")",
                       u);
    return 0;
}

/* Resolves the default or admin role setting `key` to an index of out, into *index. */
static int
pick(const struct role_catalogue *out, const char *key, const char *value, int *index,
     struct err *err)
{
    *index = -1;
    bool set = value && value[0];
    if (out->n == 0)
        return set ? err_set(err, ERR_INVALID_VALUE,
                             "%s is \"%.40s\" but roles is empty: with no roles, leave %s "
                             "unset",
                             key, value, key)
                   : 0;
    if (!set)
        return err_set(err, ERR_INVALID_VALUE, "%s must name one of the roles", key);
    *index = index_of(out, value);
    if (*index < 0)
        return err_set(err, ERR_INVALID_VALUE, "%s \"%.40s\" is not one of the roles", key, value);
    return 0;
}

int
role_catalogue_parse(const char *roles, const char *dflt, const char *admin, const char *schema,
                     struct role_catalogue *out, struct err *err)
{
    *out = (struct role_catalogue){ .default_index = -1, .admin_index = -1 };
    if (parse_names(roles, out, err) < 0 ||
        pick(out, "default_role", dflt, &out->default_index, err) < 0 ||
        pick(out, "admin_role", admin, &out->admin_index, err) < 0 || check_schema(schema, err) < 0)
        return -1;
    str_copy(out->schema, sizeof(out->schema), schema);
    return 0;
}

void
role_catalogue_set(const struct role_catalogue *c)
{
    catalogue = *c;
}

const struct role_catalogue *
role_catalogue_current(void)
{
    return &catalogue;
}

const char *
role_default(void)
{
    return catalogue.default_index < 0 ? NULL : catalogue.names[catalogue.default_index];
}

const char *
role_admin(void)
{
    return catalogue.admin_index < 0 ? NULL : catalogue.names[catalogue.admin_index];
}

const char *
role_schema(void)
{
    return catalogue.schema;
}

static json_t *
name_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *
role_catalogue_to_json(void)
{
    json_t *names = json_array();
    for (size_t i = 0; i < catalogue.n; i++)
        json_array_append_new(names, json_string(catalogue.names[i]));
    return json_pack("{s:o, s:o, s:o, s:s}", "roles", names, "default",
                     name_or_null(role_default()), "adminRole", name_or_null(role_admin()),
                     "schema", catalogue.schema);
}

const char *
role_canonical(const char *name)
{
    int i = index_of(&catalogue, name);
    return i < 0 ? NULL : catalogue.names[i];
}

/* "a, b or c" for error messages. */
static void
list_roles(char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < catalogue.n && used < size; i++) {
        const char *sep = i == 0 ? "" : i + 1 == catalogue.n ? " or " : ", ";
        int w = snprintf(out + used, size - used, "%s%s", sep, catalogue.names[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

const char *
role_direct(const json_t *doc)
{
    if (catalogue.n == 0)
        return NULL;
    json_t *ext = json_object_get(doc, catalogue.schema);
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

/* The required member `name` of rule entry i, of JSON type `type` (`what` in the message:
 * 1.5 is no integer), or NULL with the error naming the member. */
static const json_t *
rule_member(const json_t *e, size_t i, const char *name, json_type type, const char *what,
            struct err *err)
{
    const json_t *v = json_object_get(e, name);
    if (v == NULL)
        err_set(err, ERR_INVALID_VALUE, "role map entry %zu: \"%s\" is required", i + 1, name);
    else if (json_typeof(v) != type)
        err_set(err, ERR_INVALID_VALUE, "role map entry %zu: \"%s\" must be %s", i + 1, name, what);
    return v && json_typeof(v) == type ? v : NULL;
}

static int
rule_from_json(const json_t *e, size_t i, struct store_role_rule *r, struct err *err)
{
    static const char *const keys[] = { "group", "role", "priority", NULL };
    if (!json_is_object(e))
        return err_set(err, ERR_INVALID_VALUE,
                       "role map entry %zu must be an object {\"group\": string, \"role\": "
                       "string, \"priority\": integer}",
                       i + 1);
    if (fields_check(e, keys, NULL, NULL, err) < 0) {
        char why[sizeof(err->detail)];
        str_copy(why, sizeof(why), err->detail);
        return err_set(err, ERR_INVALID_VALUE, "role map entry %zu: %s", i + 1, why);
    }
    const json_t *g = rule_member(e, i, "group", JSON_STRING, "a string", err);
    const json_t *ro = g ? rule_member(e, i, "role", JSON_STRING, "a string", err) : NULL;
    const json_t *p = ro ? rule_member(e, i, "priority", JSON_INTEGER, "an integer", err) : NULL;
    if (p == NULL)
        return -1;
    const char *group = json_string_value(g), *role = json_string_value(ro);
    json_int_t priority = json_integer_value(p);
    size_t len = strlen(group);
    if (len == 0 || len >= sizeof(r->group))
        return err_set(err, ERR_INVALID_VALUE, "role map entry %zu: group must be 1 to %zu bytes",
                       i + 1, sizeof(r->group) - 1);
    const char *canonical = role_canonical(role);
    if (canonical == NULL) {
        char names[LIMIT_ROLES_MAX * (LIMIT_ROLE_NAME_BYTES + 4)];
        list_roles(names, sizeof(names));
        return err_set(err, ERR_INVALID_VALUE, "role map entry %zu: role must be %.180s", i + 1,
                       names);
    }
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
    if (catalogue.n == 0)
        return err_set(err, ERR_INVALID_VALUE,
                       "this server has no roles configured, so there is no role map");
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
    if (store_role_map_get(s, tenant_id, &old, &n_old, err) < 0) {
        store_tx_rollback(s);
        return -1;
    }
    json_t *before = role_map_to_json(old, n_old), *after = role_map_to_json(v, n);
    /* The same map again is no change: no write and no event (as an unchanged user write).
     * The roles are still recomputed, which moves none unless the catalogue changed. */
    bool same = json_equal(before, after);
    if ((!same &&
         (store_role_map_set(s, tenant_id, v, n, err) < 0 ||
          audit_record(s, tenant_id, actor, "role_map.changed", 0, NULL,
                       json_pack("{s:O, s:O}", "before", before, "after", after), err) < 0)) ||
        store_roles_bump_moved(s, tenant_id, role_default(), clock_now_ms(), err) < 0 ||
        store_roles_refresh(s, tenant_id, NULL, role_default(), actor, clock_now_ms(), err) < 0) {
        json_decref(before);
        json_decref(after);
        free(old);
        store_tx_rollback(s);
        return -1;
    }
    json_decref(before);
    json_decref(after);
    free(old);
    return tx_commit(s, err);
}

int
role_of_user(struct store *s, int64_t tenant_id, const char *user_id, struct store_user_role *out,
             struct err *err)
{
    if (store_user_role_get(s, tenant_id, user_id, out, err) < 0)
        return -1;
    /* Written under another catalogue (or none): not a role now. */
    if (role_canonical(out->role) == NULL)
        out->role[0] = '\0';
    if (role_canonical(out->direct) == NULL)
        out->direct[0] = '\0';
    return 0;
}

int
role_user_written(struct store *s, int64_t tenant_id, const char *user_id, const char *old_direct,
                  const char *new_direct, bool created, const char *actor, struct err *err)
{
    if (!created && old_direct == new_direct) /* both canonical statics, or NULL */
        return 0;
    if (store_user_role_set(s, tenant_id, user_id, new_direct, role_default(), err) < 0)
        return -1;
    return created ? 0
                   : store_roles_refresh(s, tenant_id, user_id, role_default(), actor,
                                         clock_now_ms(), err);
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
    /* No roles configured: a role map left from an earlier configuration gives none. */
    if ((!renamed && n == 0) || catalogue.n == 0)
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
        return store_roles_refresh(s, tenant_id, NULL, role_default(), actor, now, err);
    for (size_t i = 0; i < n; i++)
        if (store_roles_refresh(s, tenant_id, ids[i], role_default(), actor, now, err) < 0)
            return -1;
    return 0;
}
