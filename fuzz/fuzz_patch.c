/* Fuzzes the PATCH engine (src/scim/patch.c): the input is a PatchOp body, applied to a
 * realistic stored User (with enterprise and tenant extensions) and to a Group. Anything
 * may fail with an err; nothing may crash, leak, or leave a password in a document. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "../tests/unit/sparkpost_roles.h"
#include "base/arena.h"
#include "base/err.h"
#include "base/limits.h"
#include "scim/patch.h"
#include "scim/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char user_doc[] =
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\","
    "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\","
    "\"" SPARKPOST_ROLE_URN "\"],"
    "\"externalId\":\"00ub0oNGTSWTBKOLGLNR\",\"userName\":\"bjensen@example.com\","
    "\"name\":{\"formatted\":\"Ms. Barbara J Jensen III\",\"familyName\":\"Jensen\","
    "\"givenName\":\"Barbara\",\"middleName\":\"Jane\"},"
    "\"displayName\":\"Babs Jensen\",\"nickName\":\"Babs\",\"title\":\"Tour Guide\","
    "\"locale\":\"en-US\",\"timezone\":\"America/Los_Angeles\",\"active\":true,"
    "\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\",\"primary\":true},"
    "{\"value\":\"babs@jensen.org\",\"type\":\"home\"}],"
    "\"phoneNumbers\":[{\"value\":\"555-555-5555\",\"type\":\"work\"}],"
    "\"addresses\":[{\"type\":\"work\",\"streetAddress\":\"100 Universal City Plaza\","
    "\"locality\":\"Hollywood\",\"region\":\"CA\",\"postalCode\":\"91608\",\"country\":\"USA\","
    "\"primary\":true}],"
    "\"roles\":[{\"value\":\"Reader\",\"primary\":false}],"
    "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":{\"employeeNumber\":\"701984\","
    "\"costCenter\":\"4130\",\"department\":\"Tour Operations\","
    "\"manager\":{\"value\":\"26118915-6090-4610-87e4-49d8ca9f808d\",\"$ref\":\"../Users/26118915\"}},"
    "\"" SPARKPOST_ROLE_URN "\":{\"role\":\"developer\"}}";

static const char group_doc[] = "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],"
                                "\"externalId\":\"8aa1a0c0\",\"displayName\":\"Tour Guides\"}";

static void
run(const struct scim_resource_type *rt, const char *doc_text, const json_t *body)
{
    struct arena *a = arena_new(LIMIT_REQUEST_ARENA_BYTES);
    json_t *doc = json_loads(doc_text, 0, NULL);
    json_t *copy = json_deep_copy(doc);
    struct scim_patch_result out;
    struct err err;

    if (scim_patch_apply(rt, doc, body, a, &out, &err) == 0) {
        /* Contract checks that a sanitizer cannot see. */
        if (!json_is_object(out.doc) || json_object_get(out.doc, "password") != NULL)
            abort();
        for (size_t i = 0; i < out.members.n_add; i++)
            if (out.members.add[i] == NULL || out.members.add[i][0] == '\0')
                abort();
        scim_patch_result_cleanup(&out);
    } else if (out.doc != NULL || out.password != NULL || err.code == ERR_OK ||
               err.code == ERR_INTERNAL) {
        abort();
    }
    if (!json_equal(doc, copy))
        abort();
    json_decref(doc);
    json_decref(copy);
    arena_free(a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int configured;
    if (!configured) {
        sparkpost_schema_use();
        configured = 1;
    }
    json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);

    if (body == NULL)
        return 0;
    run(&scim_rt_user, user_doc, body);
    run(&scim_rt_group, group_doc, body);
    json_decref(body);
    return 0;
}
