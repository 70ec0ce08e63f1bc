#include "http/server.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/ratelimit.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "core/directory.h"
#include "core/reqlog.h"
#include "core/tenant.h"
#include "core/token.h"
#include "http/answers.h"
#include "http/metrics.h"
#include "http/router.h"

/* A connection, known from libmicrohttpd's connection notifications until it closes. The
 * deadline watcher cuts one whose request has not arrived whole in time (conn_watch). */
struct conn_slot {
    struct conn_slot *prev, *next; /* in http_server.slots, under slots_lock */
    int fd;
    /* Written by the connection's worker (slot_advance, slot_idle) without slots_lock, which every
     * worker would otherwise take twice a request; read by the watcher and the drain. */
    atomic_int_fast64_t since_ns; /* connection opened, or the previous answer on it completed */
    atomic_int state;             /* enum slot_state */
};

/* A connection is cut (its socket shut down) by one compare-and-swap that the request's own
 * progress races with, never while its handler or answer runs: a request is either handled
 * and answered in full, or never handled (its client sees the connection close and may
 * retry). Cutting a connection whose handler had run lost a committed write's answer. */
enum slot_state {
    SLOT_IDLE,    /* no request yet, or its head still arriving */
    SLOT_STARTED, /* the head arrived, the body is arriving */
    SLOT_BUSY,    /* the request arrived whole: the handler and the answer run */
    SLOT_CUT,     /* shut down by the deadline watcher or the drain */
};

struct http_server {
    struct MHD_Daemon *daemon;
    /* the request deadline (conn_watch) */
    pthread_mutex_t slots_lock;
    struct conn_slot *slots; /* guarded by slots_lock */
    pthread_t watcher;
    bool watching;
    atomic_bool stopping;
    /* http_server_stop began: answers close their connection, none is kept or served kept. */
    atomic_bool draining;
    /* rate limits (limit_check) */
    struct ratelimit *auth_fail, *sso, *signin_fail;
    struct http_answers *answers; /* NULL: answers are not kept */
    const struct api_settings *api;
    struct store *store;
    struct http_settings settings;
    char *tls_cert; /* owned PEM text */
    char *tls_key;  /* owned PEM text; wiped on free */
    int port;
    atomic_uint_fast64_t next_request_id;
    /* The paths of tenants' own public URLs ("/acme"), served as public_url's path is
     * (unprefixed). Read again when this process changed a tenant (tenant_generation) or after
     * LIMIT_TENANT_PATHS_TTL_MS (another instance may have); the read happens outside the lock,
     * so requests never wait on the database for it. */
    pthread_mutex_t paths_lock;
    char **paths; /* owned, guarded by paths_lock */
    size_t n_paths;
    unsigned long paths_generation;
    int64_t paths_read_ms; /* 0: never read */
    bool paths_reading;
};

/* Per-request state: made on libmicrohttpd's first callback, freed on completion. */
struct request {
    struct http_server *server;
    int64_t start_ns;
    uint64_t id;
    struct buf body;
    bool too_large;
    uint64_t discarded; /* bytes of an over-limit body read and dropped */
    bool dispatched;
    long route;
    char method[12];
    char allow[128]; /* a 405's Allow: the methods of the path */
    int status;
    char tenant[64];
    char key[API_KEY_NAME_MAX + 1]; /* the operator key's name, or "" */
    int64_t retry_after_s;          /* a 429's Retry-After */
    size_t skip;                    /* bytes of the URL's public path prefix (unprefixed) */
    char prefix[LIMIT_PUBLIC_URL_BYTES + 1]; /* that prefix, for links relative to this host */
    /* A SCIM read whose answer may be kept (http/answers.h), and its key. */
    bool keep;
    struct http_answer_key answer_key;
};

/* ---- responses ---- */

/* The API answers are never framed, never cached and load nothing; the console's page and
 * assets set their own cache policy and CSP (console/console.c). */
#define CSP_API "default-src 'none'; frame-ancestors 'none'"

static void
add_common_headers(struct MHD_Response *r, const struct api_call *call)
{
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    /* SSO pages post forms to their own origin (SSO.md (a), (c)). */
    MHD_add_response_header(r, "Content-Security-Policy",
                            call->csp           ? call->csp
                            : call->sso_headers ? "default-src 'none'; frame-ancestors 'none';"
                                                  " form-action 'self'"
                                                : CSP_API);
    MHD_add_response_header(r, "Cache-Control",
                            call->cache_control ? call->cache_control : "no-store");
}

/* Hands r to the answer cache (which then owns the reference): false when it is not kept. */
static bool
keep_answer(struct request *req, const struct api_call *call, struct MHD_Response *r,
            size_t body_bytes)
{
    struct http_answer_meta m = {
        .status = call->status,
        .tenant_id = call->tenant.id,
        .token_expires_ms = call->token.expires_ms,
        .token_last_used_ms = call->token.last_used_ms,
    };
    str_copy(m.tenant_slug, sizeof(m.tenant_slug), call->tenant.slug);
    str_copy(m.token_id, sizeof(m.token_id), call->token.id);
    return http_answers_put(req->server->answers, &req->answer_key, &call->read_gen, &m, r,
                            body_bytes);
}

