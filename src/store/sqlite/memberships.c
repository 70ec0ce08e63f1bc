#include <stdlib.h>

#include "store/sqlite/sqlite_int.h"

/* The groups of a page of users in one statement: the ids travel as one JSON array, so the
 * text (and its prepared statement) is the same for any page size. */
#define SQL_GROUPS_MANY                                                                   \
    "SELECT m.member_id, m.group_id, r.display_name FROM members m"                       \
    " JOIN resources r ON r.tenant_id = m.tenant_id AND r.type = 2 AND r.id = m.group_id" \
    " WHERE m.tenant_id = ?1 AND m.member_id IN (SELECT value FROM json_each(?2))"        \
    " ORDER BY m.member_id, m.group_id"

static void
read_membership(sqlite3_stmt *st, void *row)
{
    struct store_membership *m = row;
    sqlite_col_copy(st, 0, m->member_id, sizeof(m->member_id));
    sqlite_col_copy(st, 1, m->group_id, sizeof(m->group_id));
    m->display = sqlite_col_dup(st, 2);
}

static void
drop_membership(void *row)
{
    free(((struct store_membership *)row)->display);
}

int
sqlite_member_groups_many(struct store *s, int64_t tenant_id, const char *const *member_ids,
                          size_t n, struct store_membership **out, size_t *n_out, struct err *err)
{
    *out = NULL;
    *n_out = 0;
    if (n == 0)
        return 0;
    struct conn *c;
    sqlite3_stmt *st = sqlite_prepared(s, &c, SQL_GROUPS_MANY, sizeof(SQL_GROUPS_MANY) - 1, err);
    if (st == NULL)
        return -1;
    char *text = sqlgen_json_ids(member_ids, n);
    if (text == NULL)
        return err_set(err, ERR_INTERNAL, "cannot encode member ids");
    sqlite3_bind_int64(st, 1, tenant_id);
    sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
    free(text);
    return sqlite_collect(c, st, sizeof(**out), SIZE_MAX, read_membership, drop_membership,
                          (void **)out, n_out, "list groups of members", err);
}
