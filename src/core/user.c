#include "core/user.h"

#include <stdlib.h>
#include <string.h>

#include "base/xmalloc.h"
#include "core/audit.h"
#include "core/role.h"
#include "core/row.h"
#include "core/tx.h"

static int
unique_error(const json_t *doc, struct err *err)
{
    return err_set(err, ERR_UNIQUENESS, "userName \"%.100s\" is already in use in this tenant",
                   json_string_value(json_object_get(doc, "userName")));
}

/* Removes the user's row (version-checked) and its memberships in the lock order of store.h:
 * the membership rows first, answering its groups, then its own row, then those groups, which
 * get a new version: their members changed (RFC 7644 §3.14), so a cached ETag must not
 * validate. Their bump never fails on a version (a concurrent group write must not fail the
 * delete). Inside the caller's transaction. The event's data gets the groups it left. */
static int
remove_user(struct store *s, int64_t tenant_id, const char *user_id, int64_t version, json_t *data,
            struct err *err)
{
    struct store_member *groups = NULL, *late = NULL;
    size_t n = 0, n_late = 0;
    if (store_member_remove_member(s, tenant_id, user_id, &groups, &n, err) < 0)
        return -1;
    /* Then once more after the user's row: a group write that added the user after the first
     * removal and locked its row (bumping it, core/group.c bump_members) committed while this
     * delete waited for that row. On PostgreSQL a later statement sees that commit; without it
     * the group kept a member that no longer exists. */
    int rc = store_resource_delete(s, tenant_id, STORE_RTYPE_USER, user_id, version, err) < 0 ||
                     store_member_remove_member(s, tenant_id, user_id, &late, &n_late, err) < 0 ||
                     row_bump_ends(s, tenant_id, groups, n, err) < 0 ||
                     row_bump_ends(s, tenant_id, late, n_late, err) < 0
                 ? -1
                 : 0;
    /* The groups it left, in its event: a host that mirrors groups from events learns that
     * they lost a member (no group event is written for it). */
    json_t *left = json_array();
    for (size_t i = 0; i < n + n_late && json_array_size(left) < AUDIT_LIST_MAX; i++)
        json_array_append_new(left, json_string(i < n ? groups[i].id : late[i - n].id));
    json_object_set_new(data, "groups", left);
    json_object_set_new(data, "groupCount", json_integer((json_int_t)(n + n_late)));
    store_members_free(groups, n);
    store_members_free(late, n_late);
    return rc;
}

/* A new userName changes members[].display of the user's groups (RFC 7644 §3.14): they get a
 * new version too. The display is the userName exactly as written, so a change of case
 * counts. After the user's own row, in the same transaction (its groups' rows are locked
 * after the user's, as group writes lock users before their group: group.c bump_members). */
static int
bump_groups_if_renamed(struct store *s, const struct store_resource *old,
                       const struct store_resource *r, struct err *err)
{
    if (strcmp(old->user_name ? old->user_name : "", r->user_name ? r->user_name : "") == 0)
        return 0;
    return store_member_bump_groups(s, r->tenant_id, r->id, r->modified_ms, err) < 0 ? -1 : 0;
}

/* Adds the user's effective role, and where it comes from, to an event's data: a host that
 * mirrors users from events or webhooks learns the role with the user (docs/api.md). A user
 * without a role row (none yet) gets null. The role also goes to *out (may be NULL). */
static int
add_role(struct store *s, int64_t tenant_id, const char *id, json_t *data,
         struct store_user_role *out, struct err *err)
{
    struct store_user_role role;
    if (role_of_user(s, tenant_id, id, &role, err) < 0) {
        if (err->code != ERR_NOT_FOUND)
            return -1;
        role.role[0] = role.source[0] = '\0';
    }
    if (out)
        *out = role;
    json_object_set_new(data, "effectiveRole", role.role[0] ? json_string(role.role) : json_null());
    json_object_set_new(data, "roleSource",
                        role.role[0] && role.source[0] ? json_string(role.source) : json_null());
    return 0;
}