static enum MHD_Result
queue(struct MHD_Connection *conn, struct request *req, struct api_call *call)
{
    struct MHD_Response *r;
    char *body = NULL;
    size_t len = 0;
    if (call->json) {
        /* JSON_COMPACT halves the bytes; SCIM clients do not need indentation. */
        len = json_dumpb(call->json, NULL, 0, JSON_COMPACT);
        body = xmalloc(len + 1);
        json_dumpb(call->json, body, len, JSON_COMPACT);
    } else if (call->text) {
        len = strlen(call->text);
        body = call->text;
        call->text = NULL;
    }
    r = MHD_create_response_from_buffer(len, body ? body : (void *)"",
                                        body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (r == NULL) {
        free(body);
        return MHD_NO;
    }
    add_common_headers(r, call);
    if (call->content_type_out && (body || call->status != 204))
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, call->content_type_out);
    if (call->etag[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, call->etag);
    if (call->location[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, call->location);
    if (call->www_authenticate[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, call->www_authenticate);
    /* RFC 9110 §15.5.6: a 405 names the methods the resource supports. */
    if (call->status == 405 && req->allow[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, req->allow);
    if (req->retry_after_s > 0) {
        char ra[24];
        snprintf(ra, sizeof(ra), "%lld", (long long)req->retry_after_s);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    for (int i = 0; i < call->n_set_cookie && i < 2; i++)
        MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, call->set_cookie[i]);
    bool draining = atomic_load_explicit(&req->server->draining, memory_order_relaxed);
    if (draining) /* http_server_stop: the client learns to go elsewhere for its next request */
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    req->status = call->status;
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)call->status, r);
    if (draining || !(req->keep && call->cacheable && call->authenticated && call->status == 200 &&
                      keep_answer(req, call, r, len)))
        MHD_destroy_response(r);
    return ret;
}

/* Replies with an error in the style of the path, outside any handler. */
static enum MHD_Result
queue_error(struct MHD_Connection *conn, struct request *req, const char *url, enum err_code code,
            const char *detail)
{
    struct api_call call = { .style = strncmp(url, "/scim/", 6) == 0    ? API_STYLE_SCIM
                                      : strncmp(url, "/admin/", 7) == 0 ? API_STYLE_ADMIN
                                                                        : API_STYLE_PLAIN };
    struct err e;
    err_set(&e, code, "%s", detail);
    api_reply_error(&call, &e);
    enum MHD_Result ret = queue(conn, req, &call);
    api_call_cleanup(&call);
    return ret;
}

/* ---- request parsing ---- */

struct arg_ctx {
    struct api_call *call;
    bool overflow;
    bool nul; /* an argument held %00: refused, never cut short or kept as text */
};

static enum MHD_Result
collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size, const char *value,
            size_t value_size)
{
    (void)kind;
    struct arg_ctx *ctx = cls;
    if (strlen(key) != key_size || (value && strlen(value) != value_size)) {
        ctx->nul = true;
        return MHD_NO;
    }
    if (ctx->call->n_args >= API_MAX_ARGS) {
        ctx->overflow = true;
        return MHD_NO;
    }
    ctx->call->args[ctx->call->n_args++] = (struct api_arg){ key, value ? value : "" };
    return MHD_YES;
}

/* Query strings use form encoding: '+' is a space (Okta and curl --data-urlencode differ;
 * a literal '+' arrives as %2B either way). Used by libmicrohttpd for arguments. */
static size_t
unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    char *w = s;
    for (const char *r = s; *r; r++) {
        if (*r == '+') {
            *w++ = ' ';
        } else if (*r == '%' && r[1] && r[2]) {
            char hex[3] = { r[1], r[2], 0 };
            char *end;
            long v = strtol(hex, &end, 16);
            if (*end == '\0' && v >= 0) { /* %00 too: collect_arg refuses it */
                *w++ = (char)v;
                r += 2;
            } else {
                *w++ = *r;
            }
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

/* The console's Activity page shows each token's last requests (core/reqlog.h): the route
 * pattern, never the URL, and the error detail the client got. */
static void
record_scim_request(const struct api_call *call, const char *method, const struct route *rt,
                    const struct err *e)
{
    struct reqlog_entry r = {
        .at_ms = clock_now_ms(),
        .tenant_id = call->tenant.id,
        .status = call->status,
    };
    str_copy(r.token_id, sizeof(r.token_id), call->token.id);
    str_copy(r.method, sizeof(r.method), method);
    str_copy(r.route, sizeof(r.route), rt->pattern);
    if (call->status >= 400)
        str_copy(r.detail, sizeof(r.detail), e->detail[0] ? e->detail : err_text(e->code));
    reqlog_record(&r);
}

/* ---- rate limits ---- */

enum limit_kind {
    LIMIT_NONE,
    LIMIT_BEARER, /* SCIM routes: failed authentications, per credential (limit_keys) */
    LIMIT_AUTH,   /* operator and console routes: failed authentications */
    LIMIT_SSO,    /* SSO starts and callbacks: every request */
    LIMIT_SIGNIN, /* console sign-in and set-up: failures */
};

static enum limit_kind
limit_kind_of(const struct route *rt)
{
    if (rt->auth == ROUTE_AUTH_BEARER)
        return LIMIT_BEARER;
    if (rt->auth == ROUTE_AUTH_HOST || rt->auth == ROUTE_AUTH_TENANT ||
        rt->auth == ROUTE_AUTH_SESSION)
        return LIMIT_AUTH;
    if (strncmp(rt->pattern, "/sso/", 5) == 0 || strncmp(rt->pattern, "/console/sso/", 13) == 0)
        return LIMIT_SSO;
    if (strcmp(rt->method, "POST") == 0 && (strcmp(rt->pattern, "/console/api/session") == 0 ||
                                            strcmp(rt->pattern, "/console/api/setup") == 0))
        return LIMIT_SIGNIN;
    return LIMIT_NONE;
}

/* Keys: "a:<client address>" and, for a presented bearer credential, "p:<its first 14
 * bytes>" (a scimd token's public prefix, scimd_XXXXXXXX; never the secret part).
 * SCIM routes use one key per request: a well-formed scimd token is limited by its prefix
 * alone, anything else by the address alone. Identity providers send every customer's
 * requests from shared address ranges, so one customer's stale token must not block the
 * others' (an address key would); guessing a 256-bit secret is hopeless at any rate, and a
 * client sending garbage is still limited by its address. */
static void
limit_keys(struct MHD_Connection *conn, enum limit_kind k, const char *authorization,
           char addr_key[64], char prefix_key[24])
{
    const char *t = NULL;
    prefix_key[0] = addr_key[0] = '\0';
    if (authorization && cstr_istarts_with(authorization, "Bearer ")) {
        t = authorization + 7;
        while (*t == ' ')
            t++;
        if (*t)
            snprintf(prefix_key, 24, "p:%.14s", t);
    }
    if (k == LIMIT_BEARER) {
        if (t != NULL && token_is_well_formed(t, strlen(t)))
            return;
        prefix_key[0] = '\0';
    }
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char ip[INET6_ADDRSTRLEN] = "?";
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip, sizeof(ip));
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ip, sizeof(ip));
    }
    snprintf(addr_key, 64, "a:%s", ip);
}

