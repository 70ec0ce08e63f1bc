#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/str.h"
#include "cli/cli_int.h"
#include "core/directory.h"
#include "core/role.h"
#include "core/tenant.h"
#include "core/user.h"

/* scimd user …: the host application's user API (/admin/v1/tenants/{t}/users) from the
 * shell. Writes go through the same core calls (user_create, user_update, so the tenant's
 * deactivation policy, roles and audit events apply alike) with "cli" as the actor. The
 * documents are built here in the canonical form scim/ would store (docs/scim.md). */

#define ACTOR      "cli"
#define USER_URN   "urn:ietf:params:scim:schemas:core:2.0:User"
#define LIST_LIMIT 1000

void
cli_user_usage(void)
{
    fprintf(stderr,
            "usage: scimd user list TENANT [--role ROLE] [--start N] [--count N]\n"
            "       scimd user show TENANT USER\n"
            "       scimd user create TENANT USERNAME [--given NAME] [--family NAME]\n"
            "                  [--display-name NAME] [--email EMAIL] [--external-id ID]\n"
            "                  [--role ROLE] [--inactive]\n"
            "       scimd user deactivate|reactivate TENANT USER\n"
            "       scimd user role TENANT USER [ROLE | --clear]\n"
            "USER is the user's id, userName or email. Roles: admin, developer, templates,\n"
            "reporting (docs/roles.md).\n");
}

/* The stored document with its id and meta, as the management API shows it. */
static json_t *
user_json(const struct store_resource *r)
{
    json_t *doc = json_loads(r->doc, 0, NULL);
    if (doc == NULL)
        doc = json_object();
    char created[32], modified[32], version[32];
    clock_format_ms(r->created_ms, created);
    clock_format_ms(r->modified_ms, modified);
    snprintf(version, sizeof(version), "W/\"%lld\"", (long long)r->version);
    json_object_set_new(doc, "id", json_string(r->id));
    json_object_set_new(doc, "meta",
                        json_pack("{s:s, s:s, s:s, s:s}", "resourceType", "User", "created",
                                  created, "lastModified", modified, "version", version));
    return doc;
}

static int
list(struct store *s, const struct store_tenant *t, int argc, char **argv)
{
    struct err e = { 0 };
    struct store_list_query q = {
        .tenant_id = t->id, .type = STORE_RTYPE_USER, .start_index = 1, .count = 100
    };
    for (int i = 0; i < argc; i += 2) {
        if (i + 1 >= argc)
            return cli_usage_error("a flag needs a value", cli_user_usage);
        if (strcmp(argv[i], "--role") == 0) {
            q.role = role_canonical(argv[i + 1]);
            if (q.role == NULL)
                return cli_usage_error("unknown role", cli_user_usage);
        } else if (strcmp(argv[i], "--start") == 0) {
            if (str_to_i64(str_of(argv[i + 1]), 1, INT32_MAX, &q.start_index, "--start", &e) < 0)
                return cli_fail(&e);
        } else if (strcmp(argv[i], "--count") == 0) {
            if (str_to_i64(str_of(argv[i + 1]), 0, LIST_LIMIT, &q.count, "--count", &e) < 0)
                return cli_fail(&e);
        } else {
            return cli_usage_error("unknown flag of user list", cli_user_usage);
        }
    }
    struct store_list_result res = { 0 };
    if (directory_list(s, &q, &res, &e) < 0)
        return cli_fail(&e);
    json_t *users = json_array();
    for (size_t i = 0; i < res.n; i++) {
        const struct store_resource *r = &res.rows[i];
        json_array_append_new(
            users,
            json_pack("{s:s, s:s, s:o, s:o, s:b}", "id", r->id, "userName",
                      r->user_name ? r->user_name : "", "externalId",
                      r->external_id ? json_string(r->external_id) : json_null(), "displayName",
                      r->display_name ? json_string(r->display_name) : json_null(), "active",
                      r->active != 0));
    }
    cli_print_json(json_pack("{s:I, s:I, s:o}", "totalResults", (json_int_t)res.total, "startIndex",
                             (json_int_t)q.start_index, "users", users));
    store_list_result_cleanup(&res);
    return 0;
}

