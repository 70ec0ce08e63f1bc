#include "core/group.h"

#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "base/xmalloc.h"
#include "core/audit.h"
#include "core/role.h"
#include "core/row.h"
#include "core/tx.h"

static int
unique_error(const json_t *doc, struct err *err)
{
    return err_set(err, ERR_UNIQUENESS, "displayName \"%.100s\" is already in use in this tenant",
                   json_string_value(json_object_get(doc, "displayName")));
}

/* Members must be users of the group's tenant: another tenant's user is as unknown as a
 * made-up id. */
static int
check_users(struct store *s, int64_t tenant_id, const char *const *ids, size_t n, struct err *err)
{
    size_t missing;
    if (store_users_exist(s, tenant_id, ids, n, &missing, err) < 0)
        return -1;
    if (missing < n)
        return err_set(err, ERR_INVALID_VALUE, "member \"%.100s\" is not a user of this tenant",
                       ids[missing]);
    return 0;
}

/* The members a change really added or removed (owned copies), for roles and the event. */
struct moved {
    struct id_list {
        char **v;
        size_t n, cap;
    } added, removed;
};

static void
id_push(struct id_list *l, const char *id)
{
    if (l->n == l->cap)
        l->v = xgrow(l->v, &l->cap, 16, sizeof(*l->v));
    l->v[l->n++] = xstrdup(id);
}

static void
moved_free(struct moved *m)
{
    struct id_list *lists[] = { &m->added, &m->removed };
    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; i < lists[k]->n; i++)
            free(lists[k]->v[i]);
        free(lists[k]->v);
    }
}

/* Every moved id once in one array (borrowed strings; free the array). */
static const char **
moved_ids(const struct moved *m, size_t *n)
{
    *n = m->added.n + m->removed.n;
    const char **v = xmalloc((*n ? *n : 1) * sizeof(*v));
    for (size_t i = 0; i < m->added.n; i++)
        v[i] = m->added.v[i];
    for (size_t i = 0; i < m->removed.n; i++)
        v[m->added.n + i] = m->removed.v[i];
    return v;
}

/* RFC 7644 §3.14: a user's "groups" (ids and each group's displayName) is part of its
 * representation, so the members a write moved get a new version and lastModified, and on a
 * rename (`renamed`: the displayName changed) so do all the members, whose groups[].display
 * changed: O(members), but renames are rare. One statement, each user bumped once. Inside
 * the caller's transaction, before the group's own row is written: on PostgreSQL a group
 * write then locks users before its group row, as a user write locks its own row before its
 * groups', so the two wait for each other rather than deadlock. */
static int
bump_members(struct store *s, int64_t tenant_id, const char *group_id, const struct moved *m,
             bool renamed, int64_t now_ms, struct err *err)
{
    size_t n;
    const char **ids = moved_ids(m, &n);
    /* After a rename the members are bumped by the group: of the moved, only the removed are
     * not among them. */
    size_t skip = renamed ? m->added.n : 0;
    int rc = store_member_bump(s, tenant_id, renamed ? group_id : NULL, ids + skip, n - skip,
                               now_ms, err);
    free(ids);
    if (rc < 0)
        return -1;
    /* A user deleted since check_users read it (PostgreSQL: its delete committed while this
     * bump waited for its row, which the bump then skipped) must not be added: the delete
     * took it out of every group before this membership existed. A user the bump locked is
     * safe: its delete waits for this write and then removes the membership (core/user.c
     * remove_user). Read again only when the bump found fewer rows than it was given. */
    if ((renamed || (size_t)rc < n) && m->added.n > 0)
        return check_users(s, tenant_id, (const char *const *)m->added.v, m->added.n, err);
    return 0;
}

/* {"added": [...], "removed": [...], "addedCount", "removedCount"}, lists capped. */
static json_t *
moved_json(const struct moved *m)
{
    json_t *j = json_object();
    const struct id_list *lists[] = { &m->added, &m->removed };
    const char *names[] = { "added", "removed" }, *counts[] = { "addedCount", "removedCount" };
    for (size_t k = 0; k < 2; k++) {
        json_t *arr = json_array();
        for (size_t i = 0; i < lists[k]->n && i < AUDIT_LIST_MAX; i++)
            json_array_append_new(arr, json_string(lists[k]->v[i]));
        json_object_set_new(j, names[k], arr);
        json_object_set_new(j, counts[k], json_integer((json_int_t)lists[k]->n));
    }
    return j;
}