static struct ratelimit *
limiter(struct http_server *srv, enum limit_kind k)
{
    return k == LIMIT_BEARER || k == LIMIT_AUTH ? srv->auth_fail
           : k == LIMIT_SSO                     ? srv->sso
                                                : srv->signin_fail;
}

/* The keys of one request, built only when a limiter needs them: most requests pass no
 * limiter that holds a limited key, and succeed, so they never build any. An empty key is
 * not used. */
struct limit_keys {
    bool built;
    char addr[64], prefix[24];
};

static void
keys_of(struct MHD_Connection *conn, enum limit_kind k, const char *authorization,
        struct limit_keys *keys)
{
    if (!keys->built)
        limit_keys(conn, k, authorization, keys->addr, keys->prefix);
    keys->built = true;
}

/* True (with e and req->retry_after_s set) when the client is over a limit of route kind k. */
static bool
limit_check(struct http_server *srv, struct request *req, enum limit_kind k,
            struct MHD_Connection *conn, const char *authorization, struct limit_keys *keys,
            struct err *e)
{
    if (k == LIMIT_NONE)
        return false;
    int64_t now = clock_mono_ns() / 1000000, retry = 0;
    struct ratelimit *rl = limiter(srv, k);
    if (!ratelimit_any(rl, now))
        return false;
    keys_of(conn, k, authorization, keys);
    if (!(keys->addr[0] && ratelimit_is_limited(rl, keys->addr, now, &retry)) &&
        !(keys->prefix[0] && ratelimit_is_limited(rl, keys->prefix, now, &retry)))
        return false;
    req->retry_after_s = retry;
    http_metrics_rate_limited(k == LIMIT_SSO ? "sso" : k == LIMIT_SIGNIN ? "signin" : "auth");
    err_set(e, ERR_RATE_LIMITED, "too many %s; retry in %lld s",
            k == LIMIT_SSO ? "sign-in requests" : "failed authentications", (long long)retry);
    return true;
}

/* Counts what the answer says: every SSO request, failed authentications elsewhere. */
static void
limit_count(struct http_server *srv, enum limit_kind k, int status, struct MHD_Connection *conn,
            const char *authorization, struct limit_keys *keys)
{
    int64_t now = clock_mono_ns() / 1000000;
    if (k == LIMIT_NONE ||
        (k != LIMIT_SSO && status != 401 && !(k == LIMIT_SIGNIN && status == 403)))
        return;
    keys_of(conn, k, authorization, keys);
    if (keys->addr[0])
        ratelimit_count(limiter(srv, k), keys->addr, now);
    if ((k == LIMIT_AUTH || k == LIMIT_BEARER) && keys->prefix[0])
        ratelimit_count(limiter(srv, k), keys->prefix, now);
}

/* A kept answer went out (http_answers_serve): the access log and the token's request log
 * record it as they would the answer it repeats. */
static void
served_kept(struct request *req, struct api_call *call, const struct route *rt,
            const struct http_answer_meta *m)
{
    call->status = m->status;
    call->tenant.id = m->tenant_id;
    str_copy(call->token.id, sizeof(call->token.id), m->token_id);
    record_scim_request(call, req->method, rt, &(struct err){ 0 });
    req->status = m->status;
    str_copy(req->tenant, sizeof(req->tenant), m->tenant_slug);
    req->key[0] = '\0';
}

