#include "admin/admin.h"

#include <stdlib.h>

#include "admin/admin_int.h"
#include "base/clock.h"
#include "base/limits.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "core/fields.h"
#include "core/reqlog.h"
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

/* The one response that carries a whole token: it is shown once and never again, beside the
 * SCIM base URL it is used with, so the host shows both to the IT admin at once. */
static void
reply_secret(struct api_call *call, int status, const struct store_tenant *tenant,
             const struct store_token *t, struct token_secret *secret)
{
    char scim[API_SCIM_BASE_URL_MAX];
    json_t *j = token_to_json(t, clock_now_ms());
    json_object_set_new(j, "scimBaseUrl",
                        json_string(api_scim_base_url(call->settings, tenant, scim)));
    json_object_set_new(j, "token", json_string(secret->text));
    token_secret_wipe(secret);
    api_reply_json(call, status, j);
}

/* How the host named its acting user (actingUser as sent), for refusals and the audit event;
 * NULL for a console session, which acts as its own user whatever the request says. */
static const char *
shown(const struct api_call *call, const char *given)
{
    return call->console || given == NULL || given[0] == '\0' ? NULL : given;
}

/* Reads the optional body of a mint, {"actingUser", "label"}, or a rotate (label NULL),
 * {"actingUser", "overlapSeconds"}: each member optional here (the gates refuse a missing
 * acting user with the other reasons), any other refused, so that a host asking for what this
 * API does not do (an expiry, a scope) is told so instead of getting a full, lasting token.
 * *body is the parsed body to free, or NULL. */
static int
read_request(struct api_call *call, json_t **body, const char **acting, const char **label,
             int64_t *overlap, struct err *err)
{
    static const char *const mint[] = { "actingUser", "label", NULL };
    static const char *const rotate[] = { "actingUser", "overlapSeconds", NULL };
    *body = NULL;
    *acting = "";
    if (call->body_len == 0)
        return 0;
    *body = api_call_body_json(call, err);
    if (*body == NULL || fields_check(*body, label ? mint : rotate, NULL, NULL, err) < 0)
        return -1;
    json_t *a = json_object_get(*body, "actingUser"), *l = json_object_get(*body, "label");
    json_t *o = json_object_get(*body, "overlapSeconds");
    if ((a && !json_is_string(a)) || (l && !json_is_string(l)))
        return err_set(err, ERR_INVALID_VALUE, "actingUser and label must be strings");
    if (o && !json_is_integer(o))
        return err_set(err, ERR_INVALID_VALUE, "overlapSeconds must be an integer");
    if (a)
        *acting = json_string_value(a);
    if (l)
        *label = json_string_value(l);
    if (o)
        *overlap = json_integer_value(o);
    return 0;
}

int
admin_tokens_post(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    struct store_token tok;
    struct token_secret secret;
    const char *label = "", *acting;
    json_t *body;
    if (route_tenant(call, &t, err) < 0)
        return -1;
    char id[37];
    const char *given = NULL;
    int rc = read_request(call, &body, &given, &label, NULL, err);
    if (rc == 0)
        rc = admin_acting_user(call, &t, given, &acting, id, err);
    if (rc == 0) {
        const struct token_request req = { &t, &call->settings->gate, acting, shown(call, given),
                                           call->actor };
        rc = token_mint(call->store, &req, label, &tok, &secret, err);
    }
    json_decref(body);
    if (rc < 0)
        return -1;
    reply_secret(call, 201, &t, &tok, &secret);
    return 0;
}

int
admin_tokens_revoke(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    struct store_token tok;
    const char *acting;
    char id[37];
    /* No actingUser is read here (revoking needs no gate); a tenant admin's console session
     * still names its user in the event. */
    if (route_tenant(call, &t, err) < 0 || admin_acting_user(call, &t, NULL, &acting, id, err) < 0)
        return -1;
    const struct token_request req = { &t, &call->settings->gate, acting, NULL, call->actor };
    if (token_revoke(call->store, &req, call->params[1], &tok, err) < 0)
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
    const char *acting;
    json_t *body;
    if (route_tenant(call, &t, err) < 0)
        return -1;
    char id[37];
    const char *given = NULL;
    int rc = read_request(call, &body, &given, NULL, &overlap, err);
    if (rc == 0)
        rc = admin_acting_user(call, &t, given, &acting, id, err);
    if (rc == 0) {
        const struct token_request req = { &t, &call->settings->gate, acting, shown(call, given),
                                           call->actor };
        rc = token_rotate(call->store, &req, call->params[1], overlap, &tok, &secret, err);
    }
    json_decref(body);
    if (rc < 0)
        return -1;
    reply_secret(call, 201, &t, &tok, &secret);
    return 0;
}

int
admin_token_gate(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    struct gate_result r;
    const char *acting, *given = api_call_arg(call, "actingUser");
    char id[37];
    if (route_tenant(call, &t, err) < 0 ||
        admin_acting_user(call, &t, given, &acting, id, err) < 0 ||
        gate_mint_check(call->store, &call->settings->gate, &t, acting, shown(call, given), &r,
                        err) < 0)
        return -1;
    api_reply_json(call, 200, gate_result_to_json(&t, &call->settings->gate, &r));
    return 0;
}

#define REQUESTS_DEFAULT 50
#define REQUESTS_MAX     500

int
admin_token_requests(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    const char *token = api_call_arg(call, "token");
    const char *limit_arg = api_call_arg(call, "limit");
    int64_t limit = REQUESTS_DEFAULT;
    if (route_tenant(call, &t, err) < 0 ||
        (limit_arg && str_to_i64(str_of(limit_arg), 1, REQUESTS_MAX, &limit, "limit", err) < 0))
        return -1;
    struct reqlog_entry *v = xcalloc((size_t)limit, sizeof(*v));
    size_t n;
    if (reqlog_list(call->store, t.id, token, v, (size_t)limit, &n, err) < 0) {
        free(v);
        return -1;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        char when[32];
        clock_format_ms(v[i].at_ms, when);
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:i, s:s?}", "time", when,
                                             "token", v[i].token_id, "method", v[i].method, "route",
                                             v[i].route, "status", v[i].status, "detail",
                                             v[i].detail[0] ? v[i].detail : NULL));
    }
    free(v);
    api_reply_json(call, 200, json_pack("{s:o}", "requests", arr));
    return 0;
}
