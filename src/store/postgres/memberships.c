#include <stdlib.h>

#include "base/str.h"
#include "base/xmalloc.h"
#include "store/postgres/postgres_int.h"

/* As sqlite/memberships.c: the groups of a page of users in one statement, the ids as one
 * JSON array parameter. */
int
pg_member_groups_many(struct store *s, int64_t tenant_id, const char *const *member_ids, size_t n,
                      struct store_membership **out, size_t *n_out, struct err *err)
{
    *out = NULL;
    *n_out = 0;
    if (n == 0)
        return 0;
    struct pg_conn *c = pg_conn((struct pg_store *)s, err);
    if (c == NULL)
        return -1;
    char *text = sqlgen_json_ids(member_ids, n);
    if (text == NULL)
        return err_set(err, ERR_INTERNAL, "cannot encode member ids");
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, tenant_id);
    pg_param_text(&p, text);
    PGresult *res =
        pg_run_sql(c,
                   "SELECT m.member_id, m.group_id, r.display_name FROM members m"
                   " JOIN resources r ON r.id = m.group_id AND r.tenant_id = m.tenant_id"
                   " AND r.type = 2 WHERE m.tenant_id = $1"
                   " AND m.member_id IN (SELECT jsonb_array_elements_text($2::jsonb))"
                   " ORDER BY m.member_id, m.group_id",
                   p.n, p.v, "list groups of members", err);
    free(text);
    if (res == NULL)
        return -1;
    int rows = PQntuples(res);
    struct store_membership *v = xcalloc(rows ? (size_t)rows : 1, sizeof(*v));
    for (int i = 0; i < rows; i++) {
        str_copy(v[i].member_id, sizeof(v[i].member_id), PQgetvalue(res, i, 0));
        str_copy(v[i].group_id, sizeof(v[i].group_id), PQgetvalue(res, i, 1));
        v[i].display = pg_dup(res, i, 2);
    }
    PQclear(res);
    *out = v;
    *n_out = (size_t)rows;
    return 0;
}
