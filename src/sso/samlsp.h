#ifndef SCIMD_SSO_SAMLSP_H
#define SCIMD_SSO_SAMLSP_H

#include <stdbool.h>

#include <jansson.h>

#include "api/call.h"

/* SAML 2.0 service provider endpoints (issue 7; SSO.md (b)): connection config and SP
 * metadata, the SP-initiated AuthnRequest (HTTP-Redirect), and the HTTP-POST ACS. */

/* Validates a connection body: IdP metadata XML (`metadataXml`, or fetched once from
 * `metadataUrl`) or the fields idpEntityId, ssoUrl and certificates (PEM, one or two for
 * rollover) given directly. Returns the config to store (new reference) with "enabled";
 * signInCompleteUrl only when the body gives one (sso_manage_put settles an absent one).
 * current is the connection's public view as GET answers it (NULL for a new one): the
 * read-only members it adds may be repeated with these values and are ignored
 * (core/fields.h). */
json_t *sso_saml_configure(const json_t *body, const json_t *current,
                           const struct api_settings *settings, struct err *err);

/* The values an IdP admin pastes (acsUrl, audience = spEntityId = spMetadataUrl), set into
 * d: they exist before any connection does. */
void sso_saml_sp_values(json_t *d, const char *public_url, const char *slug);

/* Whether two lists of PEM certificates hold the same certificates in the same order,
 * whatever their line breaks (false when either is not such a list). */
bool sso_saml_same_certs(const json_t *a, const json_t *b);

/* Public view with the values an IdP admin pastes: ACS URL, audience (SP entity ID),
 * metadata URL; certificate expiry dates. */
json_t *sso_saml_describe(const json_t *config, const char *public_url, const char *slug);

int sso_saml_metadata(struct api_call *call, struct err *err);
int sso_saml_login(struct api_call *call, struct err *err);
/* The SP-initiated flow of a console sign-in (sso/console.h); never an unsolicited one. */
int sso_saml_console_login(struct api_call *call, struct err *err);
int sso_saml_acs(struct api_call *call, struct err *err);

#endif
