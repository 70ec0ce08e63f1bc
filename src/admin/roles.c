#include "admin/admin.h"

#include <stdlib.h>

#include "core/role.h"
#include "core/tenant.h"

static int
reply_map(struct api_call *call, int64_t tenant_id, struct err *err)
{
    struct store_role_rule *v;
    size_t n;
    if (role_map_get(call->store, tenant_id, &v, &n, err) < 0)
        return -1;
    api_reply_json(call, 200, json_pack("{s:o}", "rules", role_map_to_json(v, n)));
    free(v);
    return 0;
}

int
admin_roles_get(struct api_call *call, struct err *err)
{
    (void)err;
    api_reply_json(call, 200, role_catalogue_to_json());
    return 0;
}

static json_t *
name_or_null(const char *s)
{
    return s[0] ? json_string(s) : json_null();
}

int
admin_role_map_get(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    if (tenant_get(call->store, call->params[0], &t, err) < 0)
        return -1;
    return reply_map(call, t.id, err);
}

int
admin_role_map_put(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    struct store_role_rule *v = NULL;
    size_t n = 0;
    if (tenant_get(call->store, call->params[0], &t, err) < 0)
        return -1;
    json_t *body = api_call_body_json(call, err);
    if (body == NULL)
        return -1;
    json_t *rules = json_object_get(body, "rules");
    int rc = -1;
    if (rules == NULL || json_object_size(body) != 1)
        err_set(err, ERR_INVALID_VALUE,
                "the body must be {\"rules\": [{\"group\", \"role\", "
                "\"priority\"}, …]}");
    else if (role_map_from_json(rules, &v, &n, err) == 0 &&
             role_map_replace(call->store, t.id, v, n, call->actor, err) == 0)
        rc = reply_map(call, t.id, err);
    free(v);
    json_decref(body);
    return rc;
}

int
admin_user_role_get(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    struct store_user_role r;
    if (tenant_get(call->store, call->params[0], &t, err) < 0)
        return -1;
    /* No role row: no such user in this tenant, said as the other user routes say it. */
    if (role_of_user(call->store, t.id, call->params[1], &r, err) < 0)
        return err->code == ERR_NOT_FOUND
                   ? err_set(err, ERR_NOT_FOUND, "resource %s not found", call->params[1])
                   : -1;
    api_reply_json(call, 200,
                   json_pack("{s:o, s:s, s:o}", "role", name_or_null(r.role), "source", r.source,
                             "direct", name_or_null(r.direct)));
    return 0;
}
