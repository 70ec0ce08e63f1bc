#ifndef SCIMD_SCIM_SCIM_H
#define SCIMD_SCIM_SCIM_H

#include "api/call.h"

/* SCIM 2.0 endpoints (RFC 7644) under /scim/v2. The bearer token has already chosen the
 * tenant (call->tenant). Route parameters: params[0] is the resource id or discovery name. */

int scim_discovery_spc(struct api_call *call, struct err *err);
int scim_discovery_resource_types(struct api_call *call, struct err *err);
int scim_discovery_resource_type(struct api_call *call, struct err *err);
int scim_discovery_schemas(struct api_call *call, struct err *err);
int scim_discovery_schema(struct api_call *call, struct err *err);

int scim_users_list(struct api_call *call, struct err *err);
/* Before the token is checked: names in call->user_read the user a request of route `handler`
 * reads (GET /Users/{id}, a `userName eq` listing), so that the token's statement reads it too
 * and the request is one statement; leaves it unset for every other request. */
void scim_users_read_with_token(struct api_call *call, api_handler_fn handler);
int scim_users_search(struct api_call *call, struct err *err);
int scim_users_get(struct api_call *call, struct err *err);
int scim_users_post(struct api_call *call, struct err *err);
int scim_users_put(struct api_call *call, struct err *err);
int scim_users_patch(struct api_call *call, struct err *err);
int scim_users_delete(struct api_call *call, struct err *err);

/* The user of tenant_id that `ref` names, the way a host application names its own users: a
 * scimd user id, else a userName (case-insensitive), else an externalId. Fills id; ERR_NOT_FOUND
 * when none matches, ERR_CONFLICT when an externalId names several users. */
int scim_users_find(struct api_call *call, int64_t tenant_id, const char *ref, char id[37],
                    struct err *err);

int scim_groups_list(struct api_call *call, struct err *err);
int scim_groups_search(struct api_call *call, struct err *err);
int scim_groups_get(struct api_call *call, struct err *err);
int scim_groups_post(struct api_call *call, struct err *err);
int scim_groups_put(struct api_call *call, struct err *err);
int scim_groups_patch(struct api_call *call, struct err *err);
int scim_groups_delete(struct api_call *call, struct err *err);

/* POST /Bulk (RFC 7644 §3.7, scim/bulk.c): runs each operation through the handler above that
 * its single request reaches, in its own transaction, and answers 200 with a BulkResponse;
 * the whole request fails only when it is not a BulkRequest or exceeds maxPayloadSize or
 * maxOperations (ERR_TOO_LARGE). */
int scim_bulk_post(struct api_call *call, struct err *err);

#endif
