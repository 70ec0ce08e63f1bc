#include "http/router.h"

#include <stdio.h>
#include <string.h>

#include "admin/admin.h"
#include "base/limits.h"
#include "base/str.h"
#include "console/console.h"
#include "http/handlers.h"
#include "scim/scim.h"
#include "sso/console.h"
#include "sso/manage.h"
#include "sso/oidc.h"
#include "sso/samlsp.h"

#define SCIM  API_STYLE_SCIM
#define ADMIN API_STYLE_ADMIN
#define PLAIN API_STYLE_PLAIN

static const struct route routes[] = {
    { "GET", "/healthz", http_healthz_get, PLAIN, ROUTE_AUTH_NONE },
    { "GET", "/metrics", http_metrics_get, PLAIN, ROUTE_AUTH_NONE },

    /* SCIM 2.0 service provider (RFC 7644), one base URL for every tenant. */
    { "GET", "/scim/v2/ServiceProviderConfig", scim_discovery_spc, SCIM, ROUTE_AUTH_BEARER },
    { "GET", "/scim/v2/ResourceTypes", scim_discovery_resource_types, SCIM, ROUTE_AUTH_BEARER },
    { "GET", "/scim/v2/ResourceTypes/{name}", scim_discovery_resource_type, SCIM,
      ROUTE_AUTH_BEARER },
    { "GET", "/scim/v2/Schemas", scim_discovery_schemas, SCIM, ROUTE_AUTH_BEARER },
    { "GET", "/scim/v2/Schemas/{urn}", scim_discovery_schema, SCIM, ROUTE_AUTH_BEARER },
    { "GET", "/scim/v2/Users", scim_users_list, SCIM, ROUTE_AUTH_BEARER },
    { "POST", "/scim/v2/Users", scim_users_post, SCIM, ROUTE_AUTH_BEARER },
    { "POST", "/scim/v2/Users/.search", scim_users_search, SCIM, ROUTE_AUTH_BEARER },
    { "GET", "/scim/v2/Users/{id}", scim_users_get, SCIM, ROUTE_AUTH_BEARER },
    { "PUT", "/scim/v2/Users/{id}", scim_users_put, SCIM, ROUTE_AUTH_BEARER },
    { "PATCH", "/scim/v2/Users/{id}", scim_users_patch, SCIM, ROUTE_AUTH_BEARER },
    { "DELETE", "/scim/v2/Users/{id}", scim_users_delete, SCIM, ROUTE_AUTH_BEARER },
    { "GET", "/scim/v2/Groups", scim_groups_list, SCIM, ROUTE_AUTH_BEARER },
    { "POST", "/scim/v2/Groups", scim_groups_post, SCIM, ROUTE_AUTH_BEARER },
    { "POST", "/scim/v2/Groups/.search", scim_groups_search, SCIM, ROUTE_AUTH_BEARER },
    { "GET", "/scim/v2/Groups/{id}", scim_groups_get, SCIM, ROUTE_AUTH_BEARER },
    { "PUT", "/scim/v2/Groups/{id}", scim_groups_put, SCIM, ROUTE_AUTH_BEARER },
    { "PATCH", "/scim/v2/Groups/{id}", scim_groups_patch, SCIM, ROUTE_AUTH_BEARER },
    { "DELETE", "/scim/v2/Groups/{id}", scim_groups_delete, SCIM, ROUTE_AUTH_BEARER },
    { "POST", "/scim/v2/Bulk", scim_bulk_post, SCIM, ROUTE_AUTH_BEARER },

    /* Management API for the host application (operator key). The last column is the rule
     * table of "who may change what" (docs/api.md, checked by test_permissions.py):
     * ROUTE_AUTH_TENANT routes also admit a tenant admin's console session for its own tenant
     * (SSO connection values, role map, tokens, and reads); ROUTE_AUTH_SESSION ones any
     * console session (process-wide facts such as the role catalogue); ROUTE_AUTH_HOST routes are
     * the host's alone (tenants, users' writes, webhooks, set-up links, redeem). */
    { "GET", "/admin/v1/tenants", admin_tenants_list, ADMIN, ROUTE_AUTH_HOST },
    { "POST", "/admin/v1/tenants", admin_tenants_post, ADMIN, ROUTE_AUTH_HOST },
    { "GET", "/admin/v1/roles", admin_roles_get, ADMIN, ROUTE_AUTH_SESSION },
    /* This API's OpenAPI document (docs/openapi.json): it describes, it grants nothing. */
    { "GET", "/admin/v1/openapi.json", admin_openapi_get, ADMIN, ROUTE_AUTH_NONE },
    /* The keys verifying SCIM event SETs (docs/webhooks.md): public, as any JWKS. */
    { "GET", "/events/v1/jwks.json", admin_set_jwks_get, PLAIN, ROUTE_AUTH_NONE },
    /* RFC 8936 polling: the stream's own secret, checked by the handler. */
    { "POST", "/events/v1/{tenant}/poll/{id}", admin_set_poll, PLAIN, ROUTE_AUTH_NONE },
    { "GET", "/admin/v1/tenants/{tenant}", admin_tenants_get, ADMIN, ROUTE_AUTH_TENANT },
    { "PATCH", "/admin/v1/tenants/{tenant}", admin_tenants_patch, ADMIN, ROUTE_AUTH_HOST },
    { "DELETE", "/admin/v1/tenants/{tenant}", admin_tenants_delete, ADMIN, ROUTE_AUTH_HOST },
    { "GET", "/admin/v1/tenants/{tenant}/tokens", admin_tokens_list, ADMIN, ROUTE_AUTH_TENANT },
    { "POST", "/admin/v1/tenants/{tenant}/tokens", admin_tokens_post, ADMIN, ROUTE_AUTH_TENANT },
    { "POST", "/admin/v1/tenants/{tenant}/tokens/{id}/revoke", admin_tokens_revoke, ADMIN,
      ROUTE_AUTH_TENANT },
    { "DELETE", "/admin/v1/tenants/{tenant}/tokens/{id}", admin_tokens_revoke, ADMIN,
      ROUTE_AUTH_TENANT },
    { "POST", "/admin/v1/tenants/{tenant}/tokens/{id}/rotate", admin_tokens_rotate, ADMIN,
      ROUTE_AUTH_TENANT },
    { "GET", "/admin/v1/tenants/{tenant}/token-gate", admin_token_gate, ADMIN, ROUTE_AUTH_TENANT },
    { "GET", "/admin/v1/tenants/{tenant}/role-map", admin_role_map_get, ADMIN, ROUTE_AUTH_TENANT },
    { "PUT", "/admin/v1/tenants/{tenant}/role-map", admin_role_map_put, ADMIN, ROUTE_AUTH_TENANT },
    { "GET", "/admin/v1/tenants/{tenant}/users", admin_users_list, ADMIN, ROUTE_AUTH_TENANT },
    { "POST", "/admin/v1/tenants/{tenant}/users", admin_users_post, ADMIN, ROUTE_AUTH_HOST },
    { "GET", "/admin/v1/tenants/{tenant}/users/{id}", admin_users_get, ADMIN, ROUTE_AUTH_TENANT },
    { "PUT", "/admin/v1/tenants/{tenant}/users/{id}", admin_users_put, ADMIN, ROUTE_AUTH_HOST },
    { "PATCH", "/admin/v1/tenants/{tenant}/users/{id}", admin_users_patch, ADMIN, ROUTE_AUTH_HOST },
    { "DELETE", "/admin/v1/tenants/{tenant}/users/{id}", admin_users_delete, ADMIN,
      ROUTE_AUTH_HOST },
    { "POST", "/admin/v1/tenants/{tenant}/users/{id}/deactivate", admin_users_deactivate, ADMIN,
      ROUTE_AUTH_HOST },
    { "POST", "/admin/v1/tenants/{tenant}/users/{id}/reactivate", admin_users_reactivate, ADMIN,
      ROUTE_AUTH_HOST },
    { "GET", "/admin/v1/tenants/{tenant}/users/{id}/role", admin_user_role_get, ADMIN,
      ROUTE_AUTH_TENANT },
    /* Webhooks are the host's plumbing (issue 13 item 6): their URLs receive every user
     * document, so a tenant admin neither reads nor changes them. */
    { "GET", "/admin/v1/tenants/{tenant}/webhooks", admin_webhooks_list, ADMIN, ROUTE_AUTH_HOST },
    { "POST", "/admin/v1/tenants/{tenant}/webhooks", admin_webhooks_post, ADMIN, ROUTE_AUTH_HOST },
    { "GET", "/admin/v1/tenants/{tenant}/webhooks/{id}", admin_webhooks_get, ADMIN,
      ROUTE_AUTH_HOST },
    { "PATCH", "/admin/v1/tenants/{tenant}/webhooks/{id}", admin_webhooks_patch, ADMIN,
      ROUTE_AUTH_HOST },
    { "DELETE", "/admin/v1/tenants/{tenant}/webhooks/{id}", admin_webhooks_delete, ADMIN,
      ROUTE_AUTH_HOST },
    { "POST", "/admin/v1/tenants/{tenant}/webhooks/{id}/rotate-secret", admin_webhooks_rotate,
      ADMIN, ROUTE_AUTH_HOST },
    { "GET", "/admin/v1/tenants/{tenant}/webhooks/{id}/attempts", admin_webhooks_attempts, ADMIN,
      ROUTE_AUTH_HOST },
    { "GET", "/admin/v1/tenants/{tenant}/events", admin_events_list, ADMIN, ROUTE_AUTH_TENANT },
    { "GET", "/admin/v1/tenants/{tenant}/requests", admin_token_requests, ADMIN,
      ROUTE_AUTH_TENANT },
    { "GET", "/admin/v1/tenants/{tenant}/groups", admin_groups_list, ADMIN, ROUTE_AUTH_TENANT },
    { "GET", "/admin/v1/tenants/{tenant}/groups/{id}", admin_groups_get, ADMIN, ROUTE_AUTH_TENANT },
    { "POST", "/admin/v1/tenants/{tenant}/setup-links", admin_setup_links_post, ADMIN,
      ROUTE_AUTH_HOST },

    /* Single sign-on (issue 7): connections, the redemption of a finished sign-in, and the
     * browser-facing OIDC and SAML endpoints (no auth: the protocols carry their own). */
    { "GET", "/admin/v1/tenants/{tenant}/sso", sso_manage_overview, ADMIN, ROUTE_AUTH_TENANT },
    { "GET", "/admin/v1/tenants/{tenant}/sso/oidc", sso_manage_oidc_get, ADMIN, ROUTE_AUTH_TENANT },
    { "PUT", "/admin/v1/tenants/{tenant}/sso/oidc", sso_manage_oidc_put, ADMIN, ROUTE_AUTH_TENANT },
    { "DELETE", "/admin/v1/tenants/{tenant}/sso/oidc", sso_manage_oidc_delete, ADMIN,
      ROUTE_AUTH_TENANT },
    { "GET", "/admin/v1/tenants/{tenant}/sso/saml", sso_manage_saml_get, ADMIN, ROUTE_AUTH_TENANT },
    { "PUT", "/admin/v1/tenants/{tenant}/sso/saml", sso_manage_saml_put, ADMIN, ROUTE_AUTH_TENANT },
    { "DELETE", "/admin/v1/tenants/{tenant}/sso/saml", sso_manage_saml_delete, ADMIN,
      ROUTE_AUTH_TENANT },
    { "GET", "/admin/v1/tenants/{tenant}/users/{id}/sso-links", sso_manage_links_get, ADMIN,
      ROUTE_AUTH_TENANT },
    { "DELETE", "/admin/v1/tenants/{tenant}/users/{id}/sso-links", sso_manage_links_delete, ADMIN,
      ROUTE_AUTH_TENANT },
    { "POST", "/admin/v1/sso/redeem", sso_manage_redeem, ADMIN, ROUTE_AUTH_HOST },
    { "GET", "/sso/{tenant}/oidc/login", sso_oidc_login, PLAIN, ROUTE_AUTH_NONE },
    { "GET", "/sso/{tenant}/oidc/initiate", sso_oidc_initiate, PLAIN, ROUTE_AUTH_NONE },
    { "POST", "/sso/{tenant}/oidc/initiate", sso_oidc_initiate, PLAIN, ROUTE_AUTH_NONE },
    { "GET", "/sso/{tenant}/oidc/callback", sso_oidc_callback, PLAIN, ROUTE_AUTH_NONE },
    /* One redirect and initiate-login URI for every tenant (an Okta Integration Network app). */
    { "GET", "/sso/oidc/initiate", sso_oidc_shared_initiate, PLAIN, ROUTE_AUTH_NONE },
    { "POST", "/sso/oidc/initiate", sso_oidc_shared_initiate, PLAIN, ROUTE_AUTH_NONE },
    { "GET", "/sso/oidc/callback", sso_oidc_shared_callback, PLAIN, ROUTE_AUTH_NONE },
    { "GET", "/sso/{tenant}/saml/metadata", sso_saml_metadata, PLAIN, ROUTE_AUTH_NONE },
    { "GET", "/sso/{tenant}/saml/login", sso_saml_login, PLAIN, ROUTE_AUTH_NONE },
    { "POST", "/sso/{tenant}/saml/acs", sso_saml_acs, PLAIN, ROUTE_AUTH_NONE },

    /* The web console (docs/console.md): its page and assets, and its session endpoints. */
    { "GET", "/console", console_page_get, PLAIN, ROUTE_AUTH_NONE },
    { "GET", "/console/assets/{name}", console_asset_get, PLAIN, ROUTE_AUTH_NONE },
    { "GET", "/console/brand.css", console_brand_css, PLAIN, ROUTE_AUTH_NONE },
    { "GET", "/console/api/brand", console_brand_get, ADMIN, ROUTE_AUTH_NONE },
    { "GET", "/console/api/session", console_session_get, ADMIN, ROUTE_AUTH_NONE },
    { "POST", "/console/api/session", console_session_post, ADMIN, ROUTE_AUTH_NONE },
    { "DELETE", "/console/api/session", console_session_delete, ADMIN, ROUTE_AUTH_NONE },
    { "POST", "/console/api/setup", console_setup_post, ADMIN, ROUTE_AUTH_NONE },
    /* A tenant admin signs in through the tenant's SSO (the SSO code runs the flow). */
    { "GET", "/console/sso/{tenant}", sso_console_login, PLAIN, ROUTE_AUTH_NONE },
};

