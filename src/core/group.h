#ifndef SCIMD_CORE_GROUP_H
#define SCIMD_CORE_GROUP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "base/err.h"
#include "store/store.h"

/* Groups of a tenant. The document (displayName, externalId) is a resource row of type
 * STORE_RTYPE_GROUP; membership is rows of its own (DESIGN.md "Storage model"), never a
 * members array in the document, so concurrent membership changes cannot lose members
 * (IDP-QUIRKS.md 24) and a change touches only the rows it names. Members are users of the
 * same tenant. Every write is one transaction; a write that changes the document or the
 * membership bumps the group's version and lastModified, and those of the users whose
 * "groups" it changed (the members it moved; every member on a new displayName or a delete),
 * records an audit event by `actor` and, when the group is in the tenant's role map,
 * recomputes the roles it moved. */

/* A membership change, with the meaning of scim/'s struct scim_patch_members:
 * - replace_all: the membership becomes exactly `add` (possibly empty);
 * - else remove_all: remove every member, then add `add`;
 * - else: remove `remove`, then add `add`.
 * Arrays and strings are borrowed. */
struct group_members {
    bool replace_all;
    bool remove_all;
    const char *const *add;
    size_t n_add;
    const char *const *remove;
    size_t n_remove;
};

/* Creates a group from doc (borrowed, canonical, without "members") with members ids[0..n)
 * (duplicates allowed). An id that is not a user of the tenant is ERR_INVALID_VALUE naming
 * it, and nothing is written; a displayName already used in the tenant (case-insensitively)
 * is ERR_UNIQUENESS. */
int group_create(struct store *s, const struct store_tenant *t, const char *actor,
                 const json_t *doc, const char *const *ids, size_t n, struct store_resource *out,
                 struct err *err);

int group_get(struct store *s, int64_t tenant_id, const char *id, struct store_resource *out,
              struct err *err);

/* Writes new_doc (borrowed, without "members") as the next version of `old` (as read by
 * group_get) and applies `delta` (NULL: membership unchanged), in one transaction. Added ids
 * must be users of the tenant (ERR_INVALID_VALUE naming the first that is not; nothing
 * written). Nothing changed writes nothing and keeps the version. ERR_PRECONDITION when
 * `old` is stale; ERR_UNIQUENESS for a displayName in use. */
int group_update(struct store *s, const struct store_tenant *t, const char *actor,
                 const struct store_resource *old, const json_t *new_doc,
                 const struct group_members *delta, struct store_resource *out, struct err *err);

/* Deletes the group and its membership rows if its version is `version` (any when < 0). */
int group_delete(struct store *s, int64_t tenant_id, const char *actor, const char *id,
                 int64_t version, struct err *err);

/* The members of a group, ordered by id; *out is malloc'd (store_members_free). */
int group_members_list(struct store *s, int64_t tenant_id, const char *group_id,
                       struct store_member **out, size_t *n, struct err *err);

/* Frees a list from group_members_list or user_groups_list (NULL is a no-op). */
void group_members_free(struct store_member *v, size_t n);

#endif
