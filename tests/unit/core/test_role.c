/* core/role and core/audit pure logic: the direct role of a document, role-map validation,
 * and the before/after diff that audit events carry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/audit.h"
#include "core/role.h"
#include "sparkpost_roles.h"

static json_t *
parse(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (j == NULL)
        fail_msg("bad test JSON: %s", je.text);
    return j;
}

static const char *
direct_of(const char *text)
{
    json_t *j = parse(text);
    const char *r = role_direct(j);
    json_decref(j);
    return r;
}

static void
test_canonical(void **state)
{
    (void)state;
    assert_string_equal(role_canonical("ADMIN"), "admin");
    assert_string_equal(role_canonical("Templates"), "templates");
    assert_null(role_canonical("administrator"));
    assert_null(role_canonical(""));
    assert_null(role_canonical(NULL));
}

static void
test_direct_role(void **state)
{
    (void)state;
    assert_null(direct_of("{}"));
    assert_string_equal(direct_of("{\"" SPARKPOST_ROLE_URN "\": {\"role\": \"developer\"}}"),
                        "developer");
    /* The extension wins over core roles. */
    assert_string_equal(direct_of("{\"" SPARKPOST_ROLE_URN "\": {\"role\": \"developer\"},"
                                  " \"roles\": [{\"value\": \"admin\", \"primary\": true}]}"),
                        "developer");
    /* Primary first, else the first that names a role; unknown values are skipped. */
    assert_string_equal(direct_of("{\"roles\": [{\"value\": \"Reporting\"},"
                                  " {\"value\": \"Admin\", \"primary\": true}]}"),
                        "admin");
    assert_string_equal(direct_of("{\"roles\": [{\"value\": \"Boss\", \"primary\": true},"
                                  " {\"value\": \"templates\"}]}"),
                        "templates");
    assert_null(direct_of("{\"roles\": [{\"value\": \"Boss\"}, {\"display\": \"admin\"}]}"));
    assert_null(direct_of("{\"roles\": \"admin\"}"));
    assert_null(direct_of("{\"" SPARKPOST_ROLE_URN "\": {\"role\": \"root\"}}"));
}

/* Returns 0 and the rules, or -1 with the error detail in *detail. */
static int
map_of(const char *text, struct store_role_rule **v, size_t *n, struct err *e)
{
    json_t *j = parse(text);
    int rc = role_map_from_json(j, v, n, e);
    json_decref(j);
    return rc;
}

static void
test_role_map_valid(void **state)
{
    (void)state;
    struct store_role_rule *v;
    size_t n;
    struct err e = { 0 };
    assert_int_equal(map_of("[{\"group\": \"Admin\", \"role\": \"ADMIN\", \"priority\": 1},"
                            " {\"group\": \"Ops\", \"role\": \"developer\", \"priority\": 9}]",
                            &v, &n, &e),
                     0);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].group, "Admin");
    assert_string_equal(v[0].role, "admin"); /* stored canonical */
    assert_int_equal(v[1].priority, 9);
    json_t *back = role_map_to_json(v, n);
    assert_int_equal(json_array_size(back), 2);
    json_decref(back);
    free(v);
    assert_int_equal(map_of("[]", &v, &n, &e), 0);
    assert_int_equal(n, 0);
    free(v);
}

static void
test_role_map_invalid(void **state)
{
    (void)state;
    static const struct {
        const char *json, *fragment;
    } cases[] = {
        { "{}", "array" },
        { "[1]", "entry 1" },
        { "[{\"group\": \"A\", \"role\": \"admin\"}]", "entry 1" },
        { "[{\"group\": \"A\", \"role\": \"admin\", \"priority\": \"1\"}]", "entry 1" },
        { "[{\"group\": \"A\", \"role\": \"admin\", \"priority\": 1, \"x\": 1}]", "entry 1" },
        { "[{\"group\": \"\", \"role\": \"admin\", \"priority\": 1}]", "group must be" },
        { "[{\"group\": \"A\", \"role\": \"owner\", \"priority\": 1}]", "role must be" },
        { "[{\"group\": \"A\", \"role\": \"admin\", \"priority\": 0}]", "priority must be" },
        { "[{\"group\": \"A\", \"role\": \"admin\", \"priority\": 1},"
          " {\"group\": \"a\", \"role\": \"admin\", \"priority\": 2}]",
          "group \"a\" twice" },
        { "[{\"group\": \"A\", \"role\": \"admin\", \"priority\": 3},"
          " {\"group\": \"B\", \"role\": \"admin\", \"priority\": 3}]",
          "priority 3 twice" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct store_role_rule *v = (void *)1;
        size_t n = 99;
        struct err e = { 0 };
        assert_int_equal(map_of(cases[i].json, &v, &n, &e), -1);
        assert_int_equal(e.code, ERR_INVALID_VALUE);
        if (strstr(e.detail, cases[i].fragment) == NULL)
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, e.detail, cases[i].fragment);
        assert_null(v);
        assert_int_equal(n, 0);
    }
}

