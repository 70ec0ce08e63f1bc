#ifndef SCIMD_CORE_ROLE_H
#define SCIMD_CORE_ROLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/err.h"
#include "store/store.h"

/* Roles of the host application's users (docs/roles.md). A user's effective role is, in
 * this order: the role of their mapped group with the lowest priority number, else the role
 * set on the user (the scimd extension's "role", or a core "roles" value naming one), else
 * "reporting". The effective role is stored and recomputed in the transaction of every user,
 * membership or role-map change that can move it; each move is a "user.role_changed" event. */

/* The schema extension that carries the role set on a user. */
#define ROLE_EXTENSION_URN "urn:scimd:params:scim:schemas:extension:tenant:2.0:User"
#define ROLE_DEFAULT       "reporting"
/* Role-map size limit: a tenant maps a handful of groups, never thousands. */
#define ROLE_MAP_MAX 64

/* The canonical spelling of a role name given in any case, or NULL when it is none. */
const char *role_canonical(const char *name);

/* The role set on a user document (canonical, static), or NULL: the extension's "role"
 * first, else the primary (or else the first) "roles" value that names a role. */
const char *role_direct(const json_t *doc);

/* Reads a role map from [{"group": s, "role": s, "priority": n}, …]: groups non-empty and
 * distinct case-insensitively, roles canonical, priorities distinct integers ≥ 1.
 * ERR_INVALID_VALUE naming the first problem. *out is malloc'd (free). */
int role_map_from_json(const json_t *j, struct store_role_rule **out, size_t *n, struct err *err);
json_t *role_map_to_json(const struct store_role_rule *v, size_t n);

int role_map_get(struct store *s, int64_t tenant_id, struct store_role_rule **out, size_t *n,
                 struct err *err);
/* Replaces the role map (validated by role_map_from_json) and recomputes every user's role,
 * with a "role_map.changed" event, in one transaction. */
int role_map_replace(struct store *s, int64_t tenant_id, const struct store_role_rule *v, size_t n,
                     const char *actor, struct err *err);

/* The user's role (ERR_NOT_FOUND for an unknown user). */
int role_of_user(struct store *s, int64_t tenant_id, const char *user_id,
                 struct store_user_role *out, struct err *err);

/* ---- inside the transactions of core/user.c and core/group.c ---- */

/* After a user was written: records the role set on it and recomputes its effective role
 * when that role changed (or the user is new). */
int role_user_written(struct store *s, int64_t tenant_id, const char *user_id,
                      const char *old_direct, const char *new_direct, bool created,
                      const char *actor, struct err *err);

/* After a group's membership or name changed: when either name is mapped, recomputes the
 * role of the members that moved (ids[0..n)), or of every user when the name changed, the
 * group was deleted (renamed = true), or many members moved. */
int role_group_written(struct store *s, int64_t tenant_id, const char *old_name,
                       const char *new_name, bool renamed, const char *const *ids, size_t n,
                       const char *actor, struct err *err);

#endif
