#include "core/directory.h"

int
directory_list(struct store *s, const struct store_list_query *q, struct store_list_result *out,
               struct err *err)
{
    if (q->tenant_id <= 0)
        return err_set(err, ERR_INTERNAL, "listing without a tenant");
    return store_resource_list(s, q, out, err);
}

int
directory_get(struct store *s, int64_t tenant_id, enum store_rtype type, const char *id,
              struct store_resource *out, struct err *err)
{
    return store_resource_get(s, tenant_id, type, id, out, err);
}

int
directory_health(struct store *s, struct err *err)
{
    if (store_ping(s, err) < 0)
        return err_set(err, ERR_UNAVAILABLE, "database unavailable");
    return 0;
}

int
directory_read_begin(struct store *s, struct err *err)
{
    return store_read_begin(s, err);
}

void
directory_read_end(struct store *s)
{
    store_read_end(s);
}
