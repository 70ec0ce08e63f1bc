#include "sso/web.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/crypto.h"
#include "base/log.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "core/signin.h"
#include "core/tenant.h"
#include "sso/console.h"

static atomic_uint_fast64_t counts[SSO_RESULT__COUNT];

const char *
sso_result_name(enum sso_result r)
{
    switch (r) {
    case SSO_RESULT_SUCCESS:
        return "success";
    case SSO_RESULT_REJECTED:
        return "rejected";
    default:
        return "error";
    }
}

void
sso_event(struct api_call *call, const struct store_tenant *tenant, const char *protocol,
          const char *initiated, enum sso_result result, const char *reason, const char *user_id)
{
    sso_event_test(call, tenant, protocol, initiated, result, reason, user_id, NULL);
}

void
sso_event_test(struct api_call *call, const struct store_tenant *tenant, const char *protocol,
               const char *initiated, enum sso_result result, const char *reason,
               const char *user_id, const json_t *received)
{
    char t[80], r[80];
    if ((unsigned)result < SSO_RESULT__COUNT)
        atomic_fetch_add(&counts[result], 1);
    log_escape(t, sizeof(t), tenant ? tenant->slug : "-");
    log_escape(r, sizeof(r), reason ? reason : "-");
    log_info("event=sso_signin tenant=%s protocol=%s initiated=%s result=%s reason=%s user=%s", t,
             protocol, initiated ? initiated : "-", sso_result_name(result), r,
             user_id ? user_id : "-");
    /* A request to a tenant-free endpoint that names no tenant has no audit trail to go to. */
    if (tenant == NULL)
        return;
    /* The audit trail of the tenant gets the same (issue 7 item 6); a lost event is logged,
     * never a reason to fail the browser's request. */
    struct err e = { 0 };
    if (signin_event(call->store, tenant->id, protocol, initiated ? initiated : "-",
                     sso_result_name(result), reason ? reason : "-", user_id, received, &e) < 0)
        log_warn("sso: audit event for tenant %s not written: %s", t, e.detail);
}

uint64_t
sso_event_count(enum sso_result r)
{
    return (unsigned)r < SSO_RESULT__COUNT ? atomic_load(&counts[r]) : 0;
}

int
sso_metrics_render(struct buf *out, struct err *err)
{
    if (buf_append_cstr(out,
                        "# HELP scimd_sso_signins_total Sign-in attempts by result.\n"
                        "# TYPE scimd_sso_signins_total counter\n",
                        err) < 0)
        return -1;
    for (int r = 0; r < SSO_RESULT__COUNT; r++)
        if (buf_printf(out, err, "scimd_sso_signins_total{result=\"%s\"} %llu\n",
                       sso_result_name((enum sso_result)r),
                       (unsigned long long)sso_event_count((enum sso_result)r)) < 0)
            return -1;
    return 0;
}

bool
sso_cookie_get(const char *header, const char *name, char *out, size_t size)
{
    size_t nlen = strlen(name);
    const char *p = header;
    while (p && *p) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            size_t vlen = len - nlen - 1;
            if (vlen == 0 || vlen >= size)
                return false;
            memcpy(out, p + nlen + 1, vlen);
            out[vlen] = '\0';
            return true;
        }
        p = end;
    }
    return false;
}

void
sso_cookie_set(struct api_call *call, const char *name, const char *value, const char *same_site,
               int max_age)
{
    if (call->n_set_cookie >= 2)
        return;
    char *dst = call->set_cookie[call->n_set_cookie];
    int w = snprintf(dst, sizeof(call->set_cookie[0]),
                     "%s=%s; Path=/; Secure; HttpOnly; SameSite=%s; Max-Age=%d", name, value,
                     same_site, max_age);
    if (w > 0 && (size_t)w < sizeof(call->set_cookie[0]))
        call->n_set_cookie++;
}

const char *
sso_return_to_check(const char *value, const char *public_url)
{
    if (value == NULL)
        return NULL;
    size_t plen = public_url ? strlen(public_url) : 0;
    /* An absolute URL of this very origin (Okta sends target_link_uri absolute). */
    if (plen > 0 && strncmp(value, public_url, plen) == 0 && value[plen] == '/')
        value += plen;
    size_t n = strlen(value);
    if (n == 0 || n > 512 || value[0] != '/' || value[1] == '/' || value[1] == '\\')
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)value[i];
        /* '\' is a '/' to some browsers; control bytes and spaces end the URL early. */
        if (c <= 0x20 || c == 0x7f || c == '\\')
            return NULL;
    }
    return value;
}

