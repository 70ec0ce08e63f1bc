#ifndef SCIMD_SCIM_PATCH_H
#define SCIMD_SCIM_PATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "base/arena.h"
#include "base/err.h"
#include "scim/schema.h"

/* The PATCH engine (RFC 7644 §3.5.2): applies a PatchOp body to a stored canonical document
 * and returns the new document, the password to hash and, for groups, the membership delta.
 * Pure: no database, no logging. Okta and Entra dialects (IDP-QUIRKS.md) are normalised at
 * the edge, then one engine runs. */

/* Group membership changes. They are never applied to the document: membership is rows, not
 * a members array (IDP-QUIRKS.md 24), so the caller applies them to the store:
 * - replace_all: the membership becomes exactly `add` (possibly empty; Okta pushes an empty
 *   group that way). `remove` is empty and remove_all false.
 * - else remove_all: remove every member, then add `add`.
 * - else: remove `remove`, then add `add`.
 * `add` and `remove` hold distinct, non-empty ids without NUL bytes, in request order, and
 * never share an id: the ops of one request are folded in order (add x then remove x leaves
 * x in `remove` only). Ids are not checked for existence. Arrays and strings are in the arena
 * passed to scim_patch_apply. */
struct scim_patch_members {
    bool replace_all;
    const char **add;
    size_t n_add;
    const char **remove;
    size_t n_remove;
    bool remove_all;
};

struct scim_patch_result {
    json_t *doc;    /* owned: the new canonical document */
    char *password; /* owned: the last password an op set (caller hashes, wipes, frees), or NULL */
    struct scim_patch_members members; /* only for scim_rt_group; zero otherwise */
    bool changed; /* false when every op was a no-op: same doc, no password, no member delta */
};

