#include "api/call.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/crypto.h"
#include "base/limits.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "core/directory.h"
#include "core/token.h"

const char *
api_call_arg(const struct api_call *call, const char *name)
{
    for (int i = 0; i < call->n_args; i++)
        if (strcmp(call->args[i].key, name) == 0)
            return call->args[i].value;
    return NULL;
}

bool
api_content_type_is_json(const char *content_type)
{
    /* RFC 7644 §3.1 (and §8.1): application/scim+json, and application/json beside it; an
     * absent header is taken as JSON (curl --data-binary and many scripts send none). */
    if (content_type == NULL)
        return true;
    const char *s = content_type;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strcspn(s, "; \t");
    const char *p = s + n;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '\0' && *p != ';')
        return false;
    struct str type = { s, n };
    return str_ieq(type, STR_LIT("application/scim+json")) ||
           str_ieq(type, STR_LIT("application/json"));
}

bool
api_etag_next(const char **p, const char **tag, size_t *n)
{
    const char *s = *p;
    while (*s == ' ' || *s == ',')
        s++;
    if (*s == '\0')
        return false;
    const char *e = strchr(s, ',');
    size_t len = e ? (size_t)(e - s) : strlen(s);
    *p = e ? e + 1 : s + len;
    while (len > 0 && s[len - 1] == ' ')
        len--;
    if (len >= 2 && s[0] == 'W' && s[1] == '/') {
        s += 2;
        len -= 2;
    }
    *tag = s;
    *n = len;
    return true;
}

bool
api_etag_listed(const char *list, const char *tag)
{
    if (tag[0] == 'W' && tag[1] == '/')
        tag += 2;
    const size_t tag_len = strlen(tag);
    const char *p = list, *t;
    size_t n;
    for (int i = 0; i < 64 && api_etag_next(&p, &t, &n); i++)
        if ((n == 1 && t[0] == '*') || (n == tag_len && memcmp(t, tag, n) == 0))
            return true;
    return false;
}

const char *
api_tenant_url(const struct api_settings *s, const struct store_tenant *t)
{
    return t && t->public_url[0] ? t->public_url : s->public_url;
}

const char *
api_scim_base_url(const struct api_settings *s, const struct store_tenant *t,
                  char out[API_SCIM_BASE_URL_MAX])
{
    int n = snprintf(out, API_SCIM_BASE_URL_MAX, "%s/scim/v2", api_tenant_url(s, t));
    /* Never truncated: both URLs are bounded (call.h). */
    assert(n >= 0 && (size_t)n < API_SCIM_BASE_URL_MAX);
    (void)n;
    return out;
}

const char *
api_public_path(const char *public_url)
{
    if (public_url == NULL)
        return "";
    const char *p = strstr(public_url, "://");
    p = p ? p + 3 : public_url;
    const char *slash = strchr(p, '/');
    return slash ? slash : "";
}

json_t *
api_call_body_json(const struct api_call *call, struct err *err)
{
    json_error_t je;
    if (call->body == NULL || call->body_len == 0) {
        err_set(err, ERR_INVALID_SYNTAX, "the request needs a JSON body");
        return NULL;
    }
    if (!api_content_type_is_json(call->content_type)) {
        err_set(err, ERR_UNSUPPORTED_MEDIA,
                "the body must be application/scim+json or application/json, not \"%.60s\"",
                call->content_type);
        return NULL;
    }
    json_t *j = json_loadb(call->body, call->body_len, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL) {
        err_set(err, ERR_INVALID_SYNTAX, "invalid JSON at line %d column %d: %.120s", je.line,
                je.column, je.text);
        return NULL;
    }
    return j;
}

static void
reply_reset(struct api_call *call)
{
    json_decref(call->json);
    free(call->text);
    call->json = NULL;
    call->text = NULL;
}

const char *
api_json_type(const struct api_call *call)
{
    return call->style == API_STYLE_SCIM ? "application/scim+json" : "application/json";
}