int
user_create(struct store *s, const struct store_tenant *t, const char *actor, const json_t *doc,
            const char *password_hash, struct store_resource *out, struct user_outcome *outcome,
            struct err *err)
{
    struct store_resource r = { 0 };
    struct user_outcome ignored;
    if (outcome == NULL)
        outcome = &ignored;
    *outcome = (struct user_outcome){ .removed = false };
    json_t *copy = json_deep_copy(doc);
    if (json_object_get(copy, "active") == NULL)
        json_object_set_new(copy, "active", json_true());
    if (row_new(&r, t->id, STORE_RTYPE_USER, copy, err) < 0)
        goto fail;
    r.password_hash = password_hash ? xstrdup(password_hash) : NULL;
    if (store_tx_begin(s, err) < 0)
        goto fail;
    if (store_resource_insert(s, &r, err) < 0) {
        store_tx_rollback(s);
        if (err->code == ERR_UNIQUENESS)
            unique_error(copy, err);
        goto fail;
    }
    if (!r.active && t->deactivation == STORE_DEACTIVATE_REMOVE) {
        /* The tenant removes users when they become inactive, so one created inactive is
         * created and removed at once: nothing is kept (an inactive user would block Okta's
         * reactivation POST of its userName, IDP-QUIRKS.md 7), and the answer is the final
         * state, as for a deactivation, with the role it would have had (computed here and
         * rolled back with the rest). The insert still ran, so uniqueness is answered. */
        outcome->removed = true;
        int rc = role_user_written(s, t->id, r.id, NULL, role_direct(copy), true, actor, err) < 0 ||
                         role_of_user(s, t->id, r.id, &outcome->role, err) < 0
                     ? -1
                     : 0;
        store_tx_rollback(s);
        if (rc < 0)
            goto fail;
        goto done;
    }
    json_t *data = json_pack("{s:O}", "after", copy);
    if (role_user_written(s, t->id, r.id, NULL, role_direct(copy), true, actor, err) < 0 ||
        add_role(s, t->id, r.id, data, NULL, err) < 0) {
        json_decref(data);
        store_tx_rollback(s);
        goto fail;
    }
    if (audit_record(s, t->id, actor, "user.created", STORE_RTYPE_USER, r.id, data, err) < 0) {
        store_tx_rollback(s);
        goto fail;
    }
    if (tx_commit(s, err) < 0)
        goto fail;
done:
    json_decref(copy);
    free(r.password_hash);
    r.password_hash = NULL;
    *out = r;
    return 0;
fail:
    outcome->removed = false;
    json_decref(copy);
    store_resource_cleanup(&r);
    return -1;
}

int
user_get(struct store *s, int64_t tenant_id, const char *id, struct store_resource *out,
         struct err *err)
{
    return store_resource_get(s, tenant_id, STORE_RTYPE_USER, id, out, err);
}

/* The event of an update: what kind, and the attributes that changed. Stolen by the caller. */
static json_t *
update_event(const json_t *before, const json_t *after, bool password, bool removed,
             const char **kind)
{
    if (removed) {
        *kind = "user.deleted";
        return json_pack("{s:O, s:s}", "before", before, "reason", "deactivated");
    }
    json_t *changes = audit_changes(before, after);
    if (password)
        json_object_set_new(changes, "password", json_pack("{s:b}", "changed", 1));
    json_t *was = json_object_get(changes, "active");
    bool now_active = json_is_true(json_object_get(after, "active"));
    *kind = was == NULL ? "user.updated" : now_active ? "user.reactivated" : "user.deactivated";
    return json_pack("{s:o}", "changes", changes);
}

/* Inside the update's transaction: the write itself (or the removal the tenant's policy asks
 * for), the role and the event. */
static int
write_update(struct store *s, const struct store_tenant *t, const char *actor,
             const struct store_resource *old, const json_t *before, struct store_resource *r,
             const json_t *new_doc, struct user_outcome *outcome, struct err *err)
{
    const char *kind;
    outcome->removed = !r->active && t->deactivation == STORE_DEACTIVATE_REMOVE;
    json_t *data = update_event(before, new_doc, r->password_hash != NULL, outcome->removed, &kind);
    int rc;
    if (outcome->removed) {
        /* The tenant removes users on deactivation; a later POST of the same userName
         * (Okta's reactivation) then creates a new user (IDP-QUIRKS.md 7). The event keeps
         * the role the user had. */
        rc = add_role(s, t->id, old->id, data, &outcome->role, err) < 0 ||
                     remove_user(s, t->id, old->id, old->version, data, err) < 0 ||
                     store_user_role_delete(s, t->id, old->id, err) < 0 ||
                     store_sso_links_delete(s, t->id, old->id, err) < 0
                 ? -1
                 : 0;
    } else {
        rc = store_resource_update(s, r, err) < 0 || bump_groups_if_renamed(s, old, r, err) < 0 ||
                     role_user_written(s, t->id, r->id, role_direct(before), role_direct(new_doc),
                                       false, actor, err) < 0 ||
                     add_role(s, t->id, r->id, data, NULL, err) < 0
                 ? -1
                 : 0;
    }
    if (rc < 0) {
        json_decref(data);
        return -1;
    }
    return audit_record(s, t->id, actor, kind, STORE_RTYPE_USER, old->id, data, err);
}