#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

/* The field-by-field part of the rule table: body fields of ROUTE_AUTH_TENANT routes that stay
 * the host application's. signInCompleteUrl is the host's redemption page (docs/sso.md): a
 * tenant admin who could rewrite it would receive its users' sign-in codes. */
static const char *const sso_host_fields[] = { "signInCompleteUrl", NULL };
/* An OIDC connection's redirect is the host's too: "shared" names the one redirect URI the
 * host registered (its reverse proxy maps its own fixed URL onto it); a tenant admin who
 * changed it would send a redirect URI the IdP refuses. */
static const char *const oidc_host_fields[] = { "signInCompleteUrl", "redirect", NULL };

static const struct {
    const char *method;
    const char *pattern;
    const char *const *fields;
} host_fields[] = {
    { "PUT", "/admin/v1/tenants/{tenant}/sso/oidc", oidc_host_fields },
    { "PUT", "/admin/v1/tenants/{tenant}/sso/saml", sso_host_fields },
};

size_t
http_router_count(void)
{
    return N_ROUTES;
}

const struct route *
http_router_at(size_t i)
{
    return i < N_ROUTES ? &routes[i] : NULL;
}

const char *const *
http_router_host_fields(size_t i)
{
    if (i >= N_ROUTES || routes[i].auth != ROUTE_AUTH_TENANT)
        return NULL;
    for (size_t k = 0; k < sizeof(host_fields) / sizeof(host_fields[0]); k++)
        if (strcmp(host_fields[k].method, routes[i].method) == 0 &&
            strcmp(host_fields[k].pattern, routes[i].pattern) == 0)
            return host_fields[k].fields;
    return NULL;
}

