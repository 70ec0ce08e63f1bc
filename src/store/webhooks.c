/* Webhooks: endpoints, delivery leases and attempts. The events table is their outbox;
 * cursor is the last event delivered. The lease (one UPDATE with its condition) is what
 * keeps two threads or instances from delivering one webhook at once. */
#include <stdint.h>
#include <stdlib.h>

#include "store/db.h"
#include "store/rows.h"
#include "store/store_int.h"

static void
read_hook(struct db_stmt *st, void *row)
{
    struct store_webhook *w = row;
    *w = (struct store_webhook){ 0 };
    db_copy(st, 0, w->id, sizeof(w->id));
    w->tenant_id = db_int(st, 1);
    db_copy(st, 2, w->url, sizeof(w->url));
    db_copy(st, 3, w->secret, sizeof(w->secret));
    w->enabled = db_int(st, 4) != 0;
    w->cursor = db_int(st, 5);
    w->created_ms = db_int(st, 6);
    w->failures = db_int(st, 7);
    w->next_attempt_ms = db_int(st, 8);
    w->last_attempt_ms = db_int(st, 9);
    w->last_status = db_int(st, 10);
    db_copy(st, 11, w->last_error, sizeof(w->last_error));
    db_copy(st, 12, w->format, sizeof(w->format));
    db_copy(st, 13, w->delivery, sizeof(w->delivery));
    db_copy(st, 14, w->audience, sizeof(w->audience));
}

static int
collect_hooks(struct db_stmt *st, size_t limit, struct store_webhook **out, size_t *n,
              struct err *err)
{
    return db_collect(st, sizeof(**out), limit, read_hook, NULL, (void **)out, n, err);
}

static int
not_found(const char *id, struct err *err)
{
    return err_set(err, ERR_NOT_FOUND, "no webhook %.40s in this tenant", id);
}

/* Runs a write of the webhook `id` and maps "no row changed" to ERR_NOT_FOUND. */
static int
write_one(struct db_stmt *st, const char *id, struct err *err)
{
    int64_t n = db_exec(st, err);
    if (n < 0)
        return -1;
    return n ? 0 : not_found(id, err);
}

int
store_webhook_insert(struct store *s, const struct store_webhook *w, struct err *err)
{
    static struct db_sql q =
        DB_SQL("INSERT INTO webhooks(id, tenant_id, url, secret, enabled, cursor, created_ms,"
               " format, delivery, audience) VALUES(?,?,?,?,?,?,?,?,?,?)");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, w->id);
    db_bind_int(st, 2, w->tenant_id);
    db_bind_text(st, 3, w->url);
    db_bind_text(st, 4, w->secret);
    db_bind_int(st, 5, w->enabled);
    db_bind_int(st, 6, w->cursor);
    db_bind_int(st, 7, w->created_ms);
    db_bind_text(st, 8, w->format[0] ? w->format : "scimd");
    db_bind_text(st, 9, w->delivery[0] ? w->delivery : "push");
    db_bind_text(st, 10, w->audience);
    return db_exec(st, err) < 0 ? -1 : 0;
}

