/* The console's event query for the SQLite backend (issue 8). */
#include <stdint.h>

#include "store/sqlite/sqlite_int.h"

#define SQL(text) text, sizeof(text) - 1

/* One statement per order; each condition is "?n = '' OR …" so the text never depends on
 * the request. A kind ending in '.' is a prefix ("user."): substr compares it exactly, where
 * LIKE would treat '_' and '%' in it as wildcards. */
#define EVENT_QUERY_WHERE                                                                        \
    " FROM events WHERE tenant_id = ?1 AND seq > ?2 AND (?3 = 0 OR seq < ?3)"                    \
    " AND (?4 = '' OR kind = ?4 OR (substr(?4, -1) = '.' AND substr(kind, 1, length(?4)) = ?4))" \
    " AND (?5 = '' OR resource_id = ?5)"
#define EVENT_COLS "SELECT seq, tenant_id, created_ms, actor, kind, rtype, resource_id, data"

int
sqlite_event_query(struct store *s, const struct store_event_query *q, struct store_event **out,
                   size_t *n, struct err *err)
{
    *out = NULL;
    *n = 0;
    struct conn *c;
    sqlite3_stmt *st =
        q->newest_first
            ? sqlite_prepared(s, &c,
                              SQL(EVENT_COLS EVENT_QUERY_WHERE " ORDER BY seq DESC LIMIT ?6"), err)
            : sqlite_prepared(s, &c, SQL(EVENT_COLS EVENT_QUERY_WHERE " ORDER BY seq LIMIT ?6"),
                              err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, q->tenant_id);
    sqlite3_bind_int64(st, 2, q->after_seq);
    sqlite3_bind_int64(st, 3, q->before_seq);
    sqlite_bind_text(st, 4, q->kind ? q->kind : "");
    sqlite_bind_text(st, 5, q->resource_id ? q->resource_id : "");
    sqlite3_bind_int64(st, 6, (sqlite3_int64)q->limit);
    return sqlite_collect(c, st, sizeof(**out), q->limit, sqlite_read_event, sqlite_drop_event,
                          (void **)out, n, "query events", err);
}
