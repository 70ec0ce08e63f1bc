#include "core/signin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/crypto.h"
#include "base/limits.h"
#include "base/str.h"
#include "core/audit.h"
#include "core/tx.h"

int
signin_conn_put(struct store *s, int64_t tenant_id, const char *protocol, const json_t *config,
                const char *secret, bool enabled, bool idp_changed, struct err *err)
{
    char *text = json_dumps(config, JSON_COMPACT | JSON_SORT_KEYS);
    if (text == NULL)
        return err_set(err, ERR_INVALID_VALUE, "connection settings are not serialisable");
    struct store_sso_conn c = {
        .tenant_id = tenant_id,
        .config = text,
        .secret = (char *)secret,
        .enabled = enabled,
        .updated_ms = clock_now_ms(),
        .reset_verified = idp_changed,
    };
    str_copy(c.protocol, sizeof(c.protocol), protocol);
    int rc = store_sso_conn_put(s, &c, err);
    free(text);
    return rc;
}

int
signin_conn_get(struct store *s, int64_t tenant_id, const char *protocol,
                struct store_sso_conn *out, struct err *err)
{
    return store_sso_conn_get(s, tenant_id, protocol, out, err);
}

int
signin_conn_delete(struct store *s, int64_t tenant_id, const char *protocol, struct err *err)
{
    return store_sso_conn_delete(s, tenant_id, protocol, err);
}

int
signin_conn_verified(struct store *s, int64_t tenant_id, const char *protocol, struct err *err)
{
    return store_sso_conn_verified(s, tenant_id, protocol, clock_now_ms(), err);
}

void
signin_secret_aad(int64_t tenant_id, char aad[SIGNIN_AAD_MAX])
{
    snprintf(aad, SIGNIN_AAD_MAX, "scimd-oidc-secret:%lld", (long long)tenant_id);
}

/* Re-seals one tenant's OIDC client secret (see signin_reseal). */
static int
reseal_one(struct store *s, const struct seal_keyring *ring, const struct store_tenant *t,
           struct seal_tally *out, struct err *err)
{
    struct store_sso_conn c = { 0 };
    struct err ge = { 0 };
    if (store_sso_conn_get(s, t->id, "oidc", &c, &ge) < 0) {
        if (ge.code == ERR_NOT_FOUND)
            return 0;
        *err = ge;
        return -1;
    }
    int rc = 0;
    char aad[SIGNIN_AAD_MAX], plain[SEAL_PLAIN_MAX + 1];
    struct err oe = { 0 };
    signin_secret_aad(t->id, aad);
    if (c.secret == NULL) {
        /* nothing sealed */
    } else if (seal_is_current(ring, c.secret)) {
        out->current++;
    } else if (seal_open(ring, aad, c.secret, plain, sizeof(plain), &oe) < 0) {
        seal_tally_unreadable(out, t->slug);
    } else {
        char *sealed = seal_text(ring, aad, plain, err);
        crypto_wipe(plain, sizeof(plain));
        if (sealed == NULL || store_tx_begin(s, err) < 0) {
            rc = -1;
        } else if ((rc = store_sso_conn_reseal(s, t->id, "oidc", c.secret, sealed, err)) < 0) {
            store_tx_rollback(s);
        } else if (tx_commit(s, err) < 0) {
            rc = -1;
        } else {
            if (rc)
                out->resealed++;
            else
                out->changed++;
            rc = 0;
        }
        free(sealed);
    }
    store_sso_conn_cleanup(&c);
    return rc;
}

