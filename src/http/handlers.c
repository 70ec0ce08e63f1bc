#include "http/handlers.h"

#include "base/buf.h"
#include "core/directory.h"
#include "http/metrics.h"
#include "http/router.h"
#include "sso/web.h"

int
http_healthz_get(struct api_call *call, struct err *err)
{
    if (directory_health(call->store, err) < 0)
        return -1;
    api_reply_text(call, 200, "text/plain; charset=utf-8", "ok\n");
    return 0;
}

int
http_metrics_get(struct api_call *call, struct err *err)
{
    struct buf b;
    buf_init(&b, 4 * 1024 * 1024);
    if (http_metrics_render(&b, http_router_method_label, http_router_pattern_label, err) < 0 ||
        sso_metrics_render(&b, err) < 0 || http_metrics_render_webhooks(&b, call->store, err) < 0 ||
        http_metrics_render_store(&b, call->store, err) < 0) {
        buf_cleanup(&b);
        return -1;
    }
    api_reply_text(call, 200, "text/plain; version=0.0.4; charset=utf-8", b.data);
    buf_cleanup(&b);
    return 0;
}
