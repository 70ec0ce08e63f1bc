#include "admin/admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "core/fields.h"
#include "core/set.h"
#include "core/tenant.h"
#include "core/webhook.h"

/* Webhook endpoints of a tenant: /admin/v1/tenants/{t}/webhooks[/{id}] (docs/webhooks.md). */

static int
reply_hook(struct api_call *call, int status, const struct store_webhook *w, bool with_secret,
           struct err *err)
{
    int64_t pending;
    if (webhook_pending(call->store, w, &pending, err) < 0)
        return -1;
    api_reply_json(call, status, webhook_to_json(w, pending, with_secret));
    return 0;
}

int
admin_webhooks_list(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    struct store_webhook *v;
    size_t n;
    if (tenant_get(call->store, call->params[0], &t, err) < 0 ||
        webhook_list(call->store, t.id, &v, &n, err) < 0)
        return -1;
    json_t *arr = json_array();
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        int64_t pending;
        rc = webhook_pending(call->store, &v[i], &pending, err);
        json_array_append_new(arr, webhook_to_json(&v[i], rc == 0 ? pending : -1, false));
    }
    free(v);
    if (rc < 0) {
        json_decref(arr);
        return -1;
    }
    api_reply_json(call, 200, json_pack("{s:o}", "webhooks", arr));
    return 0;
}

/* What GET answers of a webhook and no write sets: its identity (id, created), which a body
 * may repeat with the current value (docs/api.md: a GET, change, PATCH round trip), and its
 * delivery state, which changes as deliveries go and is ignored whatever the value. */
static const char *const hook_identity[] = { "id", "created", NULL };
static const char *const hook_state[] = { "delivered",  "failures",  "nextAttempt", "lastAttempt",
                                          "lastStatus", "lastError", "pending",     NULL };

/* {"url": string, "enabled": bool, "format", "delivery", "audience": string}, each optional
 * (core/webhook.c says which a delivery needs); with `current` (a PATCH: the webhook as GET
 * shows it) also what GET answers and no write sets. */
static int
read_fields(struct api_call *call, const json_t *current, json_t **body, const char **url,
            int *enabled, struct webhook_format *fmt, struct err *err)
{
    *url = NULL;
    *enabled = -1;
    *fmt = (struct webhook_format){ 0 };
    *body = api_call_body_json(call, err);
    if (*body == NULL)
        return -1;
    const char *key;
    json_t *v;
    json_object_foreach(*body, key, v) {
        if (strcmp(key, "url") == 0 && json_is_string(v))
            *url = json_string_value(v);
        else if (strcmp(key, "enabled") == 0 && json_is_boolean(v))
            *enabled = json_is_true(v);
        else if (strcmp(key, "format") == 0 && json_is_string(v))
            fmt->format = json_string_value(v);
        else if (strcmp(key, "delivery") == 0 && json_is_string(v))
            fmt->delivery = json_string_value(v);
        else if (strcmp(key, "audience") == 0 && json_is_string(v))
            fmt->audience = json_string_value(v);
        else if (current && fields_named(hook_state, key))
            continue;
        else if (current && fields_named(hook_identity, key)) {
            /* The read-only rule of every management body (core/fields.h), for this one. */
            json_t *one = json_pack("{s:O}", key, v);
            int rc = fields_check(one, NULL, hook_identity, current, err);
            json_decref(one);
            if (rc < 0)
                return -1;
        } else
            return err_set(err, ERR_INVALID_VALUE,
                           "a webhook takes \"url\" (string), \"enabled\" (boolean), "
                           "\"format\", \"delivery\" and \"audience\" (strings); not "
                           "\"%.40s\" as given",
                           key);
    }
    return 0;
}

