#ifndef SCIMD_API_CALL_H
#define SCIMD_API_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "api/keys.h"
#include "base/arena.h"
#include "base/err.h"
#include "base/limits.h"
#include "core/console.h"
#include "core/gate.h"
#include "core/webhook.h"
#include "store/store.h"

/* What http/ and the API layers share: a parsed request in, a status and a body out.
 * Handlers see no libmicrohttpd type, so their tests need no socket. */

/* Settings the API layers read (immutable after start-up; shared by all threads). */
/* Branding from the configuration (docs/configuration.md "Branding"), on every console page
 * and sign-in error page. Filled once at start by console_brand_init(), then read-only. */
struct api_brand {
    const char *name;     /* product name */
    const char *logo_url; /* https:// or data:image/ URL (checked by the config); NULL: none */
    const char *color;    /* accent colour, "#rrggbb" */
    char stylesheet[96];  /* the console's hashed stylesheet, "/console/assets/app.….css" */
    char csp[768];        /* console and sign-in error pages: img-src adds the logo's origin */
};

struct api_settings {
    const char *public_url;            /* "https://id.example.com", no trailing slash */
    struct api_keyring *operator_keys; /* management API keys (api/keys.h); none: disabled */
    int64_t page_max;                  /* ServiceProviderConfig filter.maxResults */
    /* RFC 9865 cursor paging: the 32-byte key signing cursors (derived from the newest sso key,
     * else the database's own; NULL: cursor paging refused) and their lifetime in seconds. */
    const unsigned char *cursor_key;
    int64_t cursor_timeout_s;
    int64_t token_overlap_s;  /* default overlap when rotating a token */
    size_t body_max;          /* request body limit, for ServiceProviderConfig */
    int64_t bulk_max_ops;     /* /Bulk maxOperations */
    int64_t bulk_max_payload; /* /Bulk maxPayloadSize, bytes (<= body_max) */
    struct gate_policy gate;  /* which plans include SCIM */
    struct webhook_settings webhooks;
    /* single sign-on (issue 7) */
    const struct seal_keyring *sso_keys; /* seals OIDC client secrets; NULL or empty: none */
    bool sso_allow_http;                 /* sso_test_http: plain http, internal addresses */
    /* The host's own addresses of the shared OIDC callback and initiate-login URI (it
     * forwards them to /sso/oidc/…); NULL: public_url's. */
    const char *sso_shared_redirect_uri;
    const char *sso_shared_initiate_uri;
    const char *sso_complete_url;  /* the host's redemption page for connections without a
                                      signInCompleteUrl of their own; NULL: none */
    struct console_policy console; /* console session and set-up link lifetimes */
    bool secure_cookies;           /* TLS or an https public URL: cookies get Secure */
    struct api_brand brand;        /* product name, logo, colour */
};

/* Which error body a route speaks. */
enum api_style {
    API_STYLE_SCIM,  /* RFC 7644 §3.12 error, application/scim+json */
    API_STYLE_ADMIN, /* {"error": {"status", "code", "message"}}, application/json */
    API_STYLE_PLAIN, /* text/plain */
};

#define API_MAX_PARAMS 4
#define API_MAX_ARGS   32

struct api_arg {
    const char *key;
    const char *value;
};

struct api_call {
    /* request, borrowed from http/ for the duration of the call */
    const char *method;
    const char *path;        /* without path_prefix */
    const char *path_prefix; /* the public path the request came under and http/ stripped: ""
                                public_url's path, or a tenant's own (docs/deploy.md) */
    const char *params[API_MAX_PARAMS]; /* route parameters, in pattern order */
    struct api_arg args[API_MAX_ARGS];  /* query string, decoded */
    int n_args;
    const char *authorization;
    const char *content_type;
    const char *if_match;
    const char *if_none_match;
    const char *cookie;      /* the Cookie header (console sessions) */
    const char *csrf_header; /* X-CSRF-Token (console sessions) */
    const char *origin;      /* Origin (console session writes), or NULL */
    const char *body;        /* NUL-terminated; NULL when empty */
    size_t body_len;

    const struct api_settings *settings;
    struct store *store;
    struct arena *arena;
    enum api_style style;

