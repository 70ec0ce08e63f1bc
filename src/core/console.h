#ifndef SCIMD_CORE_CONSOLE_H
#define SCIMD_CORE_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "core/gate.h"
#include "store/store.h"

/* The web console's sessions and set-up links (docs/console.md). A session id and a set-up
 * link token are 256 random bits in base64url; only their SHA-256 is stored. A session is
 * either the operator's (all tenants) or one tenant admin's (one tenant, bound to that admin's
 * user id, and ended as soon as that user is no longer an active admin). */

#define CONSOLE_SECRET_LEN 43 /* base64url of 32 bytes, unpadded */

struct console_secret {
    char text[CONSOLE_SECRET_LEN + 1]; /* never logged; wipe with console_secret_wipe */
};

void console_secret_wipe(struct console_secret *s);

/* Lifetimes (configuration: console_idle, console_lifetime, setup_link_ttl). */
struct console_policy {
    int64_t idle_s;
    int64_t lifetime_s;
    int64_t link_ttl_s;
};

/* What a request learns from its session. */
struct console_session {
    bool operator;              /* else a tenant admin's session */
    struct store_tenant tenant; /* the session's tenant (tenant admins) */
    char user_id[37];           /* the admin the session acts as (tenant admins) */
    char csrf[65];              /* the CSRF token: SHA-256 of the session id, hex */
    int64_t expires_ms;         /* absolute expiry */
};

/* Starts a session: the operator's when t is NULL, else tenant t's admin user_id (who must
 * be an active admin now: ERR_FORBIDDEN otherwise). Fills *sid (the cookie value) and *out.
 * Signing in to the console through the tenant's SSO ends here too (sso/console.c): once the
 * sign-in's hand-off code is redeemed, with t and the signed-in user's id. */
int console_session_create(struct store *s, const struct console_policy *p,
                           const struct gate_policy *gp, const struct store_tenant *t,
                           const char *user_id, struct console_secret *sid,
                           struct console_session *out, struct err *err);

/* Checks the session id from the cookie: known, not idle past idle_s nor past its absolute
 * expiry, and for a tenant admin, the tenant still there and the user still an active admin.
 * Records the use. ERR_UNAUTHORIZED for anything else (the detail says which, never the id). */
int console_session_check(struct store *s, const struct gate_policy *gp, const char *sid,
                          struct console_session *out, struct err *err);

/* Ends the session (no error when it is already gone). */
int console_session_end(struct store *s, const char *sid, struct err *err);

/* True when header is the session's CSRF token (constant-time). */
bool console_csrf_ok(const struct console_session *cs, const char *header);

/* Mints a single-use set-up link token for tenant t's admin user_id (ERR_FORBIDDEN naming
 * why when the user is not an active admin of t: no such user, deactivated, or without the
 * configured admin role; about the user as `shown`, the name the caller was given, NULL:
 * user_id). *expires_ms is when it stops working. */
int console_setup_link_mint(struct store *s, const struct console_policy *p,
                            const struct gate_policy *gp, const struct store_tenant *t,
                            const char *user_id, const char *shown, struct console_secret *token,
                            int64_t *expires_ms, struct err *err);

/* Exchanges a set-up link token for a tenant admin session (console_session_create), using
 * the link up in the same transaction. ERR_UNAUTHORIZED with "unknown", "expired" or "already
 * used" in the detail when refused. */
int console_setup_link_redeem(struct store *s, const struct console_policy *p,
                              const struct gate_policy *gp, const char *token,
                              struct console_secret *sid, struct console_session *out,
                              struct err *err);

#endif