int
admin_webhooks_post(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    struct store_webhook w;
    const char *url;
    int enabled;
    struct webhook_format fmt;
    json_t *body = NULL;
    int rc = -1;
    if (tenant_get(call->store, call->params[0], &t, err) == 0 &&
        read_fields(call, NULL, &body, &url, &enabled, &fmt, err) == 0 &&
        webhook_create(call->store, t.id, url, &fmt, &call->settings->webhooks, &w, err) == 0 &&
        (enabled != 0 || webhook_update(call->store, t.id, w.id, NULL, 0, NULL,
                                        &call->settings->webhooks, &w, err) == 0)) {
        snprintf(call->location, sizeof(call->location), "%s/admin/v1/tenants/%s/webhooks/%s",
                 call->settings->public_url, t.slug, w.id);
        rc = reply_hook(call, 201, &w, true, err);
    }
    json_decref(body);
    return rc;
}

int
admin_webhooks_get(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    struct store_webhook w;
    if (tenant_get(call->store, call->params[0], &t, err) < 0 ||
        webhook_get(call->store, t.id, call->params[1], &w, err) < 0)
        return -1;
    return reply_hook(call, 200, &w, false, err);
}

int
admin_webhooks_patch(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    struct store_webhook w;
    const char *url;
    int enabled;
    struct webhook_format fmt;
    json_t *body = NULL, *current = NULL;
    int rc = -1;
    if (tenant_get(call->store, call->params[0], &t, err) == 0 &&
        webhook_get(call->store, t.id, call->params[1], &w, err) == 0 &&
        (current = webhook_to_json(&w, -1, false)) != NULL &&
        read_fields(call, current, &body, &url, &enabled, &fmt, err) == 0 &&
        webhook_update(call->store, t.id, call->params[1], url, enabled, &fmt,
                       &call->settings->webhooks, &w, err) == 0)
        rc = reply_hook(call, 200, &w, false, err);
    json_decref(current);
    json_decref(body);
    return rc;
}

int
admin_webhooks_delete(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    if (tenant_get(call->store, call->params[0], &t, err) < 0 ||
        webhook_delete(call->store, t.id, call->params[1], err) < 0)
        return -1;
    api_reply_empty(call, 204);
    return 0;
}

int
admin_webhooks_rotate(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    struct store_webhook w;
    if (tenant_get(call->store, call->params[0], &t, err) < 0 ||
        webhook_rotate_secret(call->store, t.id, call->params[1], &call->settings->webhooks, &w,
                              err) < 0)
        return -1;
    return reply_hook(call, 200, &w, true, err);
}

int
admin_webhooks_attempts(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    struct store_webhook_attempt *v;
    size_t n;
    int64_t limit = 20;
    const char *arg = api_call_arg(call, "limit");
    if (tenant_get(call->store, call->params[0], &t, err) < 0 ||
        (arg && str_to_i64(str_of(arg), 1, 100, &limit, "limit", err) < 0) ||
        webhook_attempts(call->store, t.id, call->params[1], (size_t)limit, &v, &n, err) < 0)
        return -1;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, webhook_attempt_to_json(&v[i]));
    free(v);
    api_reply_json(call, 200, json_pack("{s:o}", "attempts", arr));
    return 0;
}

int
admin_set_jwks_get(struct api_call *call, struct err *err)
{
    json_t *jwks = set_jwks(call->store, call->settings->webhooks.seal_keys, err);
    if (jwks == NULL)
        return -1;
    api_reply_json(call, 200, jwks);
    return 0;
}

int
admin_set_poll(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    struct err e = { 0 };
    const char *tok = NULL;
    size_t len = 0;
    json_t *out = NULL;
    /* An unknown tenant answers as a wrong secret does: slugs are not probed here. */
    if (tenant_get(call->store, call->params[0], &t, &e) < 0) {
        if (e.code != ERR_NOT_FOUND) {
            *err = e;
            return -1;
        }
        return err_set(err, ERR_UNAUTHORIZED, "the stream's secret is required as a bearer token");
    }
    api_call_bearer(call, &tok, &len);
    if (webhook_poll(call->store, &t, call->params[1], tok, len, call->body, call->body_len,
                     &call->settings->webhooks, &out, err) < 0)
        return -1;
    api_reply_json(call, 200, out);
    return 0;
}