/* Reads the tenant's webhook `id` with q (its tenant ?1, its id ?2). */
static int
get_with(struct store *s, struct db_sql *q, int64_t tenant_id, const char *id,
         struct store_webhook *out, struct err *err)
{
    struct db_stmt *st = db_prepare(s, q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    db_bind_text(st, 2, id);
    int rc = db_first(st, read_hook, out, err);
    if (rc < 0)
        return -1;
    return rc ? 0 : not_found(id, err);
}

#define HOOK_BY_ID "SELECT " HOOK_COLS " FROM webhooks WHERE tenant_id = ?1 AND id = ?2"

int
store_webhook_get(struct store *s, int64_t tenant_id, const char *id, struct store_webhook *out,
                  struct err *err)
{
    static struct db_sql q = DB_SQL(HOOK_BY_ID);
    return get_with(s, &q, tenant_id, id, out, err);
}

int
store_webhook_lock(struct store *s, int64_t tenant_id, const char *id, struct store_webhook *out,
                   struct err *err)
{
    /* SQLite: the caller's transaction holds the one write lock already. */
    static struct db_sql q = DB_SQL2(HOOK_BY_ID, HOOK_BY_ID " FOR UPDATE");
    return get_with(s, &q, tenant_id, id, out, err);
}

int
store_webhook_list(struct store *s, int64_t tenant_id, struct store_webhook **out, size_t *n,
                   struct err *err)
{
    static struct db_sql q = DB_SQL("SELECT " HOOK_COLS " FROM webhooks WHERE tenant_id = ?"
                                    " ORDER BY created_ms, id");
    *out = NULL;
    *n = 0;
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    return collect_hooks(st, SIZE_MAX, out, n, err);
}

int
store_webhook_update(struct store *s, const struct store_webhook *w, struct err *err)
{
    static struct db_sql q = DB_SQL("UPDATE webhooks SET url = ?, secret = ?, enabled = ?,"
                                    " format = ?, delivery = ?, audience = ?"
                                    " WHERE tenant_id = ? AND id = ?");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, w->url);
    db_bind_text(st, 2, w->secret);
    db_bind_int(st, 3, w->enabled);
    db_bind_text(st, 4, w->format[0] ? w->format : "scimd");
    db_bind_text(st, 5, w->delivery[0] ? w->delivery : "push");
    db_bind_text(st, 6, w->audience);
    db_bind_int(st, 7, w->tenant_id);
    db_bind_text(st, 8, w->id);
    return write_one(st, w->id, err);
}

int
store_webhook_reseal(struct store *s, const char *id, const char *old, const char *secret,
                     struct err *err)
{
    static struct db_sql q =
        DB_SQL("UPDATE webhooks SET secret = ?1 WHERE id = ?2 AND secret = ?3");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, secret);
    db_bind_text(st, 2, id);
    db_bind_text(st, 3, old);
    int64_t n = db_exec(st, err);
    return n < 0 ? -1 : n > 0;
}

int
store_webhook_delete(struct store *s, int64_t tenant_id, const char *id, struct err *err)
{
    static struct db_sql q = DB_SQL("DELETE FROM webhooks WHERE tenant_id = ? AND id = ?");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    db_bind_text(st, 2, id);
    return write_one(st, id, err);
}

int
store_webhook_due(struct store *s, int64_t now_ms, size_t limit, struct store_webhook **out,
                  size_t *n, struct err *err)
{
    /* A read, not a lock: instances may list the same webhook, and the lease
     * (store_webhook_claim) lets only one of them deliver it. */
    static struct db_sql q =
        DB_SQL("SELECT " HOOK_COLS " FROM webhooks w WHERE enabled = 1"
               " AND delivery = 'push' AND next_attempt_ms <= ?1 AND lease_until_ms < ?1"
               " AND EXISTS (SELECT 1 FROM events e WHERE e.tenant_id = w.tenant_id"
               " AND e.seq > w.cursor) ORDER BY next_attempt_ms, id LIMIT ?2");
    *out = NULL;
    *n = 0;
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, now_ms);
    db_bind_int(st, 2, (int64_t)limit);
    return collect_hooks(st, limit, out, n, err);
}

