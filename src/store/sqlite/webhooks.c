#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "store/sqlite/sqlite_int.h"

/* Webhooks for the SQLite backend: endpoints, delivery leases and attempts. */

#define SQL(text) text, sizeof(text) - 1

#define HOOK_COLS                                                                         \
    "id, tenant_id, url, secret, enabled, cursor, created_ms, failures, next_attempt_ms," \
    " last_attempt_ms, last_status, last_error"

static void
read_hook(sqlite3_stmt *st, struct store_webhook *w)
{
    *w = (struct store_webhook){ 0 };
    sqlite_col_copy(st, 0, w->id, sizeof(w->id));
    w->tenant_id = sqlite3_column_int64(st, 1);
    sqlite_col_copy(st, 2, w->url, sizeof(w->url));
    sqlite_col_copy(st, 3, w->secret, sizeof(w->secret));
    w->enabled = sqlite3_column_int(st, 4) != 0;
    w->cursor = sqlite3_column_int64(st, 5);
    w->created_ms = sqlite3_column_int64(st, 6);
    w->failures = sqlite3_column_int64(st, 7);
    w->next_attempt_ms = sqlite3_column_int64(st, 8);
    w->last_attempt_ms = sqlite3_column_int64(st, 9);
    w->last_status = sqlite3_column_int64(st, 10);
    sqlite_col_copy(st, 11, w->last_error, sizeof(w->last_error));
}

static void
read_hook_row(sqlite3_stmt *st, void *row)
{
    read_hook(st, row);
}

static int
read_hooks(struct conn *c, sqlite3_stmt *st, struct store_webhook **out, size_t *n, struct err *err)
{
    return sqlite_collect(c, st, sizeof(**out), SIZE_MAX, read_hook_row, NULL, (void **)out, n,
                          "read webhooks", err);
}

/* Steps a one-integer query. */
static int
one_int(struct conn *c, sqlite3_stmt *st, int64_t *v, const char *what, struct err *err)
{
    int rc = sqlite3_step(st);
    *v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : sqlite_fail(c->db, rc, what, err);
}

int
sqlite_event_last_seq(struct store *s, int64_t tenant_id, int64_t *seq, struct err *err)
{
    struct conn *c;
    sqlite3_stmt *st = sqlite_prepared(
        s, &c, SQL("SELECT coalesce(max(seq), 0) FROM events WHERE tenant_id = ?"), err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, tenant_id);
    return one_int(c, st, seq, "read last event", err);
}

int
sqlite_event_count_after(struct store *s, int64_t tenant_id, int64_t after_seq, int64_t *n,
                         struct err *err)
{
    struct conn *c;
    sqlite3_stmt *st = sqlite_prepared(
        s, &c, SQL("SELECT count(*) FROM events WHERE tenant_id = ? AND seq > ?"), err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, tenant_id);
    sqlite3_bind_int64(st, 2, after_seq);
    return one_int(c, st, n, "count events", err);
}

int
sqlite_webhook_insert(struct store *s, const struct store_webhook *w, struct err *err)
{
    struct conn *c;
    sqlite3_stmt *st =
        sqlite_prepared(s, &c,
                        SQL("INSERT INTO webhooks(id, tenant_id, url, secret, enabled, cursor,"
                            " created_ms) VALUES(?,?,?,?,?,?,?)"),
                        err);
    if (st == NULL)
        return -1;
    sqlite_bind_text(st, 1, w->id);
    sqlite3_bind_int64(st, 2, w->tenant_id);
    sqlite_bind_text(st, 3, w->url);
    sqlite_bind_text(st, 4, w->secret);
    sqlite3_bind_int(st, 5, w->enabled);
    sqlite3_bind_int64(st, 6, w->cursor);
    sqlite3_bind_int64(st, 7, w->created_ms);
    return sqlite_step_done(c, st, "insert webhook", err);
}