static enum MHD_Result
dispatch(struct MHD_Connection *conn, struct request *req, const char *url)
{
    struct http_server *srv = req->server;
    struct arena *arena = arena_new(LIMIT_REQUEST_ARENA_BYTES);
    struct api_call call = {
        .method = req->method,
        .path = url,
        .path_prefix = req->prefix,
        .settings = srv->api,
        .store = srv->store,
        .arena = arena,
        .body = req->body.len ? req->body.data : NULL,
        .body_len = req->body.len,
    };
    struct err e = { 0 };
    struct arg_ctx actx = { .call = &call };

    call.authorization =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    call.content_type =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    call.if_match = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_MATCH);
    call.if_none_match =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    call.cookie = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE);
    call.csrf_header = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CSRF-Token");
    call.origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &actx);

    req->route =
        http_router_match(req->method, url, &call, req->allow, sizeof(req->allow), &call.style, &e);
    if (req->route < 0) {
        req->route = (long)http_router_count();
        api_reply_error(&call, &e);
        goto send;
    }
    if (actx.nul) {
        err_set(&e, ERR_INVALID_VALUE, "a query parameter holds a NUL byte (%%00)");
        api_reply_error(&call, &e);
        goto send;
    }
    if (actx.overflow) {
        err_set(&e, ERR_BAD_REQUEST, "more than %d query parameters", API_MAX_ARGS);
        api_reply_error(&call, &e);
        goto send;
    }
    const struct route *rt = http_router_at((size_t)req->route);
    /* A HEAD runs its GET route as that GET (http_router_match): handlers and the checks
     * below see "GET", so nothing can tell the two apart but the body libmicrohttpd drops.
     * The access log, the metrics and the token's request log keep req->method. */
    call.method = rt->method;
    int rc = 0;
    /* Management and SSO routes name their tenant in the path: the access log says which
     * (SCIM requests get theirs from the token, api_auth_bearer). */
    if (call.params[0] && strstr(rt->pattern, "/{tenant}") &&
        str_is_slug(call.params[0], sizeof(call.log_tenant) - 1))
        str_copy(call.log_tenant, sizeof(call.log_tenant), call.params[0]);
    enum limit_kind lk = limit_kind_of(rt);
    struct limit_keys keys = { .built = false };
    if (limit_check(srv, req, lk, conn, call.authorization, &keys, &e)) {
        api_reply_error(&call, &e);
        goto send;
    }
    req->keep = rt->auth == ROUTE_AUTH_BEARER && srv->answers &&
                !atomic_load_explicit(&srv->draining, memory_order_relaxed) &&
                http_answers_key(&call, &req->answer_key);
    if (req->keep) {
        struct store_generation now;
        struct http_answer_meta m;
        enum MHD_Result ret;
        /* A generation that costs a round trip (PostgreSQL) is read only for a kept key. */
        bool served = (directory_generation_is_local(srv->store) ||
                       http_answers_kept(srv->answers, &req->answer_key)) &&
                      directory_generation(srv->store, &now) == 0 &&
                      http_answers_serve(srv->answers, &req->answer_key, &now, clock_now_ms(), conn,
                                         &m, &ret);
        http_metrics_answer_cache(served);
        if (served) {
            served_kept(req, &call, rt, &m);
            arena_free(arena);
            return ret;
        }
    }
    if (rt->auth == ROUTE_AUTH_BEARER) {
        http_router_read_with_token((size_t)req->route, &call);
        rc = api_auth_bearer(&call, &e);
    } else if (rt->auth == ROUTE_AUTH_HOST || rt->auth == ROUTE_AUTH_TENANT ||
               rt->auth == ROUTE_AUTH_SESSION)
        rc = api_auth_admin(&call,
                            rt->auth == ROUTE_AUTH_HOST     ? API_REACH_HOST
                            : rt->auth == ROUTE_AUTH_TENANT ? API_REACH_TENANT
                                                            : API_REACH_SESSION,
                            http_router_host_fields((size_t)req->route), &e);
    if (rc < 0 && call.auth_failure)
        http_metrics_auth_failure(rt->auth == ROUTE_AUTH_BEARER ? "scim" : "admin",
                                  call.auth_failure);
    if (rc == 0)
        rc = rt->handler(&call, &e);
    api_call_end_reads(&call);
    if (rc < 0) {
        if (e.code == ERR_OK)
            err_set(&e, ERR_INTERNAL, NULL);
        if (e.code == ERR_UNAVAILABLE || e.code == ERR_INTERNAL)
            http_metrics_store_error(e.code == ERR_UNAVAILABLE ? "unavailable" : "internal");
        if (e.code == ERR_INTERNAL)
            log_error("req=%llu route=\"%s\" internal error: %s", (unsigned long long)req->id,
                      rt->pattern, e.detail);
        /* Not the database (no store error counted): an identity provider's or another
         * server's failure, which the operator could otherwise not tell from the access log. */
        if (e.code == ERR_UPSTREAM)
            log_warn("req=%llu route=\"%s\" tenant=%s an outside server failed: %s",
                     (unsigned long long)req->id, rt->pattern,
                     call.log_tenant[0] ? call.log_tenant : "-", e.detail);
        /* ERR_INTERNAL never echoes its cause to the client (it is in the log). */
        if (e.code == ERR_INTERNAL)
            err_set(&e, ERR_INTERNAL, "internal error (request %llu)", (unsigned long long)req->id);
        api_reply_error(&call, &e);
    }
    if (rt->auth == ROUTE_AUTH_BEARER && (call.authenticated || call.token_refused))
        record_scim_request(&call, req->method, rt, &e);
    limit_count(srv, lk, call.status, conn, call.authorization, &keys);
send:
    str_copy(req->tenant, sizeof(req->tenant), call.log_tenant[0] ? call.log_tenant : "-");
    str_copy(req->key, sizeof(req->key), call.log_key);
    if (call.status == 0)
        api_reply_empty(&call, 500);
    enum MHD_Result ret = queue(conn, req, &call);
    api_call_cleanup(&call);
    arena_free(arena);
    return ret;
}

