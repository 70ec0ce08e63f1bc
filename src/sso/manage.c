#include "sso/manage.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/limits.h"
#include "base/str.h"
#include "core/role.h"
#include "core/signin.h"
#include "core/tenant.h"
#include "sso/oidc.h"
#include "sso/samlsp.h"

static json_t *
describe(const struct api_settings *settings, const struct store_tenant *t,
         const struct store_sso_conn *conn, const json_t *cfg)
{
    json_t *d = strcmp(conn->protocol, "oidc") == 0
                    ? sso_oidc_describe(cfg, api_tenant_url(settings, t), settings, t->slug)
                    : sso_saml_describe(cfg, api_tenant_url(settings, t), t->slug);
    char when[32];
    json_object_set_new(d, "enabled", json_boolean(conn->enabled));
    /* "SAML required" (token gate) means: exists, enabled, and has signed someone in. */
    json_object_set_new(d, "verified", json_boolean(conn->verified_ms != 0));
    if (conn->verified_ms) {
        clock_format_ms(conn->verified_ms, when);
        json_object_set_new(d, "firstSignIn", json_string(when));
    }
    json_object_set_new(d, "protocol", json_string(conn->protocol));
    /* null: the connection has no page of its own and sign-ins use sso_complete_url. */
    if (json_object_get(d, "signInCompleteUrl") == NULL)
        json_object_set_new(d, "signInCompleteUrl", json_null());
    return d;
}

int
sso_manage_get(struct store *s, const struct api_settings *settings, const char *slug,
               const char *protocol, json_t **out, struct err *err)
{
    struct store_tenant t;
    struct store_sso_conn conn = { 0 };
    if (tenant_get(s, slug, &t, err) < 0 || signin_conn_get(s, t.id, protocol, &conn, err) < 0)
        return -1;
    json_t *cfg = json_loads(conn.config ? conn.config : "", 0, NULL);
    int rc = 0;
    if (cfg == NULL)
        rc = err_set(err, ERR_INTERNAL, "stored %s connection does not parse", protocol);
    else
        *out = describe(settings, &t, &conn, cfg);
    json_decref(cfg);
    store_sso_conn_cleanup(&conn);
    return rc;
}

/* True when cfg names another IdP than old (issue 14): OIDC issuer, client ID, Entra tenant
 * or signing-key source (the discovered jwks_uri); SAML entity ID, signing certificates or SSO
 * URL. A new connection (old NULL) is a change too. Flags, algorithms, signInCompleteUrl and
 * the client secret are not the IdP's identity. */
static bool
idp_changed(const char *protocol, const json_t *old, const json_t *cfg)
{
    static const char *const oidc[] = { "issuer", "clientId", "entraTenantId" };
    static const char *const saml[] = { "idpEntityId", "certificates", "ssoUrl" };
    bool is_oidc = strcmp(protocol, "oidc") == 0;
    const char *const *keys = is_oidc ? oidc : saml;
    if (!json_is_object(old))
        return true;
    for (size_t i = 0; i < 3; i++) {
        const json_t *a = json_object_get(old, keys[i]), *b = json_object_get(cfg, keys[i]);
        if ((a == NULL) != (b == NULL))
            return true;
        /* A certificate pasted with other line breaks is the same IdP. */
        bool same = a == NULL ||
                    (!is_oidc && strcmp(keys[i], "certificates") == 0 ? sso_saml_same_certs(a, b)
                                                                      : json_equal(a, b));
        if (!same)
            return true;
    }
    if (is_oidc) {
        const json_t *a = json_object_get(json_object_get(old, "discovery"), "jwks_uri");
        const json_t *b = json_object_get(json_object_get(cfg, "discovery"), "jwks_uri");
        return a == NULL || b == NULL || !json_equal(a, b);
    }
    return false;
}

