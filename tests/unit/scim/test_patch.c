/* Unit tests for src/scim/patch.c: the PATCH engine (RFC 7644 §3.5.2) against the request
 * shapes Okta and Microsoft Entra ID really send (IDP-QUIRKS.md), as documented in Okta's
 * "SCIM 2.0 protocol reference" and Microsoft's "Tutorial: Develop a SCIM endpoint" and
 * "Known issues ... SCIM 2.0 protocol compliance". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/limits.h"
#include "scim/patch.h"
#include "scim/schema.h"
#include "sparkpost_roles.h"

#define URN_USER  "urn:ietf:params:scim:schemas:core:2.0:User"
#define URN_GROUP "urn:ietf:params:scim:schemas:core:2.0:Group"
#define URN_ENT   "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define URN_TEN   "urn:scimd:params:scim:schemas:extension:tenant:2.0:User"
#define PATCHOP   "\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"]"

/* Okta's user as its protocol reference shows it (without id and meta, as stored). */
#define OKTA_USER                                                                         \
    "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"test.user@okta.local\","              \
    "\"name\":{\"givenName\":\"Test\",\"middleName\":\"\",\"familyName\":\"User\"},"      \
    "\"emails\":[{\"primary\":true,\"value\":\"test.user@okta.local\",\"type\":\"work\"," \
    "\"display\":\"test.user@okta.local\"}],\"active\":true}"

/* Entra's user from "Create User", with an enterprise extension. */
#define ENTRA_USER                                                                                 \
    "{\"schemas\":[\"" URN_USER "\",\"" URN_ENT "\"],"                                             \
    "\"externalId\":\"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\","                                     \
    "\"userName\":\"Test_User_00aa00aa@testuser.com\",\"active\":true,"                            \
    "\"name\":{\"formatted\":\"givenName familyName\",\"familyName\":\"familyName\","              \
    "\"givenName\":\"givenName\"},"                                                                \
    "\"emails\":[{\"primary\":true,\"type\":\"work\",\"value\":\"Test_User_11bb@testuser.com\"}]," \
    "\"" URN_ENT "\":{\"employeeNumber\":\"100009\",\"department\":\"Sales\","                     \
    "\"manager\":{\"value\":\"m-1\",\"$ref\":\"../Users/m-1\"}}}"

#define PLAIN_USER "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"bjensen\"}"

#define GROUP "{\"schemas\":[\"" URN_GROUP "\"],\"displayName\":\"Test SCIMv2\"}"

struct fixture {
    struct arena *arena;
    struct err err;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->arena = arena_new(LIMIT_REQUEST_ARENA_BYTES);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    arena_free(f->arena);
    free(f);
    return 0;
}

static json_t *
load(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &e);
    if (j == NULL)
        fail_msg("test JSON does not parse (%s, column %d): %s", e.text, e.column, text);
    return j;
}

static void
assert_json_eq(json_t *got, const char *want_text)
{
    json_t *want = load(want_text);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
        char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
        print_error("got:  %s\nwant: %s\n", g, w);
        free(g);
        free(w);
        json_decref(want);
        fail();
    }
    json_decref(want);
}

/* Applies body to doc and returns 0 or -1; *out as scim_patch_apply leaves it. */
static int
apply(struct fixture *f, const struct scim_resource_type *rt, const char *doc_text,
      const char *body_text, struct scim_patch_result *out)
{
    json_t *doc = load(doc_text);
    json_t *body = load(body_text);
    json_t *copy = json_deep_copy(doc);
    int rc = scim_patch_apply(rt, doc, body, f->arena, out, &f->err);
    /* The input document is never modified, whatever happens. */
    assert_true(json_equal(doc, copy));
    json_decref(doc);
    json_decref(body);
    json_decref(copy);
    return rc;
}

static void
apply_ok(struct fixture *f, const struct scim_resource_type *rt, const char *doc, const char *body,
         struct scim_patch_result *out)
{
    if (apply(f, rt, doc, body, out) < 0)
        fail_msg("patch failed: %s: %s", err_name(f->err.code), f->err.detail);
}

static void
expect_error(struct fixture *f, const struct scim_resource_type *rt, const char *doc,
             const char *body, enum err_code code)
{
    struct scim_patch_result out;

    memset(&out, 0xa5, sizeof(out));
    assert_int_equal(apply(f, rt, doc, body, &out), -1);
    if (f->err.code != code)
        fail_msg("want %s, got %s: %s", err_name(code), err_name(f->err.code), f->err.detail);
    /* Nothing in *out after a failure. */
    assert_null(out.doc);
    assert_null(out.password);
    assert_int_equal(out.members.n_add, 0);
    assert_int_equal(out.members.n_remove, 0);
    assert_false(out.changed);
}

/* ---- Table: request → resulting document ---- */

struct doc_case {
    const char *name;
    const struct scim_resource_type *rt;
    const char *doc;
    const char *body;
    const char *want;
};

