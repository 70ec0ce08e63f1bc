#include "sso/oidc.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "core/fields.h"
#include "core/signin.h"
#include "sso/fetch.h"
#include "sso/jwks.h"
#include "sso/jwt.h"
#include "sso/secret.h"
#include "sso/web.h"

#define PROTO          "oidc"
#define TX_COOKIE      "__Host-scimd_tx"
#define DISCOVERY_MAX  (256 * 1024)
#define TOKEN_RESP_MAX (256 * 1024)
#define HINT_MAX       256

static const char *const known_algs[] = { "RS256", "RS384", "RS512", "PS256", "PS384",
                                          "PS512", "ES256", "ES384", "ES512" };

/* ---- configuration ---- */

static const char *
get_str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Entra: the tenant GUID, never a multi-tenant alias (SSO.md (a) "Microsoft Entra ID"). The
 * scheme and host are case-insensitive (RFC 3986 §6.2.2.1) and Entra reads the alias in any
 * case, so both are compared without case. */
static int
entra_tid(const char *issuer, const char **tid_out, char tid[64], struct err *err)
{
    const char *p = "https://login.microsoftonline.com/";
    size_t plen = strlen(p);
    if (strlen(issuer) < plen || !str_ieq_cstr((struct str){ .ptr = issuer, .len = plen }, p))
        return 0;
    const char *t = issuer + plen;
    size_t n = strcspn(t, "/");
    if (n == 0 || n >= 64)
        return err_set(err, ERR_INVALID_VALUE, "issuer: the Entra tenant id is missing");
    memcpy(tid, t, n);
    tid[n] = '\0';
    if (cstr_ieq(tid, "common") || cstr_ieq(tid, "organizations") || cstr_ieq(tid, "consumers"))
        return err_set(err, ERR_INVALID_VALUE,
                       "issuer: use the Entra tenant id (a GUID), not \"%s\"", tid);
    if (*tid_out == NULL)
        *tid_out = tid;
    return 0;
}

static json_t *
check_algs(const json_t *v, struct err *err)
{
    if (v == NULL)
        return json_pack("[s]", "RS256");
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 9) {
        err_set(err, ERR_INVALID_VALUE, "algorithms must be a non-empty array");
        return NULL;
    }
    size_t i;
    json_t *a;
    json_array_foreach(v, i, a) {
        bool ok = false;
        for (size_t k = 0; json_is_string(a) && k < 9; k++)
            ok |= strcmp(json_string_value(a), known_algs[k]) == 0;
        if (!ok) {
            err_set(err, ERR_INVALID_VALUE,
                    "algorithms: only RS256/384/512, PS256/384/512 and ES256/384/512 are allowed");
            return NULL;
        }
    }
    return json_deep_copy(v);
}

