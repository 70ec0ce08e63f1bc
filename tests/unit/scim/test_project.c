/* Unit tests for src/scim/project.c: attributes / excludedAttributes (RFC 7644 §3.4.2.5,
 * §3.9) over canonical documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/err.h"
#include "base/limits.h"
#include "scim/project.h"
#include "scim/schema.h"
#include "sparkpost_roles.h"

#define ENT SCIM_URN_ENTERPRISE
#define TEN SPARKPOST_ROLE_URN

/* A stored user as scimd keeps it: canonical, with id, meta and both extensions. The
 * password field is there to prove projection never lets it out. */
static const char user_doc[] =
    "{\"schemas\":[\"" SCIM_URN_USER "\",\"" ENT "\",\"" TEN "\"],"
    "\"id\":\"2819c223\",\"externalId\":\"ext-1\","
    "\"meta\":{\"resourceType\":\"User\",\"created\":\"2024-01-01T00:00:00Z\","
    "\"lastModified\":\"2024-01-02T00:00:00Z\",\"location\":\"https://x/Users/2819c223\","
    "\"version\":\"W/\\\"1\\\"\"},"
    "\"userName\":\"bjensen\",\"name\":{\"givenName\":\"Barbara\",\"familyName\":\"Jensen\"},"
    "\"displayName\":\"Babs\",\"active\":true,\"password\":\"secret\","
    "\"emails\":[{\"value\":\"b@x\",\"type\":\"work\",\"primary\":true},"
    "{\"value\":\"b@home\",\"type\":\"home\"}],"
    "\"groups\":[{\"value\":\"g1\",\"display\":\"Eng\"}],"
    "\"" ENT "\":{\"department\":\"R&D\",\"costCenter\":\"42\",\"manager\":{\"value\":\"m1\","
    "\"displayName\":\"Boss\"}},"
    "\"" TEN "\":{\"role\":\"developer\"}}";

static json_t *user;

static int
setup(void **state)
{
    (void)state;
    json_error_t jerr;
    user = json_loads(user_doc, JSON_REJECT_DUPLICATES, &jerr);
    if (user == NULL) {
        fprintf(stderr, "bad test JSON: %s\n", jerr.text);
        return -1;
    }
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    json_decref(user);
    return 0;
}

static json_t *
project_ok(const char *attributes, const char *excluded)
{
    struct err err = { 0 };
    json_t *p = scim_project(&scim_rt_user, user, attributes, excluded, &err);
    if (p == NULL)
        fail_msg("project failed: %s", err.detail);
    return p;
}

/* The document's keys, comma-joined in order, for exact comparisons. */
static const char *
keys(const json_t *o)
{
    static char out[1024];
    size_t len = 0;
    const char *k;
    json_t *v;

    out[0] = '\0';
    json_object_foreach((json_t *)o, k, v) {
        int n = snprintf(out + len, sizeof(out) - len, "%s%s", len ? "," : "", k);
        if (n < 0 || (size_t)n >= sizeof(out) - len)
            fail_msg("keys too long");
        len += (size_t)n;
    }
    return out;
}

static const char *
schemas_of(const json_t *o)
{
    static char out[1024];
    size_t len = 0, i;
    json_t *v;

    out[0] = '\0';
    json_array_foreach(json_object_get(o, "schemas"), i, v) {
        int n =
            snprintf(out + len, sizeof(out) - len, "%s%s", len ? " " : "", json_string_value(v));
        if (n < 0 || (size_t)n >= sizeof(out) - len)
            fail_msg("schemas too long");
        len += (size_t)n;
    }
    return out;
}

static void
project_attributes_username_keeps_only_id_schemas_username(void **state)
{
    (void)state;
    /* RFC 7643 §2.4: id and schemas are "always"; meta is "default". */
    json_t *p = project_ok("userName", NULL);

    assert_string_equal(keys(p), "schemas,id,userName");
    assert_string_equal(schemas_of(p), SCIM_URN_USER);
    json_decref(p);
}

static void
project_attributes_are_case_insensitive_and_trimmed(void **state)
{
    (void)state;
    json_t *p = project_ok(" USERNAME , displayname ", NULL);

    assert_string_equal(keys(p), "schemas,id,userName,displayName");
    json_decref(p);
}

