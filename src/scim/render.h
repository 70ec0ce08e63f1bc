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

/* A derived attribute ("groups" of a User, "members" of a Group): not in the stored document
 * but loaded from membership rows, and only when a response carries it. `load` sets *out to
 * a new non-empty array, or NULL when there is nothing to show. */
typedef int (*scim_derived_fn)(const struct api_call *call, const struct store_resource *r,
                               json_t **out, struct err *err);

/* The same for a page of rows at once: values[i] (NULL or a new array) for rows[i]. */
typedef int (*scim_derived_page_fn)(const struct api_call *call, const struct store_resource *rows,
                                    size_t n, json_t **values, struct err *err);

struct scim_derived {
    const char *name; /* top-level attribute of the resource type */
    scim_derived_fn load;
    scim_derived_page_fn load_page; /* NULL: listings call load row by row */
};

/* What the handlers shared by every resource type need to know about one of them. */
struct scim_kind {
    const struct scim_resource_type *rt;
    enum store_rtype type;
    const struct scim_derived *derived; /* "groups" of a User, "members" of a Group */
};

/* GET /{Resources}/{id}: 200 with the resource (projected as asked), 412 (ERR_PRECONDITION)
 * when If-Match names another version, or 304 when If-None-Match names its version. */
int scim_get_reply(struct api_call *call, const struct scim_kind *k, struct err *err);

/* Appends the full representation of r as JSON text: the stored document with "id" and
 * "meta" spliced in, without parsing it (the common read path: PERFORMANCE.md). */
int scim_render_append(struct buf *out, const struct api_call *call,
                       const struct scim_resource_type *rt, const struct store_resource *r,
                       struct err *err);

/* As scim_render_append, with attribute `name` set to `value` (borrowed) spliced in after
 * "meta" when value is not NULL. */
int scim_render_append_with(struct buf *out, const struct api_call *call,
                            const struct scim_resource_type *rt, const struct store_resource *r,
                            const char *name, const json_t *value, struct err *err);

/* Appends r as a response carries it: projected by attributes/excluded (borrowed, may be
 * NULL), with the derived attribute loaded when `derived` is not NULL and the lists want it
 * (scim_project_wants). Without projection and derived values the stored text is spliced,
 * never parsed. */
int scim_render_row(struct buf *out, const struct api_call *call,
                    const struct scim_resource_type *rt, const struct store_resource *r,
                    const struct scim_derived *derived, const char *attributes,
                    const char *excluded, struct err *err);

/* As scim_render_row with the derived value already loaded (`value`, borrowed, may be NULL)
 * for `derived`, so a page loads it once for all its rows. */
int scim_render_row_loaded(struct buf *out, const struct api_call *call,
                           const struct scim_resource_type *rt, const struct store_resource *r,
                           const struct scim_derived *derived, json_t *value,
                           const char *attributes, const char *excluded, struct err *err);

/* The full representation as a new json_t (for projection). */
json_t *scim_render_json(const struct api_call *call, const struct scim_resource_type *rt,
                         const struct store_resource *r, struct err *err);

/* Replies with r as scim_render_row renders it, with the call's attributes/excludedAttributes
 * (or the given lists) and the derived attribute (may be NULL); sets ETag, and Location when
 * `location` is true. */
int scim_reply_resource(struct api_call *call, int status, const struct scim_resource_type *rt,
                        const struct store_resource *r, const struct scim_derived *derived,
                        bool location, const char *attributes, const char *excluded,
                        struct err *err);

/* "W/\"<version>\"" into out (size ≥ 32). */
void scim_etag(int64_t version, char *out, size_t size);

/* The preconditions of a write (PUT, PATCH, DELETE) against the version it will be applied
 * to (RFC 7644 §3.14, RFC 9110 §13.1.1-2): ERR_PRECONDITION unless If-Match is absent, "*" or
 * names version, and If-None-Match is absent or neither "*" nor names version. *given says
 * whether If-Match demanded a version (a lost race is then the client's answer: 412). The
 * caller writes with the store's optimistic check of that same version, so the conditions and
 * the write see one version. */
int scim_check_write(const struct api_call *call, int64_t version, bool *given, struct err *err);

/* Deletes a resource of `type` (DELETE /Users/{id}, /Groups/{id}) with del(…, version). With
 * If-Match alone the listed versions go to the store, so the check and the delete are one
 * statement: no version (or "*") deletes whatever is there; each listed tag is tried in turn.
 * With If-None-Match the version is read, checked by scim_check_write and passed to del, and
 * the read retried when another writer won. Replies 204. */
typedef int (*scim_delete_fn)(struct store *s, int64_t tenant_id, const char *actor, const char *id,
                              int64_t version, struct err *err);
int scim_delete_resource(struct api_call *call, enum store_rtype type, scim_delete_fn del,
                         struct err *err);

/* Optimistic writes retry this often when another writer wins and the client did not send
 * If-Match (with If-Match the conflict is the client's answer: 412). N writers racing on one
 * resource (Okta's group pushes from several instances) need up to N attempts. */
#define SCIM_WRITE_ATTEMPTS 16

/* Before attempt n (from 0): nothing for the first, then a random pause of up to 2^n ms
 * (at most 64 ms), so racing writers spread out instead of colliding again. */
void scim_write_retry_pause(int attempt);

/* Import-only tenants refuse SCIM writes (the host application owns their users). */
int scim_check_writable(const struct api_call *call, struct err *err);

#endif