static const struct doc_case doc_cases[] = {
    /* Okta "Update a specific User (PATCH)": deactivate without path (IDP-QUIRKS.md 6). */
    { "okta_deactivate_pathless_replace_active_false", &scim_rt_user, OKTA_USER,
      "{" PATCHOP ",\"Operations\":[{\"op\":\"replace\",\"value\":{\"active\":false}}]}",
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"test.user@okta.local\","
      "\"name\":{\"givenName\":\"Test\",\"middleName\":\"\",\"familyName\":\"User\"},"
      "\"emails\":[{\"primary\":true,\"value\":\"test.user@okta.local\",\"type\":\"work\","
      "\"display\":\"test.user@okta.local\"}],\"active\":false}" },
    { "okta_reactivate_pathless_replace_active_true", &scim_rt_user, PLAIN_USER,
      "{" PATCHOP ",\"Operations\":[{\"op\":\"replace\",\"value\":{\"active\":true}}]}",
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"bjensen\",\"active\":true}" },
    /* Okta sometimes sends id (and schemas) inside path-less values: ignored. */
    { "okta_pathless_replace_ignores_id_meta_schemas", &scim_rt_user, PLAIN_USER,
      "{" PATCHOP ",\"Operations\":[{\"op\":\"replace\",\"value\":{\"id\":\"23a35c27\","
      "\"meta\":{\"resourceType\":\"User\"},\"schemas\":[\"x\"],\"groups\":[],"
      "\"active\":false}}]}",
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"bjensen\",\"active\":false}" },
    /* Entra "Update User [Multi-valued properties]". */
    { "entra_replace_work_email_value_and_family_name", &scim_rt_user, ENTRA_USER,
      "{" PATCHOP
      ",\"Operations\":[{\"op\":\"Replace\",\"path\":\"emails[type eq \\\"work\\\"].value\","
      "\"value\":\"updatedEmail@microsoft.com\"},{\"op\":\"Replace\",\"path\":\"name.familyName\","
      "\"value\":\"updatedFamilyName\"}]}",
      "{\"schemas\":[\"" URN_USER "\",\"" URN_ENT "\"],"
      "\"externalId\":\"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\","
      "\"userName\":\"Test_User_00aa00aa@testuser.com\",\"active\":true,"
      "\"name\":{\"formatted\":\"givenName familyName\",\"familyName\":\"updatedFamilyName\","
      "\"givenName\":\"givenName\"},"
      "\"emails\":[{\"primary\":true,\"type\":\"work\",\"value\":\"updatedEmail@microsoft.com\"}],"
      "\"" URN_ENT "\":{\"employeeNumber\":\"100009\",\"department\":\"Sales\","
      "\"manager\":{\"value\":\"m-1\",\"$ref\":\"../Users/m-1\"}}}" },
    /* Entra "Update User [Single-valued properties]". */
    { "entra_replace_username", &scim_rt_user, PLAIN_USER,
      "{" PATCHOP ",\"Operations\":[{\"op\":\"Replace\",\"path\":\"userName\","
      "\"value\":\"5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com\"}]}",
      "{\"schemas\":[\"" URN_USER "\"],"
      "\"userName\":\"5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com\"}" },
    /* Entra "Disable User", compliant and legacy ("False" as a string, IDP-QUIRKS.md 12). */
    { "entra_disable_path_active_false", &scim_rt_user, OKTA_USER,
      "{\"Operations\":[{\"op\":\"Replace\",\"path\":\"active\",\"value\":false}]," PATCHOP "}",
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"test.user@okta.local\","
      "\"name\":{\"givenName\":\"Test\",\"middleName\":\"\",\"familyName\":\"User\"},"
      "\"emails\":[{\"primary\":true,\"value\":\"test.user@okta.local\",\"type\":\"work\","
      "\"display\":\"test.user@okta.local\"}],\"active\":false}" },
    { "entra_legacy_disable_boolean_string_False", &scim_rt_user,
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"bjensen\",\"active\":true}",
      "{" PATCHOP ",\"Operations\":[{\"op\":\"Replace\",\"path\":\"active\",\"value\":\"False\"}]}",
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"bjensen\",\"active\":false}" },
    { "entra_legacy_add_single_value_nickname", &scim_rt_user, PLAIN_USER,
      "{" PATCHOP ",\"Operations\":[{\"op\":\"Add\",\"path\":\"nickName\",\"value\":\"Babs\"}]}",
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"bjensen\",\"nickName\":\"Babs\"}" },
    /* Entra legacy "Requests to replace multiple attributes". */
    { "entra_legacy_replace_multiple_attributes", &scim_rt_user, ENTRA_USER,
      "{" PATCHOP ",\"Operations\":["
      "{\"op\":\"Replace\",\"path\":\"displayName\",\"value\":\"Pvlo\"},"
      "{\"op\":\"Replace\",\"path\":\"emails[type eq \\\"work\\\"].value\",\"value\":\"TestBcwqnm@test.microsoft.com\"},"
      "{\"op\":\"Replace\",\"path\":\"name.givenName\",\"value\":\"Gtfd\"},"
      "{\"op\":\"Replace\",\"path\":\"name.familyName\",\"value\":\"Pkqf\"},"
      "{\"op\":\"Replace\",\"path\":\"externalId\",\"value\":\"Eqpj\"},"
      "{\"op\":\"Replace\",\"path\":\"" URN_ENT ":employeeNumber\",\"value\":\"Eqpj\"}]}",
      "{\"schemas\":[\"" URN_USER "\",\"" URN_ENT "\"],\"externalId\":\"Eqpj\","
      "\"userName\":\"Test_User_00aa00aa@testuser.com\",\"active\":true,\"displayName\":\"Pvlo\","
      "\"name\":{\"formatted\":\"givenName familyName\",\"familyName\":\"Pkqf\",\"givenName\":\"Gtfd\"},"
      "\"emails\":[{\"primary\":true,\"type\":\"work\",\"value\":\"TestBcwqnm@test.microsoft.com\"}],"
      "\"" URN_ENT "\":{\"employeeNumber\":\"Eqpj\",\"department\":\"Sales\","
      "\"manager\":{\"value\":\"m-1\",\"$ref\":\"../Users/m-1\"}}}" },
    /* Entra with aadOptscim062020: path-less value with dotted and full-URN keys. */
    { "entra_pathless_replace_dotted_and_urn_keys", &scim_rt_user, PLAIN_USER,
      "{" PATCHOP ",\"Operations\":["
      "{\"op\":\"replace\",\"path\":\"emails[type eq \\\"work\\\"].value\",\"value\":\"TestMhvaes@test.microsoft.com\"},"
      "{\"op\":\"replace\",\"value\":{\"displayName\":\"Bjfe\",\"name.givenName\":\"Kkom\","
      "\"name.familyName\":\"Unua\",\"" URN_ENT ":employeeNumber\":\"Aklq\"}}]}",
      "{\"schemas\":[\"" URN_USER "\",\"" URN_ENT "\"],\"userName\":\"bjensen\","
      "\"displayName\":\"Bjfe\",\"name\":{\"givenName\":\"Kkom\",\"familyName\":\"Unua\"},"
      "\"emails\":[{\"type\":\"work\",\"value\":\"TestMhvaes@test.microsoft.com\"}],"
      "\"" URN_ENT "\":{\"employeeNumber\":\"Aklq\"}}" },
    /* IDP-QUIRKS.md 15: add on emails[type eq "work"].value creates the work email. */
    { "entra_add_work_email_value_creates_element", &scim_rt_user, PLAIN_USER,
      "{" PATCHOP
      ",\"Operations\":[{\"op\":\"Add\",\"path\":\"emails[type eq \\\"work\\\"].value\","
      "\"value\":\"bjensen@example.com\"}]}",
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"bjensen\","
      "\"emails\":[{\"type\":\"work\",\"value\":\"bjensen@example.com\"}]}" },
    { "entra_add_mobile_phone_creates_next_to_work", &scim_rt_user,
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"bjensen\","
      "\"phoneNumbers\":[{\"type\":\"work\",\"value\":\"+1 555 0100\"}]}",
      "{" PATCHOP
      ",\"Operations\":[{\"op\":\"Add\",\"path\":\"phoneNumbers[type eq \\\"mobile\\\"].value\","
      "\"value\":\"+1 555 0199\"}]}",
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"bjensen\","
      "\"phoneNumbers\":[{\"type\":\"work\",\"value\":\"+1 555 0100\"},"
      "{\"type\":\"mobile\",\"value\":\"+1 555 0199\"}]}" },
    { "entra_replace_work_address_parts_create_one_address", &scim_rt_user, PLAIN_USER,
      "{" PATCHOP ",\"Operations\":["
      "{\"op\":\"Replace\",\"path\":\"addresses[type eq \\\"work\\\"].streetAddress\",\"value\":\"1 Main St\"},"
      "{\"op\":\"Replace\",\"path\":\"addresses[type eq \\\"work\\\"].locality\",\"value\":\"Redmond\"},"
      "{\"op\":\"Replace\",\"path\":\"addresses[type eq \\\"work\\\"].country\",\"value\":\"US\"}]}",
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"bjensen\",\"addresses\":[{\"type\":\"work\","
      "\"streetAddress\":\"1 Main St\",\"locality\":\"Redmond\",\"country\":\"US\"}]}" },
    /* IDP-QUIRKS.md 16: manager as a bare id; the old $ref goes with the old manager. */
    { "entra_manager_bare_string_by_path", &scim_rt_user, ENTRA_USER,
      "{" PATCHOP ",\"Operations\":[{\"op\":\"Replace\",\"path\":\"" URN_ENT ":manager\","
      "\"value\":\"m-2\"}]}",
      "{\"schemas\":[\"" URN_USER "\",\"" URN_ENT "\"],"
      "\"externalId\":\"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\","
      "\"userName\":\"Test_User_00aa00aa@testuser.com\",\"active\":true,"
      "\"name\":{\"formatted\":\"givenName familyName\",\"familyName\":\"familyName\","
      "\"givenName\":\"givenName\"},"
      "\"emails\":[{\"primary\":true,\"type\":\"work\",\"value\":\"Test_User_11bb@testuser.com\"}],"
      "\"" URN_ENT "\":{\"employeeNumber\":\"100009\",\"department\":\"Sales\","
      "\"manager\":{\"value\":\"m-2\"}}}" },
    { "entra_manager_bare_string_as_urn_key_adds_extension", &scim_rt_user, PLAIN_USER,
      "{" PATCHOP ",\"Operations\":[{\"op\":\"Add\",\"value\":{\"" URN_ENT ":manager\":\"m-9\","
      "\"" URN_ENT ":department\":\"R&D\"}}]}",
      "{\"schemas\":[\"" URN_USER "\",\"" URN_ENT "\"],\"userName\":\"bjensen\","
      "\"" URN_ENT "\":{\"department\":\"R&D\",\"manager\":{\"value\":\"m-9\"}}}" },
    { "entra_manager_value_subpath", &scim_rt_user, PLAIN_USER,
      "{" PATCHOP ",\"Operations\":[{\"op\":\"Add\",\"path\":\"" URN_ENT ":manager.value\","
      "\"value\":\"m-3\"}]}",
      "{\"schemas\":[\"" URN_USER "\",\"" URN_ENT "\"],\"userName\":\"bjensen\","
      "\"" URN_ENT "\":{\"manager\":{\"value\":\"m-3\"}}}" },
    /* Removing the last extension attribute drops the extension from "schemas". */
    { "entra_remove_manager_and_department", &scim_rt_user,
      "{\"schemas\":[\"" URN_USER "\",\"" URN_ENT "\"],\"userName\":\"bjensen\","
      "\"" URN_ENT "\":{\"department\":\"R&D\",\"manager\":{\"value\":\"m-9\"}}}",
      "{" PATCHOP ",\"Operations\":[{\"op\":\"Remove\",\"path\":\"" URN_ENT ":manager\"},"
      "{\"op\":\"Remove\",\"path\":\"" URN_ENT ":department\"}]}",
      PLAIN_USER },
    { "remove_extension_by_urn_path", &scim_rt_user, ENTRA_USER,
      "{" PATCHOP ",\"Operations\":[{\"op\":\"remove\",\"path\":\"" URN_ENT "\"},"
      "{\"op\":\"remove\",\"path\":\"name\"},{\"op\":\"remove\",\"path\":\"emails\"},"
      "{\"op\":\"remove\",\"path\":\"externalId\"},{\"op\":\"remove\",\"path\":\"active\"}]}",
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"Test_User_00aa00aa@testuser.com\"}" },
    { "add_extension_object_by_urn_path", &scim_rt_user, PLAIN_USER,
      "{" PATCHOP ",\"Operations\":[{\"op\":\"add\",\"path\":\"" URN_ENT "\","
      "\"value\":{\"costCenter\":\"4130\",\"organization\":\"Universal Studios\"}}]}",
      "{\"schemas\":[\"" URN_USER "\",\"" URN_ENT "\"],\"userName\":\"bjensen\","
      "\"" URN_ENT "\":{\"costCenter\":\"4130\",\"organization\":\"Universal Studios\"}}" },
    /* Entra roles with "False" as a string inside the value (IDP-QUIRKS.md 12). */
    { "entra_add_roles_primary_string_false", &scim_rt_user, PLAIN_USER,
      "{" PATCHOP
      ",\"Operations\":[{\"op\":\"Add\",\"path\":\"roles\",\"value\":[{\"primary\":\"False\","
      "\"type\":\"WindowsAzureActiveDirectoryRole\",\"value\":\"Reader\"}]}]}",
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"bjensen\",\"roles\":[{\"primary\":false,"
      "\"type\":\"WindowsAzureActiveDirectoryRole\",\"value\":\"Reader\"}]}" },
    { "tenant_role_canonical_value_stored_lower_case", &scim_rt_user, PLAIN_USER,
      "{" PATCHOP ",\"Operations\":[{\"op\":\"replace\",\"path\":\"" URN_TEN ":role\","
      "\"value\":\"Developer\"}]}",
      "{\"schemas\":[\"" URN_USER "\",\"" URN_TEN "\"],\"userName\":\"bjensen\","
      "\"" URN_TEN "\":{\"role\":\"developer\"}}" },
    /* RFC 7644 §3.5.2.1: add appends, an exact duplicate is not added twice. */
    { "add_emails_appends_and_skips_exact_duplicates", &scim_rt_user, OKTA_USER,
      "{" PATCHOP ",\"Operations\":[{\"op\":\"add\",\"path\":\"emails\",\"value\":["
      "{\"primary\":true,\"value\":\"test.user@okta.local\",\"type\":\"work\",\"display\":\"test.user@okta.local\"},"
      "{\"value\":\"home@example.com\",\"type\":\"home\"},{\"value\":\"home@example.com\",\"type\":\"home\"}]}]}",
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"test.user@okta.local\","
      "\"name\":{\"givenName\":\"Test\",\"middleName\":\"\",\"familyName\":\"User\"},"
      "\"emails\":[{\"primary\":true,\"value\":\"test.user@okta.local\",\"type\":\"work\","
      "\"display\":\"test.user@okta.local\"},{\"value\":\"home@example.com\",\"type\":\"home\"}],"
      "\"active\":true}" },
    /* RFC 7643 §2.4: the new primary wins, the old one is demoted. */
    { "add_primary_email_demotes_previous_primary", &scim_rt_user,
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"bjensen\","
      "\"emails\":[{\"value\":\"a@example.com\",\"primary\":true}]}",
      "{" PATCHOP ",\"Operations\":[{\"op\":\"add\",\"path\":\"emails\","
      "\"value\":[{\"value\":\"b@example.com\",\"primary\":\"True\"}]}]}",
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"bjensen\",\"emails\":["
      "{\"value\":\"a@example.com\",\"primary\":false},{\"value\":\"b@example.com\",\"primary\":true}]}" },
    { "replace_primary_by_filter_demotes_other", &scim_rt_user,
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"bjensen\",\"emails\":["
      "{\"type\":\"work\",\"value\":\"a@example.com\",\"primary\":true},"
      "{\"type\":\"home\",\"value\":\"b@example.com\"}]}",
      "{" PATCHOP
      ",\"Operations\":[{\"op\":\"replace\",\"path\":\"emails[type eq \\\"home\\\"].primary\","
      "\"value\":true}]}",
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"bjensen\",\"emails\":["
      "{\"type\":\"work\",\"value\":\"a@example.com\",\"primary\":false},"
      "{\"type\":\"home\",\"value\":\"b@example.com\",\"primary\":true}]}" },
    { "replace_whole_array_with_two_primaries_keeps_last", &scim_rt_user, PLAIN_USER,
      "{" PATCHOP ",\"Operations\":[{\"op\":\"replace\",\"path\":\"emails\",\"value\":["
      "{\"value\":\"a@example.com\",\"primary\":true},{\"value\":\"b@example.com\",\"primary\":true}]}]}",
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"bjensen\",\"emails\":["
      "{\"value\":\"a@example.com\",\"primary\":false},{\"value\":\"b@example.com\",\"primary\":true}]}" },
    { "replace_emails_null_removes_attribute", &scim_rt_user, OKTA_USER,
      "{" PATCHOP ",\"Operations\":[{\"op\":\"replace\",\"path\":\"emails\",\"value\":null},"
      "{\"op\":\"replace\",\"value\":{\"name\":null,\"active\":null}}]}",
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"test.user@okta.local\"}" },
    { "remove_by_filter_removes_only_matching_elements", &scim_rt_user,
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"bjensen\",\"emails\":["
      "{\"type\":\"work\",\"value\":\"a@example.com\"},{\"type\":\"home\",\"value\":\"b@example.com\"}]}",
      "{" PATCHOP ",\"Operations\":[{\"op\":\"remove\",\"path\":\"emails[type eq \\\"home\\\"]\"},"
      "{\"op\":\"remove\",\"path\":\"phoneNumbers[type eq \\\"fax\\\"]\"}]}",
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"bjensen\",\"emails\":["
      "{\"type\":\"work\",\"value\":\"a@example.com\"}]}" },
    { "remove_with_value_list_removes_listed_elements", &scim_rt_user,
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"bjensen\",\"roles\":["
      "{\"value\":\"Reader\"},{\"value\":\"Writer\"}]}",
      "{" PATCHOP ",\"Operations\":[{\"op\":\"Remove\",\"path\":\"roles\","
      "\"value\":[{\"value\":\"reader\"}]}]}",
      "{\"schemas\":[\"" URN_USER
      "\"],\"userName\":\"bjensen\",\"roles\":[{\"value\":\"Writer\"}]}" },
    { "remove_sub_attribute_keeps_others", &scim_rt_user, OKTA_USER,
      "{" PATCHOP ",\"Operations\":[{\"op\":\"remove\",\"path\":\"name.middleName\"},"
      "{\"op\":\"remove\",\"path\":\"emails[type eq \\\"work\\\"].display\"}]}",
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"test.user@okta.local\","
      "\"name\":{\"givenName\":\"Test\",\"familyName\":\"User\"},"
      "\"emails\":[{\"primary\":true,\"value\":\"test.user@okta.local\",\"type\":\"work\"}],"
      "\"active\":true}" },
    /* RFC 7644 §3.5.2.1: path-less add merges complex values, appends multi-valued ones. */
    { "pathless_add_merges_complex_and_appends_multi", &scim_rt_user, OKTA_USER,
      "{" PATCHOP
      ",\"Operations\":[{\"op\":\"add\",\"value\":{\"name\":{\"honorificPrefix\":\"Ms.\"},"
      "\"emails\":[{\"value\":\"babs@example.com\",\"type\":\"home\"}],\"nickName\":\"Babs\"}}]}",
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"test.user@okta.local\","
      "\"name\":{\"givenName\":\"Test\",\"middleName\":\"\",\"familyName\":\"User\",\"honorificPrefix\":\"Ms.\"},"
      "\"emails\":[{\"primary\":true,\"value\":\"test.user@okta.local\",\"type\":\"work\","
      "\"display\":\"test.user@okta.local\"},{\"value\":\"babs@example.com\",\"type\":\"home\"}],"
      "\"active\":true,\"nickName\":\"Babs\"}" },
    /* RFC 7644 §3.5.2.3: replace of a complex attribute leaves sub-attributes not given. */
    { "replace_complex_merges_sub_attributes", &scim_rt_user, OKTA_USER,
      "{" PATCHOP ",\"Operations\":[{\"op\":\"replace\",\"path\":\"name\","
      "\"value\":{\"givenName\":\"Barbara\",\"middleName\":null}}]}",
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"test.user@okta.local\","
      "\"name\":{\"givenName\":\"Barbara\",\"familyName\":\"User\"},"
      "\"emails\":[{\"primary\":true,\"value\":\"test.user@okta.local\",\"type\":\"work\","
      "\"display\":\"test.user@okta.local\"}],\"active\":true}" },
    /* Attribute names and op names in any case; "operations" spelled lower-case. */
    { "names_match_case_insensitively", &scim_rt_user, PLAIN_USER,
      "{" PATCHOP
      ",\"operations\":[{\"OP\":\"ADD\",\"PATH\":\"NAME.GIVENNAME\",\"VALUE\":\"Barbara\"},"
      "{\"op\":\"rePlace\",\"value\":{\"TITLE\":\"Tour Guide\",\"Name.FamilyName\":\"Jensen\"}}]}",
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"bjensen\",\"title\":\"Tour Guide\","
      "\"name\":{\"givenName\":\"Barbara\",\"familyName\":\"Jensen\"}}" },
    { "path_naming_schemas_is_a_no_op", &scim_rt_user, PLAIN_USER,
      "{" PATCHOP ",\"Operations\":[{\"op\":\"replace\",\"path\":\"schemas\",\"value\":[\"" URN_ENT
      "\"]}]}",
      PLAIN_USER },
    { "unknown_pathless_keys_and_urns_are_ignored", &scim_rt_user, PLAIN_USER,
      "{" PATCHOP ",\"Operations\":[{\"op\":\"add\",\"value\":{\"favouriteColour\":\"blue\","
      "\"urn:okta:custom:2.0:User:costume\":\"cape\",\"name.nope\":\"x\",\"emails.value\":\"x\"}}]}",
      PLAIN_USER },
    { "add_filter_with_object_creates_element_from_filter", &scim_rt_user, PLAIN_USER,
      "{" PATCHOP ",\"Operations\":[{\"op\":\"add\",\"path\":\"emails[type eq \\\"work\\\"]\","
      "\"value\":{\"value\":\"a@example.com\",\"primary\":true}}]}",
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"bjensen\","
      "\"emails\":[{\"type\":\"work\",\"value\":\"a@example.com\",\"primary\":true}]}" },
    /* RFC 7644 §3.5.2.3: matching values are replaced; the filter's eq values are kept. */
    { "replace_filter_replaces_matching_element", &scim_rt_user,
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"bjensen\",\"emails\":["
      "{\"type\":\"work\",\"value\":\"a@example.com\",\"display\":\"A\"},"
      "{\"type\":\"home\",\"value\":\"b@example.com\"}]}",
      "{" PATCHOP ",\"Operations\":[{\"op\":\"replace\",\"path\":\"emails[type eq \\\"work\\\"]\","
      "\"value\":{\"value\":\"c@example.com\"}}]}",
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"bjensen\",\"emails\":["
      "{\"type\":\"work\",\"value\":\"c@example.com\"},"
      "{\"type\":\"home\",\"value\":\"b@example.com\"}]}" },
    { "remove_sub_attribute_without_filter_applies_to_every_element", &scim_rt_user,
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"bjensen\",\"emails\":["
      "{\"type\":\"work\",\"value\":\"a@example.com\"},{\"type\":\"home\"}]}",
      "{" PATCHOP ",\"Operations\":[{\"op\":\"remove\",\"path\":\"emails.type\"}]}",
      "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"bjensen\",\"emails\":["
      "{\"value\":\"a@example.com\"}]}" },
    /* Okta "Update a specific Group name". */
    { "okta_group_rename_pathless_replace_with_id", &scim_rt_group, GROUP,
      "{" PATCHOP ",\"Operations\":[{\"op\":\"replace\",\"value\":{"
      "\"id\":\"abf4dd94-a4c0-4f67-89c9-76b03340cb9b\",\"displayName\":\"Test SCIMv20\"}}]}",
      "{\"schemas\":[\"" URN_GROUP "\"],\"displayName\":\"Test SCIMv20\"}" },
    /* Entra "Update Group [Non-member attributes]". */
    { "entra_group_replace_display_name", &scim_rt_group, GROUP,
      "{" PATCHOP ",\"Operations\":[{\"op\":\"Replace\",\"path\":\"displayName\","
      "\"value\":\"1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName\"}]}",
      "{\"schemas\":[\"" URN_GROUP "\"],"
      "\"displayName\":\"1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName\"}" },
};

