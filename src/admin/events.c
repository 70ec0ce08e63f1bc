#include "admin/admin.h"

#include <stdio.h>
#include <string.h>

#include "base/str.h"
#include "core/audit.h"
#include "core/tenant.h"

#define EVENTS_PAGE_DEFAULT 100
#define EVENTS_PAGE_MAX     1000

/* An optional non-negative integer query parameter. */
static int
arg_i64(const struct api_call *call, const char *name, int64_t def, int64_t max, int64_t *out,
        struct err *err)
{
    const char *v = api_call_arg(call, name);
    *out = def;
    return v ? str_to_i64(str_of(v), 0, max, out, name, err) : 0;
}

/* The console's reads: ?order=desc&before=&kind=&resource=. Fills *q; *any is false when
 * the call asks for none of them (the plain cursor read). */
static int
filtered(const struct api_call *call, struct store_event_query *q, bool *any, struct err *err)
{
    const char *order = api_call_arg(call, "order");
    q->kind = api_call_arg(call, "kind");
    q->resource_id = api_call_arg(call, "resource");
    *any = order || q->kind || q->resource_id || api_call_arg(call, "before");
    if (order && strcmp(order, "desc") != 0 && strcmp(order, "asc") != 0)
        return err_set(err, ERR_INVALID_VALUE, "order must be asc or desc");
    q->newest_first = order && strcmp(order, "desc") == 0;
    return arg_i64(call, "before", 0, INT64_MAX, &q->before_seq, err);
}

int
admin_events_list(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    int64_t after, limit;
    struct store_event *v;
    size_t n;
    struct store_event_query q = { 0 };
    bool any;
    if (tenant_get(call->store, call->params[0], &t, err) < 0 ||
        arg_i64(call, "after", 0, INT64_MAX, &after, err) < 0 ||
        arg_i64(call, "limit", EVENTS_PAGE_DEFAULT, EVENTS_PAGE_MAX, &limit, err) < 0 ||
        filtered(call, &q, &any, err) < 0)
        return -1;
    q.tenant_id = t.id;
    q.after_seq = after;
    /* Newest first, one event more than the page is read, to know whether older ones remain. */
    q.limit = (size_t)limit + (q.newest_first ? 1 : 0);
    if ((any ? audit_query(call->store, &q, &v, &n, err)
             : audit_list(call->store, t.id, after, (size_t)limit, &v, &n, err)) < 0)
        return -1;
    size_t shown = n < (size_t)limit ? n : (size_t)limit;
    json_t *arr = json_array();
    for (size_t i = 0; i < shown; i++)
        json_array_append_new(arr, audit_event_to_json(&v[i]));
    /* Oldest first, the cursor to poll with next: the last event read, or the one given when
     * nothing new arrived (new events may come after either). Newest first, the cursor for the
     * next older page (?before=next), or "0" when this page reached the oldest event
     * (docs/api.md); an empty page (limit=0) before older events stands where it started:
     * `before`, or just after the newest event. */
    int64_t seq;
    if (!q.newest_first)
        seq = n ? v[n - 1].seq : after;
    else if (n <= (size_t)limit)
        seq = 0;
    else if (shown)
        seq = v[shown - 1].seq;
    else
        seq = q.before_seq ? q.before_seq : v[0].seq + 1;
    char next[24];
    snprintf(next, sizeof(next), "%lld", (long long)seq);
    audit_events_free(v, n);
    api_reply_json(call, 200, json_pack("{s:o, s:s}", "events", arr, "next", next));
    return 0;
}
