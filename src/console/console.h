#ifndef SCIMD_CONSOLE_CONSOLE_H
#define SCIMD_CONSOLE_CONSOLE_H

#include "api/call.h"

/* The web console (docs/console.md): one HTML page, its hashed assets, and the session
 * endpoints. Every page of the console reads and writes through /admin/v1 with the session
 * cookie (api_auth_admin), so the console adds no second code path. */

/* GET /console: the entry page (no-cache; it names the hashed assets). */
int console_page_get(struct api_call *call, struct err *err);
/* GET /console/assets/{name}: an embedded asset by its content-hashed name (immutable). */
int console_asset_get(struct api_call *call, struct err *err);

/* Fills b from the configured name, logo URL and colour (checked by the config): the hashed
 * stylesheet's path and the pages' Content-Security-Policy, whose img-src adds the origin of
 * an https logo. `prefix` is the public URL's path ("" or "/api/v1"), which the stylesheet's
 * path starts with. ERR_INTERNAL when the stylesheet is not embedded or the policy does not
 * fit. */
int console_brand_init(struct api_brand *b, const char *prefix, const char *name,
                       const char *logo_url, const char *color, struct err *err);
/* GET /console/brand.css: the accent colour as CSS custom properties (no-cache). */
int console_brand_css(struct api_call *call, struct err *err);
/* GET /console/api/brand: {"name", "logoUrl"} for the console's header, before any session. */
int console_brand_get(struct api_call *call, struct err *err);

/* GET /console/api/session: who the cookie's session is, with its CSRF token. 401 without. */
int console_session_get(struct api_call *call, struct err *err);
/* POST /console/api/session {"operatorKey"}: the operator signs in; sets the cookie. */
int console_session_post(struct api_call *call, struct err *err);
/* DELETE /console/api/session: signs out (CSRF token required); clears the cookie. */
int console_session_delete(struct api_call *call, struct err *err);
/* POST /console/api/setup {"token"}: exchanges a set-up link token for a tenant admin's
 * session; 401 naming why (unknown, expired, already used). */
int console_setup_post(struct api_call *call, struct err *err);

#endif