static void
doc_case_run(void **state)
{
    const struct doc_case *c = *state;
    struct fixture f = { .arena = arena_new(LIMIT_REQUEST_ARENA_BYTES) };
    struct scim_patch_result out;

    apply_ok(&f, c->rt, c->doc, c->body, &out);
    assert_json_eq(out.doc, c->want);
    assert_null(out.password);
    scim_patch_result_cleanup(&out);
    arena_free(f.arena);
}

/* ---- Table: request → error ---- */

struct error_case {
    const char *name;
    const struct scim_resource_type *rt;
    const char *doc;
    const char *body;
    enum err_code code;
};

#define OPS(ops) "{" PATCHOP ",\"Operations\":[" ops "]}"

static const struct error_case error_cases[] = {
    { "body_not_object_is_invalid_syntax", &scim_rt_user, PLAIN_USER, "[]", ERR_INVALID_SYNTAX },
    { "missing_schemas_is_invalid_syntax", &scim_rt_user, PLAIN_USER,
      "{\"Operations\":[{\"op\":\"replace\",\"value\":{\"active\":false}}]}", ERR_INVALID_SYNTAX },
    { "wrong_schemas_is_invalid_syntax", &scim_rt_user, PLAIN_USER,
      "{\"schemas\":[\"" URN_USER
      "\"],\"Operations\":[{\"op\":\"replace\",\"value\":{\"active\":false}}]}",
      ERR_INVALID_SYNTAX },
    { "missing_operations_is_invalid_syntax", &scim_rt_user, PLAIN_USER, "{" PATCHOP "}",
      ERR_INVALID_SYNTAX },
    { "empty_operations_is_invalid_syntax", &scim_rt_user, PLAIN_USER, OPS(""),
      ERR_INVALID_SYNTAX },
    { "operations_twice_in_two_cases_is_invalid_syntax", &scim_rt_user, PLAIN_USER,
      "{" PATCHOP ",\"Operations\":[],\"operations\":[]}", ERR_INVALID_SYNTAX },
    { "op_copy_is_invalid_syntax", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"copy\",\"path\":\"title\",\"value\":\"x\"}"), ERR_INVALID_SYNTAX },
    { "op_missing_is_invalid_syntax", &scim_rt_user, PLAIN_USER,
      OPS("{\"path\":\"title\",\"value\":\"x\"}"), ERR_INVALID_SYNTAX },
    { "operation_not_object_is_invalid_syntax", &scim_rt_user, PLAIN_USER, OPS("\"add\""),
      ERR_INVALID_SYNTAX },
    { "add_without_value_is_invalid_syntax", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"add\",\"path\":\"title\"}"), ERR_INVALID_SYNTAX },
    { "pathless_add_of_scalar_is_invalid_syntax", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"add\",\"value\":\"x\"}"), ERR_INVALID_SYNTAX },
    /* RFC 7644 §3.5.2.2: remove without path is noTarget. */
    { "remove_without_path_is_no_target", &scim_rt_user, PLAIN_USER, OPS("{\"op\":\"remove\"}"),
      ERR_NO_TARGET },
    { "unknown_attribute_is_invalid_path", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"replace\",\"path\":\"favouriteColour\",\"value\":\"x\"}"), ERR_INVALID_PATH },
    { "unknown_sub_attribute_is_invalid_path", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"replace\",\"path\":\"name.nope\",\"value\":\"x\"}"), ERR_INVALID_PATH },
    { "unknown_schema_urn_is_invalid_path", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"replace\",\"path\":\"urn:okta:custom:2.0:User:costume\",\"value\":\"x\"}"),
      ERR_INVALID_PATH },
    { "unknown_attribute_in_filter_is_invalid_path", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"remove\",\"path\":\"emails[nope eq \\\"x\\\"]\"}"), ERR_INVALID_PATH },
    { "unterminated_filter_is_invalid_path", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"remove\",\"path\":\"emails[type eq \\\"work\\\"\"}"), ERR_INVALID_PATH },
    { "filter_on_single_valued_is_invalid_path", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"remove\",\"path\":\"name[givenName eq \\\"x\\\"]\"}"), ERR_INVALID_PATH },
    { "path_not_string_is_invalid_path", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"replace\",\"path\":7,\"value\":\"x\"}"), ERR_INVALID_PATH },
    /* RFC 7643 §2.2: readOnly attributes cannot be patched by path. */
    { "replace_id_is_mutability", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"replace\",\"path\":\"id\",\"value\":\"x\"}"), ERR_MUTABILITY },
    { "replace_meta_created_is_mutability", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"replace\",\"path\":\"meta.created\",\"value\":\"2026-01-01T00:00:00Z\"}"),
      ERR_MUTABILITY },
    { "add_groups_is_mutability", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"add\",\"path\":\"groups\",\"value\":[{\"value\":\"g1\"}]}"), ERR_MUTABILITY },
    { "replace_manager_display_name_is_mutability", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"replace\",\"path\":\"" URN_ENT ":manager.displayName\",\"value\":\"x\"}"),
      ERR_MUTABILITY },
    /* RFC 7644 §3.5.2.2: a required attribute cannot be removed. */
    { "remove_username_is_mutability", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"remove\",\"path\":\"userName\"}"), ERR_MUTABILITY },
    { "replace_username_null_is_mutability", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"replace\",\"value\":{\"userName\":null}}"), ERR_MUTABILITY },
    { "replace_username_empty_is_invalid_value", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"replace\",\"path\":\"userName\",\"value\":\"\"}"), ERR_INVALID_VALUE },
    { "remove_group_display_name_is_mutability", &scim_rt_group, GROUP,
      OPS("{\"op\":\"remove\",\"path\":\"displayName\"}"), ERR_MUTABILITY },
    { "remove_password_is_mutability", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"remove\",\"path\":\"password\"}"), ERR_MUTABILITY },
    { "active_maybe_is_invalid_value", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"replace\",\"path\":\"active\",\"value\":\"maybe\"}"), ERR_INVALID_VALUE },
    { "active_number_is_invalid_value", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"replace\",\"value\":{\"active\":1}}"), ERR_INVALID_VALUE },
    { "nickname_number_is_invalid_value", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"add\",\"path\":\"nickName\",\"value\":5}"), ERR_INVALID_VALUE },
    { "email_value_object_is_invalid_value", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"add\",\"path\":\"emails\",\"value\":[{\"value\":{\"x\":1}}]}"),
      ERR_INVALID_VALUE },
    { "nested_arrays_are_invalid_value", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"add\",\"path\":\"emails\",\"value\":[[{\"value\":\"a@b\"}]]}"),
      ERR_INVALID_VALUE },
    { "tenant_role_outside_canonical_values_is_invalid_value", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"replace\",\"path\":\"" URN_TEN ":role\",\"value\":\"superuser\"}"),
      ERR_INVALID_VALUE },
    { "extension_value_not_object_is_invalid_value", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"add\",\"value\":{\"" URN_ENT "\":\"x\"}}"), ERR_INVALID_VALUE },
    /* No element matches and the filter cannot describe one: noTarget. */
    { "replace_filter_without_match_is_no_target", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"replace\",\"path\":\"emails[type eq \\\"home\\\"]\",\"value\":{\"value\":\"x@y\"}}"),
      ERR_NO_TARGET },
    { "add_value_under_ne_filter_without_match_is_no_target", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"add\",\"path\":\"emails[type ne \\\"work\\\"].value\",\"value\":\"x@y\"}"),
      ERR_NO_TARGET },
    { "add_value_under_contradictory_filter_is_no_target", &scim_rt_user, PLAIN_USER,
      OPS("{\"op\":\"add\",\"path\":\"emails[type eq \\\"work\\\" and type eq \\\"home\\\"].value\","
          "\"value\":\"x@y\"}"),
      ERR_NO_TARGET },
    /* Group members: only the shapes IdPs send. */
    { "members_filter_on_display_is_invalid_filter", &scim_rt_group, GROUP,
      OPS("{\"op\":\"remove\",\"path\":\"members[display eq \\\"x\\\"]\"}"), ERR_INVALID_FILTER },
    { "members_filter_with_and_is_invalid_filter", &scim_rt_group, GROUP,
      OPS("{\"op\":\"remove\",\"path\":\"members[value eq \\\"a\\\" and type eq \\\"User\\\"]\"}"),
      ERR_INVALID_FILTER },
    { "add_with_members_filter_is_invalid_path", &scim_rt_group, GROUP,
      OPS("{\"op\":\"add\",\"path\":\"members[value eq \\\"a\\\"]\",\"value\":[{\"value\":\"b\"}]}"),
      ERR_INVALID_PATH },
    { "members_value_sub_path_is_invalid_path", &scim_rt_group, GROUP,
      OPS("{\"op\":\"replace\",\"path\":\"members.value\",\"value\":\"a\"}"), ERR_INVALID_PATH },
    { "member_without_value_is_invalid_value", &scim_rt_group, GROUP,
      OPS("{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"display\":\"x\"}]}"),
      ERR_INVALID_VALUE },
    { "member_with_empty_value_is_invalid_value", &scim_rt_group, GROUP,
      OPS("{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"\"}]}"),
      ERR_INVALID_VALUE },
};

