#ifndef SCIMD_SSO_FETCH_H
#define SCIMD_SSO_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Outbound HTTP to identity providers (SSO.md (a) "Discovery"): libcurl, https only with peer
 * and host verification, no redirects, 5 s, a size cap, and no connection to loopback,
 * private or link-local addresses (SSRF through discovery). `allow_http` (the sso_test_http
 * setting) admits plain http and turns the address guard off altogether (every internal
 * address, over https too), for the test suite's local providers only. */

struct sso_fetch {
    const char *url;
    const char *form; /* POST body (application/x-www-form-urlencoded); NULL: GET */
    const char *user; /* HTTP Basic (client_secret_basic), both form-encoded here */
    const char *password;
    const char *bearer; /* Authorization: Bearer (UserInfo) */
    size_t max_bytes;   /* larger answers fail with ERR_TOO_LARGE */
    bool allow_http;
};

/* Performs the request. *body (malloc'd, NUL-terminated) and *status are set when a response
 * arrived (any status); *max_age is Cache-Control max-age or -1. ERR_UPSTREAM when the
 * provider cannot be reached, ERR_INVALID_VALUE for a URL refused by the rules above. */
int sso_fetch_run(const struct sso_fetch *f, long *status, char **body, int64_t *max_age,
                  struct err *err);

/* True when the URL's scheme is https, or http under allow_http; no userinfo, query or
 * fragment when `bare`. */
bool sso_fetch_url_ok(const char *url, bool allow_http, bool bare);

#endif