int
user_update(struct store *s, const struct store_tenant *t, const char *actor,
            const struct store_resource *old, const json_t *new_doc, const char *password_hash,
            struct store_resource *out, struct user_outcome *outcome, struct err *err)
{
    struct store_resource r;
    *outcome = (struct user_outcome){ .removed = false };
    /* An unchanged write is a no-op, except a deactivation under "remove" of a user already
     * inactive (kept from before the tenant removed users, or written inactive by a writer
     * that raced the policy change): it removes the user as any deactivation there does. */
    if (!row_next(&r, old, new_doc, password_hash != NULL) &&
        (r.active || t->deactivation != STORE_DEACTIVATE_REMOVE)) {
        *out = r;
        return 0;
    }
    r.password_hash = password_hash ? xstrdup(password_hash) : NULL;
    json_t *before = json_loads(old->doc ? old->doc : "{}", 0, NULL);
    if (before == NULL) {
        err_set(err, ERR_INTERNAL, "stored document of %s does not parse", old->id);
        goto fail;
    }
    if (store_tx_begin(s, err) < 0)
        goto fail;
    if (write_update(s, t, actor, old, before, &r, new_doc, outcome, err) < 0) {
        store_tx_rollback(s);
        if (err->code == ERR_UNIQUENESS)
            unique_error(new_doc, err);
        goto fail;
    }
    if (tx_commit(s, err) < 0)
        goto fail;
    json_decref(before);
    free(r.password_hash);
    r.password_hash = NULL;
    *out = r;
    return 0;
fail:
    json_decref(before);
    outcome->removed = false;
    store_resource_cleanup(&r);
    return -1;
}

/* Inside the delete's transaction. Reads the user first: the event keeps what was deleted. */
static int
write_delete(struct store *s, int64_t tenant_id, const char *actor, const char *id, int64_t version,
             struct err *err)
{
    struct store_resource cur;
    if (store_resource_get(s, tenant_id, STORE_RTYPE_USER, id, &cur, err) < 0)
        return -1;
    json_t *before = json_loads(cur.doc ? cur.doc : "{}", 0, NULL);
    store_resource_cleanup(&cur);
    /* The user's SSO links go with it (issue 14): a user created again later with the same
     * email signs in as a first sign-in, not as the removed user. */
    json_t *data = json_pack("{s:o*, s:s}", "before", before, "reason", "deleted");
    if (add_role(s, tenant_id, id, data, NULL, err) < 0 ||
        remove_user(s, tenant_id, id, version, data, err) < 0 ||
        store_user_role_delete(s, tenant_id, id, err) < 0 ||
        store_sso_links_delete(s, tenant_id, id, err) < 0) {
        json_decref(data);
        return -1;
    }
    return audit_record(s, tenant_id, actor, "user.deleted", STORE_RTYPE_USER, id, data, err);
}

int
user_delete(struct store *s, int64_t tenant_id, const char *actor, const char *id, int64_t version,
            struct err *err)
{
    if (store_tx_begin(s, err) < 0)
        return -1;
    if (write_delete(s, tenant_id, actor, id, version, err) < 0) {
        store_tx_rollback(s);
        return -1;
    }
    return tx_commit(s, err);
}

int
user_groups_list(struct store *s, int64_t tenant_id, const char *user_id, struct store_member **out,
                 size_t *n, struct err *err)
{
    return store_member_groups(s, tenant_id, user_id, out, n, err);
}

int
user_groups_of_many(struct store *s, int64_t tenant_id, const char *const *ids, size_t n,
                    struct store_membership **out, size_t *n_out, struct err *err)
{
    return store_member_groups_many(s, tenant_id, ids, n, out, n_out, err);
}

void
user_memberships_free(struct store_membership *v, size_t n)
{
    store_memberships_free(v, n);
}

int
user_find(struct store *s, int64_t tenant_id, const char *ref, struct store_resource *out,
          struct err *err)
{
    *out = (struct store_resource){ 0 };
    if (ref == NULL || ref[0] == '\0' || strlen(ref) > 320)
        return err_set(err, ERR_NOT_FOUND, "no such user");
    if (store_resource_get(s, tenant_id, STORE_RTYPE_USER, ref, out, err) == 0)
        return 0;
    if (err->code != ERR_NOT_FOUND)
        return -1;
    /* The same lookup as an SSO sign-in by email: userName or emails[].value, lower-cased. */
    char low[321];
    size_t n = strlen(ref);
    for (size_t i = 0; i <= n; i++)
        low[i] = (ref[i] >= 'A' && ref[i] <= 'Z') ? (char)(ref[i] + 32) : ref[i];
    struct store_resource found[2] = { 0 };
    size_t k = 0;
    if (store_sso_users_by_email(s, tenant_id, low, found, 2, &k, err) < 0)
        return -1;
    if (k == 1) {
        *out = found[0];
        return 0;
    }
    for (size_t i = 0; i < k; i++)
        store_resource_cleanup(&found[i]);
    return k == 0 ? err_set(err, ERR_NOT_FOUND, "no user \"%.100s\"", ref)
                  : err_set(err, ERR_CONFLICT, "\"%.100s\" names more than one user", ref);
}