static void
error_case_run(void **state)
{
    const struct error_case *c = *state;
    struct fixture f = { .arena = arena_new(LIMIT_REQUEST_ARENA_BYTES) };

    expect_error(&f, c->rt, c->doc, c->body, c->code);
    arena_free(f.arena);
}

/* ---- Single behaviours ---- */

static void
patch_is_atomic_when_second_op_fails(void **state)
{
    struct fixture *f = *state;

    /* The first op would set a title and a password; the second is readOnly. Nothing of
     * the first survives and nothing leaks (ASan checks the password copy). */
    expect_error(f, &scim_rt_user, OKTA_USER,
                 OPS("{\"op\":\"replace\",\"value\":{\"title\":\"Boss\",\"password\":\"hunter2\"}},"
                     "{\"op\":\"replace\",\"path\":\"id\",\"value\":\"x\"}"),
                 ERR_MUTABILITY);
    /* The detail names the failing operation. */
    assert_non_null(strstr(f->err.detail, "operation 2"));
}

static void
password_is_extracted_never_stored_last_wins(void **state)
{
    struct fixture *f = *state;
    struct scim_patch_result out;

    /* Okta "Syncing the user password" is a path-less replace. */
    apply_ok(f, &scim_rt_user, PLAIN_USER,
             OPS("{\"op\":\"replace\",\"value\":{\"password\":\"first\"}},"
                 "{\"op\":\"replace\",\"path\":\"password\",\"value\":\"t1meMa$heen\"}"),
             &out);
    assert_string_equal(out.password, "t1meMa$heen");
    assert_json_eq(out.doc, PLAIN_USER);
    assert_true(out.changed);
    scim_patch_result_cleanup(&out);
    assert_null(out.password);
    assert_null(out.doc);
}