int
sqlite_webhook_get(struct store *s, int64_t tenant_id, const char *id, struct store_webhook *out,
                   struct err *err)
{
    struct conn *c;
    struct store_webhook *v;
    size_t n;
    sqlite3_stmt *st = sqlite_prepared(
        s, &c, SQL("SELECT " HOOK_COLS " FROM webhooks WHERE tenant_id = ? AND id = ?"), err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, tenant_id);
    sqlite_bind_text(st, 2, id);
    if (read_hooks(c, st, &v, &n, err) < 0)
        return -1;
    if (n == 1)
        *out = v[0];
    free(v);
    return n == 1 ? 0 : err_set(err, ERR_NOT_FOUND, "no webhook %.40s in this tenant", id);
}

int
sqlite_webhook_list(struct store *s, int64_t tenant_id, struct store_webhook **out, size_t *n,
                    struct err *err)
{
    struct conn *c;
    sqlite3_stmt *st = sqlite_prepared(s, &c,
                                       SQL("SELECT " HOOK_COLS " FROM webhooks WHERE tenant_id = ?"
                                           " ORDER BY created_ms, id"),
                                       err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, tenant_id);
    return read_hooks(c, st, out, n, err);
}

/* Runs a write bound by the caller and maps "no row changed" to ERR_NOT_FOUND. */
static int
write_one(struct conn *c, sqlite3_stmt *st, const char *what, const char *id, struct err *err)
{
    if (sqlite_step_done(c, st, what, err) < 0)
        return -1;
    return sqlite3_changes(c->db)
               ? 0
               : err_set(err, ERR_NOT_FOUND, "no webhook %.40s in this tenant", id);
}

int
sqlite_webhook_update(struct store *s, const struct store_webhook *w, struct err *err)
{
    struct conn *c;
    sqlite3_stmt *st = sqlite_prepared(s, &c,
                                       SQL("UPDATE webhooks SET url = ?, secret = ?, enabled = ?"
                                           " WHERE tenant_id = ? AND id = ?"),
                                       err);
    if (st == NULL)
        return -1;
    sqlite_bind_text(st, 1, w->url);
    sqlite_bind_text(st, 2, w->secret);
    sqlite3_bind_int(st, 3, w->enabled);
    sqlite3_bind_int64(st, 4, w->tenant_id);
    sqlite_bind_text(st, 5, w->id);
    return write_one(c, st, "update webhook", w->id, err);
}

int
sqlite_webhook_delete(struct store *s, int64_t tenant_id, const char *id, struct err *err)
{
    struct conn *c;
    sqlite3_stmt *st =
        sqlite_prepared(s, &c, SQL("DELETE FROM webhooks WHERE tenant_id = ? AND id = ?"), err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, tenant_id);
    sqlite_bind_text(st, 2, id);
    return write_one(c, st, "delete webhook", id, err);
}

int
sqlite_webhook_due(struct store *s, int64_t now_ms, size_t limit, struct store_webhook **out,
                   size_t *n, struct err *err)
{
    struct conn *c;
    sqlite3_stmt *st =
        sqlite_prepared(s, &c,
                        SQL("SELECT " HOOK_COLS " FROM webhooks w WHERE enabled = 1"
                            " AND next_attempt_ms <= ?1 AND lease_until_ms < ?1"
                            " AND EXISTS (SELECT 1 FROM events e WHERE e.tenant_id = w.tenant_id"
                            " AND e.seq > w.cursor) ORDER BY next_attempt_ms, id LIMIT ?2"),
                        err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, now_ms);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    return read_hooks(c, st, out, n, err);
}

int
sqlite_webhook_claim(struct store *s, const char *id, const char *owner, int64_t now_ms,
                     int64_t until_ms, struct err *err)
{
    struct conn *c;
    sqlite3_stmt *st =
        sqlite_prepared(s, &c,
                        SQL("UPDATE webhooks SET lease_owner = ?2, lease_until_ms = ?4"
                            " WHERE id = ?1 AND (lease_until_ms < ?3 OR lease_owner = ?2)"),
                        err);
    if (st == NULL)
        return -1;
    sqlite_bind_text(st, 1, id);
    sqlite_bind_text(st, 2, owner);
    sqlite3_bind_int64(st, 3, now_ms);
    sqlite3_bind_int64(st, 4, until_ms);
    if (sqlite_step_done(c, st, "lease webhook", err) < 0)
        return -1;
    return sqlite3_changes(c->db) ? 1 : 0;
}

