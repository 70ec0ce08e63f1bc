#ifndef SCIMD_CORE_SIGNIN_H
#define SCIMD_CORE_SIGNIN_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/err.h"
#include "base/seal.h"
#include "store/store.h"

/* Single sign-on state and the rules of who gets in (issue 7; shared/SSO.md). The protocol
 * work (OIDC, SAML) is in sso/; this module owns what is stored: connections, sign-in
 * transactions, the SAML replay cache, subject links and the hand-off codes. SSO never
 * creates a user: a sign-in names an existing, active user of the tenant or fails. */

/* Lifetimes (SSO.md (a), (b); issue 7 "Hand-off"). */
#define SIGNIN_TX_TTL_MS   (10 * 60 * 1000)
#define SIGNIN_CODE_TTL_MS (60 * 1000)

/* Stores the tenant's connection of `protocol` ("oidc" | "saml"): config is the validated
 * JSON document (borrowed; serialised here), secret the sealed client secret or NULL.
 * idp_changed (what identifies the IdP is not what it was: issuer, client ID, keys, entity
 * ID, certificates, SSO URL) clears the verified mark, so the "SAML required" gate waits for
 * a sign-in through the new IdP (issue 14); otherwise an existing mark is kept. */
int signin_conn_put(struct store *s, int64_t tenant_id, const char *protocol, const json_t *config,
                    const char *secret, bool enabled, bool idp_changed, struct err *err);
/* ERR_NOT_FOUND when the tenant has no such connection. store_sso_conn_cleanup *out. */
int signin_conn_get(struct store *s, int64_t tenant_id, const char *protocol,
                    struct store_sso_conn *out, struct err *err);
int signin_conn_delete(struct store *s, int64_t tenant_id, const char *protocol, struct err *err);
/* Records that the connection completed a sign-in (the "SAML required" gate reads it). */
int signin_conn_verified(struct store *s, int64_t tenant_id, const char *protocol, struct err *err);

/* The associated data an OIDC client secret is sealed with: its tenant, so a sealed value
 * copied to another tenant's row does not open (sso/secret.c seals and opens with it). */
#define SIGNIN_AAD_MAX 48
void signin_secret_aad(int64_t tenant_id, char aad[SIGNIN_AAD_MAX]);

/* `scimd reseal`: every tenant's sealed OIDC client secret that the newest key of ring did
 * not seal is opened and sealed again under it, each rewrite its own transaction and only
 * if the secret did not change meanwhile. Counts go to *out (zeroed first); a secret no key
 * opens is counted, its tenant's slug listed, and left as it is. -1 on a store error (the
 * counts so far stay in *out); ERR_INVALID_VALUE when ring has no key. */
int signin_reseal(struct store *s, const struct seal_keyring *ring, struct seal_tally *out,
                  struct err *err);

/* The "SAML required" gate of the token-gate issue: true when the tenant has a SAML
 * connection that is enabled and has completed at least one sign-in. Errors read as false. */
bool signin_saml_ready(struct store *s, int64_t tenant_id);

/* Writes the audit event of a sign-in attempt ("sso.signin", actor "sso:<protocol>", about
 * the user when known) in its own transaction: data {"protocol", "initiated", "result",
 * "reason"}, and for a test sign-in "test": true and "received" (what the identity provider
 * sent; borrowed, NULL when not a test). */
int signin_event(struct store *s, int64_t tenant_id, const char *protocol, const char *initiated,
                 const char *result, const char *reason, const char *user_id,
                 const json_t *received, struct err *err);

/* Starts a transaction: handle_hash and binding_hash are hex SHA-256 of the random handle
 * and browser cookie; data (borrowed) is kept as JSON for SIGNIN_TX_TTL_MS. */
int signin_tx_begin(struct store *s, int64_t tenant_id, const char *protocol,
                    const char *handle_hash, const char *binding_hash, const json_t *data,
                    struct err *err);
/* Consumes the transaction (single use) and returns its data (new reference) when it exists,
 * has not expired, belongs to the tenant and protocol, and binding_hash matches (compared in
 * constant time). ERR_NOT_FOUND otherwise, with *reason set to a reason code. */
