#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "cli/cli.h"
#include "cli/cli_int.h"
#include "core/audit.h"
#include "core/role.h"
#include "core/tenant.h"

/* Role map and audit commands. The CLI acts as "cli" in audit events. */
#define CLI_ACTOR "cli"

void
cli_role_map_usage(void)
{
    fprintf(stderr, "usage: scimd tenant role-map SLUG                     show the role map\n"
                    "       scimd tenant role-map SLUG set GROUP ROLE PRIORITY\n"
                    "       scimd tenant role-map SLUG remove GROUP\n"
                    "ROLE is one of the configured roles (the roles setting); priority 1 wins.\n");
}

/* The current map as JSON with `group` set to (role, priority), or removed when role is NULL. */
static json_t *
edited_map(const struct store_role_rule *v, size_t n, const char *group, const char *role,
           json_int_t priority)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        if (!cstr_ieq(v[i].group, group))
            json_array_append_new(arr, json_pack("{s:s, s:s, s:I}", "group", v[i].group, "role",
                                                 v[i].role, "priority", (json_int_t)v[i].priority));
    if (role)
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:I}", "group", group, "role", role, "priority", priority));
    return arr;
}

int
cli_role_map(struct store *s, int argc, char **argv)
{
    struct err e = { 0 };
    struct store_tenant t;
    struct store_role_rule *v = NULL, *next = NULL;
    size_t n = 0, n_next = 0;
    if (argc < 1)
        return cli_usage_error("role-map needs a tenant", cli_role_map_usage);
    if (tenant_get(s, argv[0], &t, &e) < 0 || role_map_get(s, t.id, &v, &n, &e) < 0)
        return cli_fail(&e);
    int rc = 0;
    if (argc == 1) {
        cli_print_json(role_map_to_json(v, n));
        goto out;
    }
    const char *cmd = argv[1];
    int64_t priority = 0;
    json_t *edited;
    if (strcmp(cmd, "set") == 0 && argc == 5) {
        if (str_to_i64(str_of(argv[4]), 1, 1000000, &priority, "priority", &e) < 0) {
            rc = cli_fail(&e);
            goto out;
        }
        edited = edited_map(v, n, argv[2], argv[3], (json_int_t)priority);
    } else if (strcmp(cmd, "remove") == 0 && argc == 3) {
        edited = edited_map(v, n, argv[2], NULL, 0);
    } else {
        rc = cli_usage_error("role-map takes set GROUP ROLE PRIORITY or remove GROUP",
                             cli_role_map_usage);
        goto out;
    }
    rc = role_map_from_json(edited, &next, &n_next, &e);
    json_decref(edited);
    if (rc == 0)
        rc = role_map_replace(s, t.id, next, n_next, CLI_ACTOR, &e);
    if (rc < 0) {
        rc = cli_fail(&e);
        goto out;
    }
    cli_print_json(role_map_to_json(next, n_next));
out:
    free(v);
    free(next);
    return rc;
}

void
cli_audit_usage(void)
{
    fprintf(stderr, "usage: scimd audit TENANT [--after CURSOR] [--limit N]\n"
                    "Prints the tenant's audit events oldest first, one JSON object per line;\n"
                    "the last line's \"id\" is the cursor to continue from.\n");
}

int
cli_audit(struct store *s, int argc, char **argv)
{
    struct err e = { 0 };
    struct store_tenant t;
    int64_t after = 0, limit = 1000;
    if (argc < 1 || argc % 2 == 0)
        return cli_usage_error("audit needs a tenant and flags in pairs", cli_audit_usage);
    for (int i = 1; i + 1 < argc; i += 2) {
        int rc;
        if (strcmp(argv[i], "--after") == 0)
            rc = str_to_i64(str_of(argv[i + 1]), 0, INT64_MAX, &after, "--after", &e);
        else if (strcmp(argv[i], "--limit") == 0)
            rc = str_to_i64(str_of(argv[i + 1]), 1, 100000, &limit, "--limit", &e);
        else
            return cli_usage_error("unknown audit flag", cli_audit_usage);
        if (rc < 0)
            return cli_fail(&e);
    }
    struct store_event *v;
    size_t n;
    if (tenant_get(s, argv[0], &t, &e) < 0 ||
        audit_list(s, t.id, after, (size_t)limit, &v, &n, &e) < 0)
        return cli_fail(&e);
    for (size_t i = 0; i < n; i++) {
        json_t *j = audit_event_to_json(&v[i]);
        char *text = json_dumps(j, JSON_COMPACT);
        if (text)
            printf("%s\n", text);
        free(text);
        json_decref(j);
    }
    audit_events_free(v, n);
    return 0;
}