static struct conn_slot *
slot_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* Moves the connection's request on (STARTED: its head arrived; BUSY: all of it): false
 * when the connection was cut first, and the request must then not be handled. Called on
 * the connection's own worker thread. */
static bool
slot_advance(struct MHD_Connection *conn, enum slot_state from, enum slot_state to)
{
    struct conn_slot *slot = slot_of(conn);
    int expected = (int)from;
    return slot == NULL || atomic_compare_exchange_strong(&slot->state, &expected, (int)to);
}

/* The connection's request ended (answered, or refused before it was handled): the deadline
 * for the next request starts now. */
static void
slot_idle(struct MHD_Connection *conn)
{
    struct conn_slot *slot = slot_of(conn);
    if (slot == NULL)
        return;
    /* The new start before the state: a watcher that sees the connection idle sees when it
     * became so. */
    atomic_store_explicit(&slot->since_ns, clock_mono_ns(), memory_order_relaxed);
    int state = atomic_load(&slot->state);
    for (int i = 0; i < 4 && state != SLOT_CUT; i++) /* only the cutters change it meanwhile */
        if (atomic_compare_exchange_strong(&slot->state, &state, SLOT_IDLE))
            break;
}

/* Shuts the connection down if it is in state `from` (slots_lock held). */
static bool
slot_cut(struct conn_slot *slot, enum slot_state from)
{
    int expected = (int)from;
    if (!atomic_compare_exchange_strong(&slot->state, &expected, SLOT_CUT))
        return false;
    shutdown(slot->fd, SHUT_RDWR);
    return true;
}

/* ---- refusals before the body ---- */

#define SCAN_HEADERS 128

struct head_scan {
    int content_lengths;
    const char *content_length; /* the first one */
    bool cl_differ;             /* several with different values (RFC 9112 §6.3) */
    bool nul;                   /* a NUL byte inside a header name or value */
    size_t n;
    const char *keys[SCAN_HEADERS];
    const char *ends[SCAN_HEADERS]; /* one past each value's terminating NUL */
};

static enum MHD_Result
scan_header(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size, const char *value,
            size_t value_size)
{
    (void)kind;
    struct head_scan *h = cls;
    if (strlen(key) != key_size || (value && strlen(value) != value_size))
        h->nul = true;
    if (value && h->n < SCAN_HEADERS) {
        h->keys[h->n] = key;
        h->ends[h->n++] = value + value_size + 1;
    }
    if (value && cstr_ieq(key, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
        if (h->content_lengths++ == 0)
            h->content_length = value;
        else if (strcmp(h->content_length, value) != 0)
            h->cl_differ = true;
    }
    return MHD_YES;
}

/* libmicrohttpd 0.9.75 cuts a header value at a NUL byte and reports the shorter length, so
 * "Bearer <token>\0garbage" reaches us as "Bearer <token>" while a proxy in front may have
 * read all of it. Its parser keeps each header line in place in the read buffer with the line
 * end overwritten by NULs, so the byte after a value's terminator is NUL (the LF of a CRLF, or
 * the blank line that ends the head) or the start of the next header's name (a bare LF). Any
 * other byte there is what followed a NUL inside the line (or an obs-fold, which RFC 9112
 * §5.2 lets a server refuse with 400). The bytes read are inside that buffer. */
static bool
value_was_cut(const struct head_scan *h, size_t i)
{
    const char *after = h->ends[i];
    if (*after == '\0')
        return false;
    for (size_t j = 0; j < h->n; j++)
        if (h->keys[j] == after)
            return false;
    return true;
}

/* The checks made on the request head, before any body is read: framing that cannot be trusted
 * (request smuggling through a proxy that reads it otherwise), a NUL byte in a header (a proxy
 * may see "Bearer tok\0x" where libmicrohttpd hands us "Bearer tok"), a transfer coding we do
 * not implement, and a declared body over the limit when the client waits for "100 Continue".
 * Returns true when a reply is queued (the connection then closes) with *ret set. */
static bool
refuse_early(struct MHD_Connection *conn, struct request *req, const char *url,
             enum MHD_Result *ret)
{
    struct http_server *srv = req->server;
    struct head_scan h = { 0 };
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND, scan_header, &h);
    for (size_t i = 0; i < h.n && !h.nul; i++)
        h.nul = value_was_cut(&h, i);
    const char *te =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
    enum err_code code = ERR_OK;
    const char *why = NULL;

    /* A Content-Length that is not a number never gets here: libmicrohttpd answers it itself
     * (docs/deploy.md, "What libmicrohttpd answers"). */
    if (h.cl_differ) {
        code = ERR_BAD_REQUEST;
        why = "the request has several different Content-Length headers";
    } else if (te && h.content_length) {
        code = ERR_BAD_REQUEST;
        why = "the request has both Transfer-Encoding and Content-Length";
    } else if (te && !cstr_ieq(te, "chunked")) {
        /* RFC 9112 §6.1: a transfer coding the server does not understand is 501. */
        code = ERR_NOT_IMPLEMENTED;
        why = "only the chunked transfer coding is supported";
    } else if (h.nul) {
        code = ERR_BAD_REQUEST;
        why = "a request header holds a NUL byte";
    } else if (h.content_length) {
        int64_t n;
        struct err e;
        if (str_to_i64(str_of(h.content_length), 0, INT64_MAX, &n, "Content-Length", &e) == 0 &&
            (uint64_t)n > srv->settings.body_max) {
            req->too_large = true;
            /* RFC 9110 §10.1.1: a client that sent "Expect: 100-continue" waits for the final
             * status instead of sending the body; one far too large is refused and closed. */
            if ((expect && cstr_ieq(expect, "100-continue")) || (uint64_t)n > LIMIT_DISCARD_BYTES) {
                code = ERR_TOO_LARGE;
                why = "the request body is too large";
            }
        }
    }
    if (code == ERR_OK)
        return false;
    req->dispatched = true;
    *ret = queue_error(conn, req, url, code, why);
    return true;
}

