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

#endif