    /* set by authentication */
    bool authenticated;
    /* A refused bearer token that is one of a tenant's (revoked, expired, or its tenant's
     * gate closed): `tenant` and `token` say whose, so the refusal is in that token's request
     * log (core/reqlog.h) where its tenant admin looks for why the IdP fails. */
    bool token_refused;
    struct store_tenant tenant;
    struct store_token token;
    char actor[64]; /* who acts, for audit events: "token:<id>" or "operator" */
    bool host;      /* the host application acts through the management API */
    /* The role of the user this write removed (the tenant's deactivation policy): the host's
     * view of the answer shows it, as the user can no longer be read (scim/render.c). */
    struct store_user_role removed_role;
    /* Why authentication failed, for /metrics (a static name: "missing", "invalid_token",
     * "gate", "wrong_key", "no_operator_key", "session", "csrf", "scope"), or NULL. */
    const char *auth_failure;
    bool reading; /* inside directory_read_begin (a GET); ended by api_call_end_reads */
    /* GET /Users/{id} and a `userName eq` filter: http/ sets user_read.id or .user_name
     * before api_auth_bearer, which reads that user (of the token's tenant) and its groups in
     * the token's own statement (api_call_read_user says whether the handler has them; it
     * then reads nothing more). */
    struct store_user_read user_read;
    /* A GET's: the database's generation as its token's read saw it (store_generation), for
     * http/ to keep the answer under (call->cacheable). */
    struct store_generation read_gen;
    /* set when a console session cookie authenticated the call (api_auth_admin) */
    bool console;
    struct console_session session;
    /* body fields the caller may not change (a tenant admin's session on a route with host
     * fields: http_router_host_fields); NULL when it may set every field */
    const char *const *host_fields;

    /* response */
    int status;
    json_t *json; /* owned */
    char *text;   /* owned, when not JSON */
    const char *content_type_out;
    char etag[48];
    char location[4096]; /* SSO redirects carry a deflated SAML AuthnRequest */
    char www_authenticate[128];
    char set_cookie[2][320]; /* Set-Cookie headers (SSO transaction cookies) */
    int n_set_cookie;
    bool sso_headers;          /* SSO pages: no framing, no referrer (SSO.md (a), (c)) */
    bool sso_console_flow;     /* the sign-in being finished began at /console/sso/{t} */
    const char *cache_control; /* NULL: no-store */
    const char *csp;           /* Content-Security-Policy; NULL: the strict API default */
    /* Set by a GET handler whose 200 depends on the request and the committed database alone
     * (no clock, no signed cursor): http/ may then serve the same bytes again while the
     * database is unchanged (http/answers.h). */
    bool cacheable;
    char log_tenant[64];                /* tenant slug for the access log */
    char log_key[API_KEY_NAME_MAX + 1]; /* the operator key's name, for the access log */
};

/* A request handler: replies through call, or returns -1 with err for http/ to render. */
typedef int (*api_handler_fn)(struct api_call *call, struct err *err);

/* The next entity tag of a comma-separated If-Match / If-None-Match list at *p (blanks
 * trimmed, a W/ prefix dropped) in tag[0..*n), and *p moved past it; false at the end. */
bool api_etag_next(const char **p, const char **tag, size_t *n);

/* True when a comma-separated If-Match / If-None-Match list names tag (W/ or not: the weak
 * comparison of RFC 9110 §8.8.3.2) or is "*". At most 64 entries are read. */
bool api_etag_listed(const char *list, const char *tag);

/* The path part of a public URL ("https://api.example.com/api/v1" → "/api/v1"), "" when it
 * has none: scimd serves everything under it as well as at the root (docs/deploy.md). */
/* Whether the call's Origin header, if it sent one, is the deployment's own: the scheme, host
 * and port of public_url, where the console is served. A console write must come from there
 * (../shared/SSO.md: a synchronizer token and an Origin check). */
bool api_origin_is_own(const struct api_call *call);
const char *api_public_path(const char *public_url);

/* The public URL of what scimd writes for tenant t (SCIM locations, the SCIM base URL, SSO
 * values): the tenant's own publicUrl when it has one, else the deployment's public_url
 * (docs/deploy.md "A tenant on its own host"). Borrowed from s or t. The management API and the
 * console stay on the deployment's public_url. */
const char *api_tenant_url(const struct api_settings *s, const struct store_tenant *t);

/* The SCIM base URL of tenant t, the one the IT admin pastes into the identity provider ("SCIM
 * connector base URL", "Tenant URL"): api_tenant_url + "/scim/v2", written into out. The one
 * place it is spelled: the console session, the tenant representation, the token answers and
 * SCIM discovery all use it. Both public URLs are at most LIMIT_PUBLIC_URL_BYTES (refused
 * beyond at start and on write), so API_SCIM_BASE_URL_MAX always holds it. Returns out. */
#define API_SCIM_BASE_URL_MAX (LIMIT_PUBLIC_URL_BYTES + sizeof("/scim/v2"))
const char *api_scim_base_url(const struct api_settings *s, const struct store_tenant *t,
                              char out[API_SCIM_BASE_URL_MAX]);

/* A query-string argument by name (case-sensitive), or NULL. */
const char *api_call_arg(const struct api_call *call, const char *name);