/* Adds ids to the group, noting the rows that were new. */
static int
add_all(struct store *s, int64_t tenant_id, const char *group_id, const char *const *ids, size_t n,
        struct moved *m, struct err *err)
{
    if (check_users(s, tenant_id, ids, n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int rc = store_member_add(s, tenant_id, group_id, ids[i], err);
        if (rc < 0)
            return -1;
        if (rc > 0)
            id_push(&m->added, ids[i]);
    }
    return 0;
}

static int
remove_one(struct store *s, int64_t tenant_id, const char *group_id, const char *id,
           struct moved *m, struct err *err)
{
    int rc = store_member_remove(s, tenant_id, group_id, id, err);
    if (rc > 0)
        id_push(&m->removed, id);
    return rc < 0 ? -1 : 0;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Makes the membership exactly ids[0..n): adds the new ones, removes the others. Reads the
 * current members: a replacement names every row anyway, and the removed ones are wanted by
 * name. */
static int
replace_all(struct store *s, int64_t tenant_id, const char *group_id, const char *const *ids,
            size_t n, struct moved *m, struct err *err)
{
    struct store_member *cur = NULL;
    size_t n_cur = 0;
    const char **sorted = NULL;
    int rc = -1;
    if (add_all(s, tenant_id, group_id, ids, n, m, err) < 0 ||
        store_member_list(s, tenant_id, group_id, &cur, &n_cur, err) < 0)
        goto out;
    if (n) {
        sorted = xmalloc(n * sizeof(*sorted));
        memcpy(sorted, ids, n * sizeof(*sorted));
        qsort(sorted, n, sizeof(*sorted), cmp_str);
    }
    for (size_t i = 0; i < n_cur; i++) {
        const char *key = cur[i].id;
        if (n && bsearch(&key, sorted, n, sizeof(*sorted), cmp_str))
            continue;
        if (remove_one(s, tenant_id, group_id, cur[i].id, m, err) < 0)
            goto out;
    }
    rc = 0;
out:
    free(sorted);
    store_members_free(cur, n_cur);
    return rc;
}

/* Applies a membership change inside the caller's transaction. */
static int
apply_members(struct store *s, int64_t tenant_id, const char *group_id,
              const struct group_members *d, struct moved *m, struct err *err)
{
    /* Removing everyone and then adding `add` ends where replacing with `add` does; a member
     * both removed and added back has not moved. */
    if (d->replace_all || d->remove_all)
        return replace_all(s, tenant_id, group_id, d->add, d->n_add, m, err);
    for (size_t i = 0; i < d->n_remove; i++)
        if (remove_one(s, tenant_id, group_id, d->remove[i], m, err) < 0)
            return -1;
    return add_all(s, tenant_id, group_id, d->add, d->n_add, m, err);
}

/* After the rows were written: roles of the members that moved (and of everyone when a
 * mapped name changed), then the event. */
static int
after_write(struct store *s, int64_t tenant_id, const char *actor, const char *kind,
            const char *group_id, const char *old_name, const char *new_name, const struct moved *m,
            json_t *data, struct err *err)
{
    size_t n;
    const char **ids = moved_ids(m, &n);
    bool renamed = !cstr_ieq(old_name ? old_name : "", new_name ? new_name : "");
    int rc = role_group_written(s, tenant_id, old_name, new_name, renamed && old_name, ids, n,
                                actor, err);
    free(ids);
    if (rc == 0 && n > 0)
        json_object_set_new(data, "members", moved_json(m));
    if (rc < 0) {
        json_decref(data);
        return -1;
    }
    return audit_record(s, tenant_id, actor, kind, STORE_RTYPE_GROUP, group_id, data, err);
}

int
group_create(struct store *s, const struct store_tenant *t, const char *actor, const json_t *doc,
             const char *const *ids, size_t n, struct store_resource *out, struct err *err)
{
    struct store_resource r = { 0 };
    struct moved m = { 0 };
    if (row_new(&r, t->id, STORE_RTYPE_GROUP, doc, err) < 0)
        goto fail;
    if (store_tx_begin(s, err) < 0)
        goto fail;
    if (store_resource_insert(s, &r, err) < 0) {
        store_tx_rollback(s);
        if (err->code == ERR_UNIQUENESS)
            unique_error(doc, err);
        goto fail;
    }
    if (add_all(s, t->id, r.id, ids, n, &m, err) < 0 ||
        bump_members(s, t->id, r.id, &m, false, r.modified_ms, err) < 0 ||
        after_write(s, t->id, actor, "group.created", r.id, NULL, r.display_name, &m,
                    json_pack("{s:O}", "after", doc), err) < 0) {
        store_tx_rollback(s);
        goto fail;
    }
    if (tx_commit(s, err) < 0)
        goto fail;
    moved_free(&m);
    *out = r;
    return 0;
fail:
    moved_free(&m);
    store_resource_cleanup(&r);
    return -1;
}

int
group_get(struct store *s, int64_t tenant_id, const char *id, struct store_resource *out,
          struct err *err)
{
    return store_resource_get(s, tenant_id, STORE_RTYPE_GROUP, id, out, err);
}

int
group_update(struct store *s, const struct store_tenant *t, const char *actor,
             const struct store_resource *old, const json_t *new_doc,
             const struct group_members *delta, struct store_resource *out, struct err *err)
{
    struct store_resource r = { 0 };
    struct moved m = { 0 };
    json_t *before = json_loads(old->doc ? old->doc : "{}", 0, NULL);
    if (before == NULL) {
        err_set(err, ERR_INTERNAL, "stored document of %s does not parse", old->id);
        goto fail;
    }
    if (store_tx_begin(s, err) < 0)
        goto fail;
    if (delta && apply_members(s, t->id, old->id, delta, &m, err) < 0) {
        store_tx_rollback(s);
        goto fail;
    }
    if (!row_next(&r, old, new_doc, m.added.n + m.removed.n != 0)) {
        store_tx_rollback(s); /* nothing was written */
        json_decref(before);
        *out = r;
        return 0;
    }
    /* The members' groups[].display is the displayName, exactly as written. */
    bool renamed = strcmp(old->display_name ? old->display_name : "",
                          r.display_name ? r.display_name : "") != 0;
    if (bump_members(s, t->id, old->id, &m, renamed, r.modified_ms, err) < 0 ||
        store_resource_update(s, &r, err) < 0) {
        store_tx_rollback(s);
        if (err->code == ERR_UNIQUENESS)
            unique_error(new_doc, err);
        goto fail;
    }
    if (after_write(s, t->id, actor, "group.updated", r.id, old->display_name, r.display_name, &m,
                    json_pack("{s:o}", "changes", audit_changes(before, new_doc)), err) < 0) {
        store_tx_rollback(s);
        goto fail;
    }
    if (tx_commit(s, err) < 0)
        goto fail;
    json_decref(before);
    moved_free(&m);
    *out = r;
    return 0;
fail:
    json_decref(before);
    moved_free(&m);
    store_resource_cleanup(&r);
    return -1;
}

/* Inside the delete's transaction. Reads the group first: the event keeps what was deleted,
 * and a mapped name moves its members' roles. In the lock order of store.h: the membership
 * rows go first, answering the members, which are bumped (they lose a group from their
 * "groups", RFC 7644 §3.14), then the group's row. */
static int
write_delete(struct store *s, int64_t tenant_id, const char *actor, const char *id, int64_t version,
             struct err *err)
{
    struct store_resource cur;
    struct store_member *members = NULL;
    size_t n = 0;
    if (store_resource_get(s, tenant_id, STORE_RTYPE_GROUP, id, &cur, err) < 0)
        return -1;
    struct store_member *late = NULL;
    size_t n_late = 0;
    int rc = -1;
    /* The members again after the group's row, as remove_user does for a user: a member
     * write of this group that committed while the delete waited for the row left rows the
     * first removal could not see (on PostgreSQL), naming a group that no longer exists. */
    if (store_member_remove_group(s, tenant_id, id, &members, &n, err) < 0 ||
        row_bump_ends(s, tenant_id, members, n, err) < 0 ||
        store_resource_delete(s, tenant_id, STORE_RTYPE_GROUP, id, version, err) < 0 ||
        store_member_remove_group(s, tenant_id, id, &late, &n_late, err) < 0 ||
        row_bump_ends(s, tenant_id, late, n_late, err) < 0 ||
        role_group_written(s, tenant_id, cur.display_name, NULL, true, NULL, 0, actor, err) < 0)
        goto out;
    json_t *before = json_loads(cur.doc ? cur.doc : "{}", 0, NULL);
    rc =
        audit_record(s, tenant_id, actor, "group.deleted", STORE_RTYPE_GROUP, id,
                     json_pack("{s:o*, s:I}", "before", before, "memberCount", (json_int_t)n), err);
out:
    store_members_free(members, n);
    store_members_free(late, n_late);
    store_resource_cleanup(&cur);
    return rc;
}

int
group_delete(struct store *s, int64_t tenant_id, const char *actor, const char *id, int64_t version,
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
group_members_list(struct store *s, int64_t tenant_id, const char *group_id,
                   struct store_member **out, size_t *n, struct err *err)
{
    return store_member_list(s, tenant_id, group_id, out, n, err);
}

void
group_members_free(struct store_member *v, size_t n)
{
    store_members_free(v, n);
}
