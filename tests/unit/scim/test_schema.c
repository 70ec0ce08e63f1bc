/* Unit tests for src/scim/schema.c: the schema tables (RFC 7643 §4, §8.7.1), their
 * discovery rendering (§6, §7) and scim_schema_resolve. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/err.h"
#include "query/query.h"
#include "scim/schema.h"
#include "sparkpost_roles.h"

#define BASE "https://scim.example.com/scim/v2"

/* The rendered attribute `name` of a rendered schema, borrowed from `schema`. */
static json_t *
rendered_attr(json_t *schema, const char *name)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(schema, "attributes"), i, a) {
        if (strcmp(json_string_value(json_object_get(a, "name")), name) == 0)
            return a;
    }
    fail_msg("attribute %s not rendered", name);
    return NULL;
}

static json_t *
rendered_sub(json_t *attr, const char *name)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(attr, "subAttributes"), i, a) {
        if (strcmp(json_string_value(json_object_get(a, "name")), name) == 0)
            return a;
    }
    fail_msg("sub-attribute %s not rendered", name);
    return NULL;
}

static const char *
str_field(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    assert_non_null(v);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static void
schema_render_user_username_is_required_server_unique_case_insensitive(void **state)
{
    (void)state;
    json_t *s = scim_schema_render(scim_schema_find(SCIM_URN_USER), BASE);
    json_t *a = rendered_attr(s, "userName");

    /* RFC 7643 §8.7.1: userName is required, caseExact false, uniqueness server. */
    assert_string_equal(str_field(a, "uniqueness"), "server");
    assert_true(json_is_false(json_object_get(a, "caseExact")));
    assert_true(json_is_true(json_object_get(a, "required")));
    assert_string_equal(str_field(a, "type"), "string");
    assert_string_equal(str_field(a, "mutability"), "readWrite");
    json_decref(s);
}

static void
schema_render_user_password_is_write_only_returned_never(void **state)
{
    (void)state;
    json_t *s = scim_schema_render(scim_schema_find(SCIM_URN_USER), BASE);
    json_t *a = rendered_attr(s, "password");

    /* RFC 7643 §4.1.1: the password is never returned. */
    assert_string_equal(str_field(a, "returned"), "never");
    assert_string_equal(str_field(a, "mutability"), "writeOnly");
    json_decref(s);
}

static void
schema_render_user_has_schema_envelope_and_location(void **state)
{
    (void)state;
    /* A trailing slash on the base URL must not double up in meta.location. */
    json_t *s = scim_schema_render(scim_schema_find(SCIM_URN_USER), BASE "/");
    json_t *meta = json_object_get(s, "meta");

    assert_string_equal(str_field(s, "id"), SCIM_URN_USER);
    assert_string_equal(str_field(s, "name"), "User");
    assert_string_equal(json_string_value(json_array_get(json_object_get(s, "schemas"), 0)),
                        SCIM_URN_SCHEMA);
    assert_string_equal(str_field(meta, "resourceType"), "Schema");
    assert_string_equal(str_field(meta, "location"), BASE "/Schemas/" SCIM_URN_USER);
    json_decref(s);
}

static void
schema_render_user_emails_complex_multi_with_canonical_types(void **state)
{
    (void)state;
    json_t *s = scim_schema_render(scim_schema_find(SCIM_URN_USER), BASE);
    json_t *emails = rendered_attr(s, "emails");
    json_t *type = rendered_sub(emails, "type");
    json_t *cv = json_object_get(type, "canonicalValues");

    assert_string_equal(str_field(emails, "type"), "complex");
    assert_true(json_is_true(json_object_get(emails, "multiValued")));
    /* RFC 7643 §7: caseExact is meaningless for complex attributes and not rendered. */
    assert_null(json_object_get(emails, "caseExact"));
    assert_int_equal(json_array_size(cv), 3);
    assert_string_equal(json_string_value(json_array_get(cv, 0)), "work");
    /* canonicalValues only where there are some. */
    assert_null(json_object_get(rendered_sub(emails, "value"), "canonicalValues"));
    assert_string_equal(str_field(rendered_sub(emails, "primary"), "type"), "boolean");
    json_decref(s);
}

static void
schema_render_user_references_carry_reference_types(void **state)
{
    (void)state;
    json_t *s = scim_schema_render(scim_schema_find(SCIM_URN_USER), BASE);
    json_t *rt = json_object_get(rendered_attr(s, "profileUrl"), "referenceTypes");
    json_t *groups = rendered_attr(s, "groups");
    json_t *gref = json_object_get(rendered_sub(groups, "$ref"), "referenceTypes");

    assert_string_equal(json_string_value(json_array_get(rt, 0)), "external");
    assert_string_equal(str_field(groups, "mutability"), "readOnly");
    assert_int_equal(json_array_size(gref), 2);
    json_decref(s);
}

static void
schema_render_group_display_name_required(void **state)
{
    (void)state;
    json_t *s = scim_schema_render(scim_schema_find(SCIM_URN_GROUP), BASE);
    json_t *dn = rendered_attr(s, "displayName");
    json_t *members = rendered_attr(s, "members");

    assert_true(json_is_true(json_object_get(dn, "required")));
    assert_string_equal(str_field(dn, "uniqueness"), "server");
    assert_string_equal(str_field(members, "mutability"), "readWrite");
    assert_string_equal(str_field(rendered_sub(members, "value"), "mutability"), "immutable");
    json_decref(s);
}

static void
schema_render_enterprise_manager_display_name_read_only(void **state)
{
    (void)state;
    json_t *s = scim_schema_render(scim_schema_find(SCIM_URN_ENTERPRISE), BASE);
    json_t *mgr = rendered_attr(s, "manager");

    /* RFC 7643 §4.3: manager.displayName is readOnly. */
    assert_string_equal(str_field(rendered_sub(mgr, "displayName"), "mutability"), "readOnly");
    assert_non_null(rendered_attr(s, "department"));
    json_decref(s);
}

static void
schema_render_tenant_role_lists_canonical_roles(void **state)
{
    (void)state;
    json_t *s = scim_schema_render(scim_schema_find(SPARKPOST_ROLE_URN), BASE);
    json_t *role = rendered_attr(s, "role");
    json_t *cv = json_object_get(role, "canonicalValues");

    assert_int_equal(json_array_size(cv), 4);
    assert_string_equal(json_string_value(json_array_get(cv, 0)), "admin");
    assert_string_equal(json_string_value(json_array_get(cv, 3)), "reporting");
    assert_non_null(strstr(str_field(role, "description"), "docs/roles.md"));
    json_decref(s);
}

static void
resource_type_render_user_lists_both_optional_extensions(void **state)
{
    (void)state;
    json_t *r = scim_resource_type_render(&scim_rt_user, BASE);
    json_t *exts = json_object_get(r, "schemaExtensions");

    assert_string_equal(str_field(r, "endpoint"), "/Users");
    assert_string_equal(str_field(r, "schema"), SCIM_URN_USER);
    assert_int_equal(json_array_size(exts), 2);
    assert_string_equal(str_field(json_array_get(exts, 0), "schema"), SCIM_URN_ENTERPRISE);
    assert_true(json_is_false(json_object_get(json_array_get(exts, 0), "required")));
    assert_string_equal(str_field(json_array_get(exts, 1), "schema"), SPARKPOST_ROLE_URN);
    assert_string_equal(str_field(json_object_get(r, "meta"), "location"),
                        BASE "/ResourceTypes/User");
    assert_string_equal(json_string_value(json_array_get(json_object_get(r, "schemas"), 0)),
                        SCIM_URN_RT);
    json_decref(r);
}

static void
resource_type_render_group_has_no_extensions(void **state)
{
    (void)state;
    json_t *r = scim_resource_type_render(&scim_rt_group, BASE);

    assert_string_equal(str_field(r, "endpoint"), "/Groups");
    assert_null(json_object_get(r, "schemaExtensions"));
    json_decref(r);
}

static void
lookups_are_case_insensitive(void **state)
{
    (void)state;
    assert_ptr_equal(scim_resource_type_find("user"), &scim_rt_user);
    assert_ptr_equal(scim_resource_type_find("GROUP"), &scim_rt_group);
    assert_null(scim_resource_type_find("Device"));
    assert_non_null(scim_schema_find("URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER"));
    assert_int_equal(scim_schema_count(), 4);
    assert_int_equal(scim_resource_type_count(), 2);
    assert_non_null(scim_common_attr_find("META"));
}

/* ---- scim_schema_resolve ---- */

static struct query_path
resolve_ok(const struct scim_resource_type *rt, const char *urn, const char *attr, const char *sub)
{
    struct query_path p = { .urn = urn, .attr = attr, .sub = sub };
    struct err err = { 0 };
    if (scim_schema_resolve((void *)rt, NULL, &p, &err) != 0)
        fail_msg("resolve %s failed: %s", attr, err.detail);
    return p;
}

static void
resolve_username_gives_canonical_core_info(void **state)
{
    (void)state;
    struct query_path p = resolve_ok(&scim_rt_user, NULL, "userName", NULL);

    assert_string_equal(p.attr_info->name, "userName");
    assert_int_equal(p.attr_info->type, QUERY_TYPE_STRING);
    assert_false(p.attr_info->case_exact);
    assert_null(p.sub_info);
    assert_null(p.ext_urn);
}

static void
resolve_username_upper_case_matches(void **state)
{
    (void)state;
    /* RFC 7643 §2.1: attribute names are case-insensitive. */
    struct query_path p = resolve_ok(&scim_rt_user, NULL, "USERNAME", NULL);

    assert_string_equal(p.attr_info->name, "userName");
}

static void
resolve_name_given_name_sets_sub_info(void **state)
{
    (void)state;
    struct query_path p = resolve_ok(&scim_rt_user, NULL, "name", "givenname");

    assert_string_equal(p.attr_info->name, "name");
    assert_string_equal(p.sub_info->name, "givenName");
}

static void
resolve_emails_then_parent_relative_type(void **state)
{
    (void)state;
    struct query_path parent = resolve_ok(&scim_rt_user, NULL, "emails", NULL);
    struct query_path inner = { .attr = "TYPE" };
    struct err err = { 0 };

    assert_true(parent.attr_info->multi_valued);
    assert_int_equal(scim_schema_resolve((void *)&scim_rt_user, &parent, &inner, &err), 0);
    assert_string_equal(inner.attr_info->name, "type");
    assert_null(inner.sub_info);
    assert_ptr_equal(scim_attr_of(inner.attr_info),
                     scim_attr_sub_find(scim_attr_of(parent.attr_info), "type"));
}

static void
resolve_parent_relative_unknown_fails(void **state)
{
    (void)state;
    struct query_path parent = resolve_ok(&scim_rt_user, NULL, "emails", NULL);
    struct query_path inner = { .attr = "givenName" };
    struct err err = { 0 };

    assert_int_equal(scim_schema_resolve((void *)&scim_rt_user, &parent, &inner, &err), -1);
    assert_int_equal(err.code, ERR_INVALID_FILTER);
}

static void
resolve_full_urn_enterprise_department(void **state)
{
    (void)state;
    /* Entra qualifies extension attributes with their URN, in any case. */
    struct query_path p =
        resolve_ok(&scim_rt_user, "urn:ietf:params:scim:schemas:extension:Enterprise:2.0:user",
                   "department", NULL);

    assert_string_equal(p.attr_info->name, "department");
    assert_string_equal(p.ext_urn, SCIM_URN_ENTERPRISE);
}

static void
resolve_enterprise_manager_value_sub(void **state)
{
    (void)state;
    struct query_path p = resolve_ok(&scim_rt_user, SCIM_URN_ENTERPRISE, "manager", "value");

    assert_string_equal(p.sub_info->name, "value");
    assert_string_equal(p.ext_urn, SCIM_URN_ENTERPRISE);
}

static void
resolve_core_urn_qualified_username_is_core(void **state)
{
    (void)state;
    struct query_path p = resolve_ok(&scim_rt_user, SCIM_URN_USER, "userName", NULL);

    assert_string_equal(p.attr_info->name, "userName");
    assert_null(p.ext_urn);
}

static void
resolve_unqualified_extension_attribute_falls_back(void **state)
{
    (void)state;
    struct query_path p = resolve_ok(&scim_rt_user, NULL, "role", NULL);

    assert_string_equal(p.ext_urn, SPARKPOST_ROLE_URN);
}

static void
resolve_unsplit_qualified_name_is_accepted(void **state)
{
    (void)state;
    struct query_path p = resolve_ok(&scim_rt_user, NULL, SCIM_URN_ENTERPRISE ":costCenter", NULL);

    assert_string_equal(p.attr_info->name, "costCenter");
    assert_string_equal(p.ext_urn, SCIM_URN_ENTERPRISE);
}

static void
resolve_common_meta_last_modified_is_datetime(void **state)
{
    (void)state;
    struct query_path p = resolve_ok(&scim_rt_group, NULL, "meta", "lastModified");

    assert_int_equal(p.sub_info->type, QUERY_TYPE_DATETIME);
    assert_int_equal(scim_attr_of(p.sub_info)->mutability, SCIM_MUT_READ_ONLY);
}

static void
resolve_id_is_case_exact_returned_always(void **state)
{
    (void)state;
    struct query_path p = resolve_ok(&scim_rt_group, NULL, "id", NULL);
    const struct scim_attr *a = scim_attr_of(p.attr_info);

    assert_true(p.attr_info->case_exact);
    assert_int_equal(a->returned, SCIM_RET_ALWAYS);
    assert_int_equal(a->uniqueness, SCIM_UNIQ_SERVER);
}

static void
resolve_unknown_attribute_fails_naming_it(void **state)
{
    (void)state;
    struct query_path p = { .attr = "nope" };
    struct err err = { 0 };

    assert_int_equal(scim_schema_resolve((void *)&scim_rt_user, NULL, &p, &err), -1);
    assert_int_equal(err.code, ERR_INVALID_FILTER);
    assert_string_equal(err.detail, "unknown attribute \"nope\"");
}

static void
resolve_unknown_sub_attribute_fails(void **state)
{
    (void)state;
    struct query_path p = { .attr = "name", .sub = "nickname" };
    struct err err = { 0 };

    assert_int_equal(scim_schema_resolve((void *)&scim_rt_user, NULL, &p, &err), -1);
    assert_int_equal(err.code, ERR_INVALID_FILTER);
    assert_string_equal(err.detail, "unknown attribute \"name.nickname\"");
}

static void
resolve_extension_of_other_type_fails(void **state)
{
    (void)state;
    /* Groups have no enterprise extension. */
    struct query_path p = { .urn = SCIM_URN_ENTERPRISE, .attr = "department" };
    struct err err = { 0 };

    assert_int_equal(scim_schema_resolve((void *)&scim_rt_group, NULL, &p, &err), -1);
    assert_int_equal(err.code, ERR_INVALID_FILTER);
}

static void
resolve_user_attribute_on_group_fails(void **state)
{
    (void)state;
    struct query_path p = { .attr = "userName" };
    struct err err = { 0 };

    assert_int_equal(scim_schema_resolve((void *)&scim_rt_group, NULL, &p, &err), -1);
    assert_int_equal(err.code, ERR_INVALID_FILTER);
}

int
main(void)
{
    sparkpost_schema_use();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(schema_render_user_username_is_required_server_unique_case_insensitive),
        cmocka_unit_test(schema_render_user_password_is_write_only_returned_never),
        cmocka_unit_test(schema_render_user_has_schema_envelope_and_location),
        cmocka_unit_test(schema_render_user_emails_complex_multi_with_canonical_types),
        cmocka_unit_test(schema_render_user_references_carry_reference_types),
        cmocka_unit_test(schema_render_group_display_name_required),
        cmocka_unit_test(schema_render_enterprise_manager_display_name_read_only),
        cmocka_unit_test(schema_render_tenant_role_lists_canonical_roles),
        cmocka_unit_test(resource_type_render_user_lists_both_optional_extensions),
        cmocka_unit_test(resource_type_render_group_has_no_extensions),
        cmocka_unit_test(lookups_are_case_insensitive),
        cmocka_unit_test(resolve_username_gives_canonical_core_info),
        cmocka_unit_test(resolve_username_upper_case_matches),
        cmocka_unit_test(resolve_name_given_name_sets_sub_info),
        cmocka_unit_test(resolve_emails_then_parent_relative_type),
        cmocka_unit_test(resolve_parent_relative_unknown_fails),
        cmocka_unit_test(resolve_full_urn_enterprise_department),
        cmocka_unit_test(resolve_enterprise_manager_value_sub),
        cmocka_unit_test(resolve_core_urn_qualified_username_is_core),
        cmocka_unit_test(resolve_unqualified_extension_attribute_falls_back),
        cmocka_unit_test(resolve_unsplit_qualified_name_is_accepted),
        cmocka_unit_test(resolve_common_meta_last_modified_is_datetime),
        cmocka_unit_test(resolve_id_is_case_exact_returned_always),
        cmocka_unit_test(resolve_unknown_attribute_fails_naming_it),
        cmocka_unit_test(resolve_unknown_sub_attribute_fails),
        cmocka_unit_test(resolve_extension_of_other_type_fails),
        cmocka_unit_test(resolve_user_attribute_on_group_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