void
http_router_read_with_token(size_t i, struct api_call *call)
{
    if (i < N_ROUTES)
        scim_users_read_with_token(call, routes[i].handler);
}

const char *
http_router_auth_name(enum route_auth auth)
{
    switch (auth) {
    case ROUTE_AUTH_NONE:
        return "none";
    case ROUTE_AUTH_BEARER:
        return "bearer";
    case ROUTE_AUTH_HOST:
        return "host";
    case ROUTE_AUTH_TENANT:
        return "tenant";
    case ROUTE_AUTH_SESSION:
        return "session";
    }
    return "?";
}

/* Metrics series: route i is series i, requests that matched no route series N_ROUTES, and
 * a HEAD answered by GET route i series N_ROUTES + 1 + i. */
size_t
http_router_series_count(void)
{
    return 2 * N_ROUTES + 1;
}

size_t
http_router_series(long route, const char *method)
{
    if (route < 0 || (size_t)route >= N_ROUTES)
        return N_ROUTES;
    return strcmp(method, "HEAD") == 0 ? N_ROUTES + 1 + (size_t)route : (size_t)route;
}

const char *
http_router_method_label(size_t i)
{
    return i < N_ROUTES ? routes[i].method : i > N_ROUTES && i <= 2 * N_ROUTES ? "HEAD" : "-";
}