/* signInCompleteUrl (issue 13 item 6): the host's redemption page. Omitted, the stored one
 * stays; null clears it, so sign-ins use the server's sso_complete_url. A connection with
 * neither cannot hand a sign-in to anyone and is refused. */
static int
complete_url_settle(const struct api_settings *settings, const json_t *body, const json_t *stored,
                    json_t *cfg, bool by_tenant_admin, struct err *err)
{
    const json_t *keep = json_object_get(stored, "signInCompleteUrl");
    if (json_object_get(body, "signInCompleteUrl") == NULL && json_is_string(keep))
        json_object_set_new(cfg, "signInCompleteUrl", json_deep_copy(keep));
    if (json_object_get(cfg, "signInCompleteUrl") != NULL || settings->sso_complete_url != NULL)
        return 0;
    /* A tenant admin cannot set it (a host field): say whom to ask, not which field to send. */
    if (by_tenant_admin)
        return err_set(err, ERR_INVALID_VALUE,
                       "this application has not said yet where a sign-in lands (its sign-in "
                       "completion page), so no connection can be saved here: ask the "
                       "application's operator to set it");
    return err_set(err, ERR_INVALID_VALUE,
                   "signInCompleteUrl is required: the https URL of the host application that "
                   "redeems sign-ins (or set the server's sso_complete_url)");
}

int
sso_manage_put(struct store *s, const struct api_settings *settings, const char *slug,
               const char *protocol, const json_t *body, const struct api_call *caller,
               json_t **out, struct err *err)
{
    struct store_tenant t;
    struct store_sso_conn old = { 0 };
    char *sealed = NULL;
    json_t *cfg = NULL, *stored = NULL, *current = NULL;
    int rc = -1;
    if (tenant_get(s, slug, &t, err) < 0)
        return -1;
    if (signin_conn_get(s, t.id, protocol, &old, err) < 0 && err->code != ERR_NOT_FOUND)
        return -1;
    stored = old.config ? json_loads(old.config, 0, NULL) : NULL;
    /* A connection saved before "redirect" existed sends the tenant's redirect URI: say so,
     * so a body repeating what GET shows is no change of the host's field. */
    if (json_is_object(stored) && strcmp(protocol, "oidc") == 0 &&
        json_object_get(stored, "redirect") == NULL)
        json_object_set_new(stored, "redirect", json_string(SSO_OIDC_REDIRECT_TENANT));
    if (caller && api_host_fields_check(caller, body, stored, err) < 0)
        goto out;
    /* What GET answers now: a body may repeat its read-only members (GET, change, PUT). */
    current = stored ? describe(settings, &t, &old, stored) : NULL;
    if (strcmp(protocol, "oidc") == 0)
        cfg = sso_oidc_configure(body, current, settings, t.id, old.secret != NULL, &sealed, err);
    else
        cfg = sso_saml_configure(body, current, settings, err);
    if (cfg == NULL ||
        complete_url_settle(settings, body, stored, cfg, caller && caller->host_fields, err) < 0)
        goto out;
    bool enabled = json_is_true(json_object_get(cfg, "enabled"));
    json_object_del(cfg, "enabled");
    bool changed = idp_changed(protocol, stored, cfg);
    if (signin_conn_put(s, t.id, protocol, cfg, sealed ? sealed : old.secret, enabled, changed,
                        err) < 0)
        goto out;
    rc = sso_manage_get(s, settings, slug, protocol, out, err);
out:
    free(sealed);
    json_decref(cfg);
    json_decref(current);
    json_decref(stored);
    store_sso_conn_cleanup(&old);
    return rc;
}

int
sso_manage_delete(struct store *s, const char *slug, const char *protocol, struct err *err)
{
    struct store_tenant t;
    if (tenant_get(s, slug, &t, err) < 0)
        return -1;
    return signin_conn_delete(s, t.id, protocol, err);
}

