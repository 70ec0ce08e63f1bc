#ifndef SCIMD_SSO_CONSOLE_H
#define SCIMD_SSO_CONSOLE_H

#include "api/call.h"
#include "store/store.h"

/* Tenant admins sign in to the web console through their tenant's SSO (docs/console.md "SSO
 * sign-in"). /console/sso/{tenant} starts the tenant's SP-initiated OIDC (else SAML) flow with
 * a transaction marked for the console; when the sign-in succeeds, sso_finish hands the code
 * to sso_console_finish instead of the host application, which redeems it here (the core
 * function of POST /admin/v1/sso/redeem, no HTTP round trip) and opens a console session with
 * console_session_create — for an active admin of that tenant only. IdP-initiated sign-ins
 * never open a console session: an unsolicited one cannot be bound to the browser. */

/* GET /console/sso/{tenant}[?protocol=oidc|saml]: starts the sign-in, or a page saying that
 * the tenant has no enabled connection. */
int sso_console_login(struct api_call *call, struct err *err);

/* Redeems the hand-off code of a finished console sign-in of tenant t and replies: the session
 * cookie and a redirect to the tenant's console page, or a 403 page (with a rejected event)
 * when the user is not an active admin of t. */
int sso_console_finish(struct api_call *call, const struct store_tenant *t, const char *protocol,
                       const char *initiated, const char *code, struct err *err);

#endif
