#include "core/console.h"

#include <string.h>

#include "base/clock.h"
#include "base/crypto.h"
#include "base/str.h"
#include "core/tx.h"

void
console_secret_wipe(struct console_secret *s)
{
    crypto_wipe(s->text, sizeof(s->text));
}

static int
secret_new(struct console_secret *out, struct err *err)
{
    unsigned char raw[32];
    if (crypto_random(raw, sizeof(raw), err) < 0)
        return -1;
    crypto_base64url(raw, sizeof(raw), out->text, sizeof(out->text));
    crypto_wipe(raw, sizeof(raw));
    return 0;
}

/* The stored form of a secret: hex SHA-256 under a label, so a session id can never be
 * replayed as a set-up link token or the other way round. */
static void
secret_hash(const char *label, const char *text, char out[65])
{
    char buf[96];
    size_t n = strlen(label), m = strnlen(text, CONSOLE_SECRET_LEN + 1);
    memcpy(buf, label, n);
    memcpy(buf + n, text, m);
    crypto_sha256_hex(buf, n + m, out);
    crypto_wipe(buf, sizeof(buf));
}

/* 0 when user_id is an active admin of t; ERR_FORBIDDEN otherwise, saying why (no such user,
 * deactivated, or without the configured admin role) about the user named as `shown` (NULL:
 * user_id), the name the caller was given. */
static int
check_admin(struct store *s, const struct gate_policy *gp, const struct store_tenant *t,
            const char *user_id, const char *shown, struct err *err)
{
    struct gate_result r;
    if (user_id == NULL || user_id[0] == '\0')
        return err_set(err, ERR_FORBIDDEN, "name the tenant admin (actingUser)");
    if (gate_mint_check(s, gp, t, user_id, shown, &r, err) < 0)
        return -1;
    if (r.missing & GATE_ACTING_ADMIN)
        return err_set(err, ERR_FORBIDDEN, "user %.64s %s (tenant \"%s\")",
                       shown && shown[0] ? shown : user_id, r.acting_why, t->slug);
    return 0;
}

static void
fill_session(struct console_session *out, const struct store_tenant *t, const char *user_id,
             const char *sid, int64_t expires_ms)
{
    *out = (struct console_session){ .operator= t == NULL, .expires_ms = expires_ms };
    if (t) {
        out->tenant = *t;
        str_copy(out->user_id, sizeof(out->user_id), user_id);
    }
    secret_hash("scimd-csrf:", sid, out->csrf);
}

/* Inserts the session row; the caller runs the transaction. */
static int
session_insert(struct store *s, const struct console_policy *p, const struct store_tenant *t,
               const char *user_id, struct console_secret *sid, struct console_session *out,
               struct err *err)
{
    int64_t now = clock_now_ms();
    struct store_console_session row = {
        .tenant_id = t ? t->id : 0,
        .created_ms = now,
        .last_seen_ms = now,
        .idle_ms = p->idle_s * 1000,
        .expires_ms = now + p->lifetime_s * 1000,
    };
    if (t)
        str_copy(row.user_id, sizeof(row.user_id), user_id);
    if (secret_new(sid, err) < 0)
        return -1;
    secret_hash("scimd-session:", sid->text, row.id_hash);
    if (store_console_session_purge(s, now, err) < 0 ||
        store_console_session_insert(s, &row, err) < 0) {
        console_secret_wipe(sid);
        return -1;
    }
    fill_session(out, t, user_id, sid->text, row.expires_ms);
    return 0;
}

int
console_session_create(struct store *s, const struct console_policy *p,
                       const struct gate_policy *gp, const struct store_tenant *t,
                       const char *user_id, struct console_secret *sid, struct console_session *out,
                       struct err *err)
{
    if (t && check_admin(s, gp, t, user_id, NULL, err) < 0)
        return -1;
    if (store_tx_begin(s, err) < 0)
        return -1;
    if (session_insert(s, p, t, user_id, sid, out, err) < 0 || tx_commit(s, err) < 0) {
        store_tx_rollback(s);
        console_secret_wipe(sid);
        return -1;
    }
    return 0;
}