json_t *signin_tx_take(struct store *s, int64_t tenant_id, const char *protocol,
                       const char *handle_hash, const char *binding_hash, const char **reason,
                       struct err *err);

/* As signin_tx_take, for a callback that names no tenant (GET /sso/oidc/callback): the
 * transaction of whichever tenant started it. *tenant is that tenant whenever the row
 * existed — also when the transaction is refused (cookie missing or of another browser), so
 * the refusal is that tenant's event — and zeroed (id 0) when no row was found. */
json_t *signin_tx_take_any(struct store *s, const char *protocol, const char *handle_hash,
                           const char *binding_hash, struct store_tenant *tenant,
                           const char **reason, struct err *err);

/* The most tenants signin_tenants_by_issuer reports: two tell "one" from "several". */
#define SIGNIN_ISSUER_TENANTS_MAX 2

/* The tenants whose enabled connection of protocol trusts exactly `issuer` (byte for byte),
 * lowest id first: at most max (capped at SIGNIN_ISSUER_TENANTS_MAX) into out, *n how many.
 * More than one means the issuer does not name a tenant (GET /sso/oidc/initiate refuses). */
int signin_tenants_by_issuer(struct store *s, const char *protocol, const char *issuer,
                             struct store_tenant *out, size_t max, size_t *n, struct err *err);

/* Remembers an assertion ID until expires_ms: ERR_CONFLICT when it was seen before. */
int signin_replay_check(struct store *s, int64_t tenant_id, const char *issuer, const char *id,
                        int64_t expires_ms, struct err *err);

/* Finds who signs in (OIDC Core §5.7; SSO.md "From token to user"): the user linked to
 * (issuer, subject); else the one active user whose userName or email equals `email`
 * (trimmed, compared case-insensitively; deactivated users with the email do not count),
 * which is then linked to (issuer, subject). For protocol "saml" an email-shaped subject
 * (NameID) is compared ASCII-case-insensitively. A link whose user no longer exists is
 * deleted and the sign-in matched by email again (issue 14). Fails with ERR_FORBIDDEN and
 * *reason one of: unknown_user, ambiguous_email (two or more active users have the email),
 * inactive_user (only deactivated users have it, or the linked user is deactivated),
 * removed_user (linked to a removed user, and no user has the email now),
 * linked_to_other_subject, no_email. *out is the user (cleanup it). refused_user is the id
 * of the user a refusal is about when one was identified (inactive_user: the linked user, or
 * the one deactivated user with the email; linked_to_other_subject: the user with the email),
 * else "": the audit event names them. */
int signin_user_resolve(struct store *s, int64_t tenant_id, const char *protocol,
                        const char *issuer, const char *subject, const char *email,
                        struct store_resource *out, char refused_user[37], const char **reason,
                        struct err *err);

/* The user's SSO links (at most `max`, oldest first) into out; ERR_NOT_FOUND when the tenant
 * has no such user. */
int signin_links_of_user(struct store *s, int64_t tenant_id, const char *user_id,
                         struct store_sso_link *out, size_t max, size_t *n, struct err *err);
/* Removes every SSO link of the user in one transaction, with a "user.sso_unlinked" event
 * by actor (data {"links": [{"issuer", "subject"}], "count"}) when there was any: the user's
 * next sign-in is a first sign-in again. *removed is how many; ERR_NOT_FOUND for no such
 * user. */
int signin_links_remove(struct store *s, int64_t tenant_id, const char *actor, const char *user_id,
                        int *removed, struct err *err);

/* A single-use hand-off code for the host application (random 256 bits, stored hashed,
 * valid SIGNIN_CODE_TTL_MS). code must hold 44 bytes. */
int signin_code_issue(struct store *s, int64_t tenant_id, const char *user_id, const char *protocol,
                      const char *initiated, char code[44], struct err *err);
/* Redeems a code once: fills the tenant, the user (still active: a user deactivated since
 * the sign-in makes the redemption fail) and the code row. ERR_NOT_FOUND for an unknown,
 * used or expired code; ERR_FORBIDDEN when the user is no longer active. */
int signin_code_redeem(struct store *s, const char *code, struct store_tenant *tenant,
                       struct store_resource *user, struct store_sso_code *row, struct err *err);

#endif
