/* Unit tests for src/scim/resource.c: normalisation of POST/PUT bodies as Okta and Entra
 * send them (IDP-QUIRKS.md), RFC 7643 §2 characteristics, immutability and depth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/err.h"
#include "base/limits.h"
#include "scim/resource.h"
#include "scim/schema.h"
#include "sparkpost_roles.h"

#define ENT SCIM_URN_ENTERPRISE

/* Okta's create request (Okta "SCIM 2.0 protocol reference", Create users; IDP-QUIRKS.md 3):
 * password, empty groups, locale and externalId included. */
static const char okta_create[] =
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
    "\"userName\":\"test.user@okta.local\","
    "\"name\":{\"givenName\":\"Test\",\"familyName\":\"User\"},"
    "\"emails\":[{\"primary\":true,\"value\":\"test.user@okta.local\",\"type\":\"work\"}],"
    "\"displayName\":\"Test User\",\"locale\":\"en-US\",\"externalId\":\"00ujl29u0le5T6Aj10h7\","
    "\"groups\":[],\"password\":\"1mz050nq\",\"active\":true}";

/* Entra's create request (Microsoft "Tutorial: Develop a SCIM endpoint", User operations),
 * with the legacy string boolean (IDP-QUIRKS.md 12). */
static const char entra_create[] =
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\","
    "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"],"
    "\"externalId\":\"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\","
    "\"userName\":\"Test_User_ab6490ee@testuser.com\",\"active\":\"True\","
    "\"addresses\":[{\"primary\":false,\"type\":\"work\",\"formatted\":\"1 Main St\","
    "\"streetAddress\":\"1 Main St\",\"locality\":\"Redmond\",\"country\":\"US\"}],"
    "\"displayName\":\"Test User\","
    "\"emails\":[{\"primary\":true,\"type\":\"work\",\"value\":\"Test_User_ab6490ee@testuser.com\"}],"
    "\"meta\":{\"resourceType\":\"User\"},"
    "\"name\":{\"familyName\":\"User\",\"givenName\":\"Test\"},"
    "\"phoneNumbers\":[{\"type\":\"work\",\"value\":\"+1 425 555 0100\"},"
    "{\"type\":\"mobile\",\"value\":\"+1 425 555 0101\"}],"
    "\"title\":\"Engineer\","
    "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":{\"department\":\"R&D\","
    "\"employeeNumber\":\"4711\",\"manager\":{\"value\":\"7f3b5c0e\"}}}";

static json_t *
parse(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (j == NULL)
        fail_msg("bad test JSON: %s", jerr.text);
    return j;
}

static json_t *
normalize_ok(const struct scim_resource_type *rt, const char *text, char **password)
{
    json_t *in = parse(text);
    struct err err = { 0 };
    json_t *out = scim_resource_normalize(rt, in, SCIM_WRITE_CREATE, password, &err);
    if (out == NULL)
        fail_msg("normalize failed: %s: %s", err_name(err.code), err.detail);
    json_decref(in);
    return out;
}

/* Normalises `text` expecting failure; returns the error. */
static struct err
normalize_fail(const struct scim_resource_type *rt, const char *text)
{
    json_t *in = parse(text);
    struct err err = { 0 };
    char *pw = NULL;
    json_t *out = scim_resource_normalize(rt, in, SCIM_WRITE_REPLACE, &pw, &err);
    if (out != NULL) {
        char *s = json_dumps(out, 0);
        fail_msg("normalize succeeded: %s", s);
    }
    assert_null(pw);
    json_decref(in);
    return err;
}

static const char *
ext_str(json_t *doc, const char *urn, const char *attr)
{
    return json_string_value(json_object_get(json_object_get(doc, urn), attr));
}

static void
normalize_okta_create_keeps_profile_and_extracts_password(void **state)
{
    (void)state;
    char *pw = NULL;
    json_t *d = normalize_ok(&scim_rt_user, okta_create, &pw);

    assert_string_equal(json_string_value(json_object_get(d, "userName")), "test.user@okta.local");
    assert_string_equal(json_string_value(json_object_get(json_object_get(d, "name"), "givenName")),
                        "Test");
    assert_string_equal(json_string_value(json_object_get(d, "locale")), "en-US");
    assert_string_equal(json_string_value(json_object_get(d, "externalId")),
                        "00ujl29u0le5T6Aj10h7");
    assert_true(json_is_true(json_object_get(d, "active")));
    assert_int_equal(json_array_size(json_object_get(d, "emails")), 1);
    /* groups is readOnly (RFC 7643 §4.1.2) and the password never enters the document. */
    assert_null(json_object_get(d, "groups"));
    assert_null(json_object_get(d, "password"));
    assert_string_equal(pw, "1mz050nq");
    json_t *schemas = json_object_get(d, "schemas");
    assert_int_equal(json_array_size(schemas), 1);
    assert_string_equal(json_string_value(json_array_get(schemas, 0)), SCIM_URN_USER);
    free(pw);
    json_decref(d);
}

static void
normalize_entra_create_keeps_enterprise_extension(void **state)
{
    (void)state;
    json_t *d = normalize_ok(&scim_rt_user, entra_create, NULL);
    json_t *schemas = json_object_get(d, "schemas");

    assert_true(json_is_true(json_object_get(d, "active")));
    assert_null(json_object_get(d, "meta"));
    assert_string_equal(ext_str(d, ENT, "department"), "R&D");
    assert_string_equal(ext_str(d, ENT, "employeeNumber"), "4711");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(d, ENT), "manager"), "value")),
                        "7f3b5c0e");
    assert_int_equal(json_array_size(json_object_get(d, "phoneNumbers")), 2);
    assert_int_equal(json_array_size(schemas), 2);
    assert_string_equal(json_string_value(json_array_get(schemas, 1)), ENT);
    json_decref(d);
}