int
store_webhook_claim(struct store *s, const char *id, const char *owner, int64_t now_ms,
                    int64_t until_ms, struct store_webhook *out, struct err *err)
{
    /* The conditions of store_webhook_due again, on the row as it is now: the caller's list
     * may be old, and RETURNING gives the cursor that this lease delivers from. PostgreSQL
     * re-checks them on the newest row when a concurrent claim or finish changed it. */
    static struct db_sql q =
        DB_SQL("UPDATE webhooks SET lease_owner = ?2, lease_until_ms = ?4"
               " WHERE id = ?1 AND (lease_until_ms < ?3 OR lease_owner = ?2) AND enabled = 1"
               " AND delivery = 'push' AND next_attempt_ms <= ?3"
               " AND EXISTS (SELECT 1 FROM events e WHERE e.tenant_id = webhooks.tenant_id"
               " AND e.seq > webhooks.cursor) RETURNING " HOOK_COLS);
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, id);
    db_bind_text(st, 2, owner);
    db_bind_int(st, 3, now_ms);
    db_bind_int(st, 4, until_ms);
    return db_first(st, read_hook, out, err);
}

int
store_webhook_finish(struct store *s, const struct store_webhook *w, const char *owner,
                     const struct store_webhook_attempt *a, int64_t until_ms, struct err *err)
{
    /* The cursor moves forward only: a deliverer never writes back an older one. */
    static struct db_sql release =
        DB_SQL("UPDATE webhooks SET cursor = CASE WHEN cursor < ?1 THEN ?1 ELSE cursor END,"
               " failures = ?2, next_attempt_ms = ?3, last_attempt_ms = ?4, last_status = ?5,"
               " last_error = ?6, lease_until_ms = CAST(?9 AS BIGINT),"
               " lease_owner = CASE WHEN CAST(?9 AS BIGINT) = 0 THEN '' ELSE lease_owner END"
               " WHERE id = ?7 AND lease_owner = ?8");
    static struct db_sql record =
        DB_SQL("INSERT INTO webhook_attempts(webhook_id, at_ms, first_event, last_event, status,"
               " duration_ms, error) VALUES(?,?,?,?,?,?,?)");
    static struct db_sql trim =
        DB_SQL("DELETE FROM webhook_attempts WHERE webhook_id = ?1 AND seq <="
               " (SELECT seq FROM webhook_attempts WHERE webhook_id = ?1"
               " ORDER BY seq DESC LIMIT 1 OFFSET 100)");
    struct db_stmt *st = db_prepare(s, &release, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, w->cursor);
    db_bind_int(st, 2, w->failures);
    db_bind_int(st, 3, w->next_attempt_ms);
    db_bind_int(st, 4, w->last_attempt_ms);
    db_bind_int(st, 5, w->last_status);
    db_bind_text(st, 6, w->last_error);
    db_bind_text(st, 7, w->id);
    db_bind_text(st, 8, owner);
    db_bind_int(st, 9, until_ms);
    int64_t n = db_exec(st, err);
    if (n <= 0)
        return n < 0 ? -1 : 0; /* 0: the lease ran out and another deliverer owns it now */
    st = db_prepare(s, &record, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, w->id);
    db_bind_int(st, 2, a->at_ms);
    db_bind_int(st, 3, a->first_event);
    db_bind_int(st, 4, a->last_event);
    db_bind_int(st, 5, a->status);
    db_bind_int(st, 6, a->duration_ms);
    db_bind_text(st, 7, a->error);
    if (db_exec(st, err) < 0)
        return -1;
    st = db_prepare(s, &trim, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, w->id);
    return db_exec(st, err) < 0 ? -1 : 1;
}

static void
read_attempt(struct db_stmt *st, void *row)
{
    struct store_webhook_attempt *a = row;
    a->seq = db_int(st, 0);
    a->at_ms = db_int(st, 1);
    a->first_event = db_int(st, 2);
    a->last_event = db_int(st, 3);
    a->status = db_int(st, 4);
    a->duration_ms = db_int(st, 5);
    db_copy(st, 6, a->error, sizeof(a->error));
}

