#include "admin/admin.h"

#include <stdio.h>

#include "base/clock.h"
#include "base/crypto.h"
#include "core/console.h"
#include "core/tenant.h"
#include "scim/scim.h"

/* POST /admin/v1/tenants/{t}/setup-links: the host application hands its customer's admin a
 * link into the console for one tenant. The token travels in the URL fragment, which browsers
 * never send to a server, so it lands in no access log or proxy log; the page posts it to
 * /console/api/setup and drops it from the address bar. */
int
admin_setup_links_post(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    struct console_secret token;
    int64_t expires;
    char when[32];
    int rc = -1;
    if (tenant_get(call->store, call->params[0], &t, err) < 0)
        return -1;
    json_t *body = api_call_body_json(call, err);
    if (body == NULL)
        return -1;
    json_t *acting = json_object_get(body, "actingUser");
    if (!json_is_string(acting) || json_object_size(body) != 1) {
        err_set(err, ERR_INVALID_VALUE,
                "the body must be {\"actingUser\": \"<id of an active admin of the tenant>\"}");
        goto out;
    }
    /* The host may name its admin by its own identifiers (userName, externalId). */
    const char *given = json_string_value(acting), *who = given;
    char id[37];
    if (scim_users_find(call, t.id, who, id, err) == 0)
        who = id;
    else if (err->code != ERR_NOT_FOUND)
        goto out;
    if (console_setup_link_mint(call->store, &call->settings->console, &call->settings->gate, &t,
                                who, given, &token, &expires, err) < 0)
        goto out;
    char url[600];
    snprintf(url, sizeof(url), "%s/console/#setup=%s", call->settings->public_url, token.text);
    console_secret_wipe(&token);
    clock_format_ms(expires, when);
    api_reply_json(call, 201,
                   json_pack("{s:s, s:s, s:s, s:s}", "url", url, "expires", when, "tenant", t.slug,
                             "actingUser", who));
    crypto_wipe(url, sizeof(url));
    rc = 0;
out:
    json_decref(body);
    return rc;
}