static void
test_role_map_too_long(void **state)
{
    (void)state;
    json_t *arr = json_array();
    for (int i = 0; i <= ROLE_MAP_MAX; i++) {
        char name[16];
        snprintf(name, sizeof(name), "g%d", i);
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:i}", "group", name, "role", "admin", "priority", i + 1));
    }
    struct store_role_rule *v;
    size_t n;
    struct err e = { 0 };
    assert_int_equal(role_map_from_json(arr, &v, &n, &e), -1);
    assert_non_null(strstr(e.detail, "at most"));
    json_decref(arr);
}

static void
test_audit_changes(void **state)
{
    (void)state;
    json_t *a = parse("{\"userName\": \"a\", \"title\": \"x\", \"gone\": 1,"
                      " \"name\": {\"givenName\": \"A\"}}");
    json_t *b = parse("{\"userName\": \"a\", \"title\": \"y\", \"new\": true,"
                      " \"name\": {\"givenName\": \"B\"}}");
    json_t *c = audit_changes(a, b);
    json_t *want = parse("{\"title\": {\"before\": \"x\", \"after\": \"y\"},"
                         " \"gone\": {\"before\": 1, \"after\": null},"
                         " \"new\": {\"before\": null, \"after\": true},"
                         " \"name\": {\"before\": {\"givenName\": \"A\"},"
                         "            \"after\": {\"givenName\": \"B\"}}}");
    assert_true(json_equal(c, want));
    json_decref(c);
    c = audit_changes(a, a);
    assert_int_equal(json_object_size(c), 0);
    json_decref(c);
    json_decref(a);
    json_decref(b);
    json_decref(want);
}

#define HR_URN "urn:ietf:params:scim:schemas:extension:sparkhr:2.0:User"

/* role_catalogue_parse: accepted catalogues, read back. */
static void
catalogue_parse_accepts_and_canonicalises(void **state)
{
    (void)state;
    struct role_catalogue c;
    struct err e = { 0 };
    assert_int_equal(
        role_catalogue_parse(" owner , manager,employee ", "EMPLOYEE", "Owner", HR_URN, &c, &e), 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.names[0], "owner");
    assert_string_equal(c.names[2], "employee");
    assert_int_equal(c.default_index, 2);
    assert_int_equal(c.admin_index, 0);
    assert_string_equal(c.schema, HR_URN);
    /* No roles: default and admin must be left unset. */
    assert_int_equal(role_catalogue_parse("", NULL, "", SPARKPOST_ROLE_URN, &c, &e), 0);
    assert_int_equal(c.n, 0);
    assert_int_equal(c.default_index, -1);
    assert_int_equal(c.admin_index, -1);
    /* Exactly the limits. */
    char many[LIMIT_ROLES_MAX * 4 + 1];
    size_t used = 0;
    for (int i = 0; i < LIMIT_ROLES_MAX; i++)
        used += (size_t)snprintf(many + used, sizeof(many) - used, "%sr%d", i ? "," : "", i);
    assert_int_equal(role_catalogue_parse(many, "r0", "r31", HR_URN, &c, &e), 0);
    assert_int_equal(c.n, LIMIT_ROLES_MAX);
    assert_int_equal(role_catalogue_parse("a234567890abcde,b", "b", "b", "urn:a:b:c", &c, &e), 0);
}

