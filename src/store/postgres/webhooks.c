#include <stdlib.h>

#include "base/str.h"
#include "base/xmalloc.h"
#include "store/postgres/postgres_int.h"

/* Webhooks, the PostgreSQL dialect of sqlite/webhooks.c. The lease (one UPDATE with its
 * condition) is what keeps two instances from delivering one webhook at once. */

#define HOOK_COLS                                                                         \
    "id, tenant_id, url, secret, enabled, cursor, created_ms, failures, next_attempt_ms," \
    " last_attempt_ms, last_status, last_error"

static int
one_int(struct store *s, const char *sql, const struct pg_params *p, int64_t *v, const char *what,
        struct err *err)
{
    PGresult *res = pg_query(s, sql, p, what, err);
    if (res == NULL)
        return -1;
    *v = PQntuples(res) ? pg_int(res, 0, 0) : 0;
    PQclear(res);
    return 0;
}

static int
read_hooks(struct store *s, const char *sql, const struct pg_params *p, struct store_webhook **out,
           size_t *n, struct err *err)
{
    *out = NULL;
    *n = 0;
    PGresult *res = pg_query(s, sql, p, "read webhooks", err);
    if (res == NULL)
        return -1;
    int rows = PQntuples(res);
    struct store_webhook *v = xcalloc(rows ? (size_t)rows : 1, sizeof(*v));
    for (int i = 0; i < rows; i++) {
        struct store_webhook *w = &v[i];
        str_copy(w->id, sizeof(w->id), PQgetvalue(res, i, 0));
        w->tenant_id = pg_int(res, i, 1);
        str_copy(w->url, sizeof(w->url), PQgetvalue(res, i, 2));
        str_copy(w->secret, sizeof(w->secret), PQgetvalue(res, i, 3));
        w->enabled = pg_int(res, i, 4) != 0;
        w->cursor = pg_int(res, i, 5);
        w->created_ms = pg_int(res, i, 6);
        w->failures = pg_int(res, i, 7);
        w->next_attempt_ms = pg_int(res, i, 8);
        w->last_attempt_ms = pg_int(res, i, 9);
        w->last_status = pg_int(res, i, 10);
        str_copy(w->last_error, sizeof(w->last_error), PQgetvalue(res, i, 11));
    }
    PQclear(res);
    *out = v;
    *n = (size_t)rows;
    return 0;
}

int
pg_event_last_seq(struct store *s, int64_t tenant_id, int64_t *seq, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, tenant_id);
    return one_int(s, "SELECT coalesce(max(seq), 0) FROM events WHERE tenant_id = $1", &p, seq,
                   "read last event", err);
}

int
pg_event_count_after(struct store *s, int64_t tenant_id, int64_t after_seq, int64_t *n,
                     struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, tenant_id);
    pg_param_int(&p, after_seq);
    return one_int(s, "SELECT count(*) FROM events WHERE tenant_id = $1 AND seq > $2", &p, n,
                   "count events", err);
}

int
pg_webhook_insert(struct store *s, const struct store_webhook *w, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_text(&p, w->id);
    pg_param_int(&p, w->tenant_id);
    pg_param_text(&p, w->url);
    pg_param_text(&p, w->secret);
    pg_param_int(&p, w->enabled);
    pg_param_int(&p, w->cursor);
    pg_param_int(&p, w->created_ms);
    return pg_write(s,
                    "INSERT INTO webhooks(id, tenant_id, url, secret, enabled, cursor, created_ms)"
                    " VALUES($1, $2, $3, $4, $5, $6, $7)",
                    &p, "insert webhook", err);
}

int
pg_webhook_get(struct store *s, int64_t tenant_id, const char *id, struct store_webhook *out,
               struct err *err)
{
    struct pg_params p = { .n = 0 };
    struct store_webhook *v;
    size_t n;
    pg_param_int(&p, tenant_id);
    pg_param_text(&p, id);
    if (read_hooks(s, "SELECT " HOOK_COLS " FROM webhooks WHERE tenant_id = $1 AND id = $2", &p, &v,
                   &n, err) < 0)
        return -1;
    if (n == 1)
        *out = v[0];
    free(v);
    return n == 1 ? 0 : err_set(err, ERR_NOT_FOUND, "no webhook %.40s in this tenant", id);
}

int
pg_webhook_list(struct store *s, int64_t tenant_id, struct store_webhook **out, size_t *n,
                struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, tenant_id);
    return read_hooks(s,
                      "SELECT " HOOK_COLS " FROM webhooks WHERE tenant_id = $1"
                      " ORDER BY created_ms, id",
                      &p, out, n, err);
}

static int
not_found_unless(int n, const char *id, struct err *err)
{
    if (n < 0)
        return -1;
    return n ? 0 : err_set(err, ERR_NOT_FOUND, "no webhook %.40s in this tenant", id);
}

int
pg_webhook_update(struct store *s, const struct store_webhook *w, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_text(&p, w->url);
    pg_param_text(&p, w->secret);
    pg_param_int(&p, w->enabled);
    pg_param_int(&p, w->tenant_id);
    pg_param_text(&p, w->id);
    return not_found_unless(pg_changed(s,
                                       "UPDATE webhooks SET url = $1, secret = $2, enabled = $3"
                                       " WHERE tenant_id = $4 AND id = $5",
                                       &p, "update webhook", err),
                            w->id, err);
}

