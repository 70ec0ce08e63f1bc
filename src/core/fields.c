#include "core/fields.h"

#include <stdbool.h>
#include <string.h>

bool
fields_named(const char *const *list, const char *key)
{
    for (; list && *list; list++)
        if (strcmp(*list, key) == 0)
            return true;
    return false;
}

int
fields_check(const json_t *body, const char *const *writable, const char *const *readonly,
             const json_t *current, struct err *err)
{
    const char *key;
    json_t *v;
    if (!json_is_object(body))
        return err_set(err, ERR_INVALID_VALUE, "the body must be a JSON object");
    json_object_foreach((json_t *)body, key, v) {
        if (fields_named(writable, key))
            continue;
        if (!fields_named(readonly, key))
            return err_set(err, ERR_INVALID_VALUE, "unknown field \"%.64s\"", key);
        const json_t *now = json_object_get(current, key);
        if (now == NULL || !json_equal(v, now))
            return err_set(err, ERR_INVALID_VALUE,
                           "read-only field \"%.64s\": leave it out or give its current value",
                           key);
    }
    return 0;
}
