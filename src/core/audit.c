#include "core/audit.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/clock.h"
#include "base/str.h"

int
audit_record(struct store *s, int64_t tenant_id, const char *actor, const char *kind,
             enum store_rtype rtype, const char *resource_id, json_t *data, struct err *err)
{
    struct store_event e = { .tenant_id = tenant_id, .created_ms = clock_now_ms(), .rtype = rtype };
    str_copy(e.actor, sizeof(e.actor), actor ? actor : "unknown");
    str_copy(e.kind, sizeof(e.kind), kind);
    str_copy(e.resource_id, sizeof(e.resource_id), resource_id ? resource_id : "");
    e.data = json_dumps(data ? data : json_object(), JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(data);
    if (e.data == NULL)
        return err_set(err, ERR_INTERNAL, "cannot encode an audit event");
    int rc = store_event_insert(s, &e, err);
    free(e.data);
    return rc;
}

static void
add_change(json_t *out, const char *key, json_t *before, json_t *after)
{
    json_t *c = json_object();
    json_object_set(c, "before", before ? before : json_null());
    json_object_set(c, "after", after ? after : json_null());
    json_object_set_new(out, key, c);
}

json_t *
audit_changes(const json_t *before, const json_t *after)
{
    json_t *out = json_object();
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)before, key, v) {
        json_t *w = json_object_get(after, key);
        if (!json_equal(v, w))
            add_change(out, key, v, w);
    }
    json_object_foreach((json_t *)after, key, v) {
        if (json_object_get(before, key) == NULL)
            add_change(out, key, NULL, v);
    }
    return out;
}

int
audit_list(struct store *s, int64_t tenant_id, int64_t after, size_t limit,
           struct store_event **out, size_t *n, struct err *err)
{
    return store_event_list(s, tenant_id, after, limit, out, n, err);
}

void
audit_events_free(struct store_event *v, size_t n)
{
    store_events_free(v, n);
}

json_t *
audit_event_to_json(const struct store_event *e)
{
    char time[32], id[24];
    clock_format_ms(e->created_ms, time);
    snprintf(id, sizeof(id), "%lld", (long long)e->seq);
    json_t *data = json_loads(e->data ? e->data : "{}", 0, NULL);
    const char *rtype = e->rtype == STORE_RTYPE_USER    ? "User"
                        : e->rtype == STORE_RTYPE_GROUP ? "Group"
                                                        : NULL;
    return json_pack("{s:s, s:s, s:s, s:s, s:s*, s:s*, s:o}", "id", id, "time", time, "actor",
                     e->actor, "kind", e->kind, "resourceType", rtype, "resourceId",
                     e->resource_id[0] ? e->resource_id : NULL, "data",
                     data ? data : json_object());
}

int
audit_query(struct store *s, const struct store_event_query *q, struct store_event **out, size_t *n,
            struct err *err)
{
    return store_event_query(s, q, out, n, err);
}
