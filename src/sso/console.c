#include "sso/console.h"

#include <stdio.h>
#include <string.h>

#include "base/crypto.h"
#include "base/str.h"
#include "core/console.h"
#include "core/role.h"
#include "core/signin.h"
#include "core/tenant.h"
#include "sso/oidc.h"
#include "sso/samlsp.h"
#include "sso/web.h"

/* True when the tenant has an enabled connection of protocol. */
static bool
enabled(struct api_call *call, const struct store_tenant *t, const char *protocol, struct err *err)
{
    struct store_sso_conn conn = { 0 };
    if (signin_conn_get(call->store, t->id, protocol, &conn, err) < 0)
        return false;
    bool on = conn.enabled;
    store_sso_conn_cleanup(&conn);
    return on;
}

/* One page for an unknown tenant and one without SSO: the page tells no tenant's existence. */
static int
not_set_up(struct api_call *call)
{
    sso_reply_failure(call, 404,
                      "Single sign-on is not set up for this tenant yet. Ask your application "
                      "for a set-up link instead.");
    return 0;
}

int
sso_console_login(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    const char *want = api_call_arg(call, "protocol");
    if (tenant_get(call->store, call->params[0], &t, err) < 0)
        return err->code == ERR_NOT_FOUND ? not_set_up(call) : -1;
    str_copy(call->log_tenant, sizeof(call->log_tenant), t.slug);
    *err = (struct err){ 0 };
    bool oidc = (want == NULL || strcmp(want, "oidc") == 0) && enabled(call, &t, "oidc", err);
    if (!oidc && err->code != ERR_OK && err->code != ERR_NOT_FOUND)
        return -1;
    *err = (struct err){ 0 };
    bool saml =
        !oidc && (want == NULL || strcmp(want, "saml") == 0) && enabled(call, &t, "saml", err);
    if (!oidc && !saml && err->code != ERR_OK && err->code != ERR_NOT_FOUND)
        return -1;
    *err = (struct err){ 0 };
    if (oidc)
        return sso_oidc_console_login(call, err);
    if (saml)
        return sso_saml_console_login(call, err);
    return not_set_up(call);
}

/* The page for a user who signed in but may not open the console: it names the deployment's
 * admin role (docs/roles.md: "owner", say), since "admin" may be no role of this deployment. */
static void
refuse_not_admin(struct api_call *call)
{
    char text[300];
    const char *admin = role_admin();
    if (admin)
        snprintf(text, sizeof(text),
                 "You signed in, but the console is only open to active users of this tenant "
                 "with the \"%s\" role. Ask one of them to give you that role.",
                 admin);
    else
        snprintf(text, sizeof(text),
                 "You signed in, but the console is only open to active admins of this tenant.");
    sso_reply_failure(call, 403, text);
}

/* The tenant has its own public URL, so this callback came to its host, where a console session
 * cookie would be of no use: the console lives on the deployment's public_url (docs/deploy.md).
 * The signed-in admin is handed over with a set-up link instead, the host's own way into the
 * console: single use, short-lived, in the URL fragment that no server or log sees. */
static int
handoff(struct api_call *call, const struct store_tenant *t, const char *protocol,
        const char *initiated, const char *user_id, struct err *err)
{
    struct console_secret token;
    int64_t expires;
    char where[600];
    if (console_setup_link_mint(call->store, &call->settings->console, &call->settings->gate, t,
                                user_id, NULL, &token, &expires, err) < 0) {
        if (err->code != ERR_FORBIDDEN)
            return -1;
        sso_event(call, t, protocol, initiated, SSO_RESULT_REJECTED, "console_not_admin", user_id);
        refuse_not_admin(call);
        return 0;
    }
    snprintf(where, sizeof(where), "%s/console/#setup=%s", call->settings->public_url, token.text);
    console_secret_wipe(&token);
    int rc = sso_reply_redirect(call, where, err);
    crypto_wipe(where, sizeof(where));
    if (rc == 0)
        sso_event(call, t, protocol, initiated, SSO_RESULT_SUCCESS, "console", user_id);
    return rc;
}

int
sso_console_finish(struct api_call *call, const struct store_tenant *t, const char *protocol,
                   const char *initiated, const char *code, struct err *err)
{
    struct store_tenant rt;
    struct store_resource user;
    struct store_sso_code row;
    struct console_secret sid;
    struct console_session cs;
    char where[420];
    /* The same redemption as POST /admin/v1/sso/redeem: once, in time, the user still active. */
    if (signin_code_redeem(call->store, code, &rt, &user, &row, err) < 0) {
        if (err->code != ERR_FORBIDDEN && err->code != ERR_NOT_FOUND)
            return -1;
        sso_event(call, t, protocol, initiated, SSO_RESULT_REJECTED, "console_redeem_failed", NULL);
        sso_reply_failure(call, 403, "The sign-in could not be completed. Please start again.");
        return 0;
    }
    int rc = 0;
    if (rt.id != t->id) {
        sso_event(call, t, protocol, initiated, SSO_RESULT_REJECTED, "console_other_tenant",
                  user.id);
        sso_reply_failure(call, 403, "You signed in to another tenant than this console's.");
    } else if (t->public_url[0]) {
        rc = handoff(call, t, protocol, initiated, user.id, err);
    } else if (console_session_create(call->store, &call->settings->console, &call->settings->gate,
                                      t, user.id, &sid, &cs, err) < 0) {
        if (err->code == ERR_FORBIDDEN) {
            /* Signed in fine, but the console is for the tenant's admins only. */
            sso_event(call, t, protocol, initiated, SSO_RESULT_REJECTED, "console_not_admin",
                      user.id);
            refuse_not_admin(call);
        } else {
            rc = -1;
        }
    } else {
        api_session_cookie_set(call, sid.text, call->settings->console.lifetime_s);
        console_secret_wipe(&sid);
        snprintf(where, sizeof(where), "%s/console/#/t/%s",
                 api_public_path(call->settings->public_url), t->slug);
        rc = sso_reply_redirect(call, where, err);
        if (rc == 0)
            sso_event(call, t, protocol, initiated, SSO_RESULT_SUCCESS, "console", user.id);
    }
    store_resource_cleanup(&user);
    return rc;
}
