#ifndef SCIMD_BASE_FETCH_H
#define SCIMD_BASE_FETCH_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* Outbound HTTP with libcurl, for calls scimd makes to other servers (webhooks). Safe
 * defaults: https only (plain http only when allow_http), peer and host verification, no
 * redirects, a total timeout, and a capped response body that is read and dropped. */

/* Call once from main before any thread starts, and fetch_global_cleanup at exit. */
int fetch_global_init(struct err *err);
void fetch_global_cleanup(void);

/* Refuses connections to loopback, private (RFC 1918, RFC 4193), link-local, unspecified and
 * CGNAT addresses, checked on each address the name resolved to, before any byte is sent:
 * URLs that tenants' admins enter (identity providers, webhooks) must not reach scimd's own
 * network (SSRF). allow_internal is for the test suites' loopback servers. */
struct fetch_guard {
    bool allow_internal;
    bool refused; /* set when a connection was refused */
};

/* Installs g on a libcurl easy handle (CURL *). */
void fetch_guard_apply(void *curl, struct fetch_guard *g);

struct fetch_post {
    const char *url;
    const char *const *headers; /* "Name: value" lines, NULL-terminated */
    const char *body;
    size_t body_len;
    long timeout_ms;
    bool allow_http;
};

/* POSTs and sets *status to the HTTP status. A transport failure (refused, timeout, TLS, an
 * internal address without allow_http) is -1 with ERR_UNAVAILABLE and a detail that says
 * which; any HTTP status is 0. */
int fetch_post(const struct fetch_post *req, long *status, struct err *err);

/* True when ip (an IPv4 or IPv6 literal) is in the IANA special-purpose address registries
 * (loopback, private, CGNAT, NAT64, documentation, benchmarking, multicast, ...) or is not
 * an address at all: outbound requests never connect there. Checked for every address
 * libcurl connects to, so each DNS answer and each redirect is judged anew. */
bool fetch_addr_is_special(const char *ip);

#endif