/* role_catalogue_parse: each inconsistency is refused with a message naming it. */
static void
catalogue_parse_refuses_inconsistent_settings(void **state)
{
    (void)state;
    static const struct {
        const char *roles, *dflt, *admin, *schema, *detail;
    } cases[] = {
        { "a,,b", "a", "a", HR_URN, "roles: role 2 is empty" },
        { ",a", "a", "a", HR_URN, "roles: role 1 is empty" },
        { "a,b,A", "a", "a", HR_URN, "roles: \"A\" is named twice" },
        { "a,b234567890abcdef", "a", "a", HR_URN, "longer than 15 bytes" },
        { "a,b c", "a", "a", HR_URN, "may hold only letters" },
        { "a,b\xc3\xa9", "a", "a", HR_URN, "may hold only letters" },
        { "a,b", "c", "a", HR_URN, "default_role \"c\" is not one of the roles" },
        { "a,b", "a", "c", HR_URN, "admin_role \"c\" is not one of the roles" },
        { "a,b", NULL, "a", HR_URN, "default_role must name one of the roles" },
        { "a,b", "a", "", HR_URN, "admin_role must name one of the roles" },
        { "", "a", NULL, HR_URN, "default_role is \"a\" but roles is empty" },
        { " ", NULL, "a", HR_URN, "admin_role is \"a\" but roles is empty" },
        { "a", "a", "a", "", "role_schema is empty" },
        { "a", "a", "a", "tenant", "role_schema must be a URN" },
        { "a", "a", "a", "urn:a:b", "shape of a SCIM schema URN" },
        { "a", "a", "a", "urn:a::b", "must be non-empty" },
        { "a", "a", "a", "urn:9a:b:c", "must be non-empty" },
        { "a", "a", "a", "urn:a:b:c:", "must be non-empty" },
        { "a", "a", "a", "urn:a:b c:d", "may hold only" },
        { "a", "a", "a", "urn:a:b:$c", "may hold only" },
        { "a", "a", "a", "urn:ietf:params:scim:schemas:core:2.0:User", "must not be a SCIM core" },
        { "a", "a", "a", "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:GROUP", "must not be a SCIM core" },
        { "a", "a", "a", "urn:ietf:params:scim:api:messages:2.0:PatchOp",
          "must not be a SCIM core" },
        { "a", "a", "a", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
          "must not be a SCIM core" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct role_catalogue c;
        struct err e = { 0 };
        if (role_catalogue_parse(cases[i].roles, cases[i].dflt, cases[i].admin, cases[i].schema, &c,
                                 &e) == 0)
            fail_msg("case %zu (%s) was accepted", i, cases[i].detail);
        assert_int_equal(e.code, ERR_INVALID_VALUE);
        if (strstr(e.detail, cases[i].detail) == NULL)
            fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, e.detail, cases[i].detail);
    }
    char many[LIMIT_ROLES_MAX * 4 + 8] = "r";
    size_t used = 1;
    for (int i = 0; i < LIMIT_ROLES_MAX; i++)
        used += (size_t)snprintf(many + used, sizeof(many) - used, ",r%d", i);
    struct role_catalogue c;
    struct err e = { 0 };
    assert_int_equal(role_catalogue_parse(many, "r", "r", HR_URN, &c, &e), -1);
    assert_non_null(strstr(e.detail, "more than 32 roles"));
}

/* A custom catalogue drives canonical names, direct roles and the role map; no catalogue
 * refuses the map and gives no direct role. Restores SparkPost's afterwards. */
static void
catalogue_drives_roles_and_map(void **state)
{
    (void)state;
    struct role_catalogue c;
    struct err e = { 0 };
    assert_int_equal(
        role_catalogue_parse("owner,manager,employee", "employee", "owner", HR_URN, &c, &e), 0);
    role_catalogue_set(&c);
    assert_string_equal(role_default(), "employee");
    assert_string_equal(role_admin(), "owner");
    assert_string_equal(role_schema(), HR_URN);
    assert_string_equal(role_canonical("MANAGER"), "manager");
    assert_null(role_canonical("admin"));
    assert_string_equal(direct_of("{\"" HR_URN "\": {\"role\": \"Owner\"}}"), "owner");
    assert_null(direct_of("{\"" SPARKPOST_ROLE_URN "\": {\"role\": \"owner\"}}"));
    struct store_role_rule *v = NULL;
    size_t n = 0;
    assert_int_equal(
        map_of("[{\"group\": \"G\", \"role\": \"admin\", \"priority\": 1}]", &v, &n, &e), -1);
    assert_string_equal(e.detail, "role map entry 1: role must be owner, manager or employee");
    json_t *j = role_catalogue_to_json();
    json_t *want = parse("{\"roles\": [\"owner\", \"manager\", \"employee\"], \"default\": "
                         "\"employee\", \"adminRole\": \"owner\", \"schema\": \"" HR_URN "\"}");
    assert_true(json_equal(j, want));
    json_decref(j);
    json_decref(want);

    assert_int_equal(role_catalogue_parse("", NULL, NULL, HR_URN, &c, &e), 0);
    role_catalogue_set(&c);
    assert_null(role_default());
    assert_null(role_admin());
    assert_null(role_canonical("owner"));
    assert_null(direct_of("{\"roles\": [{\"value\": \"owner\", \"primary\": true}]}"));
    assert_int_equal(map_of("[]", &v, &n, &e), -1);
    assert_string_equal(e.detail, "this server has no roles configured, so there is no role map");
    sparkpost_roles_use();
}

int
main(void)
{
    sparkpost_roles_use();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_direct_role),
        cmocka_unit_test(test_role_map_valid),
        cmocka_unit_test(test_role_map_invalid),
        cmocka_unit_test(test_role_map_too_long),
        cmocka_unit_test(test_audit_changes),
        cmocka_unit_test(catalogue_parse_accepts_and_canonicalises),
        cmocka_unit_test(catalogue_parse_refuses_inconsistent_settings),
        cmocka_unit_test(catalogue_drives_roles_and_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
