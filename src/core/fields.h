#ifndef SCIMD_CORE_FIELDS_H
#define SCIMD_CORE_FIELDS_H

#include <stdbool.h>

#include <jansson.h>

#include "base/err.h"

/* The one check of the members of a request body (docs/api.md: unknown fields are refused),
 * for every API that takes a JSON object: management API bodies, SSO connections, role-map
 * rules.
 *
 * Each member of body must be named in writable or in readonly (NULL-terminated lists; either
 * may be NULL). A read-only member is one that GET answers and no write may change: it passes
 * only when it repeats its value in current, the resource as GET shows it now (borrowed; NULL
 * when there is none yet, and then any read-only member is refused), so that a GET, change,
 * write round trip works and a write that tries to change it is told so instead of being
 * ignored. ERR_INVALID_VALUE when body is not an object, or naming the first member that is
 * unknown (`unknown field "x"`) or read-only with another value (`read-only field "x"`). */
int fields_check(const json_t *body, const char *const *writable, const char *const *readonly,
                 const json_t *current, struct err *err);

/* Whether key is one of list's names (NULL-terminated; NULL is an empty list). */
bool fields_named(const char *const *list, const char *key);

#endif
