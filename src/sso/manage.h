#ifndef SCIMD_SSO_MANAGE_H
#define SCIMD_SSO_MANAGE_H

#include <jansson.h>

#include "api/call.h"

/* Managing SSO connections, one code path for the management API and the CLI (issue 7
 * item 1), and redeeming a finished sign-in (item 5). */

/* Saves the tenant's connection of protocol ("oidc" | "saml") from a body: validated by
 * sso_oidc_configure / sso_saml_configure; an OIDC body without clientSecret keeps the stored
 * one, a body without signInCompleteUrl the stored one (null clears it: settings'
 * sso_complete_url serves). caller is the management API call, whose host_fields a tenant
 * admin may not change (api_host_fields_check: ERR_FORBIDDEN, nothing saved); NULL for the
 * CLI, which acts as the operator. *out is the public view (new reference). */
int sso_manage_put(struct store *s, const struct api_settings *settings, const char *slug,
                   const char *protocol, const json_t *body, const struct api_call *caller,
                   json_t **out, struct err *err);
/* The public view of the tenant's connection; ERR_NOT_FOUND when there is none. */
int sso_manage_get(struct store *s, const struct api_settings *settings, const char *slug,
                   const char *protocol, json_t **out, struct err *err);
int sso_manage_delete(struct store *s, const char *slug, const char *protocol, struct err *err);

/* /admin/v1/tenants/{tenant}/sso/{oidc,saml} and /admin/v1/sso/redeem handlers. */
int sso_manage_oidc_get(struct api_call *call, struct err *err);
int sso_manage_oidc_put(struct api_call *call, struct err *err);
int sso_manage_oidc_delete(struct api_call *call, struct err *err);
int sso_manage_saml_get(struct api_call *call, struct err *err);
int sso_manage_saml_put(struct api_call *call, struct err *err);
int sso_manage_saml_delete(struct api_call *call, struct err *err);
int sso_manage_redeem(struct api_call *call, struct err *err);
/* GET /admin/v1/tenants/{tenant}/sso: for "oidc" and "saml", the values to paste at the
 * identity provider (they exist before a connection does: the IdP app is created with them
 * first) and whether a connection is configured, enabled and verified. */
int sso_manage_overview(struct api_call *call, struct err *err);
/* GET /admin/v1/tenants/{t}/users/{id}/sso-links: {"links": [{"protocol" (null when no
 * connection trusts the issuer now), "issuer", "subject", "created"}]}; 404 for no such user.
 * DELETE: removes them all (audited as user.sso_unlinked), 204 (issue 14). */
int sso_manage_links_get(struct api_call *call, struct err *err);
int sso_manage_links_delete(struct api_call *call, struct err *err);

#endif
