#include "core/group.h"

#include <stdlib.h>
#include <string.h>

#include "base/xmalloc.h"
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

/* Adds ids to the group; *changed counts the rows that were new. */
static int
add_all(struct store *s, int64_t tenant_id, const char *group_id, const char *const *ids, size_t n,
        int64_t *changed, struct err *err)
{
    if (check_users(s, tenant_id, ids, n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int rc = store_member_add(s, tenant_id, group_id, ids[i], err);
        if (rc < 0)
            return -1;
        *changed += rc;
    }
    return 0;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Makes the membership exactly ids[0..n): adds the new ones, removes the others. Reads the
 * current members: a replacement names every row anyway. */
static int
replace_all(struct store *s, int64_t tenant_id, const char *group_id, const char *const *ids,
            size_t n, int64_t *changed, struct err *err)
{
    struct store_member *cur = NULL;
    size_t n_cur = 0;
    const char **sorted = NULL;
    int rc = -1;
    if (add_all(s, tenant_id, group_id, ids, n, changed, err) < 0 ||
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
        int r = store_member_remove(s, tenant_id, group_id, cur[i].id, err);
        if (r < 0)
            goto out;
        *changed += r;
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
              const struct group_members *d, int64_t *changed, struct err *err)
{
    if (d->replace_all)
        return replace_all(s, tenant_id, group_id, d->add, d->n_add, changed, err);
    if (d->remove_all) {
        int rc = store_member_remove_group(s, tenant_id, group_id, err);
        if (rc < 0)
            return -1;
        *changed += rc;
    }
    for (size_t i = 0; !d->remove_all && i < d->n_remove; i++) {
        int rc = store_member_remove(s, tenant_id, group_id, d->remove[i], err);
        if (rc < 0)
            return -1;
        *changed += rc;
    }
    return add_all(s, tenant_id, group_id, d->add, d->n_add, changed, err);
}

int
group_create(struct store *s, const struct store_tenant *t, const json_t *doc,
             const char *const *ids, size_t n, struct store_resource *out, struct err *err)
{
    struct store_resource r = { 0 };
    int64_t changed = 0;
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
    if (add_all(s, t->id, r.id, ids, n, &changed, err) < 0) {
        store_tx_rollback(s);
        goto fail;
    }
    if (tx_commit(s, err) < 0)
        goto fail;
    *out = r;
    return 0;
fail:
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
group_update(struct store *s, const struct store_tenant *t, const struct store_resource *old,
             const json_t *new_doc, const struct group_members *delta, struct store_resource *out,
             struct err *err)
{
    struct store_resource r = { 0 };
    int64_t changed = 0;
    if (store_tx_begin(s, err) < 0)
        goto fail;
    if (delta && apply_members(s, t->id, old->id, delta, &changed, err) < 0) {
        store_tx_rollback(s);
        goto fail;
    }
    if (!row_next(&r, old, new_doc, changed != 0)) {
        store_tx_rollback(s); /* nothing was written */
        *out = r;
        return 0;
    }
    if (store_resource_update(s, &r, err) < 0) {
        store_tx_rollback(s);
        if (err->code == ERR_UNIQUENESS)
            unique_error(new_doc, err);
        goto fail;
    }
    if (tx_commit(s, err) < 0)
        goto fail;
    *out = r;
    return 0;
fail:
    store_resource_cleanup(&r);
    return -1;
}

int
group_delete(struct store *s, int64_t tenant_id, const char *id, int64_t version, struct err *err)
{
    if (store_tx_begin(s, err) < 0)
        return -1;
    if (store_resource_delete(s, tenant_id, STORE_RTYPE_GROUP, id, version, err) < 0 ||
        store_member_remove_group(s, tenant_id, id, err) < 0) {
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