static int
get(struct api_call *call, const char *protocol, struct err *err)
{
    json_t *out;
    if (sso_manage_get(call->store, call->settings, call->params[0], protocol, &out, err) < 0)
        return -1;
    api_reply_json(call, 200, out);
    return 0;
}

static int
put(struct api_call *call, const char *protocol, struct err *err)
{
    json_t *out, *body = api_call_body_json(call, err);
    if (body == NULL)
        return -1;
    int rc = sso_manage_put(call->store, call->settings, call->params[0], protocol, body, call,
                            &out, err);
    json_decref(body);
    if (rc == 0)
        api_reply_json(call, 200, out);
    return rc;
}

static int
del(struct api_call *call, const char *protocol, struct err *err)
{
    if (sso_manage_delete(call->store, call->params[0], protocol, err) < 0)
        return -1;
    api_reply_empty(call, 204);
    return 0;
}

int
sso_manage_oidc_get(struct api_call *call, struct err *err)
{
    return get(call, "oidc", err);
}

int
sso_manage_oidc_put(struct api_call *call, struct err *err)
{
    return put(call, "oidc", err);
}

int
sso_manage_oidc_delete(struct api_call *call, struct err *err)
{
    return del(call, "oidc", err);
}

int
sso_manage_saml_get(struct api_call *call, struct err *err)
{
    return get(call, "saml", err);
}

int
sso_manage_saml_put(struct api_call *call, struct err *err)
{
    return put(call, "saml", err);
}

int
sso_manage_saml_delete(struct api_call *call, struct err *err)
{
    return del(call, "saml", err);
}

/* ---- a user's SSO links (issue 14) ---- */

/* The IdP each of the tenant's connections trusts now (issuer, idpEntityId), into
 * trusted[0] (oidc) and trusted[1] (saml): new references, NULL when there is none. */
static void
trusted_issuers(struct store *s, int64_t tenant_id, json_t *trusted[2])
{
    static const char *const protocols[] = { "oidc", "saml" };
    static const char *const keys[] = { "issuer", "idpEntityId" };
    for (size_t i = 0; i < 2; i++) {
        struct store_sso_conn c = { 0 };
        struct err ignored = { 0 };
        trusted[i] = NULL;
        if (signin_conn_get(s, tenant_id, protocols[i], &c, &ignored) < 0)
            continue;
        json_t *cfg = json_loads(c.config ? c.config : "", 0, NULL);
        trusted[i] = json_incref(json_object_get(cfg, keys[i]));
        json_decref(cfg);
        store_sso_conn_cleanup(&c);
    }
}

int
sso_manage_links_get(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    struct store_sso_link links[LIMIT_SSO_LINKS_PER_USER];
    size_t n = 0;
    char when[32];
    if (tenant_get(call->store, call->params[0], &t, err) < 0 ||
        signin_links_of_user(call->store, t.id, call->params[1], links, LIMIT_SSO_LINKS_PER_USER,
                             &n, err) < 0)
        return -1;
    json_t *list = json_array(), *trusted[2];
    trusted_issuers(call->store, t.id, trusted);
    for (size_t i = 0; i < n; i++) {
        /* The protocol of the connection that trusts the link's issuer now; null for a link
         * made through an IdP the tenant has since replaced. */
        const char *v0 = json_string_value(trusted[0]), *v1 = json_string_value(trusted[1]);
        const char *protocol = v0 && strcmp(v0, links[i].issuer) == 0   ? "oidc"
                               : v1 && strcmp(v1, links[i].issuer) == 0 ? "saml"
                                                                        : NULL;
        clock_format_ms(links[i].created_ms, when);
        json_array_append_new(list, json_pack("{s:s?, s:s, s:s, s:s}", "protocol", protocol,
                                              "issuer", links[i].issuer, "subject",
                                              links[i].subject, "created", when));
    }
    json_decref(trusted[0]);
    json_decref(trusted[1]);
    api_reply_json(call, 200, json_pack("{s:o}", "links", list));
    return 0;
}