static void
normalize_string_false_becomes_boolean_false(void **state)
{
    (void)state;
    /* IDP-QUIRKS.md 12: Entra sends booleans as "True"/"False". */
    json_t *d = normalize_ok(&scim_rt_user,
                             "{\"userName\":\"a\",\"active\":\"False\","
                             "\"emails\":[{\"value\":\"a@x\",\"primary\":\"TRUE\"}]}",
                             NULL);

    assert_true(json_is_false(json_object_get(d, "active")));
    assert_true(
        json_is_true(json_object_get(json_array_get(json_object_get(d, "emails"), 0), "primary")));
    json_decref(d);
}

static void
normalize_drops_read_only_id_meta_groups(void **state)
{
    (void)state;
    /* RFC 7643 §2.2: readOnly attributes in a request are ignored. */
    json_t *d = normalize_ok(&scim_rt_user,
                             "{\"id\":\"forged\",\"userName\":\"a\","
                             "\"meta\":{\"created\":\"2020-01-01T00:00:00Z\"},"
                             "\"groups\":[{\"value\":\"g1\"}],"
                             "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":"
                             "{\"manager\":{\"value\":\"m\",\"displayName\":\"Boss\"}}}",
                             NULL);

    assert_null(json_object_get(d, "id"));
    assert_null(json_object_get(d, "meta"));
    assert_null(json_object_get(d, "groups"));
    assert_null(
        json_object_get(json_object_get(json_object_get(d, ENT), "manager"), "displayName"));
    json_decref(d);
}

static void
normalize_missing_username_is_invalid_value(void **state)
{
    (void)state;
    /* RFC 7643 §4.1.1: userName is REQUIRED. */
    struct err err = normalize_fail(&scim_rt_user, "{\"displayName\":\"No Name\"}");

    assert_int_equal(err.code, ERR_INVALID_VALUE);
    assert_non_null(strstr(err.detail, "userName"));
}