/* Reads the tenants' URL paths, as of tenant generation gen, by the thread that claimed the
 * read (paths_reading). A failed read keeps the old list until the next period. */
static void
paths_read(struct http_server *srv, unsigned long gen, int64_t now)
{
    struct store_tenant *v = NULL;
    size_t n = 0, k = 0;
    struct err e = { 0 };
    char **paths = NULL;
    bool ok = tenant_list(srv->store, &v, &n, &e) == 0;
    if (ok) {
        paths = xcalloc(n + 1, sizeof(*paths));
        for (size_t i = 0; i < n; i++)
            if (v[i].public_url[0] && api_public_path(v[i].public_url)[0])
                paths[k++] = xstrdup(api_public_path(v[i].public_url));
    } else {
        log_warn("cannot read the tenants' public URLs: %s", e.detail);
    }
    free(v);
    pthread_mutex_lock(&srv->paths_lock);
    if (ok) {
        for (size_t i = 0; i < srv->n_paths; i++)
            free(srv->paths[i]);
        free(srv->paths);
        srv->paths = paths;
        srv->n_paths = k;
        srv->paths_generation = gen;
    }
    srv->paths_read_ms = now;
    srv->paths_reading = false;
    pthread_mutex_unlock(&srv->paths_lock);
}

/* How many bytes of url are a path prefix p ("/api/v1" of "/api/v1/scim/v2/Users" or
 * "/api/v1"), or 0. */
static size_t
prefix_len(const char *url, const char *p)
{
    size_t n = p ? strlen(p) : 0;
    if (n == 0 || strncmp(url, p, n) != 0 || (url[n] != '/' && url[n] != '\0'))
        return 0;
    return n;
}

/* The length of the public path prefix url starts with: public_url's path or a tenant's own
 * (the longest when several match), 0 for none. "/api/v1/scim/v2/Users" is then served as
 * "/scim/v2/Users", "/api/v1" as "/". */
static size_t
unprefixed_len(struct http_server *srv, const char *url)
{
    size_t best = prefix_len(url, srv->settings.path_prefix);
    unsigned long gen = tenant_generation();
    int64_t now = clock_now_ms();
    /* One lock a request while the list is fresh; the first thread to find it stale (this
     * process changed a tenant, or the period passed) reads it again, the others use the old. */
    for (int pass = 0; pass < 2; pass++) {
        pthread_mutex_lock(&srv->paths_lock);
        bool stale = pass == 0 && !srv->paths_reading &&
                     (srv->paths_read_ms == 0 || gen != srv->paths_generation ||
                      now - srv->paths_read_ms >= LIMIT_TENANT_PATHS_TTL_MS);
        if (stale)
            srv->paths_reading = true;
        for (size_t i = 0; !stale && i < srv->n_paths; i++) {
            size_t n = prefix_len(url, srv->paths[i]);
            best = n > best ? n : best;
        }
        pthread_mutex_unlock(&srv->paths_lock);
        if (!stale)
            break;
        paths_read(srv, gen, now);
    }
    return best;
}

/* url without its first `skip` bytes (unprefixed_len), "/" when nothing is left. */
static const char *
unprefixed(const char *url, size_t skip)
{
    return url[skip] == '\0' ? (skip ? "/" : url) : url + skip;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
    (void)version;
    struct http_server *srv = cls;
    struct request *req = *req_cls;

    if (req == NULL) {
        /* First call: headers only. Never queue here for normal requests: libmicrohttpd
         * would then close the connection after the reply and keep-alive would be lost. */
        if (!slot_advance(conn, SLOT_IDLE, SLOT_STARTED))
            return MHD_NO; /* cut (the drain) as its head arrived: never handled */
        req = xcalloc(1, sizeof(*req));
        req->server = srv;
        req->start_ns = clock_mono_ns();
        req->id = atomic_fetch_add(&srv->next_request_id, 1) + 1;
        req->route = (long)http_router_count();
        str_copy(req->method, sizeof(req->method), method);
        str_copy(req->tenant, sizeof(req->tenant), "-");
        req->skip = unprefixed_len(srv, url);
        if (req->skip < sizeof(req->prefix)) {
            memcpy(req->prefix, url, req->skip);
            req->prefix[req->skip] = '\0';
        }
        url = unprefixed(url, req->skip);
        buf_init(&req->body, srv->settings.body_max + 1);
        http_metrics_inflight(1);
        *req_cls = req;
        enum MHD_Result ret;
        if (refuse_early(conn, req, url, &ret))
            return ret;
        return MHD_YES;
    }
    url = unprefixed(url, req->skip);
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (!req->too_large && buf_append(&req->body, upload_data, n, NULL) == 0)
            return MHD_YES;
        /* Over the limit: drop the rest and answer 413 when the upload ends, so the client
         * reads the answer instead of a reset connection. */
        req->too_large = true;
        buf_cleanup(&req->body);
        req->discarded += n;
        if (req->discarded > LIMIT_DISCARD_BYTES && !req->dispatched) {
            req->dispatched = true;
            return queue_error(conn, req, url, ERR_TOO_LARGE, "the request body is too large");
        }
        return MHD_YES;
    }
    if (req->dispatched)
        return MHD_YES;
    if (!slot_advance(conn, SLOT_STARTED, SLOT_BUSY))
        return MHD_NO; /* cut before it arrived whole: never handled, the client may retry */
    if (req->too_large) {
        req->dispatched = true;
        return queue_error(conn, req, url, ERR_TOO_LARGE, "the request body is too large");
    }
    req->dispatched = true;
    return dispatch(conn, req, url);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct http_server *srv = cls;
    struct request *req = *req_cls;
    if (req == NULL)
        return;
    slot_idle(conn);
    int64_t dur = clock_mono_ns() - req->start_ns;
    int status = req->status ? req->status : 499; /* nginx's "client closed request" */
    http_metrics_request(http_router_series(req->route, req->method), status, dur);
    if (srv->settings.access_log) {
        char line[512];
        /* The route pattern, never the raw URL: query strings may carry secrets. */
        snprintf(line, sizeof(line),
                 "level=info req=%llu method=%s route=\"%s\" status=%d dur_ms=%.3f tenant=%s%s%s%s",
                 (unsigned long long)req->id, req->method,
                 http_router_pattern_label((size_t)req->route), status, (double)dur / 1e6,
                 req->tenant, req->key[0] ? " key=" : "", req->key,
                 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
        log_line(line);
    }
    buf_cleanup(&req->body);
    free(req);
    *req_cls = NULL;
    http_metrics_inflight(-1);
}