/* OIDC Discovery 1.0 §4: fetch and keep what the flow needs. */
static json_t *
discover(const char *issuer, bool allow_http, struct err *err)
{
    struct buf url;
    long status = 0;
    char *body = NULL;
    json_t *d = NULL, *out = NULL;
    buf_init(&url, 2048);
    size_t n = strlen(issuer);
    if (buf_append(&url, issuer, n > 0 && issuer[n - 1] == '/' ? n - 1 : n, err) < 0 ||
        buf_append_cstr(&url, "/.well-known/openid-configuration", err) < 0)
        goto out;
    struct sso_fetch f = { .url = url.data, .max_bytes = DISCOVERY_MAX, .allow_http = allow_http };
    if (sso_fetch_run(&f, &status, &body, NULL, err) < 0)
        goto out;
    d = status == 200 ? json_loads(body, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (!json_is_object(d)) {
        err_set(err, ERR_INVALID_VALUE, "discovery at %.120s answered %ld without a JSON object",
                url.data, status);
        goto out;
    }
    const char *iss = get_str(d, "issuer"), *authz = get_str(d, "authorization_endpoint");
    const char *token = get_str(d, "token_endpoint"), *jwks = get_str(d, "jwks_uri");
    if (iss == NULL || strcmp(iss, issuer) != 0) {
        err_set(err, ERR_INVALID_VALUE,
                "issuer: discovery says the issuer is \"%.100s\", not the configured one (they "
                "must match exactly)",
                iss ? iss : "");
        goto out;
    }
    if (!sso_fetch_url_ok(authz, allow_http, false) ||
        !sso_fetch_url_ok(token, allow_http, false) || !sso_fetch_url_ok(jwks, allow_http, false)) {
        err_set(err, ERR_INVALID_VALUE, "discovery lacks https authorization, token or JWKS URLs");
        goto out;
    }
    const json_t *methods = json_object_get(d, "code_challenge_methods_supported");
    if (methods) {
        bool s256 = false;
        size_t i;
        json_t *m;
        json_array_foreach(methods, i, m)
            s256 |= json_is_string(m) && strcmp(json_string_value(m), "S256") == 0;
        if (!s256) {
            err_set(err, ERR_INVALID_VALUE, "the provider does not support PKCE S256");
            goto out;
        }
    }
    json_t *algs = json_object_get(d, "id_token_signing_alg_values_supported");
    out = json_pack(
        "{s:s, s:s, s:s, s:O, s:b}", "authorization_endpoint", authz, "token_endpoint", token,
        "jwks_uri", jwks, "algs", json_is_array(algs) ? algs : json_null(), "iss_parameter",
        json_is_true(json_object_get(d, "authorization_response_iss_parameter_supported")));
    const char *userinfo = get_str(d, "userinfo_endpoint");
    if (out && userinfo && sso_fetch_url_ok(userinfo, allow_http, false))
        json_object_set_new(out, "userinfo_endpoint", json_string(userinfo));
out:
    json_decref(d);
    free(body);
    buf_cleanup(&url);
    return out;
}

static bool
bool_field(const json_t *body, const char *k, bool dflt, int *bad)
{
    const json_t *v = json_object_get(body, k);
    if (v == NULL)
        return dflt;
    if (!json_is_boolean(v))
        *bad = 1;
    return json_is_true(v);
}

json_t *
sso_oidc_configure(const json_t *body, const json_t *current, const struct api_settings *settings,
                   int64_t tenant_id, bool have_secret, char **sealed, struct err *err)
{
    static const char *const keys[] = {
        "issuer",        "oktaOrgUrl",   "clientId", "clientSecret",
        "algorithms",    "idpInitiated", "enabled",  "signInCompleteUrl",
        "entraTenantId", "redirect",     NULL
    };
    /* What sso_oidc_describe adds: the stored discovery and the URLs to paste at the IdP. */
    static const char *const readonly[] = { SSO_READ_ONLY_COMMON,
                                            "discovery",
                                            "redirectUri",
                                            "initiateLoginUri",
                                            "loginUrl",
                                            "clientSecretSet",
                                            "sharedRedirectUri",
                                            "sharedInitiateLoginUri",
                                            NULL };
    json_t *cfg = NULL, *algs = NULL, *disc = NULL;
    char tidbuf[64];
    int bad = 0;
    *sealed = NULL;
    if (fields_check(body, keys, readonly, current, err) < 0)
        return NULL;
    const char *issuer = get_str(body, "issuer");
    if (issuer == NULL)
        issuer = get_str(body, "oktaOrgUrl");
    const char *client_id = get_str(body, "clientId"), *secret = get_str(body, "clientSecret");
    const char *complete = get_str(body, "signInCompleteUrl"),
               *tid = get_str(body, "entraTenantId");
    bool idp = bool_field(body, "idpInitiated", false, &bad);
    bool enabled = bool_field(body, "enabled", true, &bad);
    if (bad) {
        err_set(err, ERR_INVALID_VALUE, "idpInitiated and enabled must be true or false");
        return NULL;
    }
    if (issuer == NULL) {
        err_set(err, ERR_INVALID_VALUE, "issuer (or oktaOrgUrl) is required");
        return NULL;
    }
    /* Both fields, whichever is used: each names the Okta org (issue 14). */
    if (sso_okta_admin_check("oktaOrgUrl", get_str(body, "oktaOrgUrl"), false, err) < 0 ||
        sso_okta_admin_check("issuer", get_str(body, "issuer"), false, err) < 0)
        return NULL;
    if (!sso_fetch_url_ok(issuer, settings->sso_allow_http, true)) {
        err_set(err, ERR_INVALID_VALUE,
                "issuer must be an https URL without query or fragment (got \"%.120s\")", issuer);
        return NULL;
    }
    if (entra_tid(issuer, &tid, tidbuf, err) < 0)
        return NULL;
    if (client_id == NULL || client_id[0] == '\0' || strlen(client_id) > 255) {
        err_set(err, ERR_INVALID_VALUE, "clientId is required (at most 255 characters)");
        return NULL;
    }
    if (secret == NULL && !have_secret) {
        err_set(err, ERR_INVALID_VALUE, "clientSecret is required");
        return NULL;
    }
    if (complete && !sso_fetch_url_ok(complete, settings->sso_allow_http, false)) {
        err_set(err, ERR_INVALID_VALUE,
                "signInCompleteUrl must be the https URL of the host application that redeems "
                "sign-ins");
        return NULL;
    }
    const char *redirect = sso_oidc_redirect_settle(body, current, err);
    if (redirect == NULL)
        return NULL;
    if ((algs = check_algs(json_object_get(body, "algorithms"), err)) == NULL)
        return NULL;
    if ((disc = discover(issuer, settings->sso_allow_http, err)) == NULL)
        goto fail;
    if (secret && (*sealed = sso_secret_seal(settings->sso_keys, tenant_id, secret, err)) == NULL)
        goto fail;
    cfg = json_pack("{s:s, s:s, s:o, s:b, s:b, s:o, s:s}", "issuer", issuer, "clientId", client_id,
                    "algorithms", algs, "idpInitiated", idp, "enabled", enabled, "discovery", disc,
                    "redirect", redirect);
    if (complete)
        json_object_set_new(cfg, "signInCompleteUrl", json_string(complete));
    if (tid)
        json_object_set_new(cfg, "entraTenantId", json_string(tid));
    return cfg;
fail:
    json_decref(algs);
    json_decref(disc);
    return NULL;
}

const char *
sso_oidc_redirect_settle(const json_t *body, const json_t *current, struct err *err)
{
    const json_t *v = json_object_get(body, "redirect");
    if (v == NULL)
        v = json_object_get(current, "redirect"); /* omitted: the stored choice stays */
    const char *mode = v ? json_string_value(v) : SSO_OIDC_REDIRECT_TENANT;
    if (mode && strcmp(mode, SSO_OIDC_REDIRECT_TENANT) == 0)
        return SSO_OIDC_REDIRECT_TENANT;
    if (mode && strcmp(mode, SSO_OIDC_REDIRECT_SHARED) == 0)
        return SSO_OIDC_REDIRECT_SHARED;
    err_set(err, ERR_INVALID_VALUE,
            "redirect must be \"tenant\" (/sso/{tenant}/oidc/callback) or \"shared\" "
            "(/sso/oidc/callback, one redirect URI for every tenant)");
    return NULL;
}

bool
sso_oidc_redirect_is_shared(const json_t *config)
{
    const char *mode = json_string_value(json_object_get(config, "redirect"));
    return mode != NULL && strcmp(mode, SSO_OIDC_REDIRECT_SHARED) == 0;
}

void
sso_oidc_shared_uri(const struct api_settings *settings, bool initiate, char *out, size_t size)
{
    const char *own =
        initiate ? settings->sso_shared_initiate_uri : settings->sso_shared_redirect_uri;
    if (own)
        snprintf(out, size, "%s", own);
    else
        snprintf(out, size, "%s/sso/oidc/%s", settings->public_url ? settings->public_url : "",
                 initiate ? "initiate" : "callback");
}

int
sso_oidc_redirect_uri(const json_t *config, const char *tenant_url, const char *shared_uri,
                      const char *slug, char *out, size_t size)
{
    int w =
        sso_oidc_redirect_is_shared(config)
            ? snprintf(out, size, "%s", shared_uri ? shared_uri : "")
            : snprintf(out, size, "%s/sso/%s/oidc/callback", tenant_url ? tenant_url : "", slug);
    return w > 0 && (size_t)w < size ? 0 : -1;
}

void
sso_oidc_sp_values(json_t *d, const char *public_url, const struct api_settings *settings,
                   const char *slug, const json_t *config)
{
    char url[600];
    if (public_url == NULL)
        public_url = "";
    snprintf(url, sizeof(url), "%s/sso/%s/oidc/callback", public_url, slug);
    json_object_set_new(d, "redirectUri", json_string(url));
    snprintf(url, sizeof(url), "%s/sso/%s/oidc/initiate", public_url, slug);
    json_object_set_new(d, "initiateLoginUri", json_string(url));
    snprintf(url, sizeof(url), "%s/sso/%s/oidc/login", public_url, slug);
    json_object_set_new(d, "loginUrl", json_string(url));
    /* One redirect and initiate-login URI for every tenant (an Okta Integration Network app
     * registers exactly one): the host's own, or on the deployment's public_url, never a
     * tenant's own. */
    sso_oidc_shared_uri(settings, false, url, sizeof(url));
    json_object_set_new(d, "sharedRedirectUri", json_string(url));
    sso_oidc_shared_uri(settings, true, url, sizeof(url));
    json_object_set_new(d, "sharedInitiateLoginUri", json_string(url));
    json_object_set_new(d, "redirect",
                        json_string(sso_oidc_redirect_is_shared(config)
                                        ? SSO_OIDC_REDIRECT_SHARED
                                        : SSO_OIDC_REDIRECT_TENANT));
}

json_t *
sso_oidc_describe(const json_t *config, const char *public_url, const struct api_settings *settings,
                  const char *slug)
{
    json_t *d = json_deep_copy(config);
    sso_oidc_sp_values(d, public_url, settings, slug, config);
    json_object_set_new(d, "clientSecretSet", json_true());
    return d;
}

/* ---- login start ---- */

static int
append_param(struct buf *b, const char *k, const char *v, struct err *err)
{
    return buf_printf(b, err, "&%s=", k) < 0 || sso_url_encode(b, v, err) < 0 ? -1 : 0;
}

/* Starts a flow (SSO.md (a) "Login start"): fresh state, nonce and PKCE verifier, the
 * transaction stored by the hash of state and bound to a new browser cookie. */
static int
start(struct api_call *call, const struct store_tenant *t, const json_t *cfg, const char *return_to,
      const char *login_hint, const char *initiated, bool console, struct err *err)
{
    char state[44], nonce[44], verifier[44], handle[44], challenge[44];
    char state_hash[65], handle_hash[65], redirect_uri[600];
    unsigned char digest[SHA256_DIGEST_LENGTH];
    struct buf b;
    int rc = -1;
    json_t *data = NULL;
    const json_t *disc = json_object_get(cfg, "discovery");
    const char *authz = get_str(disc, "authorization_endpoint");
    buf_init(&b, sizeof(call->location) * 4);
    if (authz == NULL)
        return err_set(err, ERR_INTERNAL, "stored OIDC connection has no authorization endpoint");
    if (sso_random_token(state, err) < 0 || sso_random_token(nonce, err) < 0 ||
        sso_random_token(verifier, err) < 0 || sso_random_token(handle, err) < 0)
        goto out;
    /* RFC 7636 §4.2: code_challenge = BASE64URL(SHA256(ASCII(code_verifier))). */
    SHA256((const unsigned char *)verifier, strlen(verifier), digest);
    crypto_base64url(digest, sizeof(digest), challenge, sizeof(challenge));
    sso_hash(state, state_hash);
    sso_hash(handle, handle_hash);
    /* RFC 9700 §2.1: exactly the redirect URI registered at the IdP, which the connection's
     * "redirect" names; the token request repeats the one kept here. */
    char shared[600];
    sso_oidc_shared_uri(call->settings, false, shared, sizeof(shared));
    if (sso_oidc_redirect_uri(cfg, api_tenant_url(call->settings, t), shared, t->slug, redirect_uri,
                              sizeof(redirect_uri)) < 0) {
        err_set(err, ERR_INTERNAL, "redirect URI is too long");
        goto out;
    }
    data = json_pack("{s:s, s:s, s:s, s:s, s:s}", "issuer", get_str(cfg, "issuer"), "nonce", nonce,
                     "verifier", verifier, "redirect_uri", redirect_uri, "initiated", initiated);
    /* Which callback may complete it: the shared one, or the tenant's own. */
    if (sso_oidc_redirect_is_shared(cfg))
        json_object_set_new(data, "shared", json_true());
    if (return_to)
        json_object_set_new(data, "return_to", json_string(return_to));
    if (console)
        json_object_set_new(data, "console", json_true());
    else if (strcmp(initiated, "sp") == 0 && sso_test_asked(call))
        json_object_set_new(data, "test", json_true());
    if (signin_tx_begin(call->store, t->id, PROTO, state_hash, handle_hash, data, err) < 0)
        goto out;
    if (buf_printf(&b, err, "%s%sresponse_type=code&scope=openid%%20email%%20profile", authz,
                   strchr(authz, '?') ? "&" : "?") < 0 ||
        append_param(&b, "client_id", get_str(cfg, "clientId"), err) < 0 ||
        append_param(&b, "redirect_uri", redirect_uri, err) < 0 ||
        append_param(&b, "state", state, err) < 0 || append_param(&b, "nonce", nonce, err) < 0 ||
        append_param(&b, "code_challenge", challenge, err) < 0 ||
        append_param(&b, "code_challenge_method", "S256", err) < 0 ||
        (login_hint && append_param(&b, "login_hint", login_hint, err) < 0))
        goto out;
    if (b.len >= sizeof(call->location)) {
        err_set(err, ERR_INTERNAL, "authorization URL is too long");
        goto out;
    }
    sso_cookie_set(call, TX_COOKIE, handle, "Lax", 600);
    rc = sso_reply_redirect(call, b.data, err);
out:
    crypto_wipe(verifier, sizeof(verifier));
    crypto_wipe(nonce, sizeof(nonce));
    json_decref(data);
    buf_cleanup(&b);
    return rc;
}

/* Loads the enabled OIDC connection of the tenant the path names (or of *t, when `known`: the
 * tenant-free endpoints found it), or replies 404 (page) and returns 1. */
static int
load(struct api_call *call, struct store_tenant *t, bool known, json_t **cfg, struct err *err)
{
    struct store_sso_conn conn;
    int got = known ? sso_conn_of(call, PROTO, t, &conn, cfg, err)
                    : sso_conn_load(call, PROTO, t, &conn, cfg, err);
    if (got < 0) {
        if (err->code != ERR_NOT_FOUND)
            return -1;
        sso_reply_failure(call, 404, "Single sign-on is not set up for this workspace.");
        return 1;
    }
    bool enabled = conn.enabled;
    store_sso_conn_cleanup(&conn);
    if (!enabled) {
        json_decref(*cfg);
        *cfg = NULL;
        sso_reply_failure(call, 404, "Single sign-on is not set up for this workspace.");
        return 1;
    }
    return 0;
}

/* SP-initiated: from the host application (return_to kept) or the console (sso/console.h). */
static int
login(struct api_call *call, bool console, struct err *err)
{
    struct store_tenant t;
    json_t *cfg = NULL;
    int rc = load(call, &t, false, &cfg, err);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    const char *hint = api_call_arg(call, "login_hint");
    if (hint && strlen(hint) > HINT_MAX)
        hint = NULL;
    const char *return_to = console ? NULL
                                    : sso_return_to_check(api_call_arg(call, "return_to"),
                                                          api_tenant_url(call->settings, &t));
    rc = start(call, &t, cfg, return_to, hint, "sp", console, err);
    json_decref(cfg);
    return rc;
}

int
sso_oidc_login(struct api_call *call, struct err *err)
{
    return login(call, false, err);
}

int
sso_oidc_console_login(struct api_call *call, struct err *err)
{
    return login(call, true, err);
}

/* A parameter of /initiate: query string, or the form body of a POST. */
static char *
initiate_param(struct api_call *call, const char *name)
{
    const char *q = api_call_arg(call, name);
    if (q)
        return xstrdup(q);
    if (strcmp(call->method, "POST") == 0 && call->body)
        return sso_form_get(call->body, call->body_len, name);
    return NULL;
}

/* OIDC Core §4 for tenant t, whose enabled connection is cfg: the request proves nothing; it
 * may only start a normal flow, with the configured issuer — never one named by the
 * request. */
static int
initiate(struct api_call *call, const struct store_tenant *t, const json_t *cfg, const char *iss,
         const char *hint, const char *target, struct err *err)
{
    if (!json_is_true(json_object_get(cfg, "idpInitiated"))) {
        sso_event(call, t, PROTO, "idp", SSO_RESULT_REJECTED, "idp_initiated_disabled", NULL);
        sso_reply_failure(call, 404, "Sign-in from the identity provider is not enabled.");
        return 0;
    }
    if (iss == NULL || strcmp(iss, get_str(cfg, "issuer")) != 0) {
        sso_event(call, t, PROTO, "idp", SSO_RESULT_REJECTED, "initiate_wrong_issuer", NULL);
        sso_reply_failure(call, 400, "The sign-in request names another identity provider.");
        return 0;
    }
    const char *h = hint && strlen(hint) <= HINT_MAX ? hint : NULL;
    return start(call, t, cfg, sso_return_to_check(target, api_tenant_url(call->settings, t)), h,
                 "idp", false, err);
}

int
sso_oidc_initiate(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    json_t *cfg = NULL;
    int rc = load(call, &t, false, &cfg, err);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    char *iss = initiate_param(call, "iss"), *hint = initiate_param(call, "login_hint");
    char *target = initiate_param(call, "target_link_uri");
    rc = initiate(call, &t, cfg, iss, hint, target, err);
    free(iss);
    free(hint);
    free(target);
    json_decref(cfg);
    return rc;
}

/* The tenant-free initiate-login URI: the issuer is all that names the tenant, so it must
 * name exactly one — the tenant whose enabled connection trusts it. Several: refused, never
 * one of them picked (any tenant can configure any issuer). */
int
sso_oidc_shared_initiate(struct api_call *call, struct err *err)
{
    struct store_tenant found[SIGNIN_ISSUER_TENANTS_MAX];
    size_t n = 0;
    json_t *cfg = NULL;
    int rc = 0;
    char *iss = initiate_param(call, "iss"), *hint = initiate_param(call, "login_hint");
    char *target = initiate_param(call, "target_link_uri");
    if (iss != NULL && iss[0] != '\0' && strlen(iss) <= 1024 &&
        signin_tenants_by_issuer(call->store, PROTO, iss, found, SIGNIN_ISSUER_TENANTS_MAX, &n,
                                 err) < 0) {
        rc = -1;
    } else if (n == 0) {
        /* As for an unknown tenant or a disabled connection: nothing to sign in to. */
        sso_reply_failure(call, 404, "Single sign-on is not set up for this workspace.");
    } else if (n > 1) {
        /* Each tenant that trusts the issuer is told: its admins can see why. */
        for (size_t i = 0; i < n; i++)
            sso_event(call, &found[i], PROTO, "idp", SSO_RESULT_REJECTED,
                      "initiate_ambiguous_issuer", NULL);
        sso_reply_failure(call, 400,
                          "The sign-in request does not name one workspace. Start the sign-in "
                          "from the application.");
    } else if ((rc = load(call, &found[0], true, &cfg, err)) == 0) {
        rc = initiate(call, &found[0], cfg, iss, hint, target, err);
    } else {
        rc = rc < 0 ? -1 : 0;
    }
    free(iss);
    free(hint);
    free(target);
    json_decref(cfg);
    return rc;
}

/* ---- callback ---- */

/* OIDC Core §3.1.3.1–3.1.3.3: the code for tokens at the token endpoint of this issuer. */
static char *
exchange(struct api_call *call, const struct store_tenant *t, const json_t *cfg,
         const struct store_sso_conn *conn, const char *code, const json_t *tx, char **access,
         const char **reason, struct err *err)
{
    char secret[SSO_SECRET_MAX + 1];
    struct buf form;
    long status = 0;
    char *body = NULL, *id_token = NULL;
    json_t *resp = NULL;
    buf_init(&form, 16 * 1024);
    *reason = "token_request_failed";
    if (sso_secret_open(call->settings->sso_keys, t->id, conn->secret, secret, sizeof(secret),
                        err) < 0) {
        *reason = "client_secret_unavailable";
        /* The operator's to fix (a key left out of the ring): said at error, with why. */
        log_error("sso: tenant %s: the OIDC client secret cannot be used: %s", t->slug,
                  err->detail);
        goto out;
    }
    if (buf_append_cstr(&form, "grant_type=authorization_code&code=", err) < 0 ||
        sso_url_encode(&form, code, err) < 0 ||
        append_param(&form, "redirect_uri", get_str(tx, "redirect_uri"), err) < 0 ||
        append_param(&form, "code_verifier", get_str(tx, "verifier"), err) < 0)
        goto out;
    struct sso_fetch f = {
        .url = get_str(json_object_get(cfg, "discovery"), "token_endpoint"),
        .form = form.data,
        .user = get_str(cfg, "clientId"),
        .password = secret,
        .max_bytes = TOKEN_RESP_MAX,
        .allow_http = call->settings->sso_allow_http,
    };
    if (sso_fetch_run(&f, &status, &body, NULL, err) < 0)
        goto out;
    resp = json_loads(body, JSON_REJECT_DUPLICATES, NULL);
    const char *type = get_str(resp, "token_type"), *idt = get_str(resp, "id_token");
    if (status != 200 || !json_is_object(resp)) {
        *reason = "token_request_refused";
        err_set(err, ERR_UNAUTHORIZED, "token endpoint answered %ld", status);
    } else if (type == NULL || !cstr_ieq(type, "Bearer") || idt == NULL) {
        *reason = "token_response_invalid";
        err_set(err, ERR_UNAUTHORIZED, "token response lacks a Bearer token_type or id_token");
    } else {
        id_token = xstrdup(idt);
        const char *at = get_str(resp, "access_token");
        *access = at && strlen(at) <= 8192 ? xstrdup(at) : NULL;
    }
out:
    crypto_wipe(secret, sizeof(secret));
    json_decref(resp);
    free(body);
    buf_cleanup(&form);
    return id_token;
}

/* The algorithms accepted: the tenant's allow-list, narrowed to those the provider
 * advertises when it advertises any. */
static size_t
accepted_algs(const json_t *cfg, const char *out[9])
{
    const json_t *mine = json_object_get(cfg, "algorithms");
    const json_t *theirs = json_object_get(json_object_get(cfg, "discovery"), "algs");
    size_t n = 0, i, k;
    json_t *a, *b;
    json_array_foreach(mine, i, a) {
        bool ok = !json_is_array(theirs);
        json_array_foreach(theirs, k, b)
            ok |= json_equal(a, b);
        if (ok && n < 9 && json_is_string(a))
            out[n++] = json_string_value(a);
    }
    return n;
}

static int
validate(struct api_call *call, const json_t *cfg, const json_t *tx, const char *id_token,
         json_t **claims, const char **reason, struct err *err)
{
    const char *algs[9];
    const char *jwks_uri = get_str(json_object_get(cfg, "discovery"), "jwks_uri");
    const char *tid = get_str(cfg, "entraTenantId");
    struct sso_jwt_expect x = {
        .issuer = get_str(cfg, "issuer"),
        .client_id = get_str(cfg, "clientId"),
        .nonce = get_str(tx, "nonce"),
        .algs = algs,
        .n_algs = accepted_algs(cfg, algs),
        .tid = tid,
        .email_verified_optional = tid != NULL,
        .now_s = clock_now_ms() / 1000,
    };
    bool allow_http = call->settings->sso_allow_http;
    for (int attempt = 0; attempt < 2; attempt++) {
        json_t *jwks = sso_jwks_get(jwks_uri, attempt > 0, allow_http, err);
        if (jwks == NULL) {
            *reason = "jwks_unavailable";
            return -1;
        }
        int rc = sso_jwt_verify(id_token, jwks, &x, claims, reason, err);
        json_decref(jwks);
        /* Core §10.1.1: a kid we do not know may be a rotated key: refetch once. */
        if (rc == 0 || strcmp(*reason, SSO_JWT_UNKNOWN_KID) != 0)
            return rc;
    }
    return -1;
}

/* OIDC Core §5.3: the email from UserInfo, copied into claims. The answer must be a JSON
 * object whose sub equals the ID token's (§5.3.4); its email_verified follows the ID-token
 * rule. A provider without a UserInfo endpoint leaves the sign-in without email. */
static int
userinfo_email(struct api_call *call, const json_t *cfg, json_t *claims, const char *access,
               const char **reason, struct err *err)
{
    const char *url = get_str(json_object_get(cfg, "discovery"), "userinfo_endpoint");
    long status = 0;
    char *body = NULL;
    json_t *ui = NULL;
    int rc = -1;
    *reason = "no_email";
    if (url == NULL || access == NULL)
        return err_set(err, ERR_UNAUTHORIZED, "no email claim");
    struct sso_fetch f = { .url = url,
                           .bearer = access,
                           .max_bytes = TOKEN_RESP_MAX,
                           .allow_http = call->settings->sso_allow_http };
    if (sso_fetch_run(&f, &status, &body, NULL, err) < 0) {
        *reason = "userinfo_failed";
        return -1;
    }
    ui = status == 200 ? json_loads(body, JSON_REJECT_DUPLICATES, NULL) : NULL;
    const char *sub = get_str(ui, "sub"), *email = get_str(ui, "email");
    const json_t *ev = json_object_get(ui, "email_verified");
    if (!json_is_object(ui)) {
        *reason = "userinfo_failed";
        err_set(err, ERR_UNAUTHORIZED, "UserInfo answered %ld without a JSON object", status);
    } else if (sub == NULL || strcmp(sub, get_str(claims, "sub")) != 0) {
        *reason = "userinfo_sub_mismatch";
        err_set(err, ERR_UNAUTHORIZED, "UserInfo is about another subject");
    } else if (ev ? !json_is_true(ev) : get_str(cfg, "entraTenantId") == NULL) {
        *reason = "email_not_verified";
        err_set(err, ERR_UNAUTHORIZED, "UserInfo email is not verified");
    } else if (email != NULL) {
        json_object_set_new(claims, "email", json_string(email));
        rc = 0;
    } else {
        err_set(err, ERR_UNAUTHORIZED, "no email claim");
    }
    json_decref(ui);
    free(body);
    return rc;
}

/* A failure after the code exchange began: an outage of the provider (502) or a refusal. */
static void
fail_exchange(struct api_call *call, const struct store_tenant *t, const char *initiated,
              const char *reason, const struct err *err)
{
    bool outage = err_status(err->code) >= 500; /* ours or an outside server's, not the user's */
    sso_event(call, t, PROTO, initiated, outage ? SSO_RESULT_ERROR : SSO_RESULT_REJECTED, reason,
              NULL);
    sso_reply_failure(call, outage ? 502 : 401,
                      "The sign-in could not be completed. Please start again.");
}

static void
refuse(struct api_call *call, const struct store_tenant *t, const char *initiated,
       const char *reason, int status)
{
    sso_event(call, t, PROTO, initiated, SSO_RESULT_REJECTED, reason, NULL);
    sso_reply_failure(call, status, "The sign-in could not be completed. Please start again.");
}

/* Steps 2– of the callback (SSO.md (a) "Callback"), once step 1 took the transaction tx of
 * tenant t, whose connection is conn/cfg: the same for the tenant's callback and the shared
 * one (`shared`), which each complete only the transactions that named them. */
static int
complete(struct api_call *call, const struct store_tenant *t, const struct store_sso_conn *conn,
         const json_t *cfg, const json_t *tx, bool shared, struct err *err)
{
    json_t *claims = NULL;
    char *id_token = NULL, *access = NULL;
    const char *reason = NULL;
    const char *code = api_call_arg(call, "code"), *iss = api_call_arg(call, "iss");
    const char *initiated = get_str(tx, "initiated");
    const char *issuer = get_str(cfg, "issuer");
    int rc = 0;
    call->sso_console_flow = json_is_true(json_object_get(tx, "console"));
    /* RFC 9700 §2.1: the response comes back to the redirect URI the request named. */
    if (json_is_true(json_object_get(tx, "shared")) != shared) {
        refuse(call, t, initiated, "wrong_callback", 400);
        goto out;
    }
    /* Step 2: the provider reported an error. */
    if (api_call_arg(call, "error")) {
        refuse(call, t, initiated, "idp_error", 400);
        goto out;
    }
    /* Step 3, RFC 9207 §2.4: iss must be this issuer; absent only if not announced. */
    if (iss ? strcmp(iss, get_str(tx, "issuer")) != 0 || strcmp(iss, issuer) != 0
            : json_is_true(json_object_get(json_object_get(cfg, "discovery"), "iss_parameter"))) {
        refuse(call, t, initiated, iss ? "wrong_iss_parameter" : "iss_parameter_missing", 400);
        goto out;
    }
    if (code == NULL || code[0] == '\0' || strlen(code) > 2048) {
        refuse(call, t, initiated, "code_missing", 400);
        goto out;
    }
    id_token = exchange(call, t, cfg, conn, code, tx, &access, &reason, err);
    if (id_token == NULL || validate(call, cfg, tx, id_token, &claims, &reason, err) < 0) {
        fail_exchange(call, t, initiated, reason, err);
        goto out;
    }
    /* Core §5.3: UserInfo only when the ID token lacks email. */
    if (json_object_get(claims, "email") == NULL &&
        userinfo_email(call, cfg, claims, access, &reason, err) < 0) {
        fail_exchange(call, t, initiated, reason, err);
        goto out;
    }
    struct sso_flow flow = sso_flow_of(tx, initiated);
    json_t *received = flow.test ? sso_received(claims) : NULL;
    flow.received = received;
    rc = sso_finish(call, t, cfg, PROTO, issuer, get_str(claims, "sub"), get_str(claims, "email"),
                    &flow, err);
    json_decref(received);
out:
    if (access) {
        crypto_wipe(access, strlen(access));
        free(access);
    }
    free(id_token);
    json_decref(claims);
    return rc;
}

/* The state parameter, or NULL when missing or too long to be one of ours. */
static const char *
state_of(struct api_call *call)
{
    const char *state = api_call_arg(call, "state");
    return state == NULL || state[0] == '\0' || strlen(state) > 512 ? NULL : state;
}

/* The hash of the transaction cookie into hash ("" when the browser sent none). */
static void
binding_of(struct api_call *call, char hash[65])
{
    char handle[64];
    hash[0] = '\0';
    if (sso_cookie_get(call->cookie, TX_COOKIE, handle, sizeof(handle)))
        sso_hash(handle, hash);
}

int
sso_oidc_callback(struct api_call *call, struct err *err)
{
    struct store_tenant t;
    struct store_sso_conn conn = { 0 };
    json_t *cfg = NULL, *tx = NULL;
    char state_hash[65], handle_hash[65];
    const char *reason = NULL;
    int rc = 0;
    if (sso_conn_load(call, PROTO, &t, &conn, &cfg, err) < 0) {
        if (err->code != ERR_NOT_FOUND)
            return -1;
        sso_reply_failure(call, 404, "Single sign-on is not set up for this workspace.");
        return 0;
    }
    call->sso_headers = true;
    /* The transaction cookie is spent whatever happens next. */
    sso_cookie_set(call, TX_COOKIE, "", "Lax", 0);
    const char *state = state_of(call);
    if (!conn.enabled) {
        refuse(call, &t, "-", "connection_disabled", 404);
        goto out;
    }
    if (state == NULL) {
        refuse(call, &t, "-", "state_missing", 400);
        goto out;
    }
    binding_of(call, handle_hash);
    sso_hash(state, state_hash);
    /* Step 1: find the transaction by state, bound to this browser; delete it now. */
    tx = signin_tx_take(call->store, t.id, PROTO, state_hash, handle_hash[0] ? handle_hash : NULL,
                        &reason, err);
    if (tx == NULL) {
        if (err_status(err->code) >= 500) {
            rc = -1;
            goto out;
        }
        refuse(call, &t, "-", handle_hash[0] ? reason : "transaction_cookie_missing", 400);
        goto out;
    }
    rc = complete(call, &t, &conn, cfg, tx, false, err);
out:
    json_decref(tx);
    json_decref(cfg);
    store_sso_conn_cleanup(&conn);
    return rc;
}

/* The redirect URI every tenant may register (an Okta Integration Network app has one): the
 * tenant is the one whose transaction the state names, and then everything is checked as at
 * the tenant's own callback. */
int
sso_oidc_shared_callback(struct api_call *call, struct err *err)
{
    struct store_tenant t = { 0 };
    struct store_sso_conn conn = { 0 };
    json_t *cfg = NULL, *tx = NULL;
    char state_hash[65], handle_hash[65];
    const char *reason = NULL;
    int rc = 0;
    call->sso_headers = true;
    sso_cookie_set(call, TX_COOKIE, "", "Lax", 0);
    const char *state = state_of(call);
    if (state == NULL) {
        refuse(call, NULL, "-", "state_missing", 400);
        return 0;
    }
    binding_of(call, handle_hash);
    sso_hash(state, state_hash);
    /* Step 1, and the tenant: the transaction by state, bound to this browser; deleted now. */
    tx = signin_tx_take_any(call->store, PROTO, state_hash, handle_hash[0] ? handle_hash : NULL, &t,
                            &reason, err);
    if (t.id != 0)
        str_copy(call->log_tenant, sizeof(call->log_tenant), t.slug);
    if (tx == NULL) {
        if (err_status(err->code) >= 500)
            return -1;
        refuse(call, t.id ? &t : NULL, "-", handle_hash[0] ? reason : "transaction_cookie_missing",
               400);
        return 0;
    }
    if (sso_conn_of(call, PROTO, &t, &conn, &cfg, err) < 0) {
        if (err->code != ERR_NOT_FOUND) {
            rc = -1;
            goto out;
        }
        sso_reply_failure(call, 404, "Single sign-on is not set up for this workspace.");
        goto out;
    }
    if (!conn.enabled) {
        refuse(call, &t, "-", "connection_disabled", 404);
        goto out;
    }
    rc = complete(call, &t, &conn, cfg, tx, true, err);
out:
    json_decref(tx);
    json_decref(cfg);
    store_sso_conn_cleanup(&conn);
    return rc;
}