static void
password_in_stored_doc_is_dropped(void **state)
{
    struct fixture *f = *state;
    struct scim_patch_result out;

    apply_ok(f, &scim_rt_user,
             "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"bjensen\",\"password\":\"x\"}",
             OPS("{\"op\":\"add\",\"path\":\"title\",\"value\":\"t\"}"), &out);
    assert_json_eq(out.doc,
                   "{\"schemas\":[\"" URN_USER "\"],\"userName\":\"bjensen\",\"title\":\"t\"}");
    assert_null(out.password);
    scim_patch_result_cleanup(&out);
}

static void
no_op_patch_reports_unchanged(void **state)
{
    struct fixture *f = *state;
    struct scim_patch_result out;

    apply_ok(f, &scim_rt_user, OKTA_USER,
             OPS("{\"op\":\"replace\",\"value\":{\"active\":true}},"
                 "{\"op\":\"remove\",\"path\":\"emails[type eq \\\"home\\\"]\"},"
                 "{\"op\":\"replace\",\"path\":\"password\",\"value\":\"\"}"),
             &out);
    assert_false(out.changed);
    assert_null(out.password);
    scim_patch_result_cleanup(&out);
}

static void
result_keys_follow_schema_order(void **state)
{
    struct fixture *f = *state;
    struct scim_patch_result out;

    apply_ok(f, &scim_rt_user, PLAIN_USER,
             OPS("{\"op\":\"add\",\"value\":{\"" URN_ENT ":department\":\"x\",\"active\":true,"
                 "\"externalId\":\"e1\"}}"),
             &out);
    const char *want[] = { "schemas", "externalId", "userName", "active", URN_ENT };
    size_t i = 0;
    const char *key;
    json_t *v;
    json_object_foreach(out.doc, key, v) {
        assert_true(i < sizeof(want) / sizeof(want[0]));
        assert_string_equal(key, want[i++]);
    }
    assert_int_equal(i, sizeof(want) / sizeof(want[0]));
    scim_patch_result_cleanup(&out);
}

