#ifndef SCIMD_SCIM_BULK_H
#define SCIMD_SCIM_BULK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/err.h"

/* The BulkRequest parser and planner of POST /Bulk (RFC 7644 §3.7). Pure: no database, no
 * logging; the handler (scim_bulk_post, scim/scim.h) runs the plan through the single-resource
 * handlers. */

#define SCIM_URN_BULK_REQUEST  "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
#define SCIM_URN_BULK_RESPONSE "urn:ietf:params:scim:api:messages:2.0:BulkResponse"

/* The prefix of a reference to the resource another operation of the request creates
 * (RFC 7644 §3.7.2): "bulkId:qwerty" in a path or in any string value of "data". */
#define SCIM_BULK_REF "bulkId:"

enum scim_bulk_method {
    SCIM_BULK_NONE, /* absent or not one of the four: the operation carries an error */
    SCIM_BULK_POST,
    SCIM_BULK_PUT,
    SCIM_BULK_PATCH,
    SCIM_BULK_DELETE,
};

/* One operation of a BulkRequest. Strings and data are borrowed from the parsed body. */
struct scim_bulk_op {
    enum err_code code; /* ERR_OK, or why the operation is refused without running */
    char *detail;       /* owned; the detail of code (NULL when ERR_OK) */
    enum scim_bulk_method method;
    bool group;          /* the path names /Groups (else /Users); meaningful when code is OK */
    const char *bulk_id; /* the operation's own bulkId, or NULL */
    const char *id; /* resource id of PUT, PATCH, DELETE (may be "bulkId:…"); NULL for POST */
    const char *version; /* "version" (an ETag: If-Match for this operation), or NULL */
    const json_t *data;  /* "data" (an object) for POST, PUT, PATCH; NULL for DELETE */
    size_t *deps;        /* owned: the operations whose bulkId this one references */
    size_t n_deps;
};

struct scim_bulk {
    struct scim_bulk_op *ops; /* owned, in request order */
    size_t n;
    size_t *order;              /* owned: a permutation of 0..n-1, every operation after those it
                                   references (except along a circle, whose members carry
                                   ERR_CONFLICT) and otherwise in request order */
    int64_t fail_on_errors;     /* "failOnErrors": stop after this many errors; 0: never */
    struct scim_bulk_key *keys; /* owned: the bulkIds, sorted, for scim_bulk_find */
    size_t n_keys;
};

/* Parses a BulkRequest body (borrowed; `b` borrows from it, so it must outlive b) and plans
 * the order the operations run in. Errors of the whole request: a body that is not an object,
 * nests deeper than the resources it may carry, lacks the BulkRequest URN in "schemas", or
 * whose "Operations" is not an array: ERR_INVALID_SYNTAX; a "failOnErrors" that is not an
 * integer of at least 1: ERR_INVALID_VALUE; more than max_ops operations: ERR_TOO_LARGE
 * (RFC 7644 §3.7.4). Errors of one operation (it is then refused alone, with the error in its
 * code and detail): not an object, method not POST/PUT/PATCH/DELETE, path not /Users or
 * /Groups (POST) or one resource below them (the others), POST without bulkId, a bulkId
 * defined twice or empty or longer than LIMIT_BULK_ID_BYTES, data missing or not an object,
 * a version that is not a string (ERR_INVALID_VALUE or ERR_INVALID_SYNTAX); a reference to a
 * bulkId no operation defines (ERR_INVALID_VALUE); being part of a circle of references
 * (ERR_CONFLICT, RFC 7644 §3.7.1). On failure *b is left empty (scim_bulk_cleanup is still
 * safe). */
int scim_bulk_parse(const json_t *body, int64_t max_ops, struct scim_bulk *b, struct err *err);

/* The operation defining bulk id `ref` (without the "bulkId:" prefix), or -1 when none or more
 * than one does. */
long scim_bulk_find(const struct scim_bulk *b, const char *ref);

/* Frees what scim_bulk_parse allocated; safe on a zeroed or failed b. */
void scim_bulk_cleanup(struct scim_bulk *b);

/* "POST", "PUT", "PATCH", "DELETE", or NULL for SCIM_BULK_NONE. */
const char *scim_bulk_method_name(enum scim_bulk_method m);

#endif