static void
normalize_empty_username_is_invalid_value(void **state)
{
    (void)state;
    struct err err = normalize_fail(&scim_rt_user, "{\"userName\":\"\"}");

    assert_int_equal(err.code, ERR_INVALID_VALUE);
    assert_non_null(strstr(err.detail, "userName"));
}

static void
normalize_number_for_boolean_is_invalid_value(void **state)
{
    (void)state;
    struct err err = normalize_fail(&scim_rt_user, "{\"userName\":\"a\",\"active\":3}");

    assert_int_equal(err.code, ERR_INVALID_VALUE);
    assert_non_null(strstr(err.detail, "active"));
}

static void
normalize_other_string_for_boolean_is_invalid_value(void **state)
{
    (void)state;
    struct err err = normalize_fail(&scim_rt_user, "{\"userName\":\"a\",\"active\":\"yes\"}");

    assert_int_equal(err.code, ERR_INVALID_VALUE);
}

static void
normalize_number_for_string_is_invalid_value(void **state)
{
    (void)state;
    struct err err = normalize_fail(&scim_rt_user, "{\"userName\":42}");

    assert_int_equal(err.code, ERR_INVALID_VALUE);
    assert_non_null(strstr(err.detail, "userName"));
}

static void
normalize_two_primary_emails_is_invalid_value(void **state)
{
    (void)state;
    /* RFC 7643 §2.4: primary true appears no more than once. */
    struct err err = normalize_fail(&scim_rt_user, "{\"userName\":\"a\",\"emails\":["
                                                   "{\"value\":\"a@x\",\"primary\":true},"
                                                   "{\"value\":\"b@x\",\"primary\":\"True\"}]}");

    assert_int_equal(err.code, ERR_INVALID_VALUE);
    assert_non_null(strstr(err.detail, "only one primary"));
}

static void
normalize_unknown_role_is_invalid_value_listing_roles(void **state)
{
    (void)state;
    struct err err = normalize_fail(&scim_rt_user, "{\"userName\":\"a\",\"" SPARKPOST_ROLE_URN
                                                   "\":{\"role\":\"superuser\"}}");

    assert_int_equal(err.code, ERR_INVALID_VALUE);
    assert_non_null(strstr(err.detail, "admin, developer, templates, reporting"));
}

static void
normalize_role_is_stored_in_canonical_lower_case(void **state)
{
    (void)state;
    json_t *d =
        normalize_ok(&scim_rt_user,
                     "{\"userName\":\"a\",\"" SPARKPOST_ROLE_URN "\":{\"ROLE\":\"Admin\"}}", NULL);

    assert_string_equal(ext_str(d, SPARKPOST_ROLE_URN, "role"), "admin");
    assert_string_equal(json_string_value(json_array_get(json_object_get(d, "schemas"), 1)),
                        SPARKPOST_ROLE_URN);
    json_decref(d);
}

static void
normalize_non_canonical_email_type_is_kept(void **state)
{
    (void)state;
    /* Entra sends types such as "proxyAddress"; only canonical_strict attributes enforce. */
    json_t *d = normalize_ok(
        &scim_rt_user,
        "{\"userName\":\"a\",\"emails\":[{\"value\":\"a@x\",\"type\":\"proxyAddress\"}]}", NULL);

    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(d, "emails"), 0), "type")),
        "proxyAddress");
    json_decref(d);
}

static void
normalize_flat_urn_keys_fold_into_extension(void **state)
{
    (void)state;
    /* IDP-QUIRKS.md 13: Entra's full-URN keys, here mixed with a nested object. */
    json_t *d = normalize_ok(
        &scim_rt_user,
        "{\"userName\":\"a\","
        "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department\":\"Sales\","
        "\"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:manager.value\":\"m1\","
        "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":{\"costCenter\":\"42\"}}",
        NULL);
    json_t *ent = json_object_get(d, ENT);

    assert_string_equal(ext_str(d, ENT, "department"), "Sales");
    assert_string_equal(ext_str(d, ENT, "costCenter"), "42");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(ent, "manager"), "value")), "m1");
    assert_int_equal(json_array_size(json_object_get(d, "schemas")), 2);
    json_decref(d);
}

