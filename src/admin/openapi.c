#include "admin/openapi.h"

#include <stdbool.h>
#include <string.h>

#include "admin/admin.h"
#include "base/str.h"

int
admin_openapi_get(struct api_call *call, struct err *err)
{
    (void)err;
    if (call->if_none_match && api_etag_listed(call->if_none_match, admin_openapi_etag))
        api_reply_empty(call, 304);
    else
        api_reply_text(call, 200, "application/json", admin_openapi_doc);
    str_copy(call->etag, sizeof(call->etag), admin_openapi_etag);
    /* It changes with the binary only: revalidate, then reuse (no secrets in it). */
    call->cache_control = "no-cache";
    return 0;
}
