/* Fuzzes the BulkRequest parser and planner (src/scim/bulk.c): the input is a /Bulk body.
 * Anything may fail with an err; nothing may crash or leak, and a plan must keep its
 * promises: a permutation of the operations, every runnable operation after the operations it
 * references, every runnable operation complete. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "base/xmalloc.h"
#include "scim/bulk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_plan(const struct scim_bulk *b)
{
    size_t *pos = xcalloc(b->n ? b->n : 1, sizeof(*pos));
    unsigned char *seen = xcalloc(b->n ? b->n : 1, 1);
    for (size_t k = 0; k < b->n; k++) {
        if (b->order[k] >= b->n || seen[b->order[k]])
            abort();
        seen[b->order[k]] = 1;
        pos[b->order[k]] = k;
    }
    for (size_t i = 0; i < b->n; i++) {
        const struct scim_bulk_op *o = &b->ops[i];
        if ((o->code == ERR_OK) != (o->detail == NULL))
            abort();
        if (o->code != ERR_OK)
            continue;
        if (scim_bulk_method_name(o->method) == NULL)
            abort();
        if (o->method == SCIM_BULK_POST && (o->bulk_id == NULL || o->id != NULL))
            abort();
        if (o->method != SCIM_BULK_POST && (o->id == NULL || o->id[0] == '\0'))
            abort();
        if ((o->method == SCIM_BULK_DELETE) != (o->data == NULL))
            abort();
        if (o->bulk_id && scim_bulk_find(b, o->bulk_id) != (long)i)
            abort();
        for (size_t d = 0; d < o->n_deps; d++)
            if (o->deps[d] >= b->n || pos[o->deps[d]] >= pos[i])
                abort();
    }
    free(pos);
    free(seen);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    struct scim_bulk b;
    struct err err = { 0 };

    if (body == NULL)
        return 0;
    if (scim_bulk_parse(body, 1000, &b, &err) == 0)
        check_plan(&b);
    else if (err.code == ERR_OK || err.code == ERR_INTERNAL || b.ops != NULL || b.n != 0)
        abort();
    scim_bulk_cleanup(&b);
    json_decref(body);
    return 0;
}