static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
              enum MHD_ConnectionNotificationCode toe)
{
    struct http_server *srv = cls;
    http_metrics_connection(toe == MHD_CONNECTION_NOTIFY_STARTED ? 1 : -1);
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (fd == NULL)
            return;
        struct conn_slot *slot = xcalloc(1, sizeof(*slot));
        slot->fd = fd->connect_fd;
        atomic_init(&slot->since_ns, clock_mono_ns());
        atomic_init(&slot->state, SLOT_IDLE);
        pthread_mutex_lock(&srv->slots_lock);
        slot->next = srv->slots;
        if (srv->slots)
            srv->slots->prev = slot;
        srv->slots = slot;
        pthread_mutex_unlock(&srv->slots_lock);
        *socket_context = slot;
        return;
    }
    /* libmicrohttpd notifies the close before it closes the descriptor (MHD_cleanup_connections),
     * so the watcher never shuts down a descriptor number that was reused. */
    struct conn_slot *slot = *socket_context;
    if (slot == NULL)
        return;
    pthread_mutex_lock(&srv->slots_lock);
    if (slot->prev)
        slot->prev->next = slot->next;
    else
        srv->slots = slot->next;
    if (slot->next)
        slot->next->prev = slot->prev;
    pthread_mutex_unlock(&srv->slots_lock);
    free(slot);
    *socket_context = NULL;
}

/* The request deadline. libmicrohttpd only has an idle timeout, which every received byte
 * renews, so a client trickling a byte every few seconds would hold its connection for ever.
 * This thread shuts down the socket of a connection whose request has not arrived whole
 * request_timeout_s after the connection opened or the previous answer completed; the
 * worker owning it then sees end-of-file and closes it. A request being handled or answered
 * is left alone (its reply is bounded by the idle timeout). */
static void *
conn_watch(void *arg)
{
    struct http_server *srv = arg;
    int64_t limit_ns = (int64_t)srv->settings.request_timeout_s * 1000000000;
    while (!atomic_load(&srv->stopping)) {
        struct timespec ts = { 0, LIMIT_DEADLINE_TICK_MS * 1000000L };
        nanosleep(&ts, NULL);
        int64_t now = clock_mono_ns();
        int cut = 0;
        pthread_mutex_lock(&srv->slots_lock);
        for (struct conn_slot *s = srv->slots; s; s = s->next)
            if (now - atomic_load_explicit(&s->since_ns, memory_order_relaxed) >= limit_ns &&
                (slot_cut(s, SLOT_IDLE) || slot_cut(s, SLOT_STARTED)))
                cut++;
        pthread_mutex_unlock(&srv->slots_lock);
        if (cut > 0)
            http_metrics_deadline_cut(cut);
    }
    return NULL;
}

/* libmicrohttpd's logger callback: the format is libmicrohttpd's own. */
__attribute__((format(printf, 2, 0))) static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n')
        msg[--n] = '\0';
    log_warn("http: %s", msg);
}

static char *
read_file(const char *path, struct err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        err_set(err, ERR_INVALID_VALUE, "cannot read %s", path);
        return NULL;
    }
    struct buf b;
    buf_init(&b, 1024 * 1024);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (buf_append(&b, chunk, n, err) < 0) {
            fclose(f);
            buf_cleanup(&b);
            return NULL;
        }
    }
    fclose(f);
    return buf_take(&b, NULL);
}

/* Fills ss from an IP literal and port; false when the address is not one. */
static bool
sockaddr_of(const char *address, int port, struct sockaddr_storage *ss, socklen_t *len)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof(*v4);
        return true;
    }
    if (inet_pton(AF_INET6, address, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*v6);
        return true;
    }
    return false;
}

