#include "sso/jwt.h"

#include <stdlib.h>
#include <string.h>

#include <cjose/cjose.h>

#include "base/crypto.h"
#include "sso/web.h"

static int
fail(const char **reason, const char *code, struct err *err)
{
    *reason = code;
    return err_set(err, ERR_UNAUTHORIZED, "ID token refused: %s", code);
}

json_t *
sso_jwt_header_parse(const char *token, size_t len, const char **reason, struct err *err)
{
    const char *dot = memchr(token, '.', len);
    unsigned char *raw = NULL;
    size_t n = 0;
    if (dot == NULL || dot == token) {
        fail(reason, "malformed", err);
        return NULL;
    }
    if (crypto_base64_decode(token, (size_t)(dot - token), true, &raw, &n, err) < 0) {
        fail(reason, "malformed_header", err);
        return NULL;
    }
    json_t *h = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
    free(raw);
    if (!json_is_object(h)) {
        json_decref(h);
        fail(reason, "malformed_header", err);
        return NULL;
    }
    return h;
}

static bool
alg_allowed(const char *alg, const struct sso_jwt_expect *x)
{
    /* RFC 8725 §3.1: no "none"; no HS* because an ID token is never MACed with a shared key
     * here, and accepting it would let the IdP's public key act as the MAC key. */
    if (strcmp(alg, "none") == 0 || strncmp(alg, "HS", 2) == 0)
        return false;
    for (size_t i = 0; i < x->n_algs; i++)
        if (strcmp(alg, x->algs[i]) == 0)
            return true;
    return false;
}

/* The key type and EC curve an algorithm needs. */
static bool
alg_key(const char *alg, const char **kty, const char **crv)
{
    *crv = NULL;
    if (strcmp(alg, "RS256") == 0 || strcmp(alg, "RS384") == 0 || strcmp(alg, "RS512") == 0 ||
        strcmp(alg, "PS256") == 0 || strcmp(alg, "PS384") == 0 || strcmp(alg, "PS512") == 0) {
        *kty = "RSA";
        return true;
    }
    *kty = "EC";
    if (strcmp(alg, "ES256") == 0)
        *crv = "P-256";
    else if (strcmp(alg, "ES384") == 0)
        *crv = "P-384";
    else if (strcmp(alg, "ES512") == 0)
        *crv = "P-521";
    return *crv != NULL;
}

static const char *
str_member(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* The JWKS entry for the header (SSO.md: kid among keys of matching kty, use absent or sig,
 * alg absent or equal; no kid → exactly one usable key). NULL with *reason. */
static const json_t *
pick_key(const json_t *jwks, const char *alg, const char *kid, const char **reason)
{
    const char *kty, *crv;
    const json_t *keys = json_object_get(jwks, "keys"), *found = NULL;
    size_t usable = 0, i;
    json_t *k;
    if (!alg_key(alg, &kty, &crv) || !json_is_array(keys) ||
        json_array_size(keys) > SSO_JWKS_MAX_KEYS) {
        *reason = "no_usable_key";
        return NULL;
    }
    json_array_foreach(keys, i, k) {
        const char *use = str_member(k, "use"), *kalg = str_member(k, "alg");
        const char *kkty = str_member(k, "kty"), *kcrv = str_member(k, "crv");
        if (kkty == NULL || strcmp(kkty, kty) != 0 || (use && strcmp(use, "sig") != 0) ||
            (kalg && strcmp(kalg, alg) != 0) || (crv && (kcrv == NULL || strcmp(kcrv, crv) != 0)))
            continue;
        if (kid) {
            const char *kkid = str_member(k, "kid");
            if (kkid && strcmp(kkid, kid) == 0)
                return k;
            continue;
        }
        usable++;
        found = k;
    }
    if (kid) {
        *reason = SSO_JWT_UNKNOWN_KID;
        return NULL;
    }
    if (usable != 1) {
        *reason = usable ? "ambiguous_key_without_kid" : "no_usable_key";
        return NULL;
    }
    return found;
}

/* A JWK with only its public members, so a private JWKS entry cannot be imported whole. */
static char *
public_jwk_text(const json_t *k)
{
    static const char *const members[] = { "kty", "n", "e", "crv", "x", "y", "kid" };
    json_t *o = json_object();
    for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
        json_t *v = json_object_get(k, members[i]);
        if (json_is_string(v))
            json_object_set(o, members[i], v);
    }
    char *t = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return t;
}