/* Appends s to b with the five HTML metacharacters escaped; false when b is full. */
static bool
html_append(char *b, size_t cap, size_t *at, const char *s)
{
    for (; *s; s++) {
        const char *e = *s == '&'    ? "&amp;"
                        : *s == '<'  ? "&lt;"
                        : *s == '>'  ? "&gt;"
                        : *s == '"'  ? "&quot;"
                        : *s == '\'' ? "&#39;"
                                     : NULL;
        size_t n = e ? strlen(e) : 1;
        if (*at + n >= cap)
            return false;
        memcpy(b + *at, e ? e : s, n);
        *at += n;
    }
    b[*at] = '\0';
    return true;
}

/* Appends markup as is; false when b is full. */
static bool
html_append_lit(char *b, size_t cap, size_t *at, const char *s)
{
    size_t n = strlen(s);
    if (*at + n >= cap)
        return false;
    memcpy(b + *at, s, n + 1);
    *at += n;
    return true;
}

/* Where "Try again" leads: the console's sign-in for console flows (started at /console/,
 * whether they fail there or at the callback), else the SP-initiated sign-in of the same
 * tenant and protocol; NULL when the path names neither. *console says which. */
static const char *
retry_path(const struct api_call *call, char *out, size_t cap, bool *console)
{
    const char *slug = call->params[0];
    const char *prefix = api_public_path(call->settings->public_url);
    *console = call->sso_console_flow || (call->path && strncmp(call->path, "/console/", 9) == 0);
    if (*console) {
        int w = snprintf(out, cap, "%s/console/", prefix);
        return w > 0 && (size_t)w < cap ? out : NULL;
    }
    if (slug == NULL || slug[0] == '\0' || strlen(slug) > 63 || call->path == NULL)
        return NULL;
    for (const char *p = slug; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return NULL;
    const char *proto = strstr(call->path, "/oidc/")   ? "oidc"
                        : strstr(call->path, "/saml/") ? "saml"
                                                       : NULL;
    if (proto == NULL)
        return NULL;
    /* Back where the sign-in came: a tenant with its own public URL signs in under its path. */
    int w = snprintf(out, cap, "%s/sso/%s/%s/login", call->path_prefix ? call->path_prefix : "",
                     slug, proto);
    return w > 0 && (size_t)w < cap ? out : NULL;
}

/* One branded page: a heading, a message in a card (refused or ok), what the identity
 * provider sent (a test sign-in), and a way back. Every piece of text is escaped. */
static void
reply_page(struct api_call *call, int status, const char *title, const char *message,
           const char *note, bool refused, const json_t *received)
{
    /* The console's stylesheet and brand (docs/configuration.md "Branding"). */
    const struct api_brand *br = &call->settings->brand;
    const char *name = br->name ? br->name : "scimd";
    size_t cap = 32768, at = 0;
    char *page = xmalloc(cap), retry[420];
    bool ok = true;
#define PUT(lit) (ok = ok && html_append_lit(page, cap, &at, lit))
#define ESC(s)   (ok = ok && html_append(page, cap, &at, s))
    page[0] = '\0';
    PUT("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>");
    ESC(title);
    PUT(" \xc2\xb7 ");
    ESC(name);
    PUT("</title>");
    if (br->stylesheet[0]) {
        PUT("<link rel=\"stylesheet\" href=\"");
        ESC(br->stylesheet);
        PUT("\"><link rel=\"stylesheet\" href=\"");
        ESC(api_public_path(call->settings->public_url));
        PUT("/console/brand.css\">");
    }
    PUT("</head><body class=\"sso-error\"><header class=\"top\"><span class=\"brand\">");
    if (br->logo_url) {
        PUT("<img class=\"logo\" alt=\"\" src=\"");
        ESC(br->logo_url);
        PUT("\">");
    }
    ESC(name);
    PUT("</span></header><main><h1>");
    ESC(title);
    PUT(refused ? "</h1><div class=\"card refused\" role=\"alert\"><p>"
                : "</h1><div class=\"card\" role=\"status\"><p>");
    ESC(message);
    PUT("</p><p class=\"muted\">");
    ESC(note);
    PUT("</p></div>");
    if (json_object_size(received) > 0) {
        PUT("<div class=\"card\"><h2>What the identity provider sent</h2><dl class=\"received\">");
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)received, k, v) {
            PUT("<dt>");
            ESC(k);
            PUT("</dt><dd>");
            char *text = json_is_string(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            ESC(text ? text : json_string_value(v) ? json_string_value(v) : "");
            free(text);
            PUT("</dd>");
        }
        PUT("</dl></div>");
    }
    bool console = false;
    const char *back = received ? NULL : retry_path(call, retry, sizeof(retry), &console);
    if (back) {
        PUT("<p class=\"actions\"><a class=\"button\" href=\"");
        ESC(back);
        PUT(console ? "\">Back to the console sign-in</a></p>" : "\">Try again</a></p>");
    }
    PUT("</main></body></html>\n");
#undef PUT
#undef ESC
    if (!ok) /* cannot happen with the configured limits; say the essential anyway */
        snprintf(page, cap, "<!doctype html><title>Sign-in</title><h1>%s</h1>\n",
                 refused ? "Sign-in failed" : "Signed in");
    api_reply_text(call, status, "text/html; charset=utf-8", page);
    free(page);
    call->sso_headers = true;
    if (br->csp[0])
        call->csp = br->csp;
}

