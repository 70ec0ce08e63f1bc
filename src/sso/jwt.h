#ifndef SCIMD_SSO_JWT_H
#define SCIMD_SSO_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/err.h"

/* ID-token validation (OpenID Connect Core §3.1.3.7, its step numbers; RFC 8725 §3.1–3.2;
 * SSO.md (a) "ID token validation"). Pure: the caller supplies the keys and the clock. */

#define SSO_JWT_SKEW_S     120         /* one clock-skew constant for every time check */
#define SSO_JWT_MAX_BYTES  (16 * 1024) /* an ID token larger than this is refused */
#define SSO_JWT_IAT_MAX_S  (10 * 60)   /* iat older than this is refused */
#define SSO_JWKS_MAX_KEYS  50
#define SSO_JWKS_MAX_BYTES (64 * 1024)

struct sso_jwt_expect {
    const char *issuer;      /* configured issuer, compared byte for byte */
    const char *client_id;   /* the only audience accepted */
    const char *nonce;       /* the transaction's nonce */
    const char *const *algs; /* allowed algorithms: tenant allow-list ∩ advertised */
    size_t n_algs;
    const char *tid;              /* Entra directory id to require in "tid"; NULL: not checked */
    bool email_verified_optional; /* Entra never sends email_verified */
    int64_t now_s;
};

/* Reason codes set by sso_jwt_verify, for the sign-in event. */
#define SSO_JWT_UNKNOWN_KID "unknown_kid"

/* Verifies `token` (compact JWS) against jwks ({"keys": [...]}) and exp: the header first
 * (alg in the allow-list and never none/HS*, no crit), then the key chosen by kid and kty
 * (never from jku/x5u/jwk/x5c), then the signature (cjose), then the claims. On success
 * *claims is the payload (new reference). On failure returns -1 with ERR_UNAUTHORIZED and
 * *reason a code such as "alg_not_allowed", "bad_signature", "wrong_issuer", "wrong_audience",
 * "expired", "bad_nonce", or SSO_JWT_UNKNOWN_KID when no key has the token's kid (the caller
 * may refetch the JWKS once and retry). */
int sso_jwt_verify(const char *token, const json_t *jwks, const struct sso_jwt_expect *x,
                   json_t **claims, const char **reason, struct err *err);

/* Checks the claims of an already verified payload (steps 2–5, 9–11, sub, nbf, Entra tid,
 * email_verified / xms_edov). Exposed for unit tests and the fuzz target. */
int sso_jwt_claims_check(const json_t *claims, const struct sso_jwt_expect *x, const char **reason,
                         struct err *err);

/* Parses a JWS's protected header strictly (base64url, JSON object, no duplicate keys):
 * new reference, or NULL with *reason. Exposed for the fuzz target. */
json_t *sso_jwt_header_parse(const char *token, size_t len, const char **reason, struct err *err);

#endif
