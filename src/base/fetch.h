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

struct fetch_post {
    const char *url;
    const char *const *headers; /* "Name: value" lines, NULL-terminated */
    const char *body;
    size_t body_len;
    long timeout_ms;
    bool allow_http;
};

/* POSTs and sets *status to the HTTP status. A transport failure (refused, timeout, TLS) is
 * -1 with ERR_UNAVAILABLE and a detail that says which; any HTTP status is 0. */
int fetch_post(const struct fetch_post *req, long *status, struct err *err);

#endif