int
sso_manage_links_delete(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    int removed = 0;
    if (tenant_get(call->store, call->params[0], &t, err) < 0 ||
        signin_links_remove(call->store, t.id, call->actor, call->params[1], &removed, err) < 0)
        return -1;
    api_reply_empty(call, 204);
    return 0;
}

/* The user's effective role (docs/roles.md): mapped groups, else the role set on the user,
 * else the configured default; null when there is none (no roles configured). */
static json_t *
role_of(struct api_call *call, int64_t tenant_id, const char *user_id)
{
    struct store_user_role r;
    struct err ignored;
    const char *role =
        role_of_user(call->store, tenant_id, user_id, &r, &ignored) == 0 ? r.role : role_default();
    return role && role[0] ? json_string(role) : json_null();
}

static json_t *
email_of(const json_t *doc, const char *user_name)
{
    const json_t *emails = json_object_get(doc, "emails"), *pick = NULL;
    size_t i;
    json_t *e;
    json_array_foreach(emails, i, e) {
        if (pick == NULL || json_is_true(json_object_get(e, "primary")))
            pick = e;
    }
    const char *v = json_string_value(json_object_get(pick, "value"));
    return json_string(v ? v : user_name ? user_name : "");
}

int
sso_manage_redeem(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    struct store_resource user;
    struct store_sso_code row;
    json_t *body = api_call_body_json(call, err);
    if (body == NULL)
        return -1;
    const char *code = json_string_value(json_object_get(body, "code"));
    int rc = -1;
    if (code == NULL) {
        err_set(err, ERR_INVALID_VALUE, "code is required");
    } else if (signin_code_redeem(call->store, code, &t, &user, &row, err) == 0) {
        json_t *doc = json_loads(user.doc ? user.doc : "{}", 0, NULL);
        str_copy(call->log_tenant, sizeof(call->log_tenant), t.slug);
        api_reply_json(call, 200,
                       json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:s}", "tenant", t.slug, "userId",
                                 user.id, "userName", user.user_name ? user.user_name : "", "email",
                                 email_of(doc, user.user_name), "role",
                                 role_of(call, t.id, user.id), "protocol", row.protocol,
                                 "initiated", row.initiated));
        json_decref(doc);
        store_resource_cleanup(&user);
        rc = 0;
    }
    json_decref(body);
    return rc;
}

/* ---- the overview (what the IdP admin needs before any connection exists) ---- */

int
sso_manage_overview(struct api_call *call, struct err *err)
{
    static const char *const protocols[] = { "oidc", "saml" };
    struct store_tenant t;
    if (tenant_get(call->store, call->params[0], &t, err) < 0)
        return -1;
    const char *base = api_tenant_url(call->settings, &t);
    json_t *out = json_object();
    for (size_t i = 0; i < 2; i++) {
        struct store_sso_conn c = { 0 };
        json_t *d = json_object();
        bool configured = signin_conn_get(call->store, t.id, protocols[i], &c, err) == 0;
        if (!configured && err->code != ERR_NOT_FOUND) {
            json_decref(d);
            json_decref(out);
            return -1;
        }
        if (i == 0) {
            /* The shared URLs beside the tenant's, and which of them the connection sends. */
            json_t *cfg = configured ? json_loads(c.config ? c.config : "", 0, NULL) : NULL;
            sso_oidc_sp_values(d, base, call->settings, t.slug, cfg);
            json_decref(cfg);
        } else {
            sso_saml_sp_values(d, base, t.slug);
        }
        json_object_set_new(d, "configured", json_boolean(configured));
        json_object_set_new(d, "enabled", json_boolean(configured && c.enabled));
        json_object_set_new(d, "verified", json_boolean(configured && c.verified_ms != 0));
        store_sso_conn_cleanup(&c);
        json_object_set_new(out, protocols[i], d);
    }
    api_reply_json(call, 200, out);
    return 0;
}
