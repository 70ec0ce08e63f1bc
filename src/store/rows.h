#ifndef SCIMD_STORE_ROWS_H
#define SCIMD_STORE_ROWS_H

#include "store/db.h"
#include "store/store.h"

/* One column list and one row reader per table, shared by the operations that select it and,
 * for TENANT_COLS, TOKEN_COLS, EVENT_COLS, HOOK_COLS and SSO_CONN_COLS, by scimd migrate. */

#define TENANT_COLS                                                                         \
    "id, slug, display_name, plan, mode, deactivation, integration_enabled, saml_required," \
    " created_ms, updated_ms, public_url"
#define TOKEN_COLS \
    "id, tenant_id, hash, prefix, label, created_ms, last_used_ms, revoked_ms, expires_ms"

/* The columns of the tables whose whole row scimd migrate copies as it is (sqlite/export.c
 * reads them, postgres/import.c writes them, in this order). */
#define EVENT_COLS "seq, tenant_id, created_ms, actor, kind, rtype, resource_id, data"
#define HOOK_COLS                                                                         \
    "id, tenant_id, url, secret, enabled, cursor, created_ms, failures, next_attempt_ms," \
    " last_attempt_ms, last_status, last_error, format, delivery, audience"
#define SSO_CONN_COLS \
    "tenant_id, protocol, config, secret, enabled, verified_ms, created_ms, updated_ms"

/* The resources table's columns as rows_read_resource reads them, each name after prefix p
 * ("" or "r."). The document is read from `doc` on SQLite; PostgreSQL keeps it twice, as jsonb
 * in doc (what filters query) and as the exact text written in doc_text (what is read back, so
 * both databases answer the same bytes). */
#define RESOURCE_COLS_OF(p, doc)                                                           \
    p "id, " p "tenant_id, " p "type, " p "version, " p "created_ms, " p "modified_ms, " p \
      "user_name, " p "external_id, " p "display_name, " p "active, " p doc
#define RESOURCE_COLS    RESOURCE_COLS_OF("", "doc")
#define RESOURCE_COLS_PG RESOURCE_COLS_OF("", "doc_text")
/* A fixed statement "SELECT <resource columns> <rest>" in each database's spelling. */
#define DB_SQL_RESOURCES(rest) \
    DB_SQL2("SELECT " RESOURCE_COLS rest, "SELECT " RESOURCE_COLS_PG rest)

/* PostgreSQL: the advisory lock of a tenant's events (events.c says why), its key for the
 * tenant in the parameter `tenant`, and the one-row derived table a statement that inserts
 * events reads first, which takes it shared until the transaction ends. OFFSET 0 keeps the
 * planner from folding it away; the lock is taken before any event row gets its seq. */
#define EVENT_LOCK_KEY(tenant) \
    "1935896932, CAST(CAST(" tenant " AS BIGINT) % 2147483647 AS INTEGER)" /* "scmd" */
#define EVENT_BARRIER(tenant) \
    "(SELECT pg_advisory_xact_lock_shared(" EVENT_LOCK_KEY(tenant) ") OFFSET 0) AS barrier"

/* The bump of store.h's derived attributes (members.c, and roles.c: the host's view of a
 * user shows its effective role), of the resources of the types `types` (written into the
 * text: HACKING.md on partial indexes) whose id the subquery `ids` yields, bound as ?1
 * tenant, `now` (a parameter's name) and the subquery's own. On PostgreSQL the rows are first
 * locked in id order (FOR UPDATE under ORDER BY): two bumps of overlapping sets (two groups renamed
 * at once share their members) then queue on the first row they share instead of each locking some
 * and deadlocking (test_concurrent_writes.py met that at once without the order). SQLite has one
 * writer at a time. */
#define BUMP_SET(now)                                                                      \
    "UPDATE resources SET version = version + 1,"                                          \
    " modified_ms = CASE WHEN modified_ms < " now " THEN " now " ELSE modified_ms + 1 END" \
    " WHERE "
#define BUMP_ROWS(types, ids)        "tenant_id = ?1 AND type " types " AND id IN (" ids ")"
#define BUMP_SQLITE(types, ids, now) BUMP_SET(now) BUMP_ROWS(types, ids)
#define BUMP_PG(types, ids, now) \
    BUMP_SET(now)                \
    "id IN (SELECT id FROM resources WHERE " BUMP_ROWS(types, ids) " ORDER BY id FOR UPDATE)"

/* Reads TENANT_COLS starting at column `first` (group_count is left -1). */
void rows_read_tenant(struct db_stmt *st, int first, struct store_tenant *t);
/* Reads TOKEN_COLS starting at column 0. */
void rows_read_token(struct db_stmt *st, struct store_token *t);
/* Reads column 0 as an integer into the int64_t at row (a count, an id, an existence check). */
void rows_read_int(struct db_stmt *st, void *row);
/* Runs st, a SELECT count(*), into *n: ERR_INTERNAL when it returns no row. */
int rows_count(struct db_stmt *st, int64_t *n, struct err *err);
/* Reads RESOURCE_COLS starting at column `first` into r (which then owns its strings). */
void rows_read_resource(struct db_stmt *st, int first, struct store_resource *r);

#endif
