/* Group membership: one row per (group, member) in table members (DESIGN.md "Storage model"),
 * so a membership change touches only the rows it names, whatever the group's size. */
#include <stdint.h>
#include <stdlib.h>

#include "store/db.h"
#include "store/rows.h"
#include "store/sqlgen.h"
#include "store/store_int.h"

/* Runs a membership write q bound to (tenant, a[, b]) and returns the rows it changed. */
static int
member_write(struct store *s, struct db_sql *q, int64_t tenant_id, const char *a, const char *b,
             struct err *err)
{
    struct db_stmt *st = db_prepare(s, q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    db_bind_text(st, 2, a);
    if (b)
        db_bind_text(st, 3, b);
    return (int)db_exec(st, err);
}

int
store_member_add(struct store *s, int64_t tenant_id, const char *group_id, const char *member_id,
                 struct err *err)
{
    static struct db_sql q = DB_SQL("INSERT INTO members(tenant_id, group_id, member_id)"
                                    " VALUES(?,?,?) ON CONFLICT DO NOTHING");
    return member_write(s, &q, tenant_id, group_id, member_id, err);
}

int
store_member_remove(struct store *s, int64_t tenant_id, const char *group_id, const char *member_id,
                    struct err *err)
{
    static struct db_sql q =
        DB_SQL("DELETE FROM members WHERE tenant_id=? AND group_id=? AND member_id=?");
    return member_write(s, &q, tenant_id, group_id, member_id, err);
}

static void
read_member(struct db_stmt *st, void *row)
{
    struct store_member *m = row;
    db_copy(st, 0, m->id, sizeof(m->id));
    m->display = db_dup(st, 1);
}

static void
drop_member(void *row)
{
    free(((struct store_member *)row)->display);
}

/* Reads the (id, display) rows of membership query q keyed by (tenant, key). */
static int
member_rows(struct store *s, struct db_sql *q, int64_t tenant_id, const char *key,
            struct store_member **out, size_t *n, struct err *err)
{
    struct db_stmt *st = db_prepare(s, q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    db_bind_text(st, 2, key);
    return db_collect(st, sizeof(**out), SIZE_MAX, read_member, drop_member, (void **)out, n, err);
}

/* The removals answer the other end of each row they removed, as (id, NULL) rows. */
int
store_member_remove_group(struct store *s, int64_t tenant_id, const char *group_id,
                          struct store_member **out, size_t *n, struct err *err)
{
    static struct db_sql q =
        DB_SQL("DELETE FROM members WHERE tenant_id=? AND group_id=? RETURNING member_id, NULL");
    return member_rows(s, &q, tenant_id, group_id, out, n, err);
}

int
store_member_remove_member(struct store *s, int64_t tenant_id, const char *member_id,
                           struct store_member **out, size_t *n, struct err *err)
{
    static struct db_sql q =
        DB_SQL("DELETE FROM members WHERE tenant_id=? AND member_id=? RETURNING group_id, NULL");
    return member_rows(s, &q, tenant_id, member_id, out, n, err);
}

int
store_member_list(struct store *s, int64_t tenant_id, const char *group_id,
                  struct store_member **out, size_t *n, struct err *err)
{
    /* Members are users today; display is their userName (a nested group's displayName). */
    static struct db_sql q =
        DB_SQL("SELECT m.member_id, coalesce(r.user_name, r.display_name) FROM members m"
               " LEFT JOIN resources r ON r.tenant_id=m.tenant_id AND r.id=m.member_id"
               " AND r.type IN (1, 2)"
               " WHERE m.tenant_id=? AND m.group_id=? ORDER BY m.member_id");
    return member_rows(s, &q, tenant_id, group_id, out, n, err);
}

int
store_member_groups(struct store *s, int64_t tenant_id, const char *member_id,
                    struct store_member **out, size_t *n, struct err *err)
{
    static struct db_sql q =
        DB_SQL("SELECT m.group_id, r.display_name FROM members m"
               " JOIN resources r ON r.tenant_id=m.tenant_id AND r.type=2 AND r.id=m.group_id"
               " WHERE m.tenant_id=? AND m.member_id=? ORDER BY m.group_id");
    return member_rows(s, &q, tenant_id, member_id, out, n, err);
}

static void
read_membership(struct db_stmt *st, void *row)
{
    struct store_membership *m = row;
    db_copy(st, 0, m->member_id, sizeof(m->member_id));
    db_copy(st, 1, m->group_id, sizeof(m->group_id));
    m->display = db_dup(st, 2);
}

static void
drop_membership(void *row)
{
    free(((struct store_membership *)row)->display);
}

#define GROUPS_MANY(ids)                                                                  \
    "SELECT m.member_id, m.group_id, r.display_name FROM members m"                       \
    " JOIN resources r ON r.tenant_id = m.tenant_id AND r.type = 2 AND r.id = m.group_id" \
    " WHERE m.tenant_id = ?1 AND m.member_id IN (" ids ") ORDER BY m.member_id, m.group_id"

int
store_member_groups_many(struct store *s, int64_t tenant_id, const char *const *member_ids,
                         size_t n, struct store_membership **out, size_t *n_out, struct err *err)
{
    /* The groups of a page of users in one statement: the ids travel as one JSON array, so
     * the text (and its prepared statement) is the same for any page size. */
    static struct db_sql q = DB_SQL2(
        GROUPS_MANY("SELECT value FROM json_each(?2)"),
        /* PostgreSQL's planner, with statistics from before a big group was pushed (autovacuum
         * has not analysed it yet), went from the group to all its members and filtered them
         * against the page: 80 ms a page at 5 000 members, growing with the group. This shape
         * cannot go wrong: each id of the page probes members_by_member, each membership the
         * unique index on resources.id (OFFSET 0 keeps both as per-row lookups). */
        "SELECT m.member_id, m.group_id, r.display_name"
        " FROM jsonb_array_elements_text(?2::jsonb) AS ids(id)"
        " CROSS JOIN LATERAL (SELECT member_id, group_id FROM members"
        " WHERE tenant_id = ?1 AND member_id = ids.id OFFSET 0) AS m"
        " CROSS JOIN LATERAL (SELECT tenant_id, type, display_name FROM resources"
        " WHERE id = m.group_id OFFSET 0) AS r"
        " WHERE r.tenant_id = ?1 AND r.type = 2 ORDER BY m.member_id, m.group_id");
    *out = NULL;
    *n_out = 0;
    if (n == 0)
        return 0;
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    char *text = sqlgen_json_ids(member_ids, n);
    if (text == NULL)
        return err_set(err, ERR_INTERNAL, "cannot encode member ids");
    db_bind_int(st, 1, tenant_id);
    db_bind_text(st, 2, text);
    int rc = db_collect(st, sizeof(**out), SIZE_MAX, read_membership, drop_membership, (void **)out,
                        n_out, err);
    free(text);
    return rc;
}

int
store_member_count(struct store *s, int64_t tenant_id, const char *group_id, int64_t *n,
                   struct err *err)
{
    static struct db_sql q =
        DB_SQL("SELECT count(*) FROM members WHERE tenant_id=? AND group_id=?");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    db_bind_text(st, 2, group_id);
    return rows_count(st, n, err);
}

int
store_users_exist(struct store *s, int64_t tenant_id, const char *const *ids, size_t n,
                  size_t *first_missing, struct err *err)
{
    static struct db_sql q =
        DB_SQL("SELECT 1 FROM resources WHERE tenant_id=? AND type=1 AND id=?");
    *first_missing = n;
    for (size_t i = 0; i < n; i++) {
        struct db_stmt *st = db_prepare(s, &q, err);
        if (st == NULL)
            return -1;
        db_bind_int(st, 1, tenant_id);
        db_bind_text(st, 2, ids[i]);
        int64_t one;
        int rc = db_first(st, rows_read_int, &one, err);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            *first_missing = i;
            return 0;
        }
    }
    return 0;
}

/* Members are users today; a nested group would be shown by its displayName (as
 * store_member_list reads them), so both types are bumped as members. */
#define MEMBER_TYPES  "IN (1, 2)"
#define GROUP_MEMBERS "SELECT member_id FROM members WHERE tenant_id = ?1 AND group_id = ?2"
#define MEMBER_GROUPS "SELECT group_id FROM members WHERE tenant_id = ?1 AND member_id = ?2"

int
store_member_bump(struct store *s, int64_t tenant_id, const char *group_id, const char *const *ids,
                  size_t n, int64_t now_ms, struct err *err)
{
    /* One statement for both sets, so that each row is bumped once and, on PostgreSQL, all
     * are locked in one order. The ids travel as one JSON array, as in
     * store_member_groups_many: one text, one prepared statement for any number of them. A
     * NULL group_id matches no membership row. */
    static struct db_sql q = DB_SQL2(
        BUMP_SQLITE(MEMBER_TYPES, GROUP_MEMBERS " UNION ALL SELECT value FROM json_each(?4)", "?3"),
        BUMP_PG(MEMBER_TYPES,
                GROUP_MEMBERS " UNION ALL SELECT jsonb_array_elements_text(?4::jsonb)", "?3"));
    if (group_id == NULL && n == 0)
        return 0;
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    char *text = sqlgen_json_ids(ids, n);
    if (text == NULL)
        return err_set(err, ERR_INTERNAL, "cannot encode member ids");
    db_bind_int(st, 1, tenant_id);
    db_bind_text(st, 2, group_id);
    db_bind_int(st, 3, now_ms);
    db_bind_text(st, 4, text);
    int64_t rc = db_exec(st, err);
    free(text);
    return (int)rc;
}

int
store_member_bump_groups(struct store *s, int64_t tenant_id, const char *member_id, int64_t now_ms,
                         struct err *err)
{
    static struct db_sql q =
        DB_SQL2(BUMP_SQLITE("= 2", MEMBER_GROUPS, "?3"), BUMP_PG("= 2", MEMBER_GROUPS, "?3"));
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    db_bind_text(st, 2, member_id);
    db_bind_int(st, 3, now_ms);
    return (int)db_exec(st, err);
}