/* Applies PATCH `body` (borrowed) to `doc` (borrowed, never modified), the stored canonical
 * document of resource type `rt` (core attributes at the top level, extension attributes
 * under their URN key, "schemas" present, no id/meta needed). Atomic: works on a deep copy;
 * 0 with *out filled, or -1 with err set and *out zeroed (nothing to free). Paths, member
 * ids and arrays are allocated in arena `a`; its exhaustion is ERR_TOO_LARGE.
 *
 * Body (RFC 7644 §3.5.2): an object nested at most LIMIT_JSON_DEPTH deep whose "schemas"
 * array holds SCIM_URN_PATCH and whose "Operations" is an array of 1..LIMIT_PATCH_OPS
 * objects (key names of the body and of each op match case-insensitively: Entra sends
 * "Add", OneLogin "add"). Each op has "op" (add/replace/remove, any case), optional string
 * "path" and "value". Violations are ERR_INVALID_SYNTAX (more ops: ERR_TOO_LARGE); a
 * non-string path is ERR_INVALID_PATH. Error details name the operation ("operation 2: ").
 *
 * Paths: attr, attr.sub, urn:...:attr[.sub], attr[filter], attr[filter].sub, and an
 * extension URN alone (the whole extension object). Unknown attributes and malformed paths
 * are ERR_INVALID_PATH. A value filter needs a multi-valued attribute; it selects elements
 * with query_eval_element.
 *
 * Semantics (RFC 7644 §3.5.2.1-3):
 * - add without path: "value" is an object of attributes; each is added as if by path.
 *   replace without path: likewise, each attribute replaced (Okta: {"active": false}).
 *   Inside path-less values: keys match case-insensitively; dotted keys ("name.givenName")
 *   and full-URN keys ("urn:...:enterprise:2.0:User:department", or the extension URN with
 *   an object) are accepted (Entra); readOnly attributes (id, meta, groups), "schemas" and
 *   unknown attributes or URNs are ignored (Okta sends "id"; RFC 7644 §3.3).
 * - add: a multi-valued attribute gets the values appended, exact duplicates skipped; a
 *   single-valued complex attribute gets the given sub-attributes merged (a null one is
 *   removed); a simple one is set. null or [] adds nothing.
 * - replace: a multi-valued attribute (no filter) becomes the given array; a single-valued
 *   complex attribute gets the given sub-attributes merged (RFC 7644 §3.5.2.3: the others
 *   are left unchanged); a simple one is set. null, [] or {} removes the attribute.
 * - For add and replace of a single-valued complex attribute, a new "value" drops the other
 *   sub-attributes ($ref, display): they described the old referent (Entra's manager).
 * - attr[filter]: add merges the value object into every matching element, replace
 *   replaces them; attr[filter].sub sets the sub-attribute in every matching element. When
 *   nothing matches, add (both forms) and replace of attr[filter].sub create one element
 *   from the filter's eq clauses joined by "and" plus the value (IDP-QUIRKS.md 15: Entra's
 *   emails[type eq "work"].value); replace of attr[filter], or a filter that is not such a
 *   conjunction, is ERR_NO_TARGET. attr.sub without a filter on a multi-valued attribute
 *   targets every element.
 * - remove needs a path (ERR_NO_TARGET). It removes the attribute, sub-attribute or the
 *   matching elements; removing what is absent, or a filter that matches nothing, is a
 *   no-op. On a multi-valued attribute a "value" (array or object) removes only the
 *   elements whose given sub-attributes all equal those listed (Entra's member shape).
 *   Elements or complex values left empty are dropped.
 * - "primary" (RFC 7643 §2.4): after each op, if several elements of an attribute are
 *   primary, the one this op added or changed last stays primary; the others get false.
 * - Values are normalised and checked against the schema: strings, references and binary
 *   need JSON strings; booleans take true/false or "true"/"false" in any case (Entra
 *   "False"); integers and decimals need numbers; dateTime must parse; complex attributes
 *   take an object of known sub-attributes (readOnly and unknown ones are dropped) or a
 *   scalar meaning {"value": scalar} (Entra manager as a bare id); the tenant "role" must be
 *   one of its canonical values, any case, stored lower-case. Else ERR_INVALID_VALUE. A
 *   multi-valued attribute holds at most LIMIT_MEMBERS_PER_REQUEST values (ERR_TOO_LARGE).
 * - Mutability: a path naming a readOnly attribute or sub-attribute (id, meta, meta.*,
 *   groups, manager.displayName) is ERR_MUTABILITY, as is changing or removing an
 *   immutable value that is set, removing a required attribute (userName, Group
 *   displayName; RFC 7644 §3.5.2.2) and removing "password". A required string set to ""
 *   is ERR_INVALID_VALUE. Paths naming "schemas" are no-ops: "schemas" is derived, the
 *   core URN then the URN of each extension present in the result.
 * - "password" (writeOnly) never enters the document: add/replace with a non-empty string,
 *   by path or path-less, puts a copy in out->password (the last one wins).
 * - Group "members" (rt == &scim_rt_group) go to out->members, never to the document:
 *   add "members" [..] adds ids; replace "members" [..] (also path-less {"members": [..]},
 *   [] or null allowed) sets replace_all; remove "members" with a value list removes those
 *   ids (Entra), without a value (or null) sets remove_all; remove members[value eq "a" or
 *   value eq "b"] removes those ids. Members are objects with a non-empty string "value"
 *   (other keys ignored) or bare id strings, at most LIMIT_MEMBERS_PER_REQUEST per op.
 *   Other member filters are ERR_INVALID_FILTER; other member paths ERR_INVALID_PATH.
 * Keys of the result are in schema order (common, core, then each extension). */
int scim_patch_apply(const struct scim_resource_type *rt, const json_t *doc, const json_t *body,
                     struct arena *a, struct scim_patch_result *out, struct err *err);

/* Frees what *r owns (document; password wiped first) and zeroes it. Members live in the
 * arena. Safe on a zeroed result and after a failed scim_patch_apply. */
void scim_patch_result_cleanup(struct scim_patch_result *r);

#endif