const char *
http_router_pattern_label(size_t i)
{
    if (i < N_ROUTES)
        return routes[i].pattern;
    return i > N_ROUTES && i <= 2 * N_ROUTES ? routes[i - N_ROUTES - 1].pattern : "unmatched";
}

/* Next segment of a path: [*p, end) without the leading '/'. */
static bool
next_segment(const char **p, struct str *seg)
{
    const char *s = *p;
    if (*s != '/')
        return false;
    s++;
    const char *e = strchr(s, '/');
    if (e == NULL)
        e = s + strlen(s);
    *seg = (struct str){ s, (size_t)(e - s) };
    *p = e;
    return true;
}

/* Matches path against pattern; fills params on success (arena copies). */
static bool
match(const char *pattern, const char *path, struct api_call *call, int *n_params)
{
    bool fold = strncmp(pattern, "/scim/", 6) == 0;
    const char *pp = pattern, *xp = path;
    struct str ps, xs;
    int n = 0;
    while (next_segment(&pp, &ps)) {
        if (!next_segment(&xp, &xs) || xs.len == 0)
            return false;
        if (ps.len > 2 && ps.ptr[0] == '{') {
            if (n >= API_MAX_PARAMS)
                return false;
            if (call) {
                call->params[n] = arena_strndup(call->arena, xs.ptr, xs.len, NULL);
                if (call->params[n] == NULL)
                    return false;
            }
            n++;
        } else if (fold ? !str_ieq(ps, xs) : !str_eq(ps, xs)) {
            return false;
        }
    }
    *n_params = n;
    return *xp == '\0';
}