int
sqlite_webhook_finish(struct store *s, const struct store_webhook *w, const char *owner,
                      const struct store_webhook_attempt *a, struct err *err)
{
    struct conn *c;
    sqlite3_stmt *st = sqlite_prepared(
        s, &c,
        SQL("UPDATE webhooks SET cursor = ?, failures = ?, next_attempt_ms = ?,"
            " last_attempt_ms = ?, last_status = ?, last_error = ?, lease_owner = '',"
            " lease_until_ms = 0 WHERE id = ? AND lease_owner = ?"),
        err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, w->cursor);
    sqlite3_bind_int64(st, 2, w->failures);
    sqlite3_bind_int64(st, 3, w->next_attempt_ms);
    sqlite3_bind_int64(st, 4, w->last_attempt_ms);
    sqlite3_bind_int64(st, 5, w->last_status);
    sqlite_bind_text(st, 6, w->last_error);
    sqlite_bind_text(st, 7, w->id);
    sqlite_bind_text(st, 8, owner);
    if (sqlite_step_done(c, st, "finish webhook attempt", err) < 0)
        return -1;
    if (sqlite3_changes(c->db) == 0)
        return 0; /* the lease ran out and another deliverer owns it now */
    st = sqlite_cached_stmt(c,
                            SQL("INSERT INTO webhook_attempts(webhook_id, at_ms, first_event,"
                                " last_event, status, duration_ms, error) VALUES(?,?,?,?,?,?,?)"),
                            err);
    if (st == NULL)
        return -1;
    sqlite_bind_text(st, 1, w->id);
    sqlite3_bind_int64(st, 2, a->at_ms);
    sqlite3_bind_int64(st, 3, a->first_event);
    sqlite3_bind_int64(st, 4, a->last_event);
    sqlite3_bind_int64(st, 5, a->status);
    sqlite3_bind_int64(st, 6, a->duration_ms);
    sqlite_bind_text(st, 7, a->error);
    if (sqlite_step_done(c, st, "record webhook attempt", err) < 0)
        return -1;
    st = sqlite_cached_stmt(c,
                            SQL("DELETE FROM webhook_attempts WHERE webhook_id = ?1 AND seq <="
                                " (SELECT seq FROM webhook_attempts WHERE webhook_id = ?1"
                                " ORDER BY seq DESC LIMIT 1 OFFSET 100)"),
                            err);
    if (st == NULL)
        return -1;
    sqlite_bind_text(st, 1, w->id);
    return sqlite_step_done(c, st, "trim webhook attempts", err) < 0 ? -1 : 1;
}

static void
read_attempt(sqlite3_stmt *st, void *row)
{
    struct store_webhook_attempt *a = row;
    a->seq = sqlite3_column_int64(st, 0);
    a->at_ms = sqlite3_column_int64(st, 1);
    a->first_event = sqlite3_column_int64(st, 2);
    a->last_event = sqlite3_column_int64(st, 3);
    a->status = sqlite3_column_int64(st, 4);
    a->duration_ms = sqlite3_column_int64(st, 5);
    sqlite_col_copy(st, 6, a->error, sizeof(a->error));
}

int
sqlite_webhook_attempts(struct store *s, int64_t tenant_id, const char *id, size_t limit,
                        struct store_webhook_attempt **out, size_t *n, struct err *err)
{
    struct conn *c;
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = sqlite_prepared(
        s, &c,
        SQL("SELECT a.seq, a.at_ms, a.first_event, a.last_event, a.status, a.duration_ms,"
            " a.error FROM webhook_attempts a JOIN webhooks w ON w.id = a.webhook_id"
            " WHERE w.tenant_id = ? AND w.id = ? ORDER BY a.seq DESC LIMIT ?"),
        err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, tenant_id);
    sqlite_bind_text(st, 2, id);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
    return sqlite_collect(c, st, sizeof(**out), limit, read_attempt, NULL, (void **)out, n,
                          "read webhook attempts", err);
}
