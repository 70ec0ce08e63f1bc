#include "core/token.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/crypto.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/str.h"
#include "core/audit.h"
#include "core/tx.h"

void
token_secret_wipe(struct token_secret *s)
{
    crypto_wipe(s->text, sizeof(s->text));
}

static bool
is_live(const struct store_token *t, int64_t now)
{
    return t->revoked_ms == 0 && (t->expires_ms == 0 || t->expires_ms > now);
}

static json_t *
time_or_null(int64_t ms)
{
    char buf[32];
    if (ms == 0)
        return json_null();
    clock_format_ms(ms, buf);
    return json_string(buf);
}

/* A token as its audit events name it: never the secret or its hash. */
static json_t *
event_token(const struct store_token *t)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:o}", "id", t->id, "prefix", t->prefix, "label",
                     t->label, "expires", time_or_null(t->expires_ms), "revoked",
                     time_or_null(t->revoked_ms));
}

/* Writes a token event in the caller's transaction: data holds "token" (and what the caller
 * adds), and "actingUser" {"id", "given"} when a user acts (given: what the host sent). */
static int
record(struct store *s, const struct token_request *req, const char *kind,
       const struct store_token *t, json_t *data, struct err *err)
{
    json_object_set_new(data, "token", event_token(t));
    if (req->acting_user && req->acting_user[0]) {
        json_t *who = json_pack("{s:s}", "id", req->acting_user);
        if (req->acting_shown && req->acting_shown[0])
            json_object_set_new(who, "given", json_string(req->acting_shown));
        json_object_set_new(data, "actingUser", who);
    }
    return audit_record(s, req->tenant->id, req->actor, kind, 0, NULL, data, err);
}

/* Makes a new token row and its secret; does not write. */
static int
make(int64_t tenant_id, const char *label, struct store_token *t, struct token_secret *secret,
     struct err *err)
{
    unsigned char raw[32];
    char text[TOKEN_RANDOM_LEN + 1];
    if (crypto_random(raw, sizeof(raw), err) < 0 || crypto_uuid_v7(t->id, err) < 0)
        return -1;
    crypto_base64url(raw, sizeof(raw), text, sizeof(text));
    crypto_wipe(raw, sizeof(raw));
    memcpy(secret->text, TOKEN_PREFIX, sizeof(TOKEN_PREFIX) - 1);
    memcpy(secret->text + sizeof(TOKEN_PREFIX) - 1, text, TOKEN_RANDOM_LEN + 1);
    crypto_wipe(text, sizeof(text));
    crypto_sha256_hex(secret->text, TOKEN_LEN, t->hash);
    /* The prefix shown in lists: enough to tell tokens apart, far too little to guess. */
    memcpy(t->prefix, secret->text, sizeof(TOKEN_PREFIX) - 1 + 8);
    t->prefix[sizeof(TOKEN_PREFIX) - 1 + 8] = '\0';
    t->tenant_id = tenant_id;
    str_copy(t->label, sizeof(t->label), label ? label : "");
    t->created_ms = clock_now_ms();
    return 0;
}

/* ERR_CONFLICT when the tenant already holds its limit of live tokens; `instead` ends the
 * message with what else the caller could do. */
static int
room_for_one_more(struct store *s, int64_t tenant_id, const char *instead, struct err *err)
{
    struct store_token *v;
    size_t n, live = 0;
    if (store_token_list(s, tenant_id, &v, &n, err) < 0)
        return -1;
    int64_t now = clock_now_ms();
    for (size_t i = 0; i < n; i++)
        live += is_live(&v[i], now);
    free(v);
    if (live < LIMIT_TOKENS_PER_TENANT)
        return 0;
    return err_set(err, ERR_CONFLICT, "the tenant has %d active tokens already; revoke one first%s",
                   LIMIT_TOKENS_PER_TENANT, instead);
}

int
token_mint(struct store *s, const struct token_request *req, const char *label,
           struct store_token *out, struct token_secret *secret, struct err *err)
{
    struct store_token t = { 0 };
    int64_t tenant_id = req->tenant->id;
    if (label && strlen(label) > LIMIT_NAME_BYTES)
        return err_set(err, ERR_INVALID_VALUE, "label is longer than %d characters",
                       LIMIT_NAME_BYTES);
    if (gate_mint(s, req->policy, req->tenant, req->acting_user, req->acting_shown, err) < 0)
        return -1;
    if (make(tenant_id, label, &t, secret, err) < 0)
        return -1;
    if (store_tx_begin(s, err) < 0)
        goto fail_secret;
    if (room_for_one_more(s, tenant_id, "", err) < 0)
        goto fail;
    if (store_token_insert(s, &t, err) < 0 ||
        record(s, req, "token.created", &t, json_object(), err) < 0 || tx_commit(s, err) < 0)
        goto fail;
    *out = t;
    return 0;
fail:
    store_tx_rollback(s);
fail_secret:
    token_secret_wipe(secret);
    return -1;
}

int
token_revoke(struct store *s, const struct token_request *req, const char *id,
             struct store_token *out, struct err *err)
{
    struct store_token t;
    if (store_tx_begin(s, err) < 0)
        return -1;
    if (store_token_get(s, req->tenant->id, id, &t, err) < 0)
        goto fail;
    if (t.revoked_ms == 0) {
        t.revoked_ms = clock_now_ms();
        if (store_token_update(s, &t, err) < 0 ||
            record(s, req, "token.revoked", &t, json_object(), err) < 0)
            goto fail;
    }
    if (tx_commit(s, err) < 0)
        return -1;
    if (out)
        *out = t;
    return 0;
fail:
    store_tx_rollback(s);
    return -1;
}