static void
project_without_lists_drops_only_password(void **state)
{
    (void)state;
    json_t *p = project_ok(NULL, NULL);

    assert_null(json_object_get(p, "password"));
    assert_int_equal(json_object_size(p), json_object_size(user) - 1);
    assert_string_equal(schemas_of(p), SCIM_URN_USER " " ENT " " TEN);
    json_decref(p);
}

static void
project_excluded_emails_keeps_the_rest(void **state)
{
    (void)state;
    json_t *p = project_ok(NULL, "emails");

    assert_null(json_object_get(p, "emails"));
    assert_non_null(json_object_get(p, "userName"));
    assert_non_null(json_object_get(p, "meta"));
    assert_non_null(json_object_get(p, ENT));
    json_decref(p);
}

static void
project_excluded_id_is_still_returned(void **state)
{
    (void)state;
    /* RFC 7643 §2.4: "always" attributes are returned regardless of excludedAttributes. */
    json_t *p = project_ok(NULL, "id,schemas");

    assert_string_equal(json_string_value(json_object_get(p, "id")), "2819c223");
    assert_non_null(json_object_get(p, "schemas"));
    json_decref(p);
}

static void
project_attributes_sub_attribute_keeps_only_it(void **state)
{
    (void)state;
    json_t *p = project_ok("name.givenName", NULL);

    assert_string_equal(keys(p), "schemas,id,name");
    assert_string_equal(keys(json_object_get(p, "name")), "givenName");
    json_decref(p);
}

static void
project_attributes_multi_valued_sub_attribute_applies_to_each_value(void **state)
{
    (void)state;
    json_t *p = project_ok("emails.value", NULL);
    json_t *emails = json_object_get(p, "emails");

    assert_int_equal(json_array_size(emails), 2);
    assert_string_equal(keys(json_array_get(emails, 0)), "value");
    assert_string_equal(keys(json_array_get(emails, 1)), "value");
    json_decref(p);
}

static void
project_excluded_sub_attribute_removes_it_from_values(void **state)
{
    (void)state;
    json_t *p = project_ok(NULL, "emails.primary,name.familyName");

    assert_string_equal(keys(json_array_get(json_object_get(p, "emails"), 0)), "value,type");
    assert_string_equal(keys(json_object_get(p, "name")), "givenName");
    json_decref(p);
}

static void
project_attributes_extension_qualified_name(void **state)
{
    (void)state;
    json_t *p =
        project_ok("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", NULL);

    assert_string_equal(keys(p), "schemas,id," ENT);
    assert_string_equal(keys(json_object_get(p, ENT)), "department");
    /* The tenant extension is gone, so its URN leaves "schemas". */
    assert_string_equal(schemas_of(p), SCIM_URN_USER " " ENT);
    json_decref(p);
}

static void
project_attributes_extension_qualified_sub_attribute(void **state)
{
    (void)state;
    json_t *p = project_ok(ENT ":manager.value", NULL);

    assert_string_equal(keys(json_object_get(json_object_get(p, ENT), "manager")), "value");
    json_decref(p);
}

static void
project_attributes_whole_extension_urn(void **state)
{
    (void)state;
    json_t *p = project_ok("userName," TEN, NULL);

    assert_string_equal(keys(p), "schemas,id,userName," TEN);
    assert_string_equal(schemas_of(p), SCIM_URN_USER " " TEN);
    json_decref(p);
}

