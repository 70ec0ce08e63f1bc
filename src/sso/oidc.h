#ifndef SCIMD_SSO_OIDC_H
#define SCIMD_SSO_OIDC_H

#include <jansson.h>

#include "api/call.h"

/* OpenID Connect relying party (issue 7; SSO.md (a)): authorization code flow with PKCE
 * S256, SP-initiated (/login) and third-party-initiated (/initiate, Core §4), and the
 * callback with RFC 9207 iss, code exchange and ID-token validation. */

/* Validates a connection body (management API or CLI) and returns the config document to
 * store (new reference) and, in *sealed, the sealed client secret (malloc'd; NULL when the
 * body has none and `old_sealed` is kept by the caller). Fetches discovery: its issuer must
 * equal the configured one byte for byte. signInCompleteUrl is copied only when the body gives
 * one (sso_manage_put settles an absent one). current is the connection's public view as GET
 * answers it (NULL for a new one): the read-only members it adds may be repeated with these
 * values and are ignored (core/fields.h). ERR_INVALID_VALUE names the field. */
json_t *sso_oidc_configure(const json_t *body, const json_t *current,
                           const struct api_settings *settings, int64_t tenant_id, bool have_secret,
                           char **sealed, struct err *err);

/* The URLs to paste at the IdP (redirectUri, initiateLoginUri, loginUrl), set into d: they
 * exist before any connection does. */
void sso_oidc_sp_values(json_t *d, const char *public_url, const char *slug);

/* The public view of a stored config: no secret, plus the URLs to paste at the IdP. */
json_t *sso_oidc_describe(const json_t *config, const char *public_url, const char *slug);

int sso_oidc_login(struct api_call *call, struct err *err);
/* The SP-initiated flow of a console sign-in (sso/console.h): the transaction remembers it,
 * so the callback ends in a console session instead of the host application's hand-off. */
int sso_oidc_console_login(struct api_call *call, struct err *err);
int sso_oidc_initiate(struct api_call *call, struct err *err);
int sso_oidc_callback(struct api_call *call, struct err *err);

#endif
