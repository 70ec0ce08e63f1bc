#include "admin/admin.h"

#include <stdlib.h>

#include "core/tenant.h"

/* A tenant as this API shows it: tenant_to_json and the SCIM base URL the IT admin pastes
 * into the identity provider (read-only, the console's own: api_scim_base_url). */
static json_t *
tenant_json(const struct api_call *call, const struct store_tenant *t)
{
    char scim[API_SCIM_BASE_URL_MAX];
    json_t *j = tenant_to_json(t);
    json_object_set_new(j, "scimBaseUrl", json_string(api_scim_base_url(call->settings, t, scim)));
    return j;
}

int
admin_tenants_list(struct api_call *call, struct err *err)
{
    struct store_tenant *v;
    size_t n;
    if (tenant_list(call->store, &v, &n, err) < 0)
        return -1;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, tenant_json(call, &v[i]));
    free(v);
    api_reply_json(call, 200, json_pack("{s:o}", "tenants", arr));
    return 0;
}

int
admin_tenants_post(struct api_call *call, struct err *err)
{
    struct tenant_fields f;
    struct store_tenant t;
    int rc = -1;
    json_t *body = api_call_body_json(call, err);
    if (body == NULL)
        return -1;
    json_t *slug = json_object_get(body, "slug");
    if (!json_is_string(slug)) {
        err_set(err, ERR_INVALID_VALUE, "slug is required and must be a string");
        goto out;
    }
    if (tenant_fields_from_json(body, NULL, &f, err) < 0 ||
        tenant_create(call->store, &call->settings->gate, json_string_value(slug), &f, &t, err) < 0)
        goto out;
    snprintf(call->location, sizeof(call->location), "%s/admin/v1/tenants/%s",
             call->settings->public_url, t.slug);
    api_reply_json(call, 201, tenant_json(call, &t));
    rc = 0;
out:
    json_decref(body);
    return rc;
}

int
admin_tenants_get(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    if (tenant_get(call->store, call->params[0], &t, err) < 0)
        return -1;
    api_reply_json(call, 200, tenant_json(call, &t));
    return 0;
}

int
admin_tenants_patch(struct api_call *call, struct err *err)
{
    struct tenant_fields f;
    struct store_tenant t;
    json_t *current = NULL, *body = api_call_body_json(call, err);
    if (body == NULL)
        return -1;
    int rc = -1;
    if (tenant_get(call->store, call->params[0], &t, err) < 0)
        goto out;
    current = tenant_json(call, &t);
    if (tenant_fields_from_json(body, current, &f, err) < 0 ||
        tenant_update(call->store, &call->settings->gate, call->params[0], &f, &t, err) < 0)
        goto out;
    api_reply_json(call, 200, tenant_json(call, &t));
    rc = 0;
out:
    json_decref(current);
    json_decref(body);
    return rc;
}

int
admin_tenants_delete(struct api_call *call, struct err *err)
{
    if (tenant_delete(call->store, call->params[0], err) < 0)
        return -1;
    api_reply_empty(call, 204);
    return 0;
}