static void
too_many_operations_is_too_large(void **state)
{
    struct fixture *f = *state;
    struct scim_patch_result out;
    json_t *ops = json_array();

    for (int i = 0; i <= LIMIT_PATCH_OPS; i++)
        json_array_append_new(
            ops, json_pack("{s:s, s:s, s:b}", "op", "replace", "path", "active", "value", i % 2));
    json_t *body = json_pack("{s:[s], s:o}", "schemas",
                             "urn:ietf:params:scim:api:messages:2.0:PatchOp", "Operations", ops);
    json_t *doc = load(PLAIN_USER);
    assert_int_equal(scim_patch_apply(&scim_rt_user, doc, body, f->arena, &out, &f->err), -1);
    assert_int_equal(f->err.code, ERR_TOO_LARGE);
    /* One fewer is fine. */
    json_array_remove(ops, 0);
    assert_int_equal(scim_patch_apply(&scim_rt_user, doc, body, f->arena, &out, &f->err), 0);
    scim_patch_result_cleanup(&out);
    json_decref(body);
    json_decref(doc);
}

static void
body_nested_too_deep_is_invalid_syntax(void **state)
{
    struct fixture *f = *state;
    char body[512];
    int n = snprintf(body, sizeof(body),
                     "{" PATCHOP ",\"Operations\":[{\"op\":\"add\",\"value\":"
                     "{\"title\":%.*s1%.*s}}]}",
                     LIMIT_JSON_DEPTH, "[[[[[[[[[[[[[[[[[[[[[[[[", LIMIT_JSON_DEPTH,
                     "]]]]]]]]]]]]]]]]]]]]]]]]");
    assert_true(n > 0 && (size_t)n < sizeof(body));
    expect_error(f, &scim_rt_user, PLAIN_USER, body, ERR_INVALID_SYNTAX);
}

