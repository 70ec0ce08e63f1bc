#ifndef SCIMD_CORE_USER_H
#define SCIMD_CORE_USER_H

#include <stdbool.h>

#include <jansson.h>

#include "base/err.h"
#include "store/store.h"

/* Users of a tenant. Documents arrive canonical (scim/ normalised them); this module owns
 * identity (UUIDv7 ids), versions, timestamps, the indexed columns, the deactivation policy,
 * and the write transactions. Writes are optimistic: an update names the version it read and
 * fails with ERR_PRECONDITION if another writer got there first, so no lock is held while a
 * PATCH is computed or a password hashed, on one instance or many. Every write also records
 * an audit event by `actor` (core/audit.h) and keeps the user's role current (core/role.h),
 * in the same transaction. */

/* What a write did besides its document: whether the tenant's deactivation policy removed
 * the user, and then the effective role it had (the host's view of the answer shows it,
 * docs/api.md; role.role empty for none). */
struct user_outcome {
    bool removed;
    struct store_user_role role;
};

/* Creates a user from doc (borrowed). "active" defaults to true when absent. A userName
 * already used in the tenant (case-insensitively) is ERR_UNIQUENESS. `outcome` (may be NULL)
 * says whether the tenant's deactivation policy removed the user at once (created inactive). */
int user_create(struct store *s, const struct store_tenant *t, const char *actor, const json_t *doc,
                const char *password_hash, struct store_resource *out, struct user_outcome *outcome,
                struct err *err);

int user_get(struct store *s, int64_t tenant_id, const char *id, struct store_resource *out,
             struct err *err);

/* Writes new_doc as the next version of `old` (as read by user_get). When the result is
 * inactive and the tenant's policy is "remove", the user is deleted instead and
 * outcome->removed is set (the caller still answers with the final document, and the role
 * the user had) and it leaves every group. A doc equal to
 * the stored one with no password writes nothing and keeps the version. A new userName also
 * bumps the versions of the user's groups (their members[].display changed). A group write
 * bumps its members' versions too, so `old` may be stale because of one: ERR_PRECONDITION
 * when `old` is stale (the caller reads again and retries). */
int user_update(struct store *s, const struct store_tenant *t, const char *actor,
                const struct store_resource *old, const json_t *new_doc, const char *password_hash,
                struct store_resource *out, struct user_outcome *outcome, struct err *err);

/* Deletes the user if its version is `version` (any when version < 0) and, in the same
 * transaction, removes it from every group (bumping their versions). ERR_PRECONDITION /
 * ERR_NOT_FOUND as store_resource_delete. */
int user_delete(struct store *s, int64_t tenant_id, const char *actor, const char *id,
                int64_t version, struct err *err);

/* The groups of each of ids[0..n) (a page of users) in one read, ordered by user id then
 * group id; *out is malloc'd (user_memberships_free). */
int user_groups_of_many(struct store *s, int64_t tenant_id, const char *const *ids, size_t n,
                        struct store_membership **out, size_t *n_out, struct err *err);
void user_memberships_free(struct store_membership *v, size_t n);

/* The groups the user is a direct member of (RFC 7643 §4.1.2 "groups", derived and
 * read-only), ordered by group id, with their displayName; *out is malloc'd
 * (group_members_free). */
int user_groups_list(struct store *s, int64_t tenant_id, const char *user_id,
                     struct store_member **out, size_t *n, struct err *err);

/* The user `ref` names: its id, else the one user whose userName or an email equals it
 * (case-insensitively), for the CLI. ERR_NOT_FOUND when none, ERR_CONFLICT when several. */
int user_find(struct store *s, int64_t tenant_id, const char *ref, struct store_resource *out,
              struct err *err);

#endif
