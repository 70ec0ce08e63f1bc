#include "console/console.h"

#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/crypto.h"
#include "base/str.h"
#include "console/assets.h"
#include "core/console.h"

/* Scripts and styles only from this origin, no inline script or style, no framing, no
 * plugins; forms and fetches go back to this origin only. */
#define CSP_CONSOLE                                                                   \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

static const struct console_asset *
asset_find(const char *name)
{
    for (size_t i = 0; i < console_asset_count; i++)
        if (strcmp(console_assets[i].name, name) == 0)
            return &console_assets[i];
    return NULL;
}

static void
reply_asset(struct api_call *call, const struct console_asset *a)
{
    api_reply_text(call, 200, a->content_type, a->data);
    call->cache_control = a->immutable ? "public, max-age=31536000, immutable" : "no-cache";
    call->csp = call->settings->brand.csp[0] ? call->settings->brand.csp : CSP_CONSOLE;
}

int
console_brand_init(struct api_brand *b, const char *prefix, const char *name, const char *logo_url,
                   const char *color, struct err *err)
{
    *b = (struct api_brand){ .name = name, .color = color };
    if (logo_url != NULL && logo_url[0] != '\0')
        b->logo_url = logo_url;
    for (size_t i = 0; i < console_asset_count; i++) {
        const char *n = console_assets[i].name;
        size_t len = strlen(n);
        if (strncmp(n, "app.", 4) == 0 && len > 4 && strcmp(n + len - 4, ".css") == 0) {
            int w = snprintf(b->stylesheet, sizeof(b->stylesheet), "%s/console/assets/%s",
                             prefix ? prefix : "", n);
            if (w < 0 || (size_t)w >= sizeof(b->stylesheet))
                return err_set(err, ERR_INTERNAL, "console stylesheet name too long");
        }
    }
    if (b->stylesheet[0] == '\0')
        return err_set(err, ERR_INTERNAL, "the console's stylesheet is not embedded");
    /* An https logo is loaded from its origin (scheme and host, up to the first '/'); a
     * data: logo is already allowed. The config refused quotes, spaces and ';'. */
    int origin = 0;
    if (b->logo_url && strncmp(b->logo_url, "https://", 8) == 0)
        origin = (int)strcspn(b->logo_url + 8, "/?#") + 8;
    int w = snprintf(b->csp, sizeof(b->csp),
                     "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' "
                     "data:%s%.*s; connect-src 'self'; form-action 'self'; base-uri 'none'; "
                     "frame-ancestors 'none'",
                     origin ? " " : "", origin, origin ? b->logo_url : "");
    if (w < 0 || (size_t)w >= sizeof(b->csp))
        return err_set(err, ERR_INTERNAL, "brand_logo_url is too long for the CSP");
    return 0;
}

int
console_brand_css(struct api_call *call, struct err *err)
{
    (void)err;
    char css[128];
    /* The colour is #rrggbb (config): nothing else reaches the stylesheet. */
    snprintf(css, sizeof(css), ":root { --accent: %s; }\n", call->settings->brand.color);
    api_reply_text(call, 200, "text/css; charset=utf-8", css);
    call->cache_control = "no-cache";
    call->csp = call->settings->brand.csp[0] ? call->settings->brand.csp : CSP_CONSOLE;
    return 0;
}

int
console_brand_get(struct api_call *call, struct err *err)
{
    (void)err;
    const struct api_brand *b = &call->settings->brand;
    api_reply_json(
        call, 200,
        json_pack("{s:s, s:s?}", "name", b->name ? b->name : "scimd", "logoUrl", b->logo_url));
    return 0;
}

/* The console's base path in index.html, filled with the public URL's path. */
#define BASE_META "name=\"scimd-base\" content=\"\""

int
console_page_get(struct api_call *call, struct err *err)
{
    const struct console_asset *a = asset_find("index.html");
    if (a == NULL)
        return err_set(err, ERR_INTERNAL, "the console's index.html is not embedded");
    reply_asset(call, a);
    /* Under a public URL with a path, the page's own URLs start with it (a proxy may forward
     * only that path): every "/console/ and the base the script reads. */
    const char *prefix = api_public_path(call->settings->public_url);
    if (prefix[0] == '\0')
        return 0;
    struct buf b;
    buf_init(&b, 1024 * 1024);
    int rc = 0;
    for (const char *p = a->data; rc == 0 && *p;) {
        const char *hit = strstr(p, "\"/console/");
        const char *base = strstr(p, BASE_META);
        const char *next = hit && (!base || hit < base) ? hit : base;
        if (next == NULL) {
            rc = buf_append_cstr(&b, p, err);
            break;
        }
        rc = buf_append(&b, p, (size_t)(next - p), err);
        if (rc == 0 && next == hit)
            rc = buf_printf(&b, err, "\"%s/console/", prefix);
        else if (rc == 0)
            rc = buf_printf(&b, err, "name=\"scimd-base\" content=\"%s\"", prefix);
        p = next + (next == hit ? strlen("\"/console/") : strlen(BASE_META));
    }
    if (rc == 0)
        api_reply_text(call, 200, a->content_type, b.data);
    buf_cleanup(&b);
    return rc;
}

int
console_asset_get(struct api_call *call, struct err *err)
{
    const struct console_asset *a = asset_find(call->params[0]);
    if (a == NULL || !a->immutable)
        return err_set(err, ERR_NOT_FOUND, "no such console asset");
    reply_asset(call, a);
    return 0;
}

