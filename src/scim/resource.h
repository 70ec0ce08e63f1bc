#ifndef SCIMD_SCIM_RESOURCE_H
#define SCIMD_SCIM_RESOURCE_H

#include <jansson.h>

#include "base/err.h"
#include "scim/schema.h"

/* Input normalisation of resource bodies (POST, PUT): one canonical document out of what
 * Okta, Entra and others send (IDP-QUIRKS.md), so the rest of scimd sees one shape. Pure:
 * no database, no logging. */

enum scim_write_mode {
    SCIM_WRITE_CREATE,  /* POST /Users, POST /Groups */
    SCIM_WRITE_REPLACE, /* PUT /Users/{id}, PUT /Groups/{id} */
};

/* Validates `in` (borrowed) as a body for resource type `rt` and returns a NEW canonical
 * document, or NULL with err set. Both modes apply the same rules today; immutability
 * against the stored document is scim_resource_check_immutable's job. No defaults are
 * filled in (a PUT that omits "active" must not deactivate: IDP-QUIRKS.md 5).
 *
 * The output holds: "schemas" = [core URN, then the extension URNs whose object is present],
 * core and common attributes under their canonical names in schema order, and each
 * extension as an object under its canonical URN.
 *
 * Rules (RFC 7643 §2, RFC 7644 §3.3, §3.5.1):
 * - `in` must be an object nested at most LIMIT_JSON_DEPTH deep: else ERR_INVALID_SYNTAX.
 * - "schemas", when present and not null, must be an array of strings holding rt's core URN
 *   (case-insensitive): else ERR_INVALID_SYNTAX. Missing "schemas" is accepted. URNs in it
 *   that scimd does not know are ignored.
 * - Keys match attribute names case-insensitively. Unknown attributes, and keys that are
 *   URNs of schemas rt does not have (Okta custom extensions), are ignored silently.
 * - Extension attributes are accepted nested ({"urn:...:enterprise:2.0:User": {...}}) and
 *   as flat full-URN keys ("urn:...:enterprise:2.0:User:department", Entra); dotted keys
 *   ("name.givenName") fold into their complex attribute. The same attribute given twice in
 *   any of these spellings is ERR_INVALID_SYNTAX.
 * - readOnly attributes and sub-attributes (id, meta, groups, manager.displayName) are
 *   dropped (RFC 7643 §2.2). The writeOnly "password" never enters the document: when
 *   `password_out` is not NULL it receives an owned copy (caller hashes, wipes and frees
 *   it), or NULL when the body has none.
 * - null values and empty arrays/objects mean "absent" (RFC 7644 §3.5.1).
 * - Types: string, reference and binary need JSON strings; boolean takes true/false or the
 *   strings "true"/"false" in any case (Entra), stored as JSON booleans; integer, decimal
 *   need JSON numbers; dateTime must parse as xsd:dateTime. A wrong type is
 *   ERR_INVALID_VALUE naming the attribute.
 * - A multi-valued attribute given a single value instead of an array is ERR_INVALID_VALUE; a
 * complex attribute given a scalar becomes {"value": scalar} (Entra sends "manager": "id"). Arrays
 * hold at most LIMIT_MEMBERS_PER_REQUEST elements (else ERR_TOO_LARGE).
 * - Required attributes (userName, Group displayName, members[].value) must be present and,
 *   for strings, pass scim_required_string_check: else ERR_INVALID_VALUE naming the
 *   attribute.
 * - canonicalValues are enforced only where the schema says canonical_strict (the tenant
 *   "role": stored lower-case); emails.type and the like accept anything.
 * - At most one element of a multi-valued attribute may have "primary": true
 *   (RFC 7643 §2.4): else ERR_INVALID_VALUE.
 * Uniqueness is not checked here (the store does). */
json_t *scim_resource_normalize(const struct scim_resource_type *rt, const json_t *in,
                                enum scim_write_mode mode, char **password_out, struct err *err);

/* The value of a required string attribute a (userName, a group's displayName): not empty,
 * not only white space, at most LIMIT_RESOURCE_NAME_BYTES; else ERR_INVALID_VALUE naming it.
 * 0 for anything that is no string (the type check is the caller's). */
int scim_required_string_check(const struct scim_attr *a, const json_t *v, struct err *err);

/* Fails with ERR_MUTABILITY (RFC 7644 §3.5.1) when an immutable attribute or sub-attribute
 * that has a value in `old_doc` has a different value in `new_doc`; both are canonical
 * documents of rt, borrowed. An attribute absent from new_doc is not a change: the caller
 * keeps the stored value. Strings compare case-insensitively unless caseExact. Sub-attributes
 * of multi-valued attributes (Group members.value) are not compared: an element whose value
 * differs is another element, not a changed one. 0 when nothing immutable changed. */
int scim_resource_check_immutable(const struct scim_resource_type *rt, const json_t *old_doc,
                                  const json_t *new_doc, struct err *err);

/* Fails with ERR_INVALID_SYNTAX when `j` (borrowed) nests arrays/objects more than `max`
 * levels deep (a scalar is depth 0, {} is 1). Never recurses deeper than max + 1, so it is
 * safe on hostile input. 0 when within the limit. */
int scim_json_depth_check(const json_t *j, int max, struct err *err);

#endif
