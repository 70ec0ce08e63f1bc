#include "core/row.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/crypto.h"
#include "base/xmalloc.h"

static char *
dup_string(const json_t *doc, const char *key)
{
    const char *v = json_string_value(json_object_get(doc, key));
    return v ? xstrdup(v) : NULL;
}

/* The indexed columns and the stored text. Groups have no userName and no active. */
static void
fill(struct store_resource *r, const json_t *doc)
{
    r->user_name = dup_string(doc, "userName");
    r->external_id = dup_string(doc, "externalId");
    r->display_name = dup_string(doc, "displayName");
    json_t *active = json_object_get(doc, "active");
    r->active = active == NULL || json_is_true(active);
    r->doc = json_dumps(doc, JSON_COMPACT);
}

int
row_new(struct store_resource *r, int64_t tenant_id, enum store_rtype type, const json_t *doc,
        struct err *err)
{
    *r = (struct store_resource){ .tenant_id = tenant_id, .type = type, .version = 1 };
    if (crypto_uuid_v7(r->id, err) < 0)
        return -1;
    r->created_ms = r->modified_ms = clock_now_ms();
    fill(r, doc);
    return 0;
}

bool
row_next(struct store_resource *r, const struct store_resource *old, const json_t *doc,
         bool other_change)
{
    *r = (struct store_resource){ .tenant_id = old->tenant_id, .type = old->type };
    memcpy(r->id, old->id, sizeof(r->id));
    r->created_ms = old->created_ms;
    fill(r, doc);
    if (!other_change && old->doc && strcmp(old->doc, r->doc) == 0) {
        r->version = old->version;
        r->modified_ms = old->modified_ms;
        return false;
    }
    r->version = old->version + 1;
    r->modified_ms = clock_now_ms();
    if (r->modified_ms <= old->modified_ms)
        r->modified_ms = old->modified_ms + 1;
    return true;
}

int
row_bump_ends(struct store *s, int64_t tenant_id, const struct store_member *v, size_t n,
              struct err *err)
{
    if (n == 0)
        return 0;
    const char **ids = xmalloc(n * sizeof(*ids));
    for (size_t i = 0; i < n; i++)
        ids[i] = v[i].id;
    int rc = store_member_bump(s, tenant_id, NULL, ids, n, clock_now_ms(), err);
    free(ids);
    return rc < 0 ? -1 : 0;
}
