#ifndef SCIMD_CORE_TOKEN_H
#define SCIMD_CORE_TOKEN_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/err.h"
#include "core/gate.h"
#include "store/store.h"

/* SCIM bearer tokens (RFC 6750). A token is "scimd_" followed by 256 bits from the CSPRNG in
 * base64url; only its SHA-256 is stored. The whole token exists in memory once, at mint, in a
 * token_secret that the caller shows and then wipes. */

#define TOKEN_PREFIX     "scimd_"
#define TOKEN_RANDOM_LEN 43 /* base64url of 32 bytes, unpadded */
#define TOKEN_LEN        (sizeof(TOKEN_PREFIX) - 1 + TOKEN_RANDOM_LEN)

struct token_secret {
    char text[TOKEN_LEN + 1]; /* never logged; wipe with token_secret_wipe */
};

void token_secret_wipe(struct token_secret *s);

/* Who asks for a token, and who acts in its audit event: the tenant, the gate policy, the
 * acting user's id (NULL when the operator acts: CLI, operator console, the host without an
 * actingUser), how the caller named that user (what the host sent as actingUser: echoed in
 * refusals and kept in the event; NULL when nothing was sent), and the audit actor
 * ("operator", "cli", "console:<user id>"). */
struct token_request {
    const struct store_tenant *tenant;
    const struct gate_policy *policy;
    const char *acting_user;
    const char *acting_shown;
    const char *actor;
};

/* Mints a token if the gates allow it (core/gate.h: ERR_FORBIDDEN naming every missing
 * condition). At most LIMIT_TOKENS_PER_TENANT unrevoked tokens (ERR_CONFLICT past it). The
 * row and its "token.created" event commit together (docs/api.md "Audit events"). */
int token_mint(struct store *s, const struct token_request *req, const char *label,
               struct store_token *out, struct token_secret *secret, struct err *err);

/* Revokes token `id` of the tenant now, with a "token.revoked" event in the same transaction
 * (none when it was revoked already: nothing changes). No gate: a token can always be
 * stopped. ERR_NOT_FOUND when it is not the tenant's. */
int token_revoke(struct store *s, const struct token_request *req, const char *id,
                 struct store_token *out, struct err *err);

/* Mints a successor of token `id` (same label; the same gates as token_mint) and lets the
 * old one work for overlap_s more seconds (0: revoked at once). One transaction, with a
 * "token.rotated" event naming both tokens and the overlap. */
int token_rotate(struct store *s, const struct token_request *req, const char *id,
                 int64_t overlap_s, struct store_token *out, struct token_secret *secret,
                 struct err *err);

int token_list(struct store *s, int64_t tenant_id, struct store_token **out, size_t *n,
               struct err *err);

/* True when the text has the shape of a scimd token (prefix, length, alphabet). */
bool token_is_well_formed(const char *text, size_t len);

/* Authenticates a bearer token: finds it and its tenant by hash in one read (the tenant's
 * group_count included), compares in constant time, refuses revoked and expired ones. Records last
 * use at most once a minute. ERR_UNAUTHORIZED for anything not a valid token (the detail never
 * echoes the token). With `user` (else NULL; user->id set), the same read fetches that user of
 * the token's tenant and its groups (store_user_read_cleanup); nothing is kept when the token
 * is refused. With gen (else NULL), also the database's generation as the read saw it
 * (store_token_auth_lookup). */
int token_authenticate(struct store *s, const char *text, size_t len, struct store_token *tok,
                       struct store_tenant *tenant, struct store_user_read *user,
                       struct store_generation *gen, struct err *err);

/* {"id", "prefix", "label", "created", "lastUsed", "revoked", "expires", "active"}. */
json_t *token_to_json(const struct store_token *t, int64_t now_ms);

#endif