int
http_listen(const char *address, int port, int *fd, int *bound_port, struct err *err)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (!sockaddr_of(address, port, &ss, &len))
        return err_set(err, ERR_INVALID_VALUE, "listen address %s is not an IP address", address);
    int s = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (s < 0)
        return err_set(err, ERR_UNAVAILABLE, "cannot create a socket");
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(s, (struct sockaddr *)&ss, len) < 0 || listen(s, 1024) < 0 ||
        getsockname(s, (struct sockaddr *)&ss, &len) < 0) {
        close(s);
        return err_set(err, ERR_UNAVAILABLE, "cannot listen on %s port %d", address, port);
    }
    *bound_port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                : ((struct sockaddr_in6 *)&ss)->sin6_port);
    *fd = s;
    return 0;
}

static void
server_free(struct http_server *s)
{
    if (s == NULL)
        return;
    if (s->watching) {
        atomic_store(&s->stopping, true);
        pthread_join(s->watcher, NULL);
    }
    pthread_mutex_destroy(&s->slots_lock);
    pthread_mutex_destroy(&s->paths_lock);
    for (size_t i = 0; i < s->n_paths; i++)
        free(s->paths[i]);
    free(s->paths);
    ratelimit_free(s->auth_fail);
    ratelimit_free(s->sso);
    ratelimit_free(s->signin_fail);
    http_answers_free(s->answers);
    free(s->tls_cert);
    if (s->tls_key) {
        memset(s->tls_key, 0, strlen(s->tls_key));
        free(s->tls_key);
    }
    free(s);
}

int
http_server_start(const struct http_settings *hs, const struct api_settings *api,
                  struct store *store, struct http_server **out, struct err *err)
{
    struct http_server *s = xcalloc(1, sizeof(*s));
    s->api = api;
    s->store = store;
    s->settings = *hs;
    pthread_mutex_init(&s->slots_lock, NULL);
    pthread_mutex_init(&s->paths_lock, NULL);
    s->auth_fail = ratelimit_new(hs->auth_failure_limit, 60);
    s->sso = ratelimit_new(hs->sso_rate_limit, 60);
    s->signin_fail = ratelimit_new(hs->signin_failure_limit, 60);
    s->answers = http_answers_new(hs->answer_cache_bytes);

    struct sockaddr_storage ss;
    socklen_t ss_len;
    unsigned flags = MHD_USE_EPOLL | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TURBO |
                     MHD_USE_ERROR_LOG | MHD_USE_ITC;
    if (!sockaddr_of(hs->address, hs->port, &ss, &ss_len)) {
        server_free(s);
        return err_set(err, ERR_INVALID_VALUE, "listen address %s is not an IP address",
                       hs->address);
    }
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (hs->tls_cert_path && hs->tls_key_path) {
        s->tls_cert = read_file(hs->tls_cert_path, err);
        s->tls_key = s->tls_cert ? read_file(hs->tls_key_path, err) : NULL;
        if (s->tls_key == NULL) {
            server_free(s);
            return -1;
        }
        flags |= MHD_USE_TLS;
    }
    unsigned threads = hs->threads;
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 1;
    }
    if (threads > LIMIT_THREADS_MAX)
        threads = LIMIT_THREADS_MAX;

    /* Either the socket main.c bound (to learn the port first) or our own bind. */
    struct MHD_OptionItem opts[] = {
        hs->listen_fd >= 0
            ? (struct MHD_OptionItem){ MHD_OPTION_LISTEN_SOCKET, hs->listen_fd, NULL }
            : (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, &ss },
        { MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert },
        { MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key },
        { MHD_OPTION_END, 0, NULL },
    };
    if (!(flags & MHD_USE_TLS))
        opts[1] = opts[3];
    /* The logger goes first: libmicrohttpd warns (through its default logger) about any
     * option given before it. */
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT, hs->max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, hs->connection_timeout_s, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        hs->per_address, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, s, MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_ARRAY, opts,
        MHD_OPTION_END);
    if (s->daemon == NULL) {
        server_free(s);
        return err_set(err, ERR_UNAVAILABLE, "cannot listen on %s port %d", hs->address, hs->port);
    }
    if (hs->request_timeout_s > 0) {
        if (pthread_create(&s->watcher, NULL, conn_watch, s) != 0) {
            MHD_stop_daemon(s->daemon);
            server_free(s);
            return err_set(err, ERR_UNAVAILABLE, "cannot start the request deadline thread");
        }
        s->watching = true;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : hs->port;
    *out = s;
    return 0;
}

int
http_server_port(const struct http_server *s)
{
    return s->port;
}

void
http_server_stop(struct http_server *s, int grace_s)
{
    if (s == NULL)
        return;
    /* Stop accepting: the listening socket is handed back and closed, so new connections
     * are refused while requests already received run to completion. */
    MHD_socket ls = MHD_quiesce_daemon(s->daemon);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    /* Then every open connection ends after its answer: answers now say Connection: close,
     * and idle ones (no request begun) are shut down every tick. A request begun is received,
     * handled and answered in full first: stopping the daemon under it lost the answer of a
     * write it had committed. */
    atomic_store(&s->draining, true);
    int64_t deadline = clock_mono_ns() + (int64_t)grace_s * 1000000000;
    size_t open = 0;
    for (int i = 0; i < grace_s * 100 + 1; i++) {
        open = 0;
        pthread_mutex_lock(&s->slots_lock);
        for (struct conn_slot *c = s->slots; c; c = c->next, open++)
            slot_cut(c, SLOT_IDLE);
        pthread_mutex_unlock(&s->slots_lock);
        if (open == 0 || clock_mono_ns() > deadline)
            break;
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    if (open > 0)
        log_warn("shutdown: %zu connection(s) still answering after %d s; closing", open, grace_s);
    MHD_stop_daemon(s->daemon);
    server_free(s);
}
