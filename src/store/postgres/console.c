/* The console's event query (issue 8), the PostgreSQL dialect of sqlite/console.c. */
#include "store/postgres/postgres_int.h"

/* One statement per order, as on SQLite; each condition is "$n = '' OR …" so the text never
 * depends on the request. A kind ending in '.' is a prefix ("user."), compared exactly (LIKE
 * would treat '_' and '%' in it as wildcards). */
#define EVENT_QUERY_WHERE                                                             \
    " FROM events WHERE tenant_id = $1 AND seq > $2 AND ($3::bigint = 0 OR seq < $3)" \
    " AND ($4::text = '' OR kind = $4::text OR (right($4::text, 1) = '.'"             \
    " AND left(kind, length($4::text)) = $4::text))"                                  \
    " AND ($5::text = '' OR resource_id = $5::text)"
#define EVENT_COLS "SELECT seq, tenant_id, created_ms, actor, kind, rtype, resource_id, data"

int
pg_event_query(struct store *s, const struct store_event_query *q, struct store_event **out,
               size_t *n, struct err *err)
{
    *out = NULL;
    *n = 0;
    struct pg_params p = { .n = 0 };
    pg_param_int(&p, q->tenant_id);
    pg_param_int(&p, q->after_seq);
    pg_param_int(&p, q->before_seq);
    pg_param_text(&p, q->kind ? q->kind : "");
    pg_param_text(&p, q->resource_id ? q->resource_id : "");
    pg_param_int(&p, (int64_t)q->limit);
    PGresult *res =
        pg_query(s,
                 q->newest_first ? EVENT_COLS EVENT_QUERY_WHERE " ORDER BY seq DESC LIMIT $6"
                                 : EVENT_COLS EVENT_QUERY_WHERE " ORDER BY seq LIMIT $6",
                 &p, "query events", err);
    if (res == NULL)
        return -1;
    pg_read_events(res, out, n);
    return 0;
}