static int
verify_signature(const char *token, size_t len, const json_t *key, json_t **claims,
                 const char **reason, struct err *err)
{
    cjose_err ce;
    int rc = -1;
    char *jwk_text = public_jwk_text(key);
    cjose_jwk_t *jwk = jwk_text ? cjose_jwk_import(jwk_text, strlen(jwk_text), &ce) : NULL;
    free(jwk_text);
    cjose_jws_t *jws = jwk ? cjose_jws_import(token, len, &ce) : NULL;
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    if (jwk == NULL) {
        fail(reason, "bad_jwk", err);
    } else if (jws == NULL) {
        fail(reason, "malformed", err);
    } else if (!cjose_jws_verify(jws, jwk, &ce)) {
        fail(reason, "bad_signature", err);
    } else if (!cjose_jws_get_plaintext(jws, &plain, &plain_len, &ce)) {
        fail(reason, "malformed_payload", err);
    } else {
        *claims = json_loadb((const char *)plain, plain_len, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(*claims)) {
            json_decref(*claims);
            *claims = NULL;
            fail(reason, "malformed_payload", err);
        } else {
            rc = 0;
        }
    }
    cjose_jws_release(jws);
    cjose_jwk_release(jwk);
    return rc;
}

static int
parts_check(const char *token, size_t len, size_t *sig_len, const char **reason, struct err *err)
{
    const char *p = token, *end = token + len;
    for (int i = 0; i < 3; i++) {
        const char *dot = i < 2 ? memchr(p, '.', (size_t)(end - p)) : end;
        unsigned char *raw = NULL;
        size_t n = 0;
        if (dot == NULL || (dot == p && i < 2) ||
            crypto_base64_decode(p, (size_t)(dot - p), true, &raw, &n, err) < 0)
            return fail(reason, "malformed", err);
        free(raw);
        *sig_len = n;
        p = dot + 1;
    }
    return 0;
}

int
sso_jwt_verify(const char *token, const json_t *jwks, const struct sso_jwt_expect *x,
               json_t **claims, const char **reason, struct err *err)
{
    *claims = NULL;
    size_t len = token ? strlen(token) : 0, dots = 0;
    if (len == 0 || len > SSO_JWT_MAX_BYTES)
        return fail(reason, "malformed", err);
    for (size_t i = 0; i < len; i++)
        dots += token[i] == '.';
    /* Step 1: five parts is a JWE; scimd registers no encryption key. */
    if (dots != 2)
        return fail(reason, dots == 4 ? "encrypted_token" : "malformed", err);
    /* Every part strict base64url before cjose sees it: cjose asserts on some malformed
     * input (found by fuzz/fuzz_jwt.c), and an assert must never be reachable from input. */
    size_t sig_len = 0;
    if (parts_check(token, len, &sig_len, reason, err) < 0)
        return -1;
    json_t *h = sso_jwt_header_parse(token, len, reason, err);
    if (h == NULL)
        return -1;
    /* Steps 6–8: the algorithm is judged before any cryptography. */
    const char *alg = str_member(h, "alg"), *kid = str_member(h, "kid");
    const json_t *key = NULL;
    int rc = -1;
    if (alg == NULL || !alg_allowed(alg, x))
        fail(reason, "alg_not_allowed", err);
    else if (sig_len == 0)
        fail(reason, "unsigned", err);
    else if (json_object_get(h, "crit"))
        fail(reason, "crit_header", err);
    else if (json_object_get(h, "kid") && kid == NULL)
        fail(reason, "malformed_header", err);
    else if ((key = pick_key(jwks, alg, kid, reason)) == NULL)
        err_set(err, ERR_UNAUTHORIZED, "ID token refused: %s", *reason);
    else if (verify_signature(token, len, key, claims, reason, err) == 0 &&
             sso_jwt_claims_check(*claims, x, reason, err) == 0)
        rc = 0;
    json_decref(h);
    if (rc < 0) {
        json_decref(*claims);
        *claims = NULL;
    }
    return rc;
}

static bool
int_member(const json_t *o, const char *k, int64_t *out)
{
    const json_t *v = json_object_get(o, k);
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (json_is_real(v) && json_real_value(v) > -9e15 && json_real_value(v) < 9e15) {
        *out = (int64_t)json_real_value(v);
        return true;
    }
    return false;
}