static void
reply_session(struct api_call *call, int status, const struct console_session *cs)
{
    char expires[32], scim[API_SCIM_BASE_URL_MAX];
    clock_format_ms(cs->expires_ms, expires);
    /* A tenant admin's tenant may have its own public URL; the console itself stays on the
     * deployment's (docs/deploy.md "A tenant on its own host"). */
    api_scim_base_url(call->settings, cs->operator? NULL : & cs->tenant, scim);
    json_t *tenant = cs->operator? json_null()
                                 : json_pack("{s:s, s:s}", "slug", cs->tenant.slug, "displayName",
                                             cs->tenant.display_name);
    api_reply_json(call, status,
                   json_pack("{s:s, s:o, s:s, s:s, s:s, s:s, s:s}", "scope",
                             cs->operator? "operator" : "tenant", "tenant", tenant, "userId",
                             cs->user_id, "csrf", cs->csrf, "expires", expires, "publicUrl",
                             call->settings->public_url, "scimBaseUrl", scim));
}

/* Starts a session's reply: cookie and body; wipes the id. */
static void
reply_new_session(struct api_call *call, struct console_secret *sid,
                  const struct console_session *cs)
{
    api_session_cookie_set(call, sid->text, call->settings->console.lifetime_s);
    console_secret_wipe(sid);
    reply_session(call, 201, cs);
}

/* A JSON body is required for the console's POSTs: a cross-site form cannot send one
 * without a CORS preflight, which this origin never grants (login CSRF); a browser's Origin
 * must be this one too. */
static json_t *
json_body(const struct api_call *call, struct err *err)
{
    if (call->content_type == NULL || !cstr_istarts_with(call->content_type, "application/json")) {
        err_set(err, ERR_UNSUPPORTED_MEDIA, "send Content-Type: application/json");
        return NULL;
    }
    if (!api_origin_is_own(call)) {
        err_set(err, ERR_FORBIDDEN, "a console sign-in from another origin");
        return NULL;
    }
    return api_call_body_json(call, err);
}

/* The one string member of a body: {"<name>": "…"}. Borrowed from body. */
static const char *
only_string(const json_t *body, const char *name, struct err *err)
{
    const json_t *v = json_object_get(body, name);
    if (!json_is_string(v) || json_object_size(body) != 1) {
        err_set(err, ERR_INVALID_VALUE, "the body must be {\"%s\": \"…\"}", name);
        return NULL;
    }
    return json_string_value(v);
}

int
console_session_get(struct api_call *call, struct err *err)
{
    char sid[CONSOLE_SECRET_LEN + 1];
    struct console_session cs;
    if (!api_session_cookie(call, sid, sizeof(sid)))
        return err_set(err, ERR_UNAUTHORIZED, "not signed in");
    int rc = console_session_check(call->store, &call->settings->gate, sid, &cs, err);
    crypto_wipe(sid, sizeof(sid));
    if (rc < 0)
        return -1;
    reply_session(call, 200, &cs);
    return 0;
}

int
console_session_post(struct api_call *call, struct err *err)
{
    struct console_secret sid;
    struct console_session cs;
    const char *key;
    int rc = -1;
    if (api_keyring_count(call->settings->operator_keys) == 0)
        return err_set(err, ERR_FORBIDDEN, "no operator key is configured");
    json_t *body = json_body(call, err);
    if (body == NULL)
        return -1;
    key = only_string(body, "operatorKey", err);
    if (key == NULL)
        goto out;
    if (!api_operator_key_ok(call->settings, key, strlen(key), NULL)) {
        err_set(err, ERR_UNAUTHORIZED, "that is not the operator key");
        goto out;
    }
    if (console_session_create(call->store, &call->settings->console, &call->settings->gate, NULL,
                               NULL, &sid, &cs, err) < 0)
        goto out;
    reply_new_session(call, &sid, &cs);
    rc = 0;
out:
    json_decref(body);
    return rc;
}

int
console_session_delete(struct api_call *call, struct err *err)
{
    char sid[CONSOLE_SECRET_LEN + 1];
    struct console_session cs;
    if (!api_session_cookie(call, sid, sizeof(sid)))
        return err_set(err, ERR_UNAUTHORIZED, "not signed in");
    int rc = console_session_check(call->store, &call->settings->gate, sid, &cs, err);
    if (rc == 0 && !console_csrf_ok(&cs, call->csrf_header))
        rc = err_set(err, ERR_FORBIDDEN, "missing or wrong X-CSRF-Token");
    if (rc == 0 && !api_origin_is_own(call))
        rc = err_set(err, ERR_FORBIDDEN, "a console write from another origin");
    if (rc == 0)
        rc = console_session_end(call->store, sid, err);
    crypto_wipe(sid, sizeof(sid));
    if (rc < 0)
        return -1;
    api_session_cookie_set(call, "", 0);
    api_reply_empty(call, 204);
    return 0;
}

int
console_setup_post(struct api_call *call, struct err *err)
{
    struct console_secret sid;
    struct console_session cs;
    int rc = -1;
    json_t *body = json_body(call, err);
    if (body == NULL)
        return -1;
    const char *token = only_string(body, "token", err);
    if (token != NULL &&
        console_setup_link_redeem(call->store, &call->settings->console, &call->settings->gate,
                                  token, &sid, &cs, err) == 0) {
        reply_new_session(call, &sid, &cs);
        rc = 0;
    }
    json_decref(body);
    return rc;
}