long
http_router_match(const char *method, const char *path, struct api_call *call, char *allow,
                  size_t allow_size, enum api_style *style, struct err *err)
{
    char trimmed[LIMIT_PATH_BYTES * 4];
    size_t len = strlen(path);
    *style = strncmp(path, "/scim/", 6) == 0    ? API_STYLE_SCIM
             : strncmp(path, "/admin/", 7) == 0 ? API_STYLE_ADMIN
                                                : API_STYLE_PLAIN;
    /* No route has a path this long, and no resource an id that is not UTF-8: both are 404
     * in the path's error style, before any backend sees the bytes (SQLite and PostgreSQL
     * would disagree on them). */
    if (len >= sizeof(trimmed) || !str_is_utf8((struct str){ path, len })) {
        err_set(err, ERR_NOT_FOUND, "no such path");
        return -1;
    }
    memcpy(trimmed, path, len + 1);
    /* "/scim/v2/Users/" names the same resource as "/scim/v2/Users". */
    while (len > 1 && trimmed[len - 1] == '/')
        trimmed[--len] = '\0';

    *style = strncmp(trimmed, "/scim/", 6) == 0    ? API_STYLE_SCIM
             : strncmp(trimmed, "/admin/", 7) == 0 ? API_STYLE_ADMIN
                                                   : API_STYLE_PLAIN;
    /* RFC 9110 §9.3.2: HEAD is GET without the body, and a general-purpose server supports
     * it wherever it supports GET. It runs the GET route itself (same handler, same checks,
     * same side effects); libmicrohttpd sends the headers of the answer, Content-Length
     * included, and drops the body. */
    const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
    allow[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < N_ROUTES; i++) {
        int n;
        if (!match(routes[i].pattern, trimmed, NULL, &n))
            continue;
        if (strcmp(routes[i].method, want) == 0) {
            match(routes[i].pattern, trimmed, call, &n);
            *style = routes[i].style;
            return (long)i;
        }
        bool get = strcmp(routes[i].method, "GET") == 0;
        int w = snprintf(allow + used, allow_size - used, "%s%s%s", used ? ", " : "",
                         routes[i].method, get ? ", HEAD" : "");
        if (w > 0 && (size_t)w < allow_size - used)
            used += (size_t)w;
    }
    if (used) {
        err_set(err, ERR_METHOD_NOT_ALLOWED, "%s is not allowed here; allowed: %s", method, allow);
        return -1;
    }
    err_set(err, ERR_NOT_FOUND, "no such endpoint");
    return -1;
}