static int
check_audience(const json_t *c, const struct sso_jwt_expect *x, const char **reason,
               struct err *err)
{
    const json_t *aud = json_object_get(c, "aud");
    size_t n = 0;
    if (json_is_string(aud)) {
        if (strcmp(json_string_value(aud), x->client_id) != 0)
            return fail(reason, "wrong_audience", err);
        n = 1;
    } else if (json_is_array(aud) && json_array_size(aud) > 0) {
        size_t i;
        json_t *a;
        /* Step 3: every audience must be one we trust, and we trust only ourselves. */
        json_array_foreach(aud, i, a) {
            if (!json_is_string(a) || strcmp(json_string_value(a), x->client_id) != 0)
                return fail(reason, "wrong_audience", err);
        }
        n = json_array_size(aud);
    } else {
        return fail(reason, "wrong_audience", err);
    }
    /* Steps 4–5: several audiences require azp; azp present must be us. */
    const json_t *azp = json_object_get(c, "azp");
    if (n > 1 && azp == NULL)
        return fail(reason, "azp_missing", err);
    if (azp && (!json_is_string(azp) || strcmp(json_string_value(azp), x->client_id) != 0))
        return fail(reason, "wrong_azp", err);
    return 0;
}

/* Core §3.1.3.7 steps 9–10 and §2: exp and iat are required NumericDate claims (RFC 7519
 * §2: a JSON number of seconds), nbf optional. An absent claim and one that is no number are
 * told apart from a time that is out of range, so an admin reading the reason fixes the right
 * thing: exp_missing, iat_missing, malformed_payload. */
static int
check_times(const json_t *c, int64_t now, const char **reason, struct err *err)
{
    int64_t exp = 0, iat = 0, nbf = 0;
    if (json_object_get(c, "exp") == NULL)
        return fail(reason, "exp_missing", err);
    if (json_object_get(c, "iat") == NULL)
        return fail(reason, "iat_missing", err);
    if (!int_member(c, "exp", &exp) || !int_member(c, "iat", &iat) ||
        (json_object_get(c, "nbf") && !int_member(c, "nbf", &nbf)))
        return fail(reason, "malformed_payload", err);
    if (exp <= now - SSO_JWT_SKEW_S)
        return fail(reason, "expired", err);
    if (iat > now + SSO_JWT_SKEW_S)
        return fail(reason, "iat_in_future", err);
    if (iat < now - SSO_JWT_IAT_MAX_S)
        return fail(reason, "iat_too_old", err);
    if (json_object_get(c, "nbf") && nbf > now + SSO_JWT_SKEW_S)
        return fail(reason, "not_yet_valid", err);
    return 0;
}

int
sso_jwt_claims_check(const json_t *c, const struct sso_jwt_expect *x, const char **reason,
                     struct err *err)
{
    const char *iss = str_member(c, "iss"), *sub = str_member(c, "sub");
    const char *nonce = str_member(c, "nonce");
    if (!json_is_object(c))
        return fail(reason, "malformed_payload", err);
    if (iss == NULL || strcmp(iss, x->issuer) != 0)
        return fail(reason, "wrong_issuer", err);
    if (check_audience(c, x, reason, err) < 0 || check_times(c, x->now_s, reason, err) < 0)
        return -1;
    if (nonce == NULL || x->nonce == NULL || strlen(nonce) != strlen(x->nonce) ||
        !crypto_equal(nonce, x->nonce, strlen(nonce)))
        return fail(reason, "bad_nonce", err);
    if (sub == NULL || sub[0] == '\0' || strlen(sub) > 255)
        return fail(reason, "bad_subject", err);
    if (x->tid) {
        const char *tid = str_member(c, "tid");
        if (tid == NULL || strcmp(tid, x->tid) != 0)
            return fail(reason, "wrong_tid", err);
    }
    /* email_verified present must be true (Okta), and is required beside an email except for
     * Entra, which sends none (its xms_edov, when added, must be true). Without an email the
     * caller asks UserInfo and applies the same rule there. */
    const json_t *ev = json_object_get(c, "email_verified");
    if (ev ? !json_is_true(ev) : !x->email_verified_optional && json_object_get(c, "email"))
        return fail(reason, "email_not_verified", err);
    const json_t *edov = json_object_get(c, "xms_edov");
    if (edov && !json_is_true(edov))
        return fail(reason, "email_not_verified", err);
    const json_t *email = json_object_get(c, "email");
    if (email && !json_is_string(email))
        return fail(reason, "malformed_payload", err);
    return 0;
}
