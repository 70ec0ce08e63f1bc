#ifndef SCIMD_CORE_ROLE_H
#define SCIMD_CORE_ROLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/err.h"
#include "base/limits.h"
#include "store/store.h"

/* Roles of the host application's users (docs/roles.md). The host configures its catalogue
 * of roles (names in display order, the default role, the admin role and the schema URN of
 * the User extension that carries a role set on a user); it may also have no roles at all.
 * A user's effective role is, in this order: the role of their mapped group with the lowest
 * priority number, else the role set on the user (the extension's "role", or a core "roles"
 * value naming one), else the default role (none when the catalogue has none). The effective
 * role is stored and recomputed in the transaction of every user, membership or role-map
 * change that can move it; each move is a "user.role_changed" event. */

/* The role catalogue: the host application's vocabulary, from configuration. */
struct role_catalogue {
    char names[LIMIT_ROLES_MAX][LIMIT_ROLE_NAME_BYTES + 1]; /* display order */
    size_t n;                                               /* 0: no roles at all */
    int default_index;                                      /* into names; -1: none */
    int admin_index;                                        /* into names; -1: none */
    char schema[LIMIT_ROLE_SCHEMA_BYTES + 1];               /* the extension's URN */
};

/* Reads a catalogue from the configuration's strings: roles is comma-separated (spaces
 * around names ignored; "" = no roles), dflt and admin name roles of it (NULL or "" = not
 * set; both required when there are roles), schema is the extension URN. Refuses, with
 * ERR_INVALID_VALUE naming the setting: a name that is empty, repeated (case-insensitively),
 * longer than LIMIT_ROLE_NAME_BYTES or with bytes outside [A-Za-z0-9_.-]; more than
 * LIMIT_ROLES_MAX names; dflt or admin not in roles, or set when roles is empty; a schema that
 * is not "urn:" followed by at least three non-empty ':'-separated segments of
 * [A-Za-z0-9_.-] (the first, the namespace, starting with a letter), or that is in the SCIM core or
 * message namespaces or is the enterprise extension. Pure: no global state. */
int role_catalogue_parse(const char *roles, const char *dflt, const char *admin, const char *schema,
                         struct role_catalogue *out, struct err *err);

/* Makes c (copied) the process-wide catalogue. Call once at start, before any thread runs
 * (tests call it to choose theirs). Until then the catalogue has no roles. */
void role_catalogue_set(const struct role_catalogue *c);

/* The process-wide catalogue (never NULL). */
const struct role_catalogue *role_catalogue_current(void);

/* The default role, the admin role (NULL: none) and the extension URN of the catalogue. */
const char *role_default(void);
const char *role_admin(void);
const char *role_schema(void);

/* The catalogue as {"roles": [...], "default": s|null, "adminRole": s|null, "schema": s}:
 * new reference. */
json_t *role_catalogue_to_json(void);

/* Role-map size limit: a tenant maps a handful of groups, never thousands. */
#define ROLE_MAP_MAX 64

/* The canonical spelling of a role name given in any case (the catalogue's, static for the
 * life of the process), or NULL when it is none. */
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

/* The user's role (ERR_NOT_FOUND for an unknown user). A stored role that the catalogue no
 * longer has (it changed since) reads as none: out->role or out->direct empty. */
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
