#ifndef SCIMD_SSO_OIDC_H
#define SCIMD_SSO_OIDC_H

#include <stdbool.h>
#include <stddef.h>

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

/* The connection's "redirect": which redirect URI its authorization requests send, and so
 * which one is registered at the IdP. "tenant" (the default): the tenant's own
 * /sso/{tenant}/oidc/callback; "shared": /sso/oidc/callback on the deployment's public_url,
 * one URI for every tenant (an Okta Integration Network app registers exactly one). */
#define SSO_OIDC_REDIRECT_TENANT "tenant"
#define SSO_OIDC_REDIRECT_SHARED "shared"

/* The "redirect" a connection body asks for: its own, else current's (the connection as GET
 * shows it; NULL for a new one), else "tenant". A static string; NULL with ERR_INVALID_VALUE
 * for any other value. */
const char *sso_oidc_redirect_settle(const json_t *body, const json_t *current, struct err *err);
/* True when a stored config says "redirect": "shared" (absent: the tenant's own). */
bool sso_oidc_redirect_is_shared(const json_t *config);
/* The shared callback (initiate: the initiate-login URI) into out: the host's own address
 * for it when configured (sso_shared_redirect_uri / sso_shared_initiate_uri: the host
 * forwards it to scimd's), else scimd's on the deployment's public_url. */
void sso_oidc_shared_uri(const struct api_settings *settings, bool initiate, char *out,
                         size_t size);
/* The redirect_uri of config's authorization requests into out: shared_uri when shared, else
 * tenant_url + "/sso/{slug}/oidc/callback" (either URL may be NULL: ""). -1 when it does not
 * fit in size. */
int sso_oidc_redirect_uri(const json_t *config, const char *tenant_url, const char *shared_uri,
                          const char *slug, char *out, size_t size);

/* The URLs to paste at the IdP, set into d: they exist before any connection does. The
 * tenant's (redirectUri, initiateLoginUri, loginUrl) on public_url (the tenant's URL), the
 * shared ones (sharedRedirectUri, sharedInitiateLoginUri: sso_oidc_shared_uri), and
 * "redirect": which redirect URI config (NULL: none yet, the default) uses. */
void sso_oidc_sp_values(json_t *d, const char *public_url, const struct api_settings *settings,
                        const char *slug, const json_t *config);

/* The public view of a stored config: no secret, plus the URLs to paste at the IdP. */
json_t *sso_oidc_describe(const json_t *config, const char *public_url,
                          const struct api_settings *settings, const char *slug);

int sso_oidc_login(struct api_call *call, struct err *err);
/* The SP-initiated flow of a console sign-in (sso/console.h): the transaction remembers it,
 * so the callback ends in a console session instead of the host application's hand-off. */
int sso_oidc_console_login(struct api_call *call, struct err *err);
int sso_oidc_initiate(struct api_call *call, struct err *err);
int sso_oidc_callback(struct api_call *call, struct err *err);
/* The tenant-free endpoints (docs/sso.md "One redirect URI for every tenant"):
 * GET /sso/oidc/callback completes the transaction its state names, of whichever tenant, with
 * the checks of the tenant's callback; GET|POST /sso/oidc/initiate?iss=… starts a sign-in for
 * the one tenant whose enabled connection trusts that issuer (several: refused,
 * initiate_ambiguous_issuer). */
int sso_oidc_shared_callback(struct api_call *call, struct err *err);
int sso_oidc_shared_initiate(struct api_call *call, struct err *err);

#endif