void
api_reply_json(struct api_call *call, int status, json_t *j)
{
    reply_reset(call);
    call->status = status;
    call->json = j;
    call->content_type_out = api_json_type(call);
}

void
api_reply_text(struct api_call *call, int status, const char *content_type, const char *text)
{
    reply_reset(call);
    call->status = status;
    call->text = xstrdup(text);
    call->content_type_out = content_type;
}

void
api_reply_empty(struct api_call *call, int status)
{
    reply_reset(call);
    call->status = status;
    call->content_type_out = NULL;
}

void
api_reply_error(struct api_call *call, const struct err *e)
{
    int status = err_status(e->code);
    const char *detail = e->detail[0] ? e->detail : err_text(e->code);
    char status_text[8];
    /* A detail that quotes input which is not UTF-8 cannot be a JSON string: the table's
     * text stands in, so the client still gets an error body. */
    if (!str_is_utf8(str_of(detail)))
        detail = err_text(e->code);
    snprintf(status_text, sizeof(status_text), "%d", status);
    if (call->style == API_STYLE_SCIM) {
        /* RFC 7644 §3.12: status is a string; scimType only for the 400/409 codes. */
        json_t *j =
            json_pack("{s:[s], s:s, s:s}", "schemas", "urn:ietf:params:scim:api:messages:2.0:Error",
                      "status", status_text, "detail", detail);
        if (err_scim_type(e->code))
            json_object_set_new(j, "scimType", json_string(err_scim_type(e->code)));
        api_reply_json(call, status, j);
    } else if (call->style == API_STYLE_ADMIN) {
        json_t *j = json_pack("{s:{s:i, s:s, s:s}}", "error", "status", status, "code",
                              err_name(e->code) + 4, "message", detail);
        api_reply_json(call, status, j);
    } else {
        char text[sizeof(e->detail) + 2];
        snprintf(text, sizeof(text), "%s\n", detail);
        api_reply_text(call, status, "text/plain; charset=utf-8", text);
    }
}

void
api_call_end_reads(struct api_call *call)
{
    if (call->reading)
        directory_read_end(call->store);
    call->reading = false;
}

void
api_call_cleanup(struct api_call *call)
{
    api_call_end_reads(call);
    store_user_read_cleanup(&call->user_read);
    reply_reset(call);
}

/* RFC 6750 §2.1: "Bearer" is case-insensitive, followed by one space and the token. */
static bool
bearer_of(const char *header, const char **tok, size_t *len)
{
    if (header == NULL || !cstr_istarts_with(header, "Bearer "))
        return false;
    const char *p = header + 7;
    while (*p == ' ')
        p++;
    size_t n = strlen(p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (n == 0)
        return false;
    /* RFC 6750 §2.1: b64token is visible ASCII; a control byte means the header was
     * built or cut by something that disagrees with us about where it ends. */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f)
            return false;
    *tok = p;
    *len = n;
    return true;
}

/* http/ named a user for the token's statement to read (by id or by userName). */
static bool
user_asked(const struct api_call *call)
{
    return call->user_read.id != NULL || call->user_read.user_name != NULL;
}

bool
api_call_read_user(const struct api_call *call)
{
    /* A refused token leaves nothing read (token_authenticate cleans up). */
    return call->authenticated && user_asked(call);
}

bool
api_call_bearer(const struct api_call *call, const char **tok, size_t *len)
{
    return bearer_of(call->authorization, tok, len);
}