/* Reads USERNAME and the flags of `user create` into a canonical document. */
static json_t *
new_doc(const char *user_name, int argc, char **argv, int *rc)
{
    json_t *doc = json_pack("{s:[s], s:s}", "schemas", USER_URN, "userName", user_name);
    json_t *name = json_object();
    bool active = true;
    *rc = 0;
    for (int i = 0; i < argc && *rc == 0; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--inactive") == 0) {
            active = false;
            continue;
        }
        if (v == NULL || v[0] == '\0') {
            *rc = cli_usage_error("a flag needs a value", cli_user_usage);
            break;
        }
        i++;
        if (strcmp(a, "--given") == 0) {
            json_object_set_new(name, "givenName", json_string(v));
        } else if (strcmp(a, "--family") == 0) {
            json_object_set_new(name, "familyName", json_string(v));
        } else if (strcmp(a, "--display-name") == 0) {
            json_object_set_new(doc, "displayName", json_string(v));
        } else if (strcmp(a, "--external-id") == 0) {
            json_object_set_new(doc, "externalId", json_string(v));
        } else if (strcmp(a, "--email") == 0) {
            json_object_set_new(
                doc, "emails",
                json_pack("[{s:s, s:s, s:b}]", "value", v, "type", "work", "primary", 1));
        } else if (strcmp(a, "--role") == 0) {
            const char *role = role_canonical(v);
            if (role == NULL) {
                *rc = cli_usage_error("unknown role", cli_user_usage);
                break;
            }
            json_array_append_new(json_object_get(doc, "schemas"), json_string(role_schema()));
            json_object_set_new(doc, role_schema(), json_pack("{s:s}", "role", role));
        } else {
            *rc = cli_usage_error("unknown flag of user create", cli_user_usage);
        }
    }
    if (json_object_size(name) > 0)
        json_object_set(doc, "name", name);
    json_decref(name);
    json_object_set_new(doc, "active", json_boolean(active));
    /* jansson keeps insertion order; the user reads text the way SCIM shows it. */
    if (*rc != 0 || json_string_length(json_object_get(doc, "userName")) == 0) {
        if (*rc == 0)
            *rc = cli_usage_error("the userName must not be empty", cli_user_usage);
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* Computes the next document of a user from its stored one (taken over). */
typedef json_t *(*next_doc_fn)(json_t *doc, const char *arg);

/* Read, change, write with the version read, as SCIM's PUT and PATCH do: a write that loses
 * to another writer (an identity provider, or a group write bumping the user's version) is
 * retried from a fresh read. */
static int
write_user(struct store *s, const struct store_tenant *t, const char *id, next_doc_fn next,
           const char *arg)
{
    struct err e = { 0 };
    struct store_resource out = { 0 };
    struct user_outcome outcome = { .removed = false };
    int rc = -1;
    for (int attempt = 0; attempt < 16; attempt++) {
        struct store_resource u;
        if (user_get(s, t->id, id, &u, &e) < 0)
            return cli_fail(&e);
        json_t *doc = json_loads(u.doc, 0, NULL);
        if (doc == NULL) {
            store_resource_cleanup(&u);
            return cli_fail(&(struct err){ ERR_INTERNAL, "the stored document does not parse" });
        }
        doc = next(doc, arg);
        rc = user_update(s, t, ACTOR, &u, doc, NULL, &out, &outcome, &e);
        json_decref(doc);
        store_resource_cleanup(&u);
        if (rc == 0 || e.code != ERR_PRECONDITION)
            break;
    }
    if (rc < 0)
        return cli_fail(&e);
    cli_print_json(user_json(&out));
    if (outcome.removed)
        fprintf(stderr, "tenant %s removes deactivated users: user %s was deleted\n", t->slug,
                out.id);
    store_resource_cleanup(&out);
    return 0;
}

static json_t *
with_active(json_t *doc, const char *active)
{
    json_object_set_new(doc, "active", json_boolean(strcmp(active, "true") == 0));
    return doc;
}

/* Sets or clears (role NULL) the role set directly on the user. */
static json_t *
with_role(json_t *doc, const char *role)
{
    json_t *schemas = json_object_get(doc, "schemas");
    size_t at = (size_t)-1, i;
    json_t *v;
    json_array_foreach(schemas, i, v) {
        if (json_is_string(v) && strcmp(json_string_value(v), role_schema()) == 0)
            at = i;
    }
    if (role == NULL) {
        json_object_del(doc, role_schema());
        if (at != (size_t)-1)
            json_array_remove(schemas, at);
        /* A role given as "roles" values (RFC 7643 §4.1.2) would still count: drop those. */
        json_object_del(doc, "roles");
        return doc;
    }
    if (at == (size_t)-1)
        json_array_append_new(schemas, json_string(role_schema()));
    json_t *ext = json_object_get(doc, role_schema());
    if (!json_is_object(ext))
        json_object_set_new(doc, role_schema(), json_pack("{s:s}", "role", role));
    else
        json_object_set_new(ext, "role", json_string(role));
    return doc;
}

static int
role_cmd(struct store *s, const struct store_tenant *t, const struct store_resource *u, int argc,
         char **argv)
{
    struct err e = { 0 };
    if (argc == 0) {
        struct store_user_role r;
        if (role_of_user(s, t->id, u->id, &r, &e) < 0)
            return cli_fail(&e);
        cli_print_json(json_pack("{s:s, s:s, s:s, s:o}", "id", u->id, "role", r.role, "source",
                                 r.source, "direct",
                                 r.direct[0] ? json_string(r.direct) : json_null()));
        return 0;
    }
    if (argc != 1)
        return cli_usage_error("user role takes one role or --clear", cli_user_usage);
    const char *role = NULL;
    if (strcmp(argv[0], "--clear") != 0 && (role = role_canonical(argv[0])) == NULL)
        return cli_usage_error("unknown role", cli_user_usage);
    return write_user(s, t, u->id, with_role, role);
}

int
cli_user(struct store *s, int argc, char **argv)
{
    struct err e = { 0 };
    struct store_tenant t;
    if (argc < 2)
        return cli_usage_error("user needs a sub-command and a tenant", cli_user_usage);
    const char *cmd = argv[0];
    if (tenant_get(s, argv[1], &t, &e) < 0)
        return cli_fail(&e);
    if (strcmp(cmd, "list") == 0)
        return list(s, &t, argc - 2, argv + 2);
    if (argc < 3)
        return cli_usage_error("the user is missing", cli_user_usage);
    if (strcmp(cmd, "create") == 0) {
        int rc;
        json_t *doc = new_doc(argv[2], argc - 3, argv + 3, &rc);
        if (doc == NULL)
            return rc;
        struct store_resource out = { 0 };
        rc = user_create(s, &t, ACTOR, doc, NULL, &out, NULL, &e);
        json_decref(doc);
        if (rc < 0)
            return cli_fail(&e);
        cli_print_json(user_json(&out));
        store_resource_cleanup(&out);
        return 0;
    }
    bool show = strcmp(cmd, "show") == 0, role = strcmp(cmd, "role") == 0;
    bool deactivate = strcmp(cmd, "deactivate") == 0, reactivate = strcmp(cmd, "reactivate") == 0;
    if (!show && !role && !deactivate && !reactivate)
        return cli_usage_error("unknown user sub-command", cli_user_usage);
    if (!role && argc != 3)
        return cli_usage_error("too many arguments", cli_user_usage);
    struct store_resource u;
    if (user_find(s, t.id, argv[2], &u, &e) < 0)
        return cli_fail(&e);
    int rc = 0;
    if (show) {
        cli_print_json(user_json(&u));
    } else if (role) {
        rc = role_cmd(s, &t, &u, argc - 3, argv + 3);
    } else {
        rc = write_user(s, &t, u.id, with_active, reactivate ? "true" : "false");
    }
    store_resource_cleanup(&u);
    return rc;
}
