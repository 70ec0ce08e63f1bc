#ifndef SCIMD_SSO_JWKS_H
#define SCIMD_SSO_JWKS_H

#include <stdbool.h>

#include <jansson.h>

#include "base/err.h"

/* The JWKS cache (OpenID Connect Core §10.1.1; SSO.md (a) "JWKS cache"), one entry per
 * jwks_uri, shared by all threads behind one mutex that is never held across a fetch.
 * TTL = Cache-Control max-age clamped to [5 min, 24 h]. A refetch for an unknown kid happens
 * at most once per 60 s per URI and only one thread fetches; a failed or empty refetch keeps
 * the old set. Sets over 64 KiB or 50 keys are refused. */

#define SSO_JWKS_TTL_MIN_S     (5 * 60)
#define SSO_JWKS_TTL_MAX_S     (24 * 60 * 60)
#define SSO_JWKS_REFETCH_MIN_S 60
#define SSO_JWKS_ENTRIES       256

/* The key set for uri (a private copy: new reference). `kid_miss` asks for the rate-limited
 * refetch. ERR_UPSTREAM when no set was ever fetched and the fetch fails. */
json_t *sso_jwks_get(const char *uri, bool kid_miss, bool allow_http, struct err *err);

/* How many network fetches the cache has made (tests assert the rate limit). */
unsigned long sso_jwks_fetches(void);

/* Frees every entry (at exit, after the server stopped). */
void sso_jwks_clear(void);

#endif
