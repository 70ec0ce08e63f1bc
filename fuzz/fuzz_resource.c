/* libFuzzer target for src/scim/resource.c (and project.c on its output): any body must
 * give a canonical document or an err, never a crash or a leak. Beyond that it checks the
 * properties callers rely on:
 * - normalising a canonical document again gives the same document (idempotence), so a
 *   stored resource read back and PUT unchanged is not altered;
 * - a canonical document never holds a password and is not "changed" against itself;
 * - projection of a canonical document always succeeds and never returns the password.
 * A broken property traps, which libFuzzer reports as a crash. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../tests/unit/sparkpost_roles.h"
#include "base/err.h"
#include "base/limits.h"
#include "scim/project.h"
#include "scim/resource.h"
#include "scim/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const lists[] = {
    NULL,
    "userName",
    "name.givenName,emails.value",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "members,displayName",
    "password,id",
};

static void
check(const struct scim_resource_type *rt, const json_t *in)
{
    struct err err = { 0 };
    char *password = NULL;
    json_t *doc = scim_resource_normalize(rt, in, SCIM_WRITE_CREATE, &password, &err);

    free(password);
    if (doc == NULL) {
        if (err.code == ERR_OK)
            __builtin_trap();
        return;
    }
    if (json_object_get(doc, "password") != NULL)
        __builtin_trap();

    json_t *again = scim_resource_normalize(rt, doc, SCIM_WRITE_REPLACE, NULL, &err);
    if (again == NULL || !json_equal(doc, again))
        __builtin_trap();
    json_decref(again);
    if (scim_resource_check_immutable(rt, doc, doc, &err) != 0)
        __builtin_trap();

    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        json_t *p = scim_project(rt, doc, lists[i], NULL, &err);
        json_t *q = scim_project(rt, doc, NULL, lists[i], &err);
        if (p == NULL || q == NULL || json_object_get(p, "password") != NULL)
            __builtin_trap();
        json_decref(p);
        json_decref(q);
        (void)scim_project_wants(rt, lists[i], NULL, "members");
    }
    json_decref(doc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int configured;
    if (!configured) {
        sparkpost_schema_use();
        configured = 1;
    }
    json_error_t jerr;
    struct err err = { 0 };

    /* As the HTTP layer will parse bodies: duplicate keys rejected, then the depth cap. */
    json_t *in =
        json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (in == NULL)
        return 0;
    if (scim_json_depth_check(in, LIMIT_JSON_DEPTH, &err) == 0) {
        check(&scim_rt_user, in);
        check(&scim_rt_group, in);
    }
    json_decref(in);
    return 0;
}