void
sso_reply_failure(struct api_call *call, int status, const char *message)
{
    reply_page(call, status, "Sign-in failed", message,
               "Ask your administrator if this keeps happening.", true, NULL);
}

int
sso_reply_redirect(struct api_call *call, const char *location, struct err *err)
{
    if (strlen(location) >= sizeof(call->location))
        return err_set(err, ERR_INTERNAL, "redirect URL is too long");
    str_copy(call->location, sizeof(call->location), location);
    api_reply_empty(call, 302);
    call->sso_headers = true;
    return 0;
}

int
sso_url_encode(struct buf *b, const char *s, struct err *err)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char enc[3] = { '%', hex[*p >> 4], hex[*p & 15] };
        bool keep = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~';
        if (buf_append(b, keep ? (const char *)p : enc, keep ? 1 : 3, err) < 0)
            return -1;
    }
    return 0;
}

char *
sso_base64_encode(const void *in, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = in;
    char *o = xmalloc((n + 2) / 3 * 4 + 1), *w = o;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        *w++ = a[(v >> 18) & 63];
        *w++ = a[(v >> 12) & 63];
        *w++ = i + 1 < n ? a[(v >> 6) & 63] : '=';
        *w++ = i + 2 < n ? a[v & 63] : '=';
    }
    *w = '\0';
    return o;
}

