#ifndef SCIMD_HTTP_ROUTER_H
#define SCIMD_HTTP_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "api/call.h"

/* The one route table. Patterns are literal segments and {param} segments; SCIM routes match
 * their literal segments case-insensitively (Microsoft's tests use /users, RFC 7644 §3.2
 * resource names are case-insensitive in practice). */

/* Who may call a route. For the management API this is the rule table of "who may change
 * what" (docs/api.md): ROUTE_AUTH_HOST routes are the host application's (its operator key, or
 * the operator's console session); ROUTE_AUTH_TENANT routes also admit a tenant admin's console
 * session for its own tenant (params[0]). http/server.c enforces it through api_auth_admin. */
enum route_auth {
    ROUTE_AUTH_NONE,
    ROUTE_AUTH_BEARER,  /* SCIM token: the token decides the tenant */
    ROUTE_AUTH_HOST,    /* management API: operator key or the operator's console session */
    ROUTE_AUTH_TENANT,  /* the same, or a tenant admin's console session for params[0] */
    ROUTE_AUTH_SESSION, /* the same, or any tenant admin's console session (no tenant) */
};

struct route {
    const char *method;
    const char *pattern;
    api_handler_fn handler;
    enum api_style style;
    enum route_auth auth;
};

size_t http_router_count(void);
const struct route *http_router_at(size_t i);

/* The body fields of ROUTE_AUTH_TENANT route i that stay the host application's: a
 * NULL-terminated list (static storage), or NULL when the tenant admin may set every field.
 * A tenant admin's session may omit them or repeat the stored value, not change it
 * (api_host_fields_check). */
const char *const *http_router_host_fields(size_t i);

/* GET /Users/{id} and a `userName eq` listing of route i: names in call->user_read the user
 * that the statement authenticating the token reads too, so the request is one round trip
 * to the database (scim_users_read_with_token). */
void http_router_read_with_token(size_t i, struct api_call *call);

/* Finds the route for method and path. On a match returns its index and fills
 * call->params (copies in call->arena); HEAD matches the GET route of the path (RFC 9110
 * §9.3.2). When the path matches but not the method, returns -1 with ERR_METHOD_NOT_ALLOWED
 * and writes the allowed methods into allow (HEAD after each GET); otherwise -1 with
 * ERR_NOT_FOUND. *style says how to render the error in either case. */
long http_router_match(const char *method, const char *path, struct api_call *call, char *allow,
                       size_t allow_size, enum api_style *style, struct err *err);

/* The auth of a route as one word: "none", "bearer", "operator" or "tenant" (`scimd routes`,
 * and x-scimd-auth in docs/openapi.json). */
const char *http_router_auth_name(enum route_auth auth);

/* Metrics series: one per route, one for requests that matched no route, one per GET route
 * answered to a HEAD. http_router_series gives the series of a request to route (the index
 * http_router_match returned, or http_router_count() when none) made with method. */
size_t http_router_series_count(void);
size_t http_router_series(long route, const char *method);

/* Labels of series i (http_router_series): its method ("HEAD" for a HEAD, "-" when
 * unmatched) and its route pattern ("unmatched"). Route i < http_router_count() is its own
 * series, so the access log labels a route index with these too. */
const char *http_router_method_label(size_t i);
const char *http_router_pattern_label(size_t i);

#endif