/* True when a request's Content-Type names JSON: application/scim+json or application/json
 * (any case, parameters such as charset allowed), or is absent. */
bool api_content_type_is_json(const char *content_type);

/* Parses the body as a JSON object/array (ERR_INVALID_SYNTAX with the parser's message, or
 * for an empty body; ERR_UNSUPPORTED_MEDIA when the Content-Type is not JSON). New
 * reference. Duplicate keys are refused. */
json_t *api_call_body_json(const struct api_call *call, struct err *err);

/* The media type of a JSON answer in the call's style: application/scim+json under /scim/
 * (RFC 7644 §8.1), application/json elsewhere (the management API's users are SCIM documents
 * in a JSON API). */
const char *api_json_type(const struct api_call *call);

/* Sets the reply; takes the reference to j. */
void api_reply_json(struct api_call *call, int status, json_t *j);
void api_reply_text(struct api_call *call, int status, const char *content_type, const char *text);
void api_reply_empty(struct api_call *call, int status);

/* Renders e as the error body of the call's style and sets status and content type. */
void api_reply_error(struct api_call *call, const struct err *e);

/* Frees the reply. */
void api_call_cleanup(struct api_call *call);

/* Ends the read unit a GET's authentication opened (no-op otherwise); call once the
 * handler is done, before the reply is sent. */
void api_call_end_reads(struct api_call *call);

/* Bearer authentication for /scim/v2: fills call->tenant and call->token, or fails with
 * ERR_UNAUTHORIZED and sets WWW-Authenticate (RFC 6750 §3). */
int api_auth_bearer(struct api_call *call, struct err *err);
/* True when api_auth_bearer accepted the token and read call->user_read with it (the user
 * and its groups of GET /Users/{id} or of a `userName eq` filter). */
bool api_call_read_user(const struct api_call *call);
/* The bearer token of the Authorization header (RFC 6750 §2.1) into *tok, *len (borrowed):
 * false, leaving them as they are, when there is none. */
bool api_call_bearer(const struct api_call *call, const char **tok, size_t *len);

/* Operator authentication for /admin/v1: "Authorization: Bearer <operator key>", compared
 * in constant time. */
int api_auth_operator(struct api_call *call, struct err *err);

/* True when tok[0..len) is one of the operator keys (constant time); its name goes to name
 * (API_KEY_NAME_MAX + 1 bytes, may be NULL). False when none is configured. */
bool api_operator_key_ok(const struct api_settings *settings, const char *tok, size_t len,
                         char *name);

/* Which console sessions a management route admits besides the operator's. */
enum api_reach {
    API_REACH_HOST,    /* the host application only: its operator key or console session */
    API_REACH_TENANT,  /* also a tenant admin's session, for its own tenant (params[0]) */
    API_REACH_SESSION, /* also any tenant admin's session: process-wide facts, no tenant */
};

/* Authentication for /admin/v1 routes, by the operator key (api_auth_operator) or, without an
 * Authorization header, by a console session cookie. A session must send its CSRF token in
 * X-CSRF-Token on every request that is not GET or HEAD. The operator's session reaches every
 * route: it is the host application's. A tenant admin's session reaches only API_REACH_TENANT
 * routes (the rule table of http/router.c, docs/api.md "Who may change what") whose tenant
 * (params[0]) is its own, and API_REACH_SESSION routes; its actor is "console:<user id>",
 * call->session names the admin it acts for, and call->host_fields becomes host_fields
 * (borrowed, static). ERR_UNAUTHORIZED without valid credentials, ERR_FORBIDDEN outside the
 * session's reach. */
int api_auth_admin(struct api_call *call, enum api_reach reach, const char *const *host_fields,
                   struct err *err);

/* The field half of the rule table: fails with ERR_FORBIDDEN when body names one of
 * call->host_fields with a value other than the one stored in current (absent and null are the
 * same; current may be NULL when nothing is stored). Omitting such a field or repeating the
 * stored value passes. No-op for the host (call->host_fields NULL). */
int api_host_fields_check(const struct api_call *call, const json_t *body, const json_t *current,
                          struct err *err);

/* The console session id from the Cookie header into out (size CONSOLE_SECRET_LEN + 1), or
 * false when there is none. */
bool api_session_cookie(const struct api_call *call, char *out, size_t size);

/* The name of the console session cookie. */
#define API_SESSION_COOKIE "scimd_console"

/* Adds the console session cookie to the reply (RFC 6265 §4.1): readable by no script, sent
 * on same-site requests only, Secure when the settings say so; max_age 0 clears it. Shared by
 * the console's sign-ins (operator key, set-up link) and the SSO sign-in into the console. */
void api_session_cookie_set(struct api_call *call, const char *sid, int64_t max_age);

#endif
