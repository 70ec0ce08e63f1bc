#ifndef SCIMD_SCIM_LIST_H
#define SCIMD_SCIM_LIST_H

#include <jansson.h>

#include "api/call.h"
#include "scim/render.h"
#include "scim/schema.h"
#include "store/store.h"

/* Listing and searching resources (RFC 7644 §3.4.2 query parameters, §3.4.3 POST .search):
 * one implementation for every resource type. */

struct scim_list_params {
    const char *filter;
    const char *sort_by;
    const char *sort_order;
    const char *attributes;
    const char *excluded;
    int64_t start_index; /* clamped to ≥ 1 */
    int64_t count;       /* clamped to [0, page_max] */
};

/* From the query string. ERR_INVALID_VALUE for non-numeric startIndex/count. */
int scim_list_params_from_query(const struct api_call *call, struct scim_list_params *p,
                                struct err *err);

/* From a SearchRequest body (strings borrowed from body; attributes lists are joined into
 * the arena). */
int scim_list_params_from_body(struct api_call *call, const json_t *body,
                               struct scim_list_params *p, struct err *err);

/* Runs the listing and replies with a ListResponse; each row carries the derived attribute
 * (may be NULL) when the lists want it. */
int scim_list_reply(struct api_call *call, const struct scim_resource_type *rt,
                    enum store_rtype type, const struct scim_derived *derived,
                    const struct scim_list_params *p, struct err *err);

#endif