static void
normalize_flat_core_urn_key_is_core_attribute(void **state)
{
    (void)state;
    json_t *d = normalize_ok(&scim_rt_user, "{\"" SCIM_URN_USER ":userName\":\"a\"}", NULL);

    assert_string_equal(json_string_value(json_object_get(d, "userName")), "a");
    json_decref(d);
}

static void
normalize_dotted_key_folds_into_complex(void **state)
{
    (void)state;
    json_t *d = normalize_ok(
        &scim_rt_user,
        "{\"userName\":\"a\",\"name.givenName\":\"G\",\"name\":{\"familyName\":\"F\"}}", NULL);
    json_t *name = json_object_get(d, "name");

    assert_string_equal(json_string_value(json_object_get(name, "givenName")), "G");
    assert_string_equal(json_string_value(json_object_get(name, "familyName")), "F");
    json_decref(d);
}

static void
normalize_same_attribute_twice_is_invalid_syntax(void **state)
{
    (void)state;
    struct err err = normalize_fail(&scim_rt_user, "{\"userName\":\"a\",\"USERNAME\":\"b\"}");

    assert_int_equal(err.code, ERR_INVALID_SYNTAX);
    assert_non_null(strstr(err.detail, "userName"));
}

static void
normalize_sub_attribute_twice_via_dotted_key_is_invalid_syntax(void **state)
{
    (void)state;
    /* Found by fuzz_resource: the duplicate report read a freed key. */
    struct err err = normalize_fail(
        &scim_rt_user,
        "{\"userName\":\"a\",\"name\":{\"givenName\":\"x\"},\"name.givenName\":\"y\"}");

    assert_int_equal(err.code, ERR_INVALID_SYNTAX);
    assert_non_null(strstr(err.detail, "name.givenName"));
}

static void
normalize_password_absent_gives_null(void **state)
{
    (void)state;
    char *pw = (char *)"sentinel";
    json_t *d = normalize_ok(&scim_rt_user, "{\"userName\":\"a\"}", &pw);

    assert_null(pw);
    json_decref(d);
}

static void
normalize_password_not_string_is_invalid_value(void **state)
{
    (void)state;
    struct err err = normalize_fail(&scim_rt_user, "{\"userName\":\"a\",\"password\":123}");

    assert_int_equal(err.code, ERR_INVALID_VALUE);
}

static void
normalize_keys_case_insensitive_to_canonical(void **state)
{
    (void)state;
    json_t *d = normalize_ok(
        &scim_rt_user,
        "{\"USERNAME\":\"a\",\"DisplayName\":\"A\",\"EMAILS\":[{\"VALUE\":\"a@x\"}]}", NULL);

    assert_string_equal(json_string_value(json_object_get(d, "userName")), "a");
    assert_string_equal(json_string_value(json_object_get(d, "displayName")), "A");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(d, "emails"), 0), "value")),
                        "a@x");
    json_decref(d);
}

static void
normalize_unknown_attributes_and_schemas_are_ignored(void **state)
{
    (void)state;
    /* Okta sends custom extension schemas scimd does not define (IDP-QUIRKS.md 3). */
    json_t *d = normalize_ok(&scim_rt_user,
                             "{\"schemas\":[\"" SCIM_URN_USER "\",\"urn:okta:custom:1.0:User\"],"
                             "\"userName\":\"a\",\"favouriteColour\":\"blue\","
                             "\"urn:okta:custom:1.0:User\":{\"costCode\":\"x\"}}",
                             NULL);

    assert_int_equal(json_object_size(d), 2); /* schemas, userName */
    assert_int_equal(json_array_size(json_object_get(d, "schemas")), 1);
    json_decref(d);
}