int
api_auth_bearer(struct api_call *call, struct err *err)
{
    const char *tok;
    size_t len;
    if (!bearer_of(call->authorization, &tok, &len)) {
        str_copy(call->www_authenticate, sizeof(call->www_authenticate), "Bearer realm=\"scimd\"");
        call->auth_failure = "missing";
        return err_set(err, ERR_UNAUTHORIZED, "a bearer token is required");
    }
    /* A GET reads the token and then the resources: one read unit for all of it, unless the
     * token's own statement reads everything (a user by id or by userName). */
    struct store_user_read *user = user_asked(call) ? &call->user_read : NULL;
    struct err ignored;
    call->reading = user == NULL && strcmp(call->method, "GET") == 0 &&
                    directory_read_begin(call->store, &ignored) == 0;
    bool known =
        token_authenticate(call->store, tok, len, &call->token, &call->tenant, user,
                           strcmp(call->method, "GET") == 0 ? &call->read_gen : NULL, err) == 0;
    if (!known || gate_token_use(&call->settings->gate, &call->tenant, err) < 0) {
        store_user_read_cleanup(user);
        /* The lookup fills token and tenant only when the hash is a token's. */
        call->token_refused = call->token.id[0] != '\0' && call->tenant.id > 0;
        call->auth_failure =
            !known ? (err->code == ERR_UNAUTHORIZED ? "invalid_token" : NULL) : "gate";
        if (err->code == ERR_UNAUTHORIZED)
            str_copy(call->www_authenticate, sizeof(call->www_authenticate),
                     "Bearer realm=\"scimd\", error=\"invalid_token\"");
        return -1;
    }
    call->authenticated = true;
    str_copy(call->log_tenant, sizeof(call->log_tenant), call->tenant.slug);
    snprintf(call->actor, sizeof(call->actor), "token:%s", call->token.id);
    return 0;
}

bool
api_operator_key_ok(const struct api_settings *settings, const char *tok, size_t len, char *name)
{
    return api_keyring_match(settings->operator_keys, tok, len, name);
}

int
api_auth_operator(struct api_call *call, struct err *err)
{
    const char *tok;
    size_t len;
    if (api_keyring_count(call->settings->operator_keys) == 0) {
        call->auth_failure = "no_operator_key";
        return err_set(err, ERR_FORBIDDEN,
                       "the management API is disabled: no operator key is configured");
    }
    if (!bearer_of(call->authorization, &tok, &len)) {
        str_copy(call->www_authenticate, sizeof(call->www_authenticate),
                 "Bearer realm=\"scimd-admin\"");
        call->auth_failure = "missing";
        return err_set(err, ERR_UNAUTHORIZED, "the operator key is required");
    }
    if (!api_operator_key_ok(call->settings, tok, len, call->log_key)) {
        call->auth_failure = "wrong_key";
        str_copy(call->www_authenticate, sizeof(call->www_authenticate),
                 "Bearer realm=\"scimd-admin\", error=\"invalid_token\"");
        return err_set(err, ERR_UNAUTHORIZED, "the operator key is not valid");
    }
    call->authenticated = true;
    str_copy(call->actor, sizeof(call->actor), "operator");
    return 0;
}

bool
api_session_cookie(const struct api_call *call, char *out, size_t size)
{
    const char *p = call->cookie;
    const size_t name_len = sizeof(API_SESSION_COOKIE) - 1;
    /* RFC 6265 §4.2.1: "name=value" pairs separated by "; ". */
    while (p && *p) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > name_len && strncmp(p, API_SESSION_COOKIE "=", name_len + 1) == 0) {
            size_t v = len - name_len - 1;
            if (v == 0 || v >= size)
                return false;
            memcpy(out, p + name_len + 1, v);
            out[v] = '\0';
            return true;
        }
        p = end;
    }
    return false;
}

void
api_session_cookie_set(struct api_call *call, const char *sid, int64_t max_age)
{
    if (call->n_set_cookie >= 2)
        return;
    snprintf(call->set_cookie[call->n_set_cookie++], sizeof(call->set_cookie[0]),
             "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s", API_SESSION_COOKIE, sid,
             (long long)max_age, call->settings->secure_cookies ? "; Secure" : "");
}

/* Browsers send Origin with every cross-origin write and with same-origin ones too; a client
 * that sends none is no browser, and the token holds for it alone. */