int
token_rotate(struct store *s, const struct token_request *req, const char *id, int64_t overlap_s,
             struct store_token *out, struct token_secret *secret, struct err *err)
{
    struct store_token old, fresh = { 0 };
    int64_t tenant_id = req->tenant->id;
    if (overlap_s < 0 || overlap_s > 30 * 86400)
        return err_set(err, ERR_INVALID_VALUE, "overlap must be 0 to 2592000 seconds");
    if (gate_mint(s, req->policy, req->tenant, req->acting_user, req->acting_shown, err) < 0)
        return -1;
    if (store_tx_begin(s, err) < 0)
        return -1;
    if (store_token_get(s, tenant_id, id, &old, err) < 0)
        goto fail;
    int64_t now = clock_now_ms();
    if (!is_live(&old, now)) {
        err_set(err, ERR_CONFLICT, "token %s is revoked or expired; mint a new one", id);
        goto fail;
    }
    /* A rotation replaces one token by one: a token already replaced (in its overlap) has its
     * successor, and a second would be a second live token from it. */
    if (old.expires_ms) {
        err_set(err, ERR_CONFLICT,
                "token %s was rotated already and works only until its overlap ends; rotate its "
                "successor, or revoke it to end the overlap now",
                id);
        goto fail;
    }
    /* With an overlap both live for a while: the tenant's limit counts them as mint does. */
    if (overlap_s > 0 && room_for_one_more(s, tenant_id, ", or rotate with no overlap", err) < 0)
        goto fail;
    if (make(tenant_id, old.label, &fresh, secret, err) < 0)
        goto fail;
    if (overlap_s == 0)
        old.revoked_ms = now;
    else
        old.expires_ms = now + overlap_s * 1000;
    if (store_token_update(s, &old, err) < 0 || store_token_insert(s, &fresh, err) < 0 ||
        record(s, req, "token.rotated", &fresh,
               json_pack("{s:o, s:I}", "previous", event_token(&old), "overlapSeconds",
                         (json_int_t)overlap_s),
               err) < 0 ||
        tx_commit(s, err) < 0) {
        token_secret_wipe(secret);
        goto fail;
    }
    *out = fresh;
    return 0;
fail:
    store_tx_rollback(s);
    return -1;
}

int
token_list(struct store *s, int64_t tenant_id, struct store_token **out, size_t *n, struct err *err)
{
    return store_token_list(s, tenant_id, out, n, err);
}

bool
token_is_well_formed(const char *text, size_t len)
{
    const size_t plen = sizeof(TOKEN_PREFIX) - 1;
    if (len != TOKEN_LEN || memcmp(text, TOKEN_PREFIX, plen) != 0)
        return false;
    for (size_t i = plen; i < len; i++) {
        char c = text[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

/* The checks after the read: ERR_UNAUTHORIZED unless the token may be used now. */
static int
token_usable(const char *hash, const struct store_token *tok, int64_t now, struct err *err)
{
    /* The index lookup found the row by hash; compare again in constant time so no timing
     * difference depends on how much of a guessed hash matched. */
    if (!crypto_equal(hash, tok->hash, 64))
        return err_set(err, ERR_UNAUTHORIZED, "the bearer token is not valid");
    if (tok->revoked_ms)
        return err_set(err, ERR_UNAUTHORIZED, "the bearer token has been revoked");
    if (tok->expires_ms && tok->expires_ms <= now)
        return err_set(err, ERR_UNAUTHORIZED, "the bearer token has expired");
    return 0;
}

int
token_authenticate(struct store *s, const char *text, size_t len, struct store_token *tok,
                   struct store_tenant *tenant, struct store_user_read *user,
                   struct store_generation *gen, struct err *err)
{
    char hash[65];
    if (!token_is_well_formed(text, len))
        return err_set(err, ERR_UNAUTHORIZED, "the bearer token is malformed");
    crypto_sha256_hex(text, len, hash);
    if (store_token_auth_lookup(s, hash, tok, tenant, user, gen, err) < 0) {
        if (err->code == ERR_NOT_FOUND)
            err_set(err, ERR_UNAUTHORIZED, "the bearer token is not valid");
        return -1;
    }
    int64_t now = clock_now_ms();
    if (token_usable(hash, tok, now, err) < 0) {
        /* What came with a refused token is never used. */
        store_user_read_cleanup(user);
        return -1;
    }
    if (now - tok->last_used_ms >= LIMIT_TOKEN_TOUCH_SECONDS * 1000) {
        struct err ignored;
        /* Best effort: a busy database must not fail the request over a timestamp. */
        if (store_token_touch(s, tok->id, now, &ignored) == 0)
            tok->last_used_ms = now;
        else
            log_debug("token %s: last-used update skipped: %s", tok->prefix, ignored.detail);
    }
    return 0;
}

json_t *
token_to_json(const struct store_token *t, int64_t now_ms)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:b}", "id", t->id, "prefix", t->prefix,
                     "label", t->label, "created", time_or_null(t->created_ms), "lastUsed",
                     time_or_null(t->last_used_ms), "revoked", time_or_null(t->revoked_ms),
                     "expires", time_or_null(t->expires_ms), "active", is_live(t, now_ms));
}
