#include "admin/admin.h"

#include <string.h>

#include "core/tenant.h"
#include "scim/scim.h"

/* The host application's user API, /admin/v1/tenants/{t}/users: the SCIM Users handlers with
 * the tenant taken from the path and the operator as the actor, so validation, uniqueness,
 * ETags, audit events and the deactivation policy are the very same as over SCIM. The host
 * writes users in every tenant: it is the only writer of import-only tenants, and in push
 * tenants it brings its existing users (which the identity provider then imports and matches
 * by userName) beside the identity provider; entity tags settle two writers (docs/api.md). */

/* Turns the call into a SCIM call on the path's tenant: params[0] becomes the user id. */
static int
enter(struct api_call *call, struct err *err)
{
    if (tenant_get(call->store, call->params[0], &call->tenant, err) < 0)
        return -1;
    call->params[0] = call->params[1];
    call->host = true;
    return 0;
}

/* Who may write is the route table's (ROUTE_AUTH_HOST: never a tenant admin's console
 * session, docs/api.md "Who may change what"). */
#define HOST(name, handler)                                    \
    int name(struct api_call *call, struct err *err)           \
    {                                                          \
        return enter(call, err) < 0 ? -1 : handler(call, err); \
    }

HOST(admin_users_list, scim_users_list)
HOST(admin_users_get, scim_users_get)
HOST(admin_users_post, scim_users_post)
HOST(admin_users_put, scim_users_put)
HOST(admin_users_patch, scim_users_patch)
HOST(admin_users_delete, scim_users_delete)
/* Groups are read-only here: the console lists them and shows one. */
HOST(admin_groups_list, scim_groups_list)
HOST(admin_groups_get, scim_groups_get)

/* Deactivate and reactivate are the PATCH Okta sends (IDP-QUIRKS.md 6), so the tenant's
 * deactivation policy applies as it does to SCIM clients. */
static int
set_active(struct api_call *call, bool active, struct err *err)
{
    static const char *const bodies[2] = {
        "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],"
        "\"Operations\":[{\"op\":\"replace\",\"value\":{\"active\":false}}]}",
        "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],"
        "\"Operations\":[{\"op\":\"replace\",\"value\":{\"active\":true}}]}",
    };
    if (call->body_len > 0)
        return err_set(err, ERR_INVALID_VALUE, "deactivate and reactivate take no body");
    if (enter(call, err) < 0)
        return -1;
    call->body = bodies[active];
    call->body_len = strlen(call->body);
    return scim_users_patch(call, err);
}

int
admin_users_deactivate(struct api_call *call, struct err *err)
{
    return set_active(call, false, err);
}

int
admin_users_reactivate(struct api_call *call, struct err *err)
{
    return set_active(call, true, err);
}