int
store_webhook_attempts(struct store *s, int64_t tenant_id, const char *id, size_t limit,
                       struct store_webhook_attempt **out, size_t *n, struct err *err)
{
    static struct db_sql q =
        DB_SQL("SELECT a.seq, a.at_ms, a.first_event, a.last_event, a.status, a.duration_ms,"
               " a.error FROM webhook_attempts a JOIN webhooks w ON w.id = a.webhook_id"
               " WHERE w.tenant_id = ? AND w.id = ? ORDER BY a.seq DESC LIMIT ?");
    *out = NULL;
    *n = 0;
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tenant_id);
    db_bind_text(st, 2, id);
    db_bind_int(st, 3, (int64_t)limit);
    return db_collect(st, sizeof(**out), limit, read_attempt, NULL, (void **)out, n, err);
}

static void
read_stats(struct db_stmt *st, void *row)
{
    struct store_webhook_stats *o = row;
    o->enabled = db_int(st, 0);
    o->failing = db_int(st, 1);
    o->max_backlog = db_int(st, 2);
    o->oldest_undelivered_ms = db_int(st, 3);
}

int
store_webhook_stats(struct store *s, int64_t cap, struct store_webhook_stats *out, struct err *err)
{
    /* Both correlated reads are index range scans of events_by_tenant (tenant_id, seq). */
    static struct db_sql q =
        DB_SQL("SELECT count(*), coalesce(sum(CASE WHEN w.failures > 0 THEN 1 ELSE 0 END), 0),"
               " coalesce(max((SELECT count(*) FROM (SELECT 1 FROM events e WHERE e.tenant_id ="
               " w.tenant_id AND e.seq > w.cursor LIMIT ?1) AS b)), 0),"
               " coalesce(min((SELECT e.created_ms FROM events e WHERE e.tenant_id = w.tenant_id"
               " AND e.seq > w.cursor ORDER BY e.seq LIMIT 1)), 0)"
               " FROM webhooks w WHERE w.enabled = 1");
    *out = (struct store_webhook_stats){ 0 };
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, cap);
    return db_first(st, read_stats, out, err) < 0 ? -1 : 0;
}

int
store_webhook_ack_add(struct store *s, const char *id, int64_t seq, struct err *err)
{
    static struct db_sql q = DB_SQL("INSERT INTO webhook_acks(webhook_id, seq) VALUES(?1, ?2)"
                                    " ON CONFLICT(webhook_id, seq) DO NOTHING");
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, id);
    db_bind_int(st, 2, seq);
    return db_exec(st, err) < 0 ? -1 : 0;
}

static void
read_seq(struct db_stmt *st, void *row)
{
    *(int64_t *)row = db_int(st, 0);
}

int
store_webhook_acks(struct store *s, const char *id, int64_t after_seq, size_t limit, int64_t **out,
                   size_t *n, struct err *err)
{
    static struct db_sql q = DB_SQL("SELECT seq FROM webhook_acks WHERE webhook_id = ?1"
                                    " AND seq > ?2 ORDER BY seq LIMIT ?3");
    *out = NULL;
    *n = 0;
    struct db_stmt *st = db_prepare(s, &q, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, id);
    db_bind_int(st, 2, after_seq);
    db_bind_int(st, 3, (int64_t)limit);
    return db_collect(st, sizeof(**out), limit, read_seq, NULL, (void **)out, n, err);
}

int
store_webhook_advance(struct store *s, const char *id, int64_t seq, struct err *err)
{
    static struct db_sql move = DB_SQL(
        "UPDATE webhooks SET cursor = CASE WHEN cursor < ?2 THEN ?2 ELSE cursor END WHERE id = ?1");
    static struct db_sql forget = DB_SQL("DELETE FROM webhook_acks WHERE webhook_id = ?1 AND seq <="
                                         " (SELECT cursor FROM webhooks WHERE id = ?1)");
    struct db_stmt *st = db_prepare(s, &move, err);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, id);
    db_bind_int(st, 2, seq);
    if (db_exec(st, err) < 0 || (st = db_prepare(s, &forget, err)) == NULL)
        return -1;
    db_bind_text(st, 1, id);
    return db_exec(st, err) < 0 ? -1 : 0;
}