static void
project_excluded_whole_extension_drops_it_from_schemas(void **state)
{
    (void)state;
    json_t *p = project_ok(NULL, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user");

    assert_null(json_object_get(p, ENT));
    assert_string_equal(schemas_of(p), SCIM_URN_USER " " TEN);
    json_decref(p);
}

static void
project_excluded_last_extension_attribute_drops_extension(void **state)
{
    (void)state;
    json_t *p = project_ok(NULL, TEN ":role");

    assert_null(json_object_get(p, TEN));
    assert_string_equal(schemas_of(p), SCIM_URN_USER " " ENT);
    json_decref(p);
}

static void
project_password_never_returned_even_when_asked(void **state)
{
    (void)state;
    /* RFC 7643 §4.1.1: password "returned" is "never". */
    json_t *p = project_ok("password,userName", NULL);

    assert_string_equal(keys(p), "schemas,id,userName");
    json_decref(p);
}

static void
project_both_lists_attributes_wins(void **state)
{
    (void)state;
    json_t *p = project_ok("userName", "userName");

    assert_string_equal(keys(p), "schemas,id,userName");
    json_decref(p);
}

static void
project_unknown_names_are_ignored(void **state)
{
    (void)state;
    json_t *p = project_ok("userName,shoeSize,urn:example:Foo:bar,name.nope", NULL);

    assert_string_equal(keys(p), "schemas,id,userName");
    json_decref(p);
}

static void
project_broken_list_is_invalid_value(void **state)
{
    (void)state;
    struct err err = { 0 };

    assert_null(scim_project(&scim_rt_user, user, "emails[type eq \"work\"]", NULL, &err));
    assert_int_equal(err.code, ERR_INVALID_VALUE);
}

static void
project_too_many_entries_is_invalid_value(void **state)
{
    (void)state;
    char list[LIMIT_ATTR_LIST * 3 + 8];
    size_t len = 0;
    struct err err = { 0 };

    for (int i = 0; i <= LIMIT_ATTR_LIST; i++) {
        memcpy(list + len, "id,", 3);
        len += 3;
    }
    list[len] = '\0';
    assert_int_equal(scim_project_check(&scim_rt_user, NULL, list, &err), -1);
    assert_int_equal(err.code, ERR_INVALID_VALUE);
}

static void
project_output_shares_nothing_with_doc(void **state)
{
    (void)state;
    json_t *p = project_ok(NULL, NULL);

    assert_ptr_not_equal(json_object_get(p, "name"), json_object_get(user, "name"));
    json_object_set_new(json_object_get(p, "name"), "givenName", json_string("Changed"));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(user, "name"), "givenName")), "Barbara");
    json_decref(p);
}

static void
project_wants_members_unless_excluded(void **state)
{
    (void)state;
    /* IDP-QUIRKS.md 17: Entra reads groups with excludedAttributes=members. */
    assert_false(scim_project_wants(&scim_rt_group, NULL, "members", "members"));
    assert_true(scim_project_wants(&scim_rt_group, NULL, NULL, "members"));
    assert_true(scim_project_wants(&scim_rt_group, NULL, "displayName", "members"));
    assert_false(scim_project_wants(&scim_rt_group, "displayName", NULL, "members"));
    assert_true(scim_project_wants(&scim_rt_group, "members.value", NULL, "Members"));
}

static void
project_wants_follows_returned_characteristic(void **state)
{
    (void)state;
    assert_false(scim_project_wants(&scim_rt_user, NULL, NULL, "password"));
    assert_true(scim_project_wants(&scim_rt_user, "userName", NULL, "id"));
    assert_true(scim_project_wants(&scim_rt_user, NULL, "groups.display", "groups"));
    assert_false(scim_project_wants(&scim_rt_user, "userName", NULL, "groups"));
    /* A broken list answers true: the projection itself reports the error. */
    assert_true(scim_project_wants(&scim_rt_user, "a b", NULL, "groups"));
}

int
main(void)
{
    sparkpost_schema_use();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(project_attributes_username_keeps_only_id_schemas_username),
        cmocka_unit_test(project_attributes_are_case_insensitive_and_trimmed),
        cmocka_unit_test(project_without_lists_drops_only_password),
        cmocka_unit_test(project_excluded_emails_keeps_the_rest),
        cmocka_unit_test(project_excluded_id_is_still_returned),
        cmocka_unit_test(project_attributes_sub_attribute_keeps_only_it),
        cmocka_unit_test(project_attributes_multi_valued_sub_attribute_applies_to_each_value),
        cmocka_unit_test(project_excluded_sub_attribute_removes_it_from_values),
        cmocka_unit_test(project_attributes_extension_qualified_name),
        cmocka_unit_test(project_attributes_extension_qualified_sub_attribute),
        cmocka_unit_test(project_attributes_whole_extension_urn),
        cmocka_unit_test(project_excluded_whole_extension_drops_it_from_schemas),
        cmocka_unit_test(project_excluded_last_extension_attribute_drops_extension),
        cmocka_unit_test(project_password_never_returned_even_when_asked),
        cmocka_unit_test(project_both_lists_attributes_wins),
        cmocka_unit_test(project_unknown_names_are_ignored),
        cmocka_unit_test(project_broken_list_is_invalid_value),
        cmocka_unit_test(project_too_many_entries_is_invalid_value),
        cmocka_unit_test(project_output_shares_nothing_with_doc),
        cmocka_unit_test(project_wants_members_unless_excluded),
        cmocka_unit_test(project_wants_follows_returned_characteristic),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