int
console_session_check(struct store *s, const struct gate_policy *gp, const char *sid,
                      struct console_session *out, struct err *err)
{
    struct store_console_session row;
    struct store_tenant t;
    char hash[65];
    if (strlen(sid) != CONSOLE_SECRET_LEN)
        return err_set(err, ERR_UNAUTHORIZED, "the console session is not valid; sign in again");
    secret_hash("scimd-session:", sid, hash);
    if (store_console_session_get(s, hash, &row, err) < 0)
        return err->code == ERR_NOT_FOUND
                   ? err_set(err, ERR_UNAUTHORIZED, "the console session ended; sign in again")
                   : -1;
    /* The lookup was by hash; compare it once more in constant time all the same. */
    int64_t now = clock_now_ms();
    if (!crypto_equal(hash, row.id_hash, 64) || now >= row.expires_ms ||
        now >= row.last_seen_ms + row.idle_ms) {
        store_console_session_delete(s, hash, err);
        return err_set(err, ERR_UNAUTHORIZED, "the console session expired; sign in again");
    }
    if (row.tenant_id > 0) {
        if (store_tenant_get_by_id(s, row.tenant_id, &t, err) < 0)
            return err->code == ERR_NOT_FOUND
                       ? err_set(err, ERR_UNAUTHORIZED, "the session's tenant is gone")
                       : -1;
        if (check_admin(s, gp, &t, row.user_id, NULL, err) < 0) {
            if (err->code != ERR_FORBIDDEN)
                return -1;
            store_console_session_delete(s, hash, err);
            return err_set(err, ERR_UNAUTHORIZED,
                           "the session's user is no longer an active admin of the tenant");
        }
    }
    /* Recording the use at most every few seconds keeps page loads from writing per call. */
    if (now - row.last_seen_ms > 5000 && store_console_session_touch(s, hash, now, err) < 0)
        return -1;
    fill_session(out, row.tenant_id > 0 ? &t : NULL, row.user_id, sid, row.expires_ms);
    return 0;
}

int
console_session_end(struct store *s, const char *sid, struct err *err)
{
    char hash[65];
    secret_hash("scimd-session:", sid, hash);
    return store_console_session_delete(s, hash, err);
}

bool
console_csrf_ok(const struct console_session *cs, const char *header)
{
    return header != NULL && strlen(header) == 64 && crypto_equal(header, cs->csrf, 64);
}

int
console_setup_link_mint(struct store *s, const struct console_policy *p,
                        const struct gate_policy *gp, const struct store_tenant *t,
                        const char *user_id, const char *shown, struct console_secret *token,
                        int64_t *expires_ms, struct err *err)
{
    if (check_admin(s, gp, t, user_id, shown, err) < 0)
        return -1;
    int64_t now = clock_now_ms();
    struct store_setup_link l = {
        .tenant_id = t->id,
        .created_ms = now,
        .expires_ms = now + p->link_ttl_s * 1000,
    };
    str_copy(l.user_id, sizeof(l.user_id), user_id);
    if (secret_new(token, err) < 0)
        return -1;
    secret_hash("scimd-setup:", token->text, l.hash);
    if (store_setup_link_insert(s, &l, err) < 0) {
        console_secret_wipe(token);
        return -1;
    }
    *expires_ms = l.expires_ms;
    return 0;
}

int
console_setup_link_redeem(struct store *s, const struct console_policy *p,
                          const struct gate_policy *gp, const char *token,
                          struct console_secret *sid, struct console_session *out, struct err *err)
{
    struct store_setup_link l;
    struct store_tenant t;
    char hash[65];
    if (strlen(token) != CONSOLE_SECRET_LEN)
        return err_set(err, ERR_UNAUTHORIZED, "this set-up link is unknown");
    secret_hash("scimd-setup:", token, hash);
    if (store_setup_link_get(s, hash, &l, err) < 0)
        return err->code == ERR_NOT_FOUND
                   ? err_set(err, ERR_UNAUTHORIZED, "this set-up link is unknown")
                   : -1;
    if (l.used_ms != 0)
        return err_set(err, ERR_UNAUTHORIZED,
                       "this set-up link was already used; ask for a new one");
    if (clock_now_ms() >= l.expires_ms)
        return err_set(err, ERR_UNAUTHORIZED, "this set-up link expired; ask for a new one");
    if (store_tenant_get_by_id(s, l.tenant_id, &t, err) < 0 ||
        check_admin(s, gp, &t, l.user_id, NULL, err) < 0)
        return -1;
    if (store_tx_begin(s, err) < 0)
        return -1;
    /* The use and the session commit together: two tabs opening one link get one session. */
    int used = store_setup_link_use(s, hash, clock_now_ms(), err);
    if (used == 0)
        err_set(err, ERR_UNAUTHORIZED, "this set-up link was already used; ask for a new one");
    if (used != 1 || session_insert(s, p, &t, l.user_id, sid, out, err) < 0 ||
        tx_commit(s, err) < 0) {
        store_tx_rollback(s);
        return -1;
    }
    return 0;
}
