#ifndef SCIMD_SCIM_LIST_H
#define SCIMD_SCIM_LIST_H

#include <jansson.h>

#include "api/call.h"
#include "scim/render.h"
#include "scim/schema.h"
#include "store/store.h"

/* Listing and searching resources (RFC 7644 §3.4.2 query parameters, §3.4.3 POST .search):
 * one implementation for every resource type. */

/* GET /{Resources}: the listing from the query string, replied as a ListResponse. */
int scim_list_get(struct api_call *call, const struct scim_kind *k, struct err *err);

/* POST /{Resources}/.search: the same from a SearchRequest body (RFC 7644 §3.4.3). */
int scim_list_search(struct api_call *call, const struct scim_kind *k, struct err *err);

/* GET /Users: the userName of a listing that asks for one (a first page of `userName eq
 * "…"`, unsorted), for the token's statement to read with it (api_call.user_read); NULL for
 * any other listing. */
const char *scim_list_user_name(struct api_call *call);

#endif