int
pg_webhook_delete(struct store *s, int64_t tenant_id, const char *id, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, tenant_id);
    pg_param_text(&p, id);
    return not_found_unless(pg_changed(s, "DELETE FROM webhooks WHERE tenant_id = $1 AND id = $2",
                                       &p, "delete webhook", err),
                            id, err);
}

int
pg_webhook_due(struct store *s, int64_t now_ms, size_t limit, struct store_webhook **out, size_t *n,
               struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, now_ms);
    pg_param_int(&p, (int64_t)limit);
    return read_hooks(s,
                      "SELECT " HOOK_COLS " FROM webhooks w WHERE enabled = 1"
                      " AND next_attempt_ms <= $1 AND lease_until_ms < $1"
                      " AND EXISTS (SELECT 1 FROM events e WHERE e.tenant_id = w.tenant_id"
                      " AND e.seq > w.cursor) ORDER BY next_attempt_ms, id LIMIT $2",
                      &p, out, n, err);
}

int
pg_webhook_claim(struct store *s, const char *id, const char *owner, int64_t now_ms,
                 int64_t until_ms, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_text(&p, id);
    pg_param_text(&p, owner);
    pg_param_int(&p, now_ms);
    pg_param_int(&p, until_ms);
    int n = pg_changed(s,
                       "UPDATE webhooks SET lease_owner = $2, lease_until_ms = $4"
                       " WHERE id = $1 AND (lease_until_ms < $3 OR lease_owner = $2)",
                       &p, "lease webhook", err);
    return n < 0 ? -1 : n > 0;
}

int
pg_webhook_finish(struct store *s, const struct store_webhook *w, const char *owner,
                  const struct store_webhook_attempt *a, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, w->cursor);
    pg_param_int(&p, w->failures);
    pg_param_int(&p, w->next_attempt_ms);
    pg_param_int(&p, w->last_attempt_ms);
    pg_param_int(&p, w->last_status);
    pg_param_text(&p, w->last_error);
    pg_param_text(&p, w->id);
    pg_param_text(&p, owner);
    int n = pg_changed(s,
                       "UPDATE webhooks SET cursor = $1, failures = $2, next_attempt_ms = $3,"
                       " last_attempt_ms = $4, last_status = $5, last_error = $6, lease_owner = '',"
                       " lease_until_ms = 0 WHERE id = $7 AND lease_owner = $8",
                       &p, "finish webhook attempt", err);
    if (n <= 0)
        return n; /* 0: the lease ran out and another deliverer owns it now */
    struct pg_params q = { .n = 0 };
    pg_param_text(&q, w->id);
    pg_param_int(&q, a->at_ms);
    pg_param_int(&q, a->first_event);
    pg_param_int(&q, a->last_event);
    pg_param_int(&q, a->status);
    pg_param_int(&q, a->duration_ms);
    pg_param_text(&q, a->error);
    if (pg_changed(
            s,
            "INSERT INTO webhook_attempts(webhook_id, at_ms, first_event, last_event, status,"
            " duration_ms, error) VALUES($1, $2, $3, $4, $5, $6, $7)",
            &q, "record webhook attempt", err) < 0)
        return -1;
    struct pg_params t = { .n = 0 };
    pg_param_text(&t, w->id);
    return pg_changed(s,
                      "DELETE FROM webhook_attempts WHERE webhook_id = $1 AND seq <="
                      " (SELECT seq FROM webhook_attempts WHERE webhook_id = $1"
                      " ORDER BY seq DESC LIMIT 1 OFFSET 100)",
                      &t, "trim webhook attempts", err) < 0
               ? -1
               : 1;
}

int
pg_webhook_attempts(struct store *s, int64_t tenant_id, const char *id, size_t limit,
                    struct store_webhook_attempt **out, size_t *n, struct err *err)
{
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, tenant_id);
    pg_param_text(&p, id);
    pg_param_int(&p, (int64_t)limit);
    *out = NULL;
    *n = 0;
    PGresult *res = pg_query(s,
                             "SELECT a.seq, a.at_ms, a.first_event, a.last_event, a.status,"
                             " a.duration_ms, a.error FROM webhook_attempts a"
                             " JOIN webhooks w ON w.id = a.webhook_id"
                             " WHERE w.tenant_id = $1 AND w.id = $2 ORDER BY a.seq DESC LIMIT $3",
                             &p, "read webhook attempts", err);
    if (res == NULL)
        return -1;
    int rows = PQntuples(res);
    struct store_webhook_attempt *v = xcalloc(rows ? (size_t)rows : 1, sizeof(*v));
    for (int i = 0; i < rows; i++) {
        v[i].seq = pg_int(res, i, 0);
        v[i].at_ms = pg_int(res, i, 1);
        v[i].first_event = pg_int(res, i, 2);
        v[i].last_event = pg_int(res, i, 3);
        v[i].status = pg_int(res, i, 4);
        v[i].duration_ms = pg_int(res, i, 5);
        str_copy(v[i].error, sizeof(v[i].error), PQgetvalue(res, i, 6));
    }
    PQclear(res);
    *out = v;
    *n = (size_t)rows;
    return 0;
}
