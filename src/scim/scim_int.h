#ifndef SCIMD_SCIM_SCIM_INT_H
#define SCIMD_SCIM_SCIM_INT_H

#include <stdbool.h>

#include <jansson.h>

#include "base/err.h"
#include "scim/schema.h"

/* Value normalisation shared by body normalisation (resource.c) and the PATCH engine
 * (patch.c), implemented in value.c: checking values against the schema (RFC 7643 §2.3),
 * and assembling the canonical document. Pure: no database, no logging. */

/* Where the two callers' rules differ. Each caller keeps one const instance and passes it
 * to every helper below. */
struct scim_value_rules {
    /* Strings are C strings, read up to their first NUL byte: boolean strings, canonical
     * values and scim_value_is_same compare that far, and a password may hold a NUL byte
     * (resource.c). When false strings are compared over their full length and a password
     * with a NUL byte is not a string (patch.c). */
    bool cstrings;
    /* A complex value or a multi-valued array left empty is "absent": *out NULL
     * (resource.c). When false the empty object or array is returned (patch.c). */
    bool empty_absent;
    /* More than one element of a multi-valued attribute with "primary": true is
     * ERR_INVALID_VALUE (resource.c). When false the caller settles it (patch.c). */
    bool one_primary;
    /* "schemas" must be an array of strings (else ERR_INVALID_SYNTAX) (resource.c). When
     * false anything but a string naming the URN is ignored (patch.c). */
    bool strict_schemas;
    /* A multi-valued attribute given one value instead of an array takes it as a one-element
     * array (patch.c: RFC 7644 §3.5.2.1 "add" adds "a new value" to a multi-valued attribute).
     * When false it is ERR_INVALID_VALUE (resource.c: RFC 7643 §2.4 multi-valued attributes
     * are JSON arrays, and no identity provider sends a bare value in a POST or PUT body). */
    bool single_as_array;
    /* The verb of the ERR_TOO_LARGE detail for too many values: "has" (resource.c) or
     * "would have" (patch.c), as in "attribute \"emails\" has more than 1000 values". */
    const char *too_many_verb;
};

/* Checks simple value `v` (borrowed) of attribute `a` (`parent` is its complex attribute,
 * or NULL; it only names the attribute in details) and sets *out to a new normalised value,
 * or to NULL when v is JSON null. Strings, references and binary need JSON strings;
 * booleans take true/false or the strings "true"/"false" in any case (Entra, IDP-QUIRKS.md
 * 12), stored as JSON booleans; integers and decimals need numbers; dateTime must parse.
 * A string of a canonical_strict attribute must be one of its canonical values in any case
 * and is stored in the canonical spelling. Else ERR_INVALID_VALUE naming the attribute. */
int scim_value_normalize_simple(const struct scim_value_rules *r, const struct scim_attr *parent,
                                const struct scim_attr *a, const json_t *v, json_t **out,
                                struct err *err);

/* Checks complex value `v` (borrowed) of attribute `a` and sets *out to a new object: known
 * sub-attributes under their canonical names, normalised; readOnly and unknown ones are
 * dropped; sub-attributes that are null are kept as JSON null when `keep_null` (a merge
 * then removes them), else dropped. A scalar stands for {"value": scalar} when a has a
 * "value" sub-attribute (Entra's manager as a bare id, IDP-QUIRKS.md 16). *out is NULL when
 * v is JSON null, and when the object is empty under r->empty_absent. An array or other
 * scalar is ERR_INVALID_VALUE; a sub-attribute given twice (in two spellings)
 * ERR_INVALID_SYNTAX. */
int scim_value_normalize_complex(const struct scim_value_rules *r, const struct scim_attr *a,
                                 const json_t *v, bool keep_null, json_t **out, struct err *err);

/* Checks value `v` (borrowed) of multi-valued attribute `a` and sets *out to a new array of
 * normalised elements (complex ones without nulls); a single value is taken as a
 * one-element array under r->single_as_array, else ERR_INVALID_VALUE; elements that hold nothing
 * are left out. *out is NULL when v is JSON null, and when the array is empty under
 * r->empty_absent. An array of more than LIMIT_MEMBERS_PER_REQUEST values is ERR_TOO_LARGE, an
 * element that is an array ERR_INVALID_VALUE, as are two primaries under r->one_primary. */
int scim_value_normalize_multi(const struct scim_value_rules *r, const struct scim_attr *a,
                               const json_t *v, json_t **out, struct err *err);

/* Checks `v` (borrowed), the value of writeOnly attribute `a` ("password"), and sets *out
 * to an owned copy (the caller hashes, wipes with crypto_wipe and frees it), or to NULL when
 * v is JSON null or "" (an empty password is no password: never hash ""). Anything but a
 * string is ERR_INVALID_VALUE, as is a string with a NUL byte unless r->cstrings. */
int scim_value_normalize_password(const struct scim_value_rules *r, const struct scim_attr *a,
                                  const json_t *v, char **out, struct err *err);

/* Equality as a filter sees it: two strings compare case-insensitively unless `a` is
 * caseExact (a may be NULL: case-insensitive), anything else with json_equal. x and y are
 * borrowed. */
bool scim_value_is_same(const struct scim_value_rules *r, const struct scim_attr *a,
                        const json_t *x, const json_t *y);

/* Checks a "schemas" value (borrowed; NULL when absent): 0 when it is an array holding the
 * string `urn` in any case, else ERR_INVALID_SYNTAX. Under r->strict_schemas every element
 * must be a string; otherwise other elements are ignored. JSON null fails like any non-array:
 * a caller that accepts a null "schemas" checks for it first. */
int scim_value_schemas_check(const struct scim_value_rules *r, const json_t *schemas,
                             const char *urn, struct err *err);

/* Returns a new canonical document of resource type `rt` made from `doc` (borrowed: core and
 * common attributes at the top level, each extension's object under its canonical URN):
 * "schemas" derived (the core URN, then the URN of each non-empty extension object), then
 * the common attributes, the core attributes and the non-empty extension objects, each in
 * schema order. doc's own "schemas" and the core schema's writeOnly attributes ("password")
 * are left out; other keys scimd does not define are kept at the end of the document or of
 * their extension object. Values are shared with doc (reference counted), not copied. */
json_t *scim_value_assemble(const struct scim_resource_type *rt, const json_t *doc);

#endif