static void
too_many_values_is_too_large(void **state)
{
    struct fixture *f = *state;
    struct scim_patch_result out;
    json_t *emails = json_array();

    for (int i = 0; i <= LIMIT_MEMBERS_PER_REQUEST; i++)
        json_array_append_new(emails, json_pack("{s:i}", "value", i));
    json_t *body = json_pack("{s:[s], s:[{s:s, s:s, s:o}]}", "schemas",
                             "urn:ietf:params:scim:api:messages:2.0:PatchOp", "Operations", "op",
                             "add", "path", "members", "value", emails);
    json_t *doc = load(GROUP);
    assert_int_equal(scim_patch_apply(&scim_rt_group, doc, body, f->arena, &out, &f->err), -1);
    /* Integers are not member ids, but the count is checked first. */
    assert_int_equal(f->err.code, ERR_TOO_LARGE);
    json_decref(body);
    json_decref(doc);
}

/* ---- Group members ---- */

static void
assert_ids(const char **ids, size_t n, const char *const *want, size_t n_want)
{
    assert_int_equal(n, n_want);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(ids[i], want[i]);
}

/* Okta "Update specific Group membership" with the rename Okta sends alongside
 * (IDP-QUIRKS.md 8). */
static void
okta_group_rename_remove_and_add_in_one_request(void **state)
{
    struct fixture *f = *state;
    struct scim_patch_result out;

    apply_ok(
        f, &scim_rt_group, GROUP,
        OPS("{\"op\":\"replace\",\"value\":{\"id\":\"abf4dd94-a4c0-4f67-89c9-76b03340cb9b\","
            "\"displayName\":\"Test SCIMv20\"}},"
            "{\"op\":\"remove\",\"path\":\"members[value eq \\\"89bb1940-b905-4575-9e7f-6f887cfb368e\\\"]\"},"
            "{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"23a35c27-23d3-4c03-b4c5-6443c09e7173\","
            "\"display\":\"test.user@okta.local\"}]}"),
        &out);
    assert_json_eq(out.doc, "{\"schemas\":[\"" URN_GROUP "\"],\"displayName\":\"Test SCIMv20\"}");
    assert_false(out.members.replace_all);
    assert_false(out.members.remove_all);
    assert_ids(out.members.add, out.members.n_add,
               (const char *const[]){ "23a35c27-23d3-4c03-b4c5-6443c09e7173" }, 1);
    assert_ids(out.members.remove, out.members.n_remove,
               (const char *const[]){ "89bb1940-b905-4575-9e7f-6f887cfb368e" }, 1);
    assert_true(out.changed);
    scim_patch_result_cleanup(&out);
}

/* Okta full push: replace members with a list. */
static void
okta_group_replace_members_sets_replace_all(void **state)
{
    struct fixture *f = *state;
    struct scim_patch_result out;

    apply_ok(f, &scim_rt_group, GROUP,
             OPS("{\"op\":\"replace\",\"path\":\"members\",\"value\":["
                 "{\"value\":\"23a35c27\",\"display\":\"test.user@okta.local\"},"
                 "{\"value\":\"89bb1940\",\"display\":\"test.user@okta.local\"}]}"),
             &out);
    assert_true(out.members.replace_all);
    assert_ids(out.members.add, out.members.n_add, (const char *const[]){ "23a35c27", "89bb1940" },
               2);
    assert_int_equal(out.members.n_remove, 0);
    assert_json_eq(out.doc, GROUP);
    scim_patch_result_cleanup(&out);
}

/* Okta pushing an empty group: replace of [] by path, or path-less {"members": []}. */
static void
okta_group_empty_push_replaces_with_nothing(void **state)
{
    struct fixture *f = *state;
    struct scim_patch_result out;

    apply_ok(f, &scim_rt_group, GROUP,
             OPS("{\"op\":\"replace\",\"path\":\"members\",\"value\":[]}"), &out);
    assert_true(out.members.replace_all);
    assert_int_equal(out.members.n_add, 0);
    assert_true(out.changed);
    scim_patch_result_cleanup(&out);

    apply_ok(f, &scim_rt_group, GROUP, OPS("{\"op\":\"replace\",\"value\":{\"members\":[]}}"),
             &out);
    assert_true(out.members.replace_all);
    assert_int_equal(out.members.n_add, 0);
    assert_json_eq(out.doc, GROUP);
    scim_patch_result_cleanup(&out);
}