char *
sso_form_get(const char *body, size_t len, const char *name)
{
    size_t nlen = strlen(name);
    const char *p = body, *end = body + len;
    while (p && p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *fe = amp ? amp : end;
        if ((size_t)(fe - p) > nlen && memcmp(p, name, nlen) == 0 && p[nlen] == '=') {
            const char *v = p + nlen + 1;
            char *o = xmalloc((size_t)(fe - v) + 1), *w = o;
            for (; v < fe; v++) {
                if (*v == '+') {
                    *w++ = ' ';
                } else if (*v == '%') {
                    bool room = fe - v > 2;
                    int hi = room ? str_hex_value(v[1]) : -1, lo = room ? str_hex_value(v[2]) : -1;
                    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                        free(o);
                        return NULL;
                    }
                    *w++ = (char)(hi * 16 + lo);
                    v += 2;
                } else {
                    *w++ = *v;
                }
            }
            *w = '\0';
            return o;
        }
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

int
sso_random_token(char out[44], struct err *err)
{
    unsigned char raw[32];
    if (crypto_random(raw, sizeof(raw), err) < 0)
        return -1;
    crypto_base64url(raw, sizeof(raw), out, 44);
    crypto_wipe(raw, sizeof(raw));
    return 0;
}

void
sso_hash(const char *s, char out[65])
{
    crypto_sha256_hex(s, strlen(s), out);
}

static bool
okta_domain(const char *host, size_t n)
{
    static const char *const domains[] = { ".okta.com", ".oktapreview.com", ".okta-emea.com" };
    for (size_t i = 0; i < sizeof(domains) / sizeof(domains[0]); i++) {
        size_t d = strlen(domains[i]);
        if (n > d && strncasecmp(host + n - d, domains[i], d) == 0)
            return true;
    }
    return false;
}

int
sso_okta_admin_check(const char *field, const char *url, bool okta_only, struct err *err)
{
    const char *host = url ? strstr(url, "://") : NULL;
    if (host == NULL)
        return 0;
    host += 3;
    size_t label = strcspn(host, ".:/?#"), hlen = strcspn(host, ":/?#");
    if (label <= 6 || strncasecmp(host + label - 6, "-admin", 6) != 0)
        return 0;
    if (okta_only && !okta_domain(host, hlen))
        return 0;
    /* The right URL: same scheme, the host lower-cased without "-admin", the rest as given. */
    char right[512];
    size_t scheme = (size_t)(host - url), k = 0;
    if (scheme + hlen + 1 > sizeof(right))
        return err_set(err, ERR_INVALID_VALUE, "%s: an Okta admin console URL is not the org URL",
                       field);
    for (size_t i = 0; i < scheme; i++)
        right[k++] = url[i];
    for (size_t i = 0; i < hlen; i++) {
        if (i >= label - 6 && i < label)
            continue;
        char ch = host[i];
        right[k++] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
    }
    right[k] = '\0';
    return err_set(err, ERR_INVALID_VALUE,
                   "%s: %.200s is the Okta admin console URL; use %s%.200s instead (the org URL "
                   "people sign in at)",
                   field, url, right, host + hlen);
}

int
sso_conn_load(struct api_call *call, const char *protocol, struct store_tenant *t,
              struct store_sso_conn *conn, json_t **config, struct err *err)
{
    *config = NULL;
    *conn = (struct store_sso_conn){ 0 };
    if (tenant_get(call->store, call->params[0], t, err) < 0)
        return -1;
    return sso_conn_of(call, protocol, t, conn, config, err);
}

int
sso_conn_of(struct api_call *call, const char *protocol, const struct store_tenant *t,
            struct store_sso_conn *conn, json_t **config, struct err *err)
{
    *config = NULL;
    *conn = (struct store_sso_conn){ 0 };
    str_copy(call->log_tenant, sizeof(call->log_tenant), t->slug);
    if (signin_conn_get(call->store, t->id, protocol, conn, err) < 0)
        return -1;
    *config = json_loads(conn->config ? conn->config : "", 0, NULL);
    if (!json_is_object(*config)) {
        json_decref(*config);
        *config = NULL;
        store_sso_conn_cleanup(conn);
        return err_set(err, ERR_INTERNAL, "stored %s connection does not parse", protocol);
    }
    return 0;
}

bool
sso_test_asked(struct api_call *call)
{
    const char *v = api_call_arg(call, "test");
    return v && strcmp(v, "1") == 0;
}

struct sso_flow
sso_flow_of(const json_t *tx, const char *initiated)
{
    const char *rt = json_string_value(json_object_get(tx, "return_to"));
    return (struct sso_flow){
        .initiated = initiated,
        .return_to = rt,
        .console = json_is_true(json_object_get(tx, "console")),
        .test = json_is_true(json_object_get(tx, "test")),
    };
}

/* Claims that say nothing to the admin reading a test (protocol bookkeeping). */
static bool
noise(const char *key)
{
    static const char *const skip[] = { "nonce", "at_hash", "c_hash", "s_hash", "sid", "jti" };
    for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
        if (strcmp(key, skip[i]) == 0)
            return true;
    return false;
}

static json_t *
cut(const json_t *v, int depth)
{
    if (json_is_string(v) && json_string_length(v) > 256)
        return json_stringn(json_string_value(v),
                            str_utf8_prefix(json_string_value(v), json_string_length(v), 256));
    if (json_is_array(v)) {
        json_t *a = json_array();
        for (size_t i = 0; i < json_array_size(v) && i < 20; i++)
            json_array_append_new(a, depth < 2 ? cut(json_array_get(v, i), depth + 1)
                                               : json_string("…"));
        return a;
    }
    if (json_is_object(v))
        return depth < 2 ? sso_received(v) : json_string("…");
    return json_deep_copy(v);
}

json_t *
sso_received(const json_t *claims)
{
    json_t *out = json_object();
    const char *k;
    json_t *v;
    size_t n = 0;
    json_object_foreach((json_t *)claims, k, v) {
        if (noise(k) || strlen(k) > 128)
            continue;
        if (++n > 40)
            break;
        json_object_set_new(out, k, cut(v, 1));
    }
    return out;
}

/* The end of a test sign-in: the outcome and what the identity provider sent, on a page of
 * its own (the console shows the same from the event). Nothing is handed off. */
static void
finish_test(struct api_call *call, const struct store_tenant *t, const char *protocol,
            const struct sso_flow *flow, const struct store_resource *user, const char *reason,
            const char *refused_user)
{
    char msg[600];
    if (user) {
        struct err ignored = { 0 };
        if (signin_conn_verified(call->store, t->id, protocol, &ignored) < 0)
            log_warn("sso: cannot record the first sign-in of tenant %s: %s", t->slug,
                     ignored.detail);
        sso_event_test(call, t, protocol, flow->initiated, SSO_RESULT_SUCCESS, "ok", user->id,
                       flow->received);
        snprintf(msg, sizeof(msg), "The test sign-in worked: it matched the user %.320s.",
                 user->user_name ? user->user_name : user->id);
        reply_page(call, 200, "Test sign-in", msg,
                   "The connection is verified. Nobody was signed in to the application; you "
                   "can close this window.",
                   false, flow->received);
        return;
    }
    const char *why = reason ? reason : "error";
    sso_event_test(call, t, protocol, flow->initiated, SSO_RESULT_REJECTED, why, refused_user,
                   flow->received);
    snprintf(msg, sizeof(msg), "The test sign-in was refused (%.100s).", why);
    reply_page(call, 403, "Test sign-in", msg,
               "The console shows what to fix. You can close this window.", true, flow->received);
}

int
sso_finish(struct api_call *call, const struct store_tenant *t, const json_t *config,
           const char *protocol, const char *issuer, const char *subject, const char *email,
           const struct sso_flow *flow, struct err *err)
{
    struct store_resource user;
    const char *reason = NULL;
    const char *initiated = flow->initiated;
    char code[44], refused_user[37];
    struct buf b;
    if (signin_user_resolve(call->store, t->id, protocol, issuer, subject, email, &user,
                            refused_user, &reason, err) < 0) {
        bool refused = err->code == ERR_FORBIDDEN;
        /* docs/api.md: the event is about the user when one was identified (a deactivated
         * one), so an admin sees who tried. */
        const char *who = refused && refused_user[0] ? refused_user : NULL;
        if (flow->test) {
            finish_test(call, t, protocol, flow, NULL, refused ? reason : "store_error", who);
            return 0;
        }
        sso_event(call, t, protocol, initiated, refused ? SSO_RESULT_REJECTED : SSO_RESULT_ERROR,
                  refused ? reason : "store_error", who);
        sso_reply_failure(call, 403, "Your account is not allowed to sign in here.");
        return 0;
    }
    if (flow->test) {
        finish_test(call, t, protocol, flow, &user, NULL, NULL);
        store_resource_cleanup(&user);
        return 0;
    }
    int rc = -1;
    const char *return_to = flow->return_to;
    const char *complete = json_string_value(json_object_get(config, "signInCompleteUrl"));
    if (complete == NULL)
        complete = call->settings->sso_complete_url; /* the host's page for every tenant */
    buf_init(&b, sizeof(call->location) - 1);
    if (complete == NULL) {
        err_set(err, ERR_INTERNAL,
                "connection has no signInCompleteUrl and no sso_complete_url is set");
        goto out;
    }
    if (signin_code_issue(call->store, t->id, user.id, protocol, initiated, code, err) < 0)
        goto out;
    struct err ignored = { 0 };
    if (signin_conn_verified(call->store, t->id, protocol, &ignored) < 0)
        log_warn("sso: cannot record the first sign-in of tenant %s: %s", t->slug, ignored.detail);
    if (flow->console) {
        rc = sso_console_finish(call, t, protocol, initiated, code, err);
        goto out;
    }
    if (buf_printf(&b, err, "%s%scode=%s&tenant=%s", complete, strchr(complete, '?') ? "&" : "?",
                   code, t->slug) < 0 ||
        (return_to &&
         (buf_append_cstr(&b, "&return_to=", err) < 0 || sso_url_encode(&b, return_to, err) < 0)) ||
        sso_reply_redirect(call, b.data, err) < 0)
        goto out;
    sso_event(call, t, protocol, initiated, SSO_RESULT_SUCCESS, "ok", user.id);
    rc = 0;
out:
    crypto_wipe(code, sizeof(code));
    buf_cleanup(&b);
    store_resource_cleanup(&user);
    if (rc < 0)
        sso_event(call, t, protocol, initiated, SSO_RESULT_ERROR, "handoff_failed", NULL);
    return rc;
}