bool
api_origin_is_own(const struct api_call *call)
{
    const char *origin = call->origin, *public_url = call->settings->public_url;
    if (origin == NULL)
        return true;
    /* public_url's origin: all of it before its path (the configuration checked its form). */
    const char *path = api_public_path(public_url);
    size_t n = path[0] ? (size_t)(path - public_url) : strlen(public_url);
    return strlen(origin) == n && strncasecmp(origin, public_url, n) == 0;
}

int
api_auth_admin(struct api_call *call, enum api_reach reach, const char *const *host_fields,
               struct err *err)
{
    char sid[CONSOLE_SECRET_LEN + 1];
    if (call->authorization != NULL || !api_session_cookie(call, sid, sizeof(sid)))
        return api_auth_operator(call, err);
    if (api_keyring_count(call->settings->operator_keys) == 0)
        return err_set(err, ERR_FORBIDDEN,
                       "the management API is disabled: no operator key is configured");
    int rc = console_session_check(call->store, &call->settings->gate, sid, &call->session, err);
    crypto_wipe(sid, sizeof(sid));
    if (rc < 0) {
        call->auth_failure = err->code == ERR_UNAUTHORIZED ? "session" : NULL;
        return -1;
    }
    /* A cookie rides along on any request the browser makes to this origin; the token in a
     * header proves the page itself asked (SameSite=Strict is the second line). */
    bool safe = strcmp(call->method, "GET") == 0 || strcmp(call->method, "HEAD") == 0;
    if (!safe && !console_csrf_ok(&call->session, call->csrf_header)) {
        call->auth_failure = "csrf";
        return err_set(err, ERR_FORBIDDEN, "missing or wrong X-CSRF-Token");
    }
    if (!safe && !api_origin_is_own(call)) {
        call->auth_failure = "csrf";
        return err_set(err, ERR_FORBIDDEN, "a console write from another origin");
    }
    /* A body comes as JSON, said so (docs/console.md): an operator's curl may leave the header
     * out, a session's request may not (a cross-site form cannot send application/json). */
    if (!safe && call->body_len > 0 && call->content_type == NULL)
        return err_set(err, ERR_UNSUPPORTED_MEDIA,
                       "a console request's body needs Content-Type: application/json");
    if (!call->session.operator) {
        call->auth_failure = "scope"; /* cleared below when the session reaches the route */
        if (reach == API_REACH_HOST)
            return err_set(err, ERR_FORBIDDEN,
                           "this is the host application's setting: only its operator key or the "
                           "operator's console session may use this route, not a tenant admin's "
                           "console session");
        if (reach == API_REACH_TENANT &&
            (call->params[0] == NULL || strcmp(call->params[0], call->session.tenant.slug) != 0))
            return err_set(err, ERR_FORBIDDEN, "this session reaches tenant \"%s\" only",
                           call->session.tenant.slug);
        call->auth_failure = NULL;
        snprintf(call->actor, sizeof(call->actor), "console:%s", call->session.user_id);
        call->host_fields = host_fields;
        str_copy(call->log_tenant, sizeof(call->log_tenant), call->session.tenant.slug);
    } else {
        str_copy(call->actor, sizeof(call->actor), "console:operator");
    }
    call->console = true;
    call->authenticated = true;
    return 0;
}

/* A value in a body or a stored document: JSON null reads as absent. */
static const json_t *
field_of(const json_t *o, const char *name)
{
    const json_t *v = json_object_get(o, name);
    return json_is_null(v) ? NULL : v;
}

int
api_host_fields_check(const struct api_call *call, const json_t *body, const json_t *current,
                      struct err *err)
{
    for (const char *const *f = call->host_fields; f && *f; f++) {
        if (json_object_get(body, *f) == NULL)
            continue; /* omitted: the stored value stays */
        const json_t *given = field_of(body, *f), *stored = field_of(current, *f);
        if (given == NULL && stored == NULL)
            continue;
        if (given == NULL || stored == NULL || !json_equal(given, stored))
            return err_set(err, ERR_FORBIDDEN,
                           "%s is the host application's setting: a tenant admin's console "
                           "session may omit it or repeat the stored value, not change it",
                           *f);
    }
    return 0;
}