static void
normalize_null_and_empty_values_are_absent(void **state)
{
    (void)state;
    /* RFC 7644 §3.5.1: null means unassigned. */
    json_t *d = normalize_ok(&scim_rt_user,
                             "{\"userName\":\"a\",\"displayName\":null,\"emails\":[],"
                             "\"name\":{\"givenName\":null},\"phoneNumbers\":[null],"
                             "\"" SCIM_URN_ENTERPRISE "\":{}}",
                             NULL);

    assert_int_equal(json_object_size(d), 2);
    json_decref(d);
}

static void
normalize_single_value_for_multi_valued_is_invalid_value(void **state)
{
    (void)state;
    /* RFC 7643 §2.4: a multi-valued attribute is a JSON array in a body (docs/scim.md). */
    struct err err = normalize_fail(
        &scim_rt_user, "{\"userName\":\"a\",\"emails\":{\"value\":\"a@x\",\"type\":\"work\"}}");

    assert_int_equal(err.code, ERR_INVALID_VALUE);
    assert_non_null(strstr(err.detail, "\"emails\" is multi-valued"));
}

static void
normalize_bare_string_manager_becomes_value(void **state)
{
    (void)state;
    /* IDP-QUIRKS.md 16: Entra sends the manager as a bare id. */
    json_t *d =
        normalize_ok(&scim_rt_user,
                     "{\"userName\":\"a\",\"" SCIM_URN_ENTERPRISE "\":{\"manager\":\"m1\"}}", NULL);

    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(d, ENT), "manager"), "value")),
                        "m1");
    json_decref(d);
}

static void
normalize_body_not_object_is_invalid_syntax(void **state)
{
    (void)state;
    assert_int_equal(normalize_fail(&scim_rt_user, "[{\"userName\":\"a\"}]").code,
                     ERR_INVALID_SYNTAX);
    assert_int_equal(normalize_fail(&scim_rt_user, "\"userName\"").code, ERR_INVALID_SYNTAX);
}

static void
normalize_schemas_without_core_urn_is_invalid_syntax(void **state)
{
    (void)state;
    struct err err =
        normalize_fail(&scim_rt_user, "{\"schemas\":[\"" SCIM_URN_GROUP "\"],\"userName\":\"a\"}");

    assert_int_equal(err.code, ERR_INVALID_SYNTAX);
}

static void
normalize_schemas_not_string_array_is_invalid_syntax(void **state)
{
    (void)state;
    struct err err =
        normalize_fail(&scim_rt_user, "{\"schemas\":\"" SCIM_URN_USER "\",\"userName\":\"a\"}");

    assert_int_equal(err.code, ERR_INVALID_SYNTAX);
}

static void
normalize_group_with_members(void **state)
{
    (void)state;
    /* IDP-QUIRKS.md 8: Okta group push; members may lack type. */
    json_t *d = normalize_ok(&scim_rt_group,
                             "{\"schemas\":[\"" SCIM_URN_GROUP "\"],\"displayName\":\"Eng\","
                             "\"members\":[{\"value\":\"u1\",\"display\":\"U One\"},\"u2\"]}",
                             NULL);
    json_t *m = json_object_get(d, "members");

    assert_int_equal(json_array_size(m), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(m, 1), "value")), "u2");
    json_decref(d);
}

static void
normalize_group_missing_display_name_is_invalid_value(void **state)
{
    (void)state;
    struct err err = normalize_fail(&scim_rt_group, "{\"members\":[]}");

    assert_int_equal(err.code, ERR_INVALID_VALUE);
    assert_non_null(strstr(err.detail, "displayName"));
}

static void
normalize_group_member_without_value_is_invalid_value(void **state)
{
    (void)state;
    struct err err = normalize_fail(&scim_rt_group,
                                    "{\"displayName\":\"Eng\",\"members\":[{\"display\":\"x\"}]}");

    assert_int_equal(err.code, ERR_INVALID_VALUE);
    assert_non_null(strstr(err.detail, "members.value"));
}

