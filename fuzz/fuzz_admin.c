/* Management-API and console inputs that tenant admins control: role maps and tenant fields
 * (JSON bodies), the Cookie header, and plan lists. Must never crash or leak; refusals are
 * ERR_INVALID_VALUE with a printable detail; accepted role maps hold canonical roles and
 * distinct groups and priorities. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../tests/unit/sparkpost_roles.h"
#include "base/err.h"
#include "base/str.h"
#include "core/gate.h"
#include "core/role.h"
#include "core/tenant.h"
#include "sso/web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_refusal(const struct err *e)
{
    if (e->code != ERR_INVALID_VALUE)
        abort();
    for (const char *c = e->detail; *c; c++)
        if ((unsigned char)*c < 0x20)
            abort();
}

static void
role_map(const json_t *j)
{
    struct store_role_rule *v = NULL;
    size_t n = 0;
    struct err e = { 0 };
    if (role_map_from_json(j, &v, &n, &e) < 0) {
        check_refusal(&e);
        if (v != NULL || n != 0)
            abort();
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (role_canonical(v[i].role) != NULL && strcmp(role_canonical(v[i].role), v[i].role))
            abort();
        for (size_t k = 0; k < i; k++)
            if (cstr_ieq(v[k].group, v[i].group) || v[k].priority == v[i].priority)
                abort();
    }
    json_decref(role_map_to_json(v, n));
    free(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int configured;
    if (!configured) {
        sparkpost_roles_use();
        configured = 1;
    }
    if (size > 65536)
        return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    json_t *j = json_loadb(text, size, JSON_REJECT_DUPLICATES, NULL);
    if (j) {
        role_map(j);
        role_map(json_object_get(j, "rules"));
        struct tenant_fields f;
        struct err e = { 0 };
        /* A new tenant, and a change whose current tenant is the input itself. */
        if (json_is_object(j) && tenant_fields_from_json(j, NULL, &f, &e) < 0)
            check_refusal(&e);
        if (json_is_object(j) && tenant_fields_from_json(j, j, &f, &e) < 0)
            check_refusal(&e);
        (void)role_direct(j);
        json_decref(j);
    }
    char value[128];
    (void)sso_cookie_get(text, "__Host-scimd_tx", value, sizeof(value));
    (void)gate_plan_includes_scim(text, "enterprise");
    free(text);
    return 0;
}
