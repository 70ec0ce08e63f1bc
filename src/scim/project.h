#ifndef SCIMD_SCIM_PROJECT_H
#define SCIMD_SCIM_PROJECT_H

#include <stdbool.h>

#include <jansson.h>

#include "base/err.h"
#include "scim/schema.h"

/* The "attributes" and "excludedAttributes" query parameters (RFC 7644 §3.4.2.5, §3.9):
 * which attributes of a resource a response carries. Pure: no database, no logging.
 *
 * `attributes` and `excluded` are the raw, already URL-decoded parameter values: comma-
 * separated attribute names, NULL (or empty) when the parameter is absent. When both are
 * given, `attributes` wins and `excluded` is not looked at. Entries are matched
 * case-insensitively and may be "userName", "name.givenName", "emails.value", fully
 * qualified "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", or a
 * schema URN alone (every attribute of that schema). Spaces around entries and empty entries
 * are ignored; names scimd does not know are ignored (RFC 7644 §3.9 does not make them an
 * error). A list with more than LIMIT_ATTR_LIST entries, an entry longer than
 * LIMIT_PATH_BYTES, or an entry with characters outside [A-Za-z0-9_$.:-] is ERR_INVALID_VALUE.
 *
 * What is returned (RFC 7643 §2.4 "returned"):
 * - "always" (schemas, id) is always returned, even when excluded;
 * - "never" (password) never is;
 * - "request" only when named in `attributes` (the attribute or one of its sub-attributes);
 * - "default" (everything else, meta included): when `attributes` is given, only when the
 *   attribute, or one of its sub-attributes, is named (then only the named sub-attributes);
 *   otherwise unless it, or its whole schema, is named in `excluded` (a named sub-attribute
 *   is removed from every value).
 * Complex values and extension objects left empty are removed, and "schemas" keeps only the
 * core URN and the extension URNs whose object is still present. */

/* Checks both lists (only `attributes` when it is given) so a handler can reject a broken
 * list before doing any work. 0, or -1 with ERR_INVALID_VALUE. */
int scim_project_check(const struct scim_resource_type *rt, const char *attributes,
                       const char *excluded, struct err *err);

/* Returns a NEW document holding what a response for `doc` (a canonical resource of rt,
 * borrowed, never modified) may carry, sharing no values with it; NULL with err set when a
 * list is broken (ERR_INVALID_VALUE) or doc is not an object (ERR_INTERNAL). */
json_t *scim_project(const struct scim_resource_type *rt, const json_t *doc, const char *attributes,
                     const char *excluded, struct err *err);

/* Whether top-level attribute `attr_name` of rt ("members", "groups"; case-insensitive)
 * could appear in a projected response, so handlers can skip loading it. Errs on the side
 * of true: a broken list answers true (scim_project reports the error). An attribute rt
 * does not define answers false when `attributes` is given, else true. */
bool scim_project_wants(const struct scim_resource_type *rt, const char *attributes,
                        const char *excluded, const char *attr_name);

#endif