static void
normalize_nesting_over_limit_is_invalid_syntax(void **state)
{
    (void)state;
    char text[256] = "{\"userName\":\"a\",\"x\":";
    size_t len = strlen(text);
    /* The body object is level 1; 16 more arrays make it 17 deep. */
    for (int i = 0; i < LIMIT_JSON_DEPTH; i++)
        text[len++] = '[';
    for (int i = 0; i < LIMIT_JSON_DEPTH; i++)
        text[len++] = ']';
    text[len++] = '}';
    text[len] = '\0';

    assert_int_equal(normalize_fail(&scim_rt_user, text).code, ERR_INVALID_SYNTAX);
}

static void
depth_check_accepts_exactly_max(void **state)
{
    (void)state;
    struct err err = { 0 };
    json_t *j = parse("[[[{}]]]");

    assert_int_equal(scim_json_depth_check(j, 4, &err), 0);
    assert_int_equal(scim_json_depth_check(j, 3, &err), -1);
    assert_int_equal(err.code, ERR_INVALID_SYNTAX);
    json_decref(j);
}

static void
normalize_output_is_idempotent(void **state)
{
    (void)state;
    json_t *d1 = normalize_ok(&scim_rt_user, entra_create, NULL);
    struct err err = { 0 };
    json_t *d2 = scim_resource_normalize(&scim_rt_user, d1, SCIM_WRITE_REPLACE, NULL, &err);

    assert_non_null(d2);
    assert_true(json_equal(d1, d2));
    json_decref(d1);
    json_decref(d2);
}

/* ---- Immutability: a test schema, since scimd's own has no single-valued immutable
 * attribute today. ---- */

static const struct scim_attr badge_subs[] = {
    { .info = { .name = "serial", .type = QUERY_TYPE_STRING, .case_exact = true },
      .mutability = SCIM_MUT_IMMUTABLE },
    { .info = { .name = "label", .type = QUERY_TYPE_STRING } },
};

static const struct scim_attr test_attrs[] = {
    { .info = { .name = "code", .type = QUERY_TYPE_STRING }, .mutability = SCIM_MUT_IMMUTABLE },
    { .info = { .name = "badge", .type = QUERY_TYPE_COMPLEX },
      .sub_attrs = badge_subs,
      .n_sub_attrs = 2 },
};

static const struct scim_schema test_schema = {
    .id = "urn:test:Thing", .name = "Thing", .attrs = test_attrs, .n_attrs = 2
};

static const struct scim_resource_type test_rt = {
    .id = "Thing", .name = "Thing", .endpoint = "/Things", .schema = &test_schema
};

static int
immutable_check(const char *old_text, const char *new_text, struct err *err)
{
    json_t *o = parse(old_text), *n = parse(new_text);
    int rc = scim_resource_check_immutable(&test_rt, o, n, err);
    json_decref(o);
    json_decref(n);
    return rc;
}

static void
immutable_changed_value_is_mutability_error(void **state)
{
    (void)state;
    struct err err = { 0 };

    /* RFC 7644 §3.5.1: an immutable value, once set, must match. */
    assert_int_equal(immutable_check("{\"code\":\"a\"}", "{\"code\":\"b\"}", &err), -1);
    assert_int_equal(err.code, ERR_MUTABILITY);
    assert_non_null(strstr(err.detail, "code"));
}

static void
immutable_case_change_of_case_insensitive_value_is_not_a_change(void **state)
{
    (void)state;
    struct err err = { 0 };

    assert_int_equal(immutable_check("{\"code\":\"abc\"}", "{\"code\":\"ABC\"}", &err), 0);
}

static void
immutable_first_set_and_omission_are_allowed(void **state)
{
    (void)state;
    struct err err = { 0 };

    assert_int_equal(immutable_check("{}", "{\"code\":\"a\"}", &err), 0);
    assert_int_equal(immutable_check("{\"code\":\"a\"}", "{}", &err), 0);
}