int
signin_reseal(struct store *s, const struct seal_keyring *ring, struct seal_tally *out,
              struct err *err)
{
    *out = (struct seal_tally){ 0 };
    if (seal_keyring_newest(ring) == NULL)
        return err_set(err, ERR_INVALID_VALUE, "no sso key is configured");
    struct store_tenant *v = NULL;
    size_t n = 0;
    if (store_tenant_list(s, &v, &n, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = reseal_one(s, ring, &v[i], out, err);
    free(v);
    return rc;
}

bool
signin_saml_ready(struct store *s, int64_t tenant_id)
{
    struct store_sso_conn c = { 0 };
    struct err e = { 0 };
    if (store_sso_conn_get(s, tenant_id, "saml", &c, &e) < 0)
        return false;
    bool ready = c.enabled && c.verified_ms != 0;
    store_sso_conn_cleanup(&c);
    return ready;
}

int
signin_tx_begin(struct store *s, int64_t tenant_id, const char *protocol, const char *handle_hash,
                const char *binding_hash, const json_t *data, struct err *err)
{
    char *text = json_dumps(data, JSON_COMPACT);
    if (text == NULL)
        return err_set(err, ERR_INTERNAL, "sign-in transaction is not serialisable");
    struct store_sso_tx t = {
        .tenant_id = tenant_id,
        .data = text,
        .expires_ms = clock_now_ms() + SIGNIN_TX_TTL_MS,
    };
    str_copy(t.handle, sizeof(t.handle), handle_hash);
    str_copy(t.protocol, sizeof(t.protocol), protocol);
    str_copy(t.binding, sizeof(t.binding), binding_hash);
    int rc = store_sso_tx_insert(s, &t, err);
    free(text);
    return rc;
}

/* Takes the transaction by handle_hash (single use) and checks it: of want_tenant unless
 * `any`, of protocol, bound to binding_hash. *tenant_id is the row's tenant whenever the row
 * existed, else 0. */
static json_t *
tx_take(struct store *s, bool any, int64_t want_tenant, const char *protocol,
        const char *handle_hash, const char *binding_hash, int64_t *tenant_id, const char **reason,
        struct err *err)
{
    struct store_sso_tx t = { 0 };
    json_t *data = NULL;
    *tenant_id = 0;
    if (store_sso_tx_take(s, handle_hash, clock_now_ms(), &t, err) < 0) {
        *reason = err->code == ERR_NOT_FOUND ? "unknown_transaction" : "store_error";
        return NULL;
    }
    *tenant_id = t.tenant_id;
    /* The row is gone now whatever follows: a handle works once (RFC 9700 §4.7). */
    if ((!any && t.tenant_id != want_tenant) || strcmp(t.protocol, protocol) != 0) {
        *reason = "transaction_of_other_tenant";
        err_set(err, ERR_NOT_FOUND, "no such sign-in transaction");
    } else if (binding_hash == NULL || strlen(binding_hash) != 64 || strlen(t.binding) != 64 ||
               !crypto_equal(binding_hash, t.binding, 64)) {
        *reason = "transaction_cookie_mismatch";
        err_set(err, ERR_NOT_FOUND, "the sign-in was started in another browser");
    } else {
        data = json_loads(t.data ? t.data : "", 0, NULL);
        if (data == NULL) {
            *reason = "store_error";
            err_set(err, ERR_INTERNAL, "stored sign-in transaction is not JSON");
        }
    }
    free(t.data);
    return data;
}

json_t *
signin_tx_take(struct store *s, int64_t tenant_id, const char *protocol, const char *handle_hash,
               const char *binding_hash, const char **reason, struct err *err)
{
    int64_t found;
    return tx_take(s, false, tenant_id, protocol, handle_hash, binding_hash, &found, reason, err);
}

json_t *
signin_tx_take_any(struct store *s, const char *protocol, const char *handle_hash,
                   const char *binding_hash, struct store_tenant *tenant, const char **reason,
                   struct err *err)
{
    int64_t found = 0;
    *tenant = (struct store_tenant){ 0 };
    json_t *data = tx_take(s, true, 0, protocol, handle_hash, binding_hash, &found, reason, err);
    /* The tenant is read whenever the row named one, so a refusal is still its event. */
    if (found != 0) {
        struct err te = { 0 };
        if (store_tenant_get_by_id(s, found, tenant, &te) < 0) {
            *tenant = (struct store_tenant){ 0 };
            if (data != NULL) {
                json_decref(data);
                *err = te;
                *reason = te.code == ERR_NOT_FOUND ? "unknown_transaction" : "store_error";
                return NULL;
            }
        }
    }
    return data;
}

int
signin_tenants_by_issuer(struct store *s, const char *protocol, const char *issuer,
                         struct store_tenant *out, size_t max, size_t *n, struct err *err)
{
    int64_t ids[SIGNIN_ISSUER_TENANTS_MAX];
    size_t found = 0;
    *n = 0;
    if (max > SIGNIN_ISSUER_TENANTS_MAX)
        max = SIGNIN_ISSUER_TENANTS_MAX;
    if (store_sso_conn_tenants_by_issuer(s, protocol, issuer, ids, max, &found, err) < 0)
        return -1;
    for (size_t i = 0; i < found; i++) {
        if (store_tenant_get_by_id(s, ids[i], &out[*n], err) == 0)
            (*n)++;
        else if (err->code != ERR_NOT_FOUND) /* deleted meanwhile: not a candidate */
            return -1;
    }
    return 0;
}

int
signin_replay_check(struct store *s, int64_t tenant_id, const char *issuer, const char *id,
                    int64_t expires_ms, struct err *err)
{
    if (store_sso_replay_insert(s, tenant_id, issuer, id, expires_ms, clock_now_ms(), err) == 0)
        return 0;
    if (err->code == ERR_UNIQUENESS)
        return err_set(err, ERR_CONFLICT, "assertion was already used");
    return -1;
}

static int
refuse(const char **reason, const char *code, struct err *err)
{
    *reason = code;
    return err_set(err, ERR_FORBIDDEN, "%s", code);
}

/* Email as stored for matching: surrounding white space removed (space, tab, CR, LF: a
 * pretty-printed SAML NameID sits on a line of its own), ASCII lower-cased. */
static int
normalise_email(const char *in, char out[321])
{
    struct str t = str_trim_space(str_of(in));
    if (t.len == 0 || t.len > 320 || memchr(t.ptr, '@', t.len) == NULL)
        return -1;
    memcpy(out, t.ptr, t.len);
    out[t.len] = '\0';
    str_lower_ascii(out);
    return 0;
}

/* The subject as links keep it: an email-shaped SAML NameID is trimmed of white space and
 * ASCII lower-cased, as emails and userName are compared (RFC 5321 §2.4 lets a host treat the
 * local part as it likes; every IdP scimd knows treats it case-insensitively), so a
 * pretty-printed NameID and a compact one are one subject. OIDC `sub` is opaque and kept as
 * sent (OIDC Core §5.7). */
static void
link_subject(const char *protocol, const char *subject, char out[256])
{
    str_copy(out, 256, subject);
    if (strcmp(protocol, "saml") == 0 && strchr(out, '@') != NULL) {
        struct str t = str_trim_space(str_of(out));
        memmove(out, t.ptr, t.len);
        out[t.len] = '\0';
        str_lower_ascii(out);
    }
}

/* A link written before NameIDs were trimmed and lower-cased names this email-shaped subject
 * when it differs only in surrounding white space and letter case. */
static bool
same_legacy_subject(const char *stored, const char *subject)
{
    struct str a = str_trim_space(str_of(stored)), b = str_of(subject);
    return strchr(subject, '@') != NULL && str_ieq(a, b);
}

/* A first sign-in (or one whose link named a removed user, `relink`): the one active user of
 * the tenant with that email gets linked to (issuer, subject). Only active users count
 * (SSO.md (a): "exactly one active user"): a deactivated namesake, such as the old account
 * of a re-hire, neither makes the email ambiguous nor is signed in. The store lists active
 * users first, so two rows tell all three cases apart. */
static int
match_by_email(struct store *s, int64_t tenant_id, const char *issuer, const char *subject,
               const char *email, bool relink, struct store_resource *out, char refused_user[37],
               const char **reason, struct err *err)
{
    char other[256], norm[321];
    struct store_resource found[2] = { 0 };
    size_t n = 0;
    if (email == NULL || normalise_email(email, norm) < 0)
        return refuse(reason, "no_email", err);
    if (store_sso_users_by_email(s, tenant_id, norm, found, 2, &n, err) < 0)
        return -1;
    int rc = -1;
    if (n == 0) {
        /* removed_user: the subject was linked to a user who is gone, and no user holds the
         * email now. */
        rc = refuse(reason, relink ? "removed_user" : "unknown_user", err);
    } else if (!found[0].active) {
        /* Named when it is the one user with the email; among several deactivated ones no
         * single user was identified. */
        if (n == 1)
            str_copy(refused_user, 37, found[0].id);
        rc = refuse(reason, "inactive_user", err);
    } else if (n > 1 && found[1].active) {
        rc = refuse(reason, "ambiguous_email", err);
    } else if (store_sso_link_of_user(s, tenant_id, issuer, found[0].id, other, err) == 0) {
        /* The user signed in before as another subject of this IdP, or as this one before
         * NameIDs were trimmed and lower-cased. */
        if (same_legacy_subject(other, subject)) {
            *out = found[0];
            found[0] = (struct store_resource){ 0 };
            rc = 0;
        } else {
            /* The user is identified: the admin sees whose account another subject of the
             * same identity provider tried to take. */
            str_copy(refused_user, 37, found[0].id);
            rc = refuse(reason, "linked_to_other_subject", err);
        }
    } else if (err->code != ERR_NOT_FOUND) {
        rc = -1;
    } else if (store_sso_link_insert(s, tenant_id, issuer, subject, found[0].id, clock_now_ms(),
                                     err) < 0) {
        /* Two first sign-ins at once: the unique keys let one link win. */
        if (err->code == ERR_UNIQUENESS)
            str_copy(refused_user, 37, found[0].id);
        rc = err->code == ERR_UNIQUENESS ? refuse(reason, "linked_to_other_subject", err) : -1;
    } else {
        *out = found[0];
        found[0] = (struct store_resource){ 0 };
        rc = 0;
    }
    for (size_t i = 0; i < n; i++)
        store_resource_cleanup(&found[i]);
    return rc;
}

int
signin_user_resolve(struct store *s, int64_t tenant_id, const char *protocol, const char *issuer,
                    const char *subject_in, const char *email, struct store_resource *out,
                    char refused_user[37], const char **reason, struct err *err)
{
    char user_id[37], subject[256];
    bool relink = false;
    *out = (struct store_resource){ 0 };
    refused_user[0] = '\0';
    link_subject(protocol, subject_in, subject);
    if (store_sso_link_find(s, tenant_id, issuer, subject, user_id, err) == 0) {
        if (store_resource_get(s, tenant_id, STORE_RTYPE_USER, user_id, out, err) == 0) {
            if (!out->active) {
                str_copy(refused_user, 37, out->id);
                store_resource_cleanup(out);
                return refuse(reason, "inactive_user", err);
            }
            return 0;
        }
        if (err->code != ERR_NOT_FOUND)
            return -1;
        /* The link outlived its user (removed before links followed their users): drop it and
         * match by email as a first sign-in would (issue 14). */
        if (store_sso_links_delete(s, tenant_id, user_id, err) < 0)
            return -1;
        relink = true;
    } else if (err->code != ERR_NOT_FOUND) {
        return -1;
    }
    return match_by_email(s, tenant_id, issuer, subject, email, relink, out, refused_user, reason,
                          err);
}

int
signin_links_of_user(struct store *s, int64_t tenant_id, const char *user_id,
                     struct store_sso_link *out, size_t max, size_t *n, struct err *err)
{
    struct store_resource u;
    *n = 0;
    if (store_resource_get(s, tenant_id, STORE_RTYPE_USER, user_id, &u, err) < 0)
        return -1;
    store_resource_cleanup(&u);
    return store_sso_links_of_user(s, tenant_id, user_id, out, max, n, err);
}

/* Inside the unlink's transaction: the links are read first so the event names them. */
static int
write_unlink(struct store *s, int64_t tenant_id, const char *actor, const char *user_id,
             int *removed, struct err *err)
{
    struct store_sso_link links[LIMIT_SSO_LINKS_PER_USER];
    struct store_resource u;
    size_t n = 0;
    if (store_resource_get(s, tenant_id, STORE_RTYPE_USER, user_id, &u, err) < 0)
        return -1;
    store_resource_cleanup(&u);
    if (store_sso_links_of_user(s, tenant_id, user_id, links, LIMIT_SSO_LINKS_PER_USER, &n, err) <
        0)
        return -1;
    int k = store_sso_links_delete(s, tenant_id, user_id, err);
    if (k < 0)
        return -1;
    *removed = k;
    if (k == 0)
        return 0;
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            list, json_pack("{s:s, s:s}", "issuer", links[i].issuer, "subject", links[i].subject));
    return audit_record(s, tenant_id, actor, "user.sso_unlinked", STORE_RTYPE_USER, user_id,
                        json_pack("{s:o, s:i}", "links", list, "count", k), err);
}

int
signin_links_remove(struct store *s, int64_t tenant_id, const char *actor, const char *user_id,
                    int *removed, struct err *err)
{
    *removed = 0;
    if (store_tx_begin(s, err) < 0)
        return -1;
    if (write_unlink(s, tenant_id, actor, user_id, removed, err) < 0) {
        store_tx_rollback(s);
        *removed = 0;
        return -1;
    }
    return tx_commit(s, err);
}

int
signin_code_issue(struct store *s, int64_t tenant_id, const char *user_id, const char *protocol,
                  const char *initiated, char code[44], struct err *err)
{
    unsigned char raw[32];
    struct store_sso_code c = { .tenant_id = tenant_id };
    if (crypto_random(raw, sizeof(raw), err) < 0)
        return -1;
    crypto_base64url(raw, sizeof(raw), code, 44);
    crypto_wipe(raw, sizeof(raw));
    crypto_sha256_hex(code, strlen(code), c.hash);
    str_copy(c.user_id, sizeof(c.user_id), user_id);
    str_copy(c.protocol, sizeof(c.protocol), protocol);
    str_copy(c.initiated, sizeof(c.initiated), initiated);
    c.expires_ms = clock_now_ms() + SIGNIN_CODE_TTL_MS;
    return store_sso_code_insert(s, &c, err);
}

int
signin_code_redeem(struct store *s, const char *code, struct store_tenant *tenant,
                   struct store_resource *user, struct store_sso_code *row, struct err *err)
{
    char hash[65];
    *user = (struct store_resource){ 0 };
    if (code == NULL || strlen(code) != 43)
        return err_set(err, ERR_NOT_FOUND, "unknown, used or expired sign-in code");
    crypto_sha256_hex(code, 43, hash);
    if (store_sso_code_take(s, hash, clock_now_ms(), row, err) < 0 ||
        store_tenant_get_by_id(s, row->tenant_id, tenant, err) < 0)
        return -1;
    if (store_resource_get(s, row->tenant_id, STORE_RTYPE_USER, row->user_id, user, err) < 0)
        return err->code == ERR_NOT_FOUND ? err_set(err, ERR_FORBIDDEN, "the user no longer exists")
                                          : -1;
    if (!user->active) {
        store_resource_cleanup(user);
        return err_set(err, ERR_FORBIDDEN, "the user is no longer active");
    }
    return 0;
}

int
signin_event(struct store *s, int64_t tenant_id, const char *protocol, const char *initiated,
             const char *result, const char *reason, const char *user_id, const json_t *received,
             struct err *err)
{
    char actor[32];
    snprintf(actor, sizeof(actor), "sso:%s", protocol);
    if (store_tx_begin(s, err) < 0)
        return -1;
    if (audit_record(s, tenant_id, actor, "sso.signin", user_id ? STORE_RTYPE_USER : 0, user_id,
                     received ? json_pack("{s:s, s:s, s:s, s:s, s:b, s:O}", "protocol", protocol,
                                          "initiated", initiated, "result", result, "reason",
                                          reason, "test", 1, "received", received)
                              : json_pack("{s:s, s:s, s:s, s:s}", "protocol", protocol, "initiated",
                                          initiated, "result", result, "reason", reason),
                     err) < 0) {
        store_tx_rollback(s);
        return -1;
    }
    return tx_commit(s, err);
}
