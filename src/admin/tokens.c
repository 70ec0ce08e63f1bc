#include "admin/admin.h"

#include <stdlib.h>

#include "base/clock.h"
#include "base/limits.h"
#include "core/tenant.h"
#include "core/token.h"

/* The tenant named by the route, or -1 with ERR_NOT_FOUND. */
static int
route_tenant(struct api_call *call, struct store_tenant *t, struct err *err)
{
    return tenant_get(call->store, call->params[0], t, err);
}

int
admin_tokens_list(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    struct store_token *v;
    size_t n;
    if (route_tenant(call, &t, err) < 0 || token_list(call->store, t.id, &v, &n, err) < 0)
        return -1;
    int64_t now = clock_now_ms();
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, token_to_json(&v[i], now));
    free(v);
    api_reply_json(call, 200, json_pack("{s:o}", "tokens", arr));
    return 0;
}

/* The one response that carries a whole token: it is shown once and never again. */
static void
reply_secret(struct api_call *call, int status, const struct store_token *t,
             struct token_secret *secret)
{
    json_t *j = token_to_json(t, clock_now_ms());
    json_object_set_new(j, "token", json_string(secret->text));
    token_secret_wipe(secret);
    api_reply_json(call, status, j);
}

int
admin_tokens_post(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    struct store_token tok;
    struct token_secret secret;
    const char *label = NULL;
    json_t *body = NULL;
    if (route_tenant(call, &t, err) < 0)
        return -1;
    if (call->body_len > 0) {
        body = api_call_body_json(call, err);
        if (body == NULL)
            return -1;
        json_t *l = json_object_get(body, "label");
        if (l && !json_is_string(l)) {
            json_decref(body);
            return err_set(err, ERR_INVALID_VALUE, "label must be a string");
        }
        label = json_string_value(l);
    }
    int rc = token_mint(call->store, t.id, label, &tok, &secret, err);
    json_decref(body);
    if (rc < 0)
        return -1;
    reply_secret(call, 201, &tok, &secret);
    return 0;
}

int
admin_tokens_revoke(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    struct store_token tok;
    if (route_tenant(call, &t, err) < 0 ||
        token_revoke(call->store, t.id, call->params[1], &tok, err) < 0)
        return -1;
    api_reply_json(call, 200, token_to_json(&tok, clock_now_ms()));
    return 0;
}

int
admin_tokens_rotate(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    struct store_token tok;
    struct token_secret secret;
    int64_t overlap = call->settings->token_overlap_s;
    if (route_tenant(call, &t, err) < 0)
        return -1;
    if (call->body_len > 0) {
        json_t *body = api_call_body_json(call, err);
        if (body == NULL)
            return -1;
        json_t *o = json_object_get(body, "overlapSeconds");
        if (o && !json_is_integer(o)) {
            json_decref(body);
            return err_set(err, ERR_INVALID_VALUE, "overlapSeconds must be an integer");
        }
        if (o)
            overlap = json_integer_value(o);
        json_decref(body);
    }
    if (token_rotate(call->store, t.id, call->params[1], overlap, &tok, &secret, err) < 0)
        return -1;
    reply_secret(call, 201, &tok, &secret);
    return 0;
}