static void
immutable_sub_attribute_change_is_mutability_error(void **state)
{
    (void)state;
    struct err err = { 0 };

    assert_int_equal(immutable_check("{\"badge\":{\"serial\":\"S1\",\"label\":\"x\"}}",
                                     "{\"badge\":{\"serial\":\"s1\",\"label\":\"y\"}}", &err),
                     -1);
    assert_int_equal(err.code, ERR_MUTABILITY);
    assert_non_null(strstr(err.detail, "badge.serial"));
}

static void
immutable_group_member_list_change_is_allowed(void **state)
{
    (void)state;
    struct err err = { 0 };
    json_t *o = parse("{\"displayName\":\"g\",\"members\":[{\"value\":\"u1\"}]}");
    json_t *n = parse("{\"displayName\":\"h\",\"members\":[{\"value\":\"u2\"}]}");

    assert_int_equal(scim_resource_check_immutable(&scim_rt_group, o, n, &err), 0);
    json_decref(o);
    json_decref(n);
}

int
main(void)
{
    sparkpost_schema_use();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(normalize_okta_create_keeps_profile_and_extracts_password),
        cmocka_unit_test(normalize_entra_create_keeps_enterprise_extension),
        cmocka_unit_test(normalize_string_false_becomes_boolean_false),
        cmocka_unit_test(normalize_drops_read_only_id_meta_groups),
        cmocka_unit_test(normalize_missing_username_is_invalid_value),
        cmocka_unit_test(normalize_empty_username_is_invalid_value),
        cmocka_unit_test(normalize_number_for_boolean_is_invalid_value),
        cmocka_unit_test(normalize_other_string_for_boolean_is_invalid_value),
        cmocka_unit_test(normalize_number_for_string_is_invalid_value),
        cmocka_unit_test(normalize_two_primary_emails_is_invalid_value),
        cmocka_unit_test(normalize_unknown_role_is_invalid_value_listing_roles),
        cmocka_unit_test(normalize_role_is_stored_in_canonical_lower_case),
        cmocka_unit_test(normalize_non_canonical_email_type_is_kept),
        cmocka_unit_test(normalize_flat_urn_keys_fold_into_extension),
        cmocka_unit_test(normalize_flat_core_urn_key_is_core_attribute),
        cmocka_unit_test(normalize_dotted_key_folds_into_complex),
        cmocka_unit_test(normalize_same_attribute_twice_is_invalid_syntax),
        cmocka_unit_test(normalize_sub_attribute_twice_via_dotted_key_is_invalid_syntax),
        cmocka_unit_test(normalize_password_absent_gives_null),
        cmocka_unit_test(normalize_password_not_string_is_invalid_value),
        cmocka_unit_test(normalize_keys_case_insensitive_to_canonical),
        cmocka_unit_test(normalize_unknown_attributes_and_schemas_are_ignored),
        cmocka_unit_test(normalize_null_and_empty_values_are_absent),
        cmocka_unit_test(normalize_single_value_for_multi_valued_is_invalid_value),
        cmocka_unit_test(normalize_bare_string_manager_becomes_value),
        cmocka_unit_test(normalize_body_not_object_is_invalid_syntax),
        cmocka_unit_test(normalize_schemas_without_core_urn_is_invalid_syntax),
        cmocka_unit_test(normalize_schemas_not_string_array_is_invalid_syntax),
        cmocka_unit_test(normalize_group_with_members),
        cmocka_unit_test(normalize_group_missing_display_name_is_invalid_value),
        cmocka_unit_test(normalize_group_member_without_value_is_invalid_value),
        cmocka_unit_test(normalize_nesting_over_limit_is_invalid_syntax),
        cmocka_unit_test(depth_check_accepts_exactly_max),
        cmocka_unit_test(normalize_output_is_idempotent),
        cmocka_unit_test(immutable_changed_value_is_mutability_error),
        cmocka_unit_test(immutable_case_change_of_case_insensitive_value_is_not_a_change),
        cmocka_unit_test(immutable_first_set_and_omission_are_allowed),
        cmocka_unit_test(immutable_sub_attribute_change_is_mutability_error),
        cmocka_unit_test(immutable_group_member_list_change_is_allowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
