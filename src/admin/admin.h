#ifndef SCIMD_ADMIN_ADMIN_H
#define SCIMD_ADMIN_ADMIN_H

#include "api/call.h"

/* The management API for the host application, /admin/v1 (operator key). Each handler takes
 * route parameters from call->params: params[0] is the tenant slug where the route has one,
 * params[1] the token id. */

int admin_tenants_list(struct api_call *call, struct err *err);
int admin_tenants_post(struct api_call *call, struct err *err);
int admin_tenants_get(struct api_call *call, struct err *err);
int admin_tenants_patch(struct api_call *call, struct err *err);
int admin_tenants_delete(struct api_call *call, struct err *err);

int admin_tokens_list(struct api_call *call, struct err *err);
int admin_tokens_post(struct api_call *call, struct err *err);
int admin_tokens_revoke(struct api_call *call, struct err *err);
int admin_tokens_rotate(struct api_call *call, struct err *err);
/* May a token be minted now, and if not, what is missing: ?actingUser=<user id>. */
int admin_token_gate(struct api_call *call, struct err *err);
/* The tenant's last SCIM requests, newest first (this instance's memory, core/reqlog.h):
 * ?token=<token id>&limit=<n>. */
int admin_token_requests(struct api_call *call, struct err *err);

/* Role map (GET/PUT the whole list) and a user's effective role (params[1]: user id). */
/* GET /admin/v1/roles: the configured role catalogue (role_catalogue_to_json). */
int admin_roles_get(struct api_call *call, struct err *err);
int admin_role_map_get(struct api_call *call, struct err *err);
int admin_role_map_put(struct api_call *call, struct err *err);
int admin_user_role_get(struct api_call *call, struct err *err);

/* The host application's user API (users.c): the SCIM Users handlers on the path's tenant.
 * params[1] is the user id. */
int admin_users_list(struct api_call *call, struct err *err);
int admin_users_get(struct api_call *call, struct err *err);
int admin_users_post(struct api_call *call, struct err *err);
int admin_users_put(struct api_call *call, struct err *err);
int admin_users_patch(struct api_call *call, struct err *err);
int admin_users_delete(struct api_call *call, struct err *err);
int admin_users_deactivate(struct api_call *call, struct err *err);
int admin_users_reactivate(struct api_call *call, struct err *err);

/* The tenant's groups, read-only (users.c, the SCIM Groups handlers); params[1]: group id. */
int admin_groups_list(struct api_call *call, struct err *err);
int admin_groups_get(struct api_call *call, struct err *err);

/* A single-use console set-up link for a tenant admin: {"actingUser"} → {"url", "expires"}
 * (setup_links.c). */
int admin_setup_links_post(struct api_call *call, struct err *err);

/* GET /admin/v1/openapi.json: the API's OpenAPI 3.1 document (openapi.c, admin/openapi.h),
 * with a strong ETag (If-None-Match: 304) and Cache-Control: no-cache. Needs no credentials. */
int admin_openapi_get(struct api_call *call, struct err *err);

/* Webhook endpoints (webhooks.c); params[1] is the webhook id. */
int admin_webhooks_list(struct api_call *call, struct err *err);
int admin_webhooks_post(struct api_call *call, struct err *err);
int admin_webhooks_get(struct api_call *call, struct err *err);
int admin_webhooks_patch(struct api_call *call, struct err *err);
int admin_webhooks_delete(struct api_call *call, struct err *err);
int admin_webhooks_rotate(struct api_call *call, struct err *err);
int admin_webhooks_attempts(struct api_call *call, struct err *err);
/* GET SET_JWKS_PATH (core/set.h), unauthenticated: the public keys verifying the SETs that
 * webhooks of format "set" deliver (docs/webhooks.md). */
int admin_set_jwks_get(struct api_call *call, struct err *err);
/* POST /events/v1/{tenant}/poll/{id}: RFC 8936 poll of a SET stream, authenticated with the
 * stream's secret as a bearer token (core/webhook.h webhook_poll). */
int admin_set_poll(struct api_call *call, struct err *err);

/* Audit events after a cursor: ?after=<next>&limit=<n>; with any of order=desc, before=,
 * kind=, resource= a filtered read (newest first with order=desc). */
int admin_events_list(struct api_call *call, struct err *err);

#endif
