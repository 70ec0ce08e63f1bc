#include "admin/openapi.h"

#include <stdbool.h>
#include <string.h>

#include "admin/admin.h"
#include "base/str.h"

/* True when the If-None-Match list names tag or is "*" (RFC 9110 §13.1.2: weak comparison,
 * so a W/ prefix is ignored). */
static bool
tag_listed(const char *list, const char *tag)
{
    const size_t tag_len = strlen(tag);
    const char *p = list;
    for (int i = 0; i < 64 && *p; i++) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n > 0 && p[n - 1] == ' ')
            n--;
        if (n >= 2 && p[0] == 'W' && p[1] == '/') {
            p += 2;
            n -= 2;
        }
        if ((n == 1 && p[0] == '*') || (n == tag_len && memcmp(p, tag, n) == 0))
            return true;
        if (e == NULL)
            break;
        p = e + 1;
    }
    return false;
}

int
admin_openapi_get(struct api_call *call, struct err *err)
{
    (void)err;
    if (call->if_none_match && tag_listed(call->if_none_match, admin_openapi_etag))
        api_reply_empty(call, 304);
    else
        api_reply_text(call, 200, "application/json", admin_openapi_doc);
    str_copy(call->etag, sizeof(call->etag), admin_openapi_etag);
    /* It changes with the binary only: revalidate, then reuse (no secrets in it). */
    call->cache_control = "no-cache";
    return 0;
}
