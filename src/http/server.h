#ifndef SCIMD_HTTP_SERVER_H
#define SCIMD_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "api/call.h"
#include "base/err.h"
#include "store/store.h"

struct http_settings {
    const char *address; /* IPv4 or IPv6 literal to bind */
    int port;            /* 0 picks a free port (see http_server_port) */
    unsigned threads;    /* worker threads; 0 = one per core */
    unsigned max_connections;
    unsigned connection_timeout_s; /* idle limit: no byte either way for this long */
    unsigned request_timeout_s;    /* a request's head and body must arrive within this */
    unsigned per_address;          /* connections from one client address; 0: no limit */
    /* rate limits per minute (429 past them; 0: none) */
    long auth_failure_limit;   /* failed bearer/operator authentications, per address and prefix */
    long sso_rate_limit;       /* SSO starts and callbacks, per address */
    long signin_failure_limit; /* failed console sign-ins, per address */
    size_t body_max;           /* bytes; larger bodies get 413 */
    const char *tls_cert_path; /* both set: serve HTTPS */
    const char *tls_key_path;
    bool access_log;
    /* Bytes of SCIM answers kept while the database is unchanged (http/answers.h); 0: none. */
    size_t answer_cache_bytes;
    /* The path of public_url ("/api/v1", or ""): requests under it are served as at the root,
     * so a proxy may forward the prefix or strip it. */
    const char *path_prefix;
    int listen_fd; /* a socket from http_listen, or -1: the server binds address/port */
};

/* Binds and listens on address:port (0 = any free port) before the server starts, so the
 * caller can learn the port (for a default public URL). */
int http_listen(const char *address, int port, int *fd, int *bound_port, struct err *err);

struct http_server;

/* Starts serving with a pool of worker threads. api and store must outlive the server. */
int http_server_start(const struct http_settings *hs, const struct api_settings *api,
                      struct store *store, struct http_server **out, struct err *err);

/* The port actually bound (useful with port 0). */
int http_server_port(const struct http_server *s);

/* Graceful stop: stops accepting, lets requests in flight finish (up to grace_s seconds),
 * then closes every connection and joins the workers. Frees s. */
void http_server_stop(struct http_server *s, int grace_s);

#endif
