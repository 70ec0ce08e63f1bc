#ifndef SCIMD_SCIM_RENDER_H
#define SCIMD_SCIM_RENDER_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "api/call.h"
#include "base/buf.h"
#include "scim/schema.h"
#include "store/store.h"

/* Turning stored rows into SCIM representations (RFC 7643 §3.1 common attributes). */

/* Appends the full representation of r as JSON text: the stored document with "id" and
 * "meta" spliced in, without parsing it (the common read path: PERFORMANCE.md). */
int scim_render_append(struct buf *out, const struct api_call *call,
                       const struct scim_resource_type *rt, const struct store_resource *r,
                       struct err *err);

/* The full representation as a new json_t (for projection). */
json_t *scim_render_json(const struct api_call *call, const struct scim_resource_type *rt,
                         const struct store_resource *r, struct err *err);

/* Replies with r: projected when the call has attributes/excludedAttributes (or the given
 * lists), spliced text otherwise; sets ETag, and Location when `location` is true. */
int scim_reply_resource(struct api_call *call, int status, const struct scim_resource_type *rt,
                        const struct store_resource *r, bool location, const char *attributes,
                        const char *excluded, struct err *err);

/* "W/\"<version>\"" into out (size ≥ 32). */
void scim_etag(int64_t version, char *out, size_t size);

/* RFC 7644 §3.14: checks If-Match against version. 0 when absent, "*" or equal; else
 * ERR_PRECONDITION. *given says whether a version was demanded. */
int scim_check_if_match(const struct api_call *call, int64_t version, bool *given, struct err *err);

/* True when If-None-Match names the version (or is "*"): the caller answers 304. */
bool scim_if_none_match(const struct api_call *call, int64_t version);

/* Import-only tenants refuse SCIM writes (the host application owns their users). */
int scim_check_writable(const struct api_call *call, struct err *err);

#endif