/* Entra "Update Group [Remove Members]": only the listed members go (IDP-QUIRKS.md 14). */
static void
entra_group_remove_with_value_list_removes_only_those(void **state)
{
    struct fixture *f = *state;
    struct scim_patch_result out;

    apply_ok(f, &scim_rt_group, GROUP,
             OPS("{\"op\":\"Remove\",\"path\":\"members\",\"value\":[{\"$ref\":null,"
                 "\"value\":\"f648f8d5ea4e4cd38e9c\"}]}"),
             &out);
    assert_false(out.members.remove_all);
    assert_false(out.members.replace_all);
    assert_ids(out.members.remove, out.members.n_remove,
               (const char *const[]){ "f648f8d5ea4e4cd38e9c" }, 1);
    assert_int_equal(out.members.n_add, 0);
    scim_patch_result_cleanup(&out);
}

/* Entra "Update Group [Add Members]", "$ref": null included. */
static void
entra_group_add_members(void **state)
{
    struct fixture *f = *state;
    struct scim_patch_result out;

    apply_ok(f, &scim_rt_group, GROUP,
             OPS("{\"op\":\"Add\",\"path\":\"members\",\"value\":[{\"$ref\":null,"
                 "\"value\":\"f648f8d5ea4e4cd38e9c\"},{\"value\":\"f648f8d5ea4e4cd38e9c\"}]}"),
             &out);
    assert_ids(out.members.add, out.members.n_add, (const char *const[]){ "f648f8d5ea4e4cd38e9c" },
               1);
    assert_int_equal(out.members.n_remove, 0);
    assert_json_eq(out.doc, GROUP);
    scim_patch_result_cleanup(&out);
}

static void
group_remove_members_without_value_removes_all(void **state)
{
    struct fixture *f = *state;
    struct scim_patch_result out;

    apply_ok(f, &scim_rt_group, GROUP,
             OPS("{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"a\"}]},"
                 "{\"op\":\"remove\",\"path\":\"members\"},"
                 "{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"c\"}]}"),
             &out);
    assert_true(out.members.remove_all);
    assert_false(out.members.replace_all);
    assert_ids(out.members.add, out.members.n_add, (const char *const[]){ "c" }, 1);
    assert_int_equal(out.members.n_remove, 0);
    scim_patch_result_cleanup(&out);
}

static void
group_members_or_filter_removes_each_id(void **state)
{
    struct fixture *f = *state;
    struct scim_patch_result out;

    apply_ok(
        f, &scim_rt_group, GROUP,
        OPS("{\"op\":\"remove\",\"path\":\"members[value eq \\\"a\\\" or Value eq \\\"b\\\" or value eq \\\"c\\\"]\"}"),
        &out);
    assert_ids(out.members.remove, out.members.n_remove, (const char *const[]){ "a", "b", "c" }, 3);
    scim_patch_result_cleanup(&out);
}

/* Ops fold in order: add then remove leaves a removal; replace then remove shrinks the new
 * list. */
static void
group_member_ops_fold_in_order(void **state)
{
    struct fixture *f = *state;
    struct scim_patch_result out;

    apply_ok(
        f, &scim_rt_group, GROUP,
        OPS("{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"x\"},{\"value\":\"y\"}]},"
            "{\"op\":\"remove\",\"path\":\"members[value eq \\\"x\\\"]\"}"),
        &out);
    assert_ids(out.members.add, out.members.n_add, (const char *const[]){ "y" }, 1);
    assert_ids(out.members.remove, out.members.n_remove, (const char *const[]){ "x" }, 1);
    scim_patch_result_cleanup(&out);

    apply_ok(
        f, &scim_rt_group, GROUP,
        OPS("{\"op\":\"replace\",\"path\":\"members\",\"value\":[{\"value\":\"a\"},{\"value\":\"b\"}]},"
            "{\"op\":\"remove\",\"path\":\"members\",\"value\":[{\"value\":\"a\"}]},"
            "{\"op\":\"add\",\"value\":{\"members\":[{\"value\":\"c\"}]}}"),
        &out);
    assert_true(out.members.replace_all);
    assert_ids(out.members.add, out.members.n_add, (const char *const[]){ "b", "c" }, 2);
    assert_int_equal(out.members.n_remove, 0);
    scim_patch_result_cleanup(&out);
}

static void
user_result_has_no_member_delta(void **state)
{
    struct fixture *f = *state;
    struct scim_patch_result out;

    apply_ok(f, &scim_rt_user, PLAIN_USER,
             OPS("{\"op\":\"add\",\"path\":\"title\",\"value\":\"t\"}"), &out);
    assert_false(out.members.replace_all);
    assert_false(out.members.remove_all);
    assert_int_equal(out.members.n_add, 0);
    assert_null(out.members.add);
    scim_patch_result_cleanup(&out);
}

int
main(void)
{
    sparkpost_schema_use();
    size_t n_docs = sizeof(doc_cases) / sizeof(doc_cases[0]);
    size_t n_errors = sizeof(error_cases) / sizeof(error_cases[0]);
    struct CMUnitTest *docs = calloc(n_docs, sizeof(*docs));
    struct CMUnitTest *errors = calloc(n_errors, sizeof(*errors));

    for (size_t i = 0; i < n_docs; i++)
        docs[i] = (struct CMUnitTest){ .name = doc_cases[i].name,
                                       .test_func = doc_case_run,
                                       .initial_state = (void *)&doc_cases[i] };
    for (size_t i = 0; i < n_errors; i++)
        errors[i] = (struct CMUnitTest){ .name = error_cases[i].name,
                                         .test_func = error_case_run,
                                         .initial_state = (void *)&error_cases[i] };

    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(patch_is_atomic_when_second_op_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(password_is_extracted_never_stored_last_wins, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(password_in_stored_doc_is_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(no_op_patch_reports_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(result_keys_follow_schema_order, setup, teardown),
        cmocka_unit_test_setup_teardown(too_many_operations_is_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(body_nested_too_deep_is_invalid_syntax, setup, teardown),
        cmocka_unit_test_setup_teardown(too_many_values_is_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(okta_group_rename_remove_and_add_in_one_request, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(okta_group_replace_members_sets_replace_all, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(okta_group_empty_push_replaces_with_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(entra_group_remove_with_value_list_removes_only_those,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(entra_group_add_members, setup, teardown),
        cmocka_unit_test_setup_teardown(group_remove_members_without_value_removes_all, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(group_members_or_filter_removes_each_id, setup, teardown),
        cmocka_unit_test_setup_teardown(group_member_ops_fold_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(user_result_has_no_member_delta, setup, teardown),
    };

    int failed = _cmocka_run_group_tests("patch_documents", docs, n_docs, NULL, NULL);
    failed += _cmocka_run_group_tests("patch_errors", errors, n_errors, NULL, NULL);
    failed += cmocka_run_group_tests_name("patch", tests, NULL, NULL);
    free(docs);
    free(errors);
    return failed == 0 ? 0 : 1;
}
