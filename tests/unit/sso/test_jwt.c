/* ID-token validation (OIDC Core §3.1.3.7; RFC 8725; SSO.md (a)), the return_to rule, the
 * client-secret seal and the strict base64 decoder. Tokens are signed here with cjose. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjose/cjose.h>
#include <cmocka.h>
#include <jansson.h>

#include "base/crypto.h"
#include "sso/jwt.h"
#include "sso/secret.h"
#include "sso/web.h"

#define NOW 1900000000

struct fixture {
    cjose_jwk_t *key;
    json_t *jwks;
};

static const char *const rs256[] = { "RS256" };

static struct sso_jwt_expect
expect(void)
{
    return (struct sso_jwt_expect){ .issuer = "https://idp.example.test",
                                    .client_id = "client-1",
                                    .nonce = "n-0123456789",
                                    .algs = rs256,
                                    .n_algs = 1,
                                    .now_s = NOW };
}

static json_t *
good_claims(void)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:b}", "iss", "https://idp.example.test",
                     "aud", "client-1", "sub", "00u1", "iat", (json_int_t)NOW - 5, "exp",
                     (json_int_t)NOW + 300, "nonce", "n-0123456789", "email", "a@example.test",
                     "email_verified", 1);
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    static const uint8_t e[] = { 1, 0, 1 };
    f->key = cjose_jwk_create_RSA_random(2048, e, sizeof(e), NULL);
    cjose_jwk_set_kid(f->key, "k1", 2, NULL);
    char *pub = cjose_jwk_to_json(f->key, false, NULL);
    json_t *k = json_loads(pub, 0, NULL);
    free(pub);
    f->jwks = json_pack("{s:[o]}", "keys", k);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    cjose_jwk_release(f->key);
    json_decref(f->jwks);
    free(f);
    return 0;
}

/* A token over claims with the given header (alg, kid), signed with the fixture's key. */
static char *
sign(struct fixture *f, const char *alg, const char *kid, json_t *claims)
{
    cjose_header_t *h = cjose_header_new(NULL);
    cjose_header_set(h, CJOSE_HDR_ALG, alg, NULL);
    if (kid)
        cjose_header_set(h, CJOSE_HDR_KID, kid, NULL);
    char *payload = json_dumps(claims, JSON_COMPACT);
    json_decref(claims);
    cjose_jws_t *jws = cjose_jws_sign(f->key, h, (const uint8_t *)payload, strlen(payload), NULL);
    const char *ser = NULL;
    cjose_jws_export(jws, &ser, NULL);
    char *out = strdup(ser);
    cjose_jws_release(jws);
    cjose_header_release(h);
    free(payload);
    return out;
}

static const char *
verify(struct fixture *f, const char *token, const struct sso_jwt_expect *x)
{
    struct err e = { 0 };
    const char *reason = "ok";
    json_t *claims = NULL;
    int rc = sso_jwt_verify(token, f->jwks, x, &claims, &reason, &e);
    json_decref(claims);
    return rc == 0 ? "ok" : reason;
}

static void
jwt_accepts_a_good_token(void **state)
{
    struct fixture *f = *state;
    struct sso_jwt_expect x = expect();
    char *t = sign(f, "RS256", "k1", good_claims());
    assert_string_equal(verify(f, t, &x), "ok");
    free(t);
}

static void
jwt_rejects_alg_none_and_hs256_before_crypto(void **state)
{
    struct fixture *f = *state;
    struct sso_jwt_expect x = expect();
    /* {"alg":"none","kid":"k1"} . claims . (empty) */
    const char *none = "eyJhbGciOiJub25lIiwia2lkIjoiazEifQ.eyJzdWIiOiJ4In0.";
    assert_string_equal(verify(f, none, &x), "alg_not_allowed");
    /* RFC 8725 §2.1: HS256 "signed" with the RSA public key is refused by alg alone, even
     * when the caller's list wrongly names it. */
    static const char *const both[] = { "RS256", "HS256" };
    x.algs = both;
    x.n_algs = 2;
    const char *hs = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ4In0.c2ln";
    assert_string_equal(verify(f, hs, &x), "alg_not_allowed");
}

static void
jwt_rejects_alg_outside_the_allow_list(void **state)
{
    struct fixture *f = *state;
    struct sso_jwt_expect x = expect();
    char *t = sign(f, "PS256", "k1", good_claims());
    assert_string_equal(verify(f, t, &x), "alg_not_allowed");
    free(t);
}

static void
jwt_reports_unknown_kid_for_a_refetch(void **state)
{
    struct fixture *f = *state;
    struct sso_jwt_expect x = expect();
    char *t = sign(f, "RS256", "k9", good_claims());
    assert_string_equal(verify(f, t, &x), SSO_JWT_UNKNOWN_KID);
    free(t);
}

static void
jwt_without_kid_needs_exactly_one_usable_key(void **state)
{
    struct fixture *f = *state;
    struct sso_jwt_expect x = expect();
    char *t = sign(f, "RS256", NULL, good_claims());
    assert_string_equal(verify(f, t, &x), "ok");
    json_t *keys = json_object_get(f->jwks, "keys");
    json_array_append(keys, json_array_get(keys, 0));
    assert_string_equal(verify(f, t, &x), "ambiguous_key_without_kid");
    json_array_remove(keys, 1);
    free(t);
}

static void
jwt_rejects_a_five_part_token_as_jwe(void **state)
{
    struct fixture *f = *state;
    struct sso_jwt_expect x = expect();
    assert_string_equal(verify(f, "a.b.c.d.e", &x), "encrypted_token");
}

static void
jwt_rejects_a_changed_payload(void **state)
{
    struct fixture *f = *state;
    struct sso_jwt_expect x = expect();
    char *t = sign(f, "RS256", "k1", good_claims());
    char *dot = strchr(t, '.');
    dot[3] = dot[3] == 'A' ? 'B' : 'A';
    assert_string_not_equal(verify(f, t, &x), "ok");
    free(t);
}

/* Claim checks alone: one table, one reason each. */
static const char *
claims_reason(json_t *c, struct sso_jwt_expect *x)
{
    struct err e = { 0 };
    const char *reason = "ok";
    int rc = sso_jwt_claims_check(c, x, &reason, &e);
    json_decref(c);
    return rc == 0 ? "ok" : reason;
}

static void
jwt_claims_table(void **state)
{
    (void)state;
    struct sso_jwt_expect x = expect();
    json_t *c;

    c = good_claims();
    json_object_set_new(c, "iss", json_string("https://idp.example.test/"));
    assert_string_equal(claims_reason(c, &x), "wrong_issuer");
    c = good_claims();
    json_object_set_new(c, "aud", json_pack("[s,s]", "client-1", "other"));
    assert_string_equal(claims_reason(c, &x), "wrong_audience");
    c = good_claims();
    json_object_set_new(c, "aud", json_pack("[s,s]", "client-1", "client-1"));
    assert_string_equal(claims_reason(c, &x), "azp_missing");
    c = good_claims();
    json_object_set_new(c, "azp", json_string("other"));
    assert_string_equal(claims_reason(c, &x), "wrong_azp");
    /* exp within the skew is still good; beyond it is not (Core §3.1.3.7 step 9). */
    c = good_claims();
    json_object_set_new(c, "exp", json_integer(NOW - SSO_JWT_SKEW_S + 1));
    assert_string_equal(claims_reason(c, &x), "ok");
    c = good_claims();
    json_object_set_new(c, "exp", json_integer(NOW - SSO_JWT_SKEW_S));
    assert_string_equal(claims_reason(c, &x), "expired");
    c = good_claims();
    json_object_set_new(c, "iat", json_integer(NOW + SSO_JWT_SKEW_S + 1));
    assert_string_equal(claims_reason(c, &x), "iat_in_future");
    c = good_claims();
    json_object_set_new(c, "iat", json_integer(NOW - SSO_JWT_IAT_MAX_S - 1));
    assert_string_equal(claims_reason(c, &x), "iat_too_old");
    c = good_claims();
    json_object_set_new(c, "nbf", json_integer(NOW + SSO_JWT_SKEW_S + 1));
    assert_string_equal(claims_reason(c, &x), "not_yet_valid");
    /* exp and iat are required NumericDates (RFC 7519 §2, a JSON number): an absent one and
     * one of another type are said as such, not as a time out of range. */
    c = good_claims();
    json_object_del(c, "exp");
    assert_string_equal(claims_reason(c, &x), "exp_missing");
    c = good_claims();
    json_object_del(c, "iat");
    assert_string_equal(claims_reason(c, &x), "iat_missing");
    c = good_claims();
    json_object_set_new(c, "exp", json_sprintf("%lld", (long long)NOW + 300));
    assert_string_equal(claims_reason(c, &x), "malformed_payload");
    c = good_claims();
    json_object_set_new(c, "iat", json_null());
    assert_string_equal(claims_reason(c, &x), "malformed_payload");
    c = good_claims();
    json_object_set_new(c, "nbf", json_string("0"));
    assert_string_equal(claims_reason(c, &x), "malformed_payload");
    c = good_claims();
    json_object_set_new(c, "exp", json_real((double)NOW + 300.5));
    assert_string_equal(claims_reason(c, &x), "ok");
    c = good_claims();
    json_object_set_new(c, "nonce", json_string("n-0123456780"));
    assert_string_equal(claims_reason(c, &x), "bad_nonce");
    c = good_claims();
    json_object_del(c, "nonce");
    assert_string_equal(claims_reason(c, &x), "bad_nonce");
    c = good_claims();
    json_object_del(c, "sub");
    assert_string_equal(claims_reason(c, &x), "bad_subject");
    c = good_claims();
    json_object_set_new(c, "email_verified", json_false());
    assert_string_equal(claims_reason(c, &x), "email_not_verified");
    c = good_claims();
    json_object_del(c, "email_verified");
    assert_string_equal(claims_reason(c, &x), "email_not_verified");
    /* Entra sends no email_verified; its tid must be the configured directory. */
    x.email_verified_optional = true;
    x.tid = "tid-1";
    c = good_claims();
    json_object_del(c, "email_verified");
    json_object_set_new(c, "tid", json_string("tid-1"));
    assert_string_equal(claims_reason(c, &x), "ok");
    c = good_claims();
    json_object_set_new(c, "tid", json_string("tid-2"));
    assert_string_equal(claims_reason(c, &x), "wrong_tid");
    c = good_claims();
    json_object_set_new(c, "tid", json_string("tid-1"));
    json_object_set_new(c, "xms_edov", json_false());
    assert_string_equal(claims_reason(c, &x), "email_not_verified");
}

static void
return_to_accepts_only_same_origin_paths(void **state)
{
    (void)state;
    const char *base = "https://id.example.test";
    assert_string_equal(sso_return_to_check("/reports?q=1", base), "/reports?q=1");
    assert_string_equal(sso_return_to_check("https://id.example.test/x", base), "/x");
    assert_null(sso_return_to_check("//evil.test", base));
    assert_null(sso_return_to_check("/\\evil.test", base));
    assert_null(sso_return_to_check("https://evil.test/x", base));
    assert_null(sso_return_to_check("https://id.example.test.evil.test/x", base));
    assert_null(sso_return_to_check("https://id.example.test//evil.test", base));
    assert_null(sso_return_to_check("evil.test", base));
    assert_null(sso_return_to_check("/a\r\nSet-Cookie: x", base));
    assert_null(sso_return_to_check("/a b", base));
    assert_null(sso_return_to_check("", base));
    assert_null(sso_return_to_check(NULL, base));
}

static void
secret_seal_opens_only_for_its_tenant(void **state)
{
    (void)state;
    struct seal_keyring ring = { .n = 1, .v = { { .name = "default", .key = { 1, 2, 3 } } } };
    struct err e = { 0 };
    char out[SSO_SECRET_MAX + 1];
    char *sealed = sso_secret_seal(&ring, 7, "s3cret", &e);
    assert_non_null(sealed);
    assert_null(strstr(sealed, "s3cret"));
    assert_int_equal(sso_secret_open(&ring, 7, sealed, out, sizeof(out), &e), 0);
    assert_string_equal(out, "s3cret");
    assert_int_equal(sso_secret_open(&ring, 8, sealed, out, sizeof(out), &e), -1);
    ring.v[0].key[0] ^= 1;
    assert_int_equal(sso_secret_open(&ring, 7, sealed, out, sizeof(out), &e), -1);
    free(sealed);
    assert_null(sso_secret_seal(NULL, 7, "s3cret", &e));
    assert_int_equal(e.code, ERR_INVALID_VALUE);
    ring.n = 0;
    assert_null(sso_secret_seal(&ring, 7, "s3cret", &e));
    assert_int_equal(e.code, ERR_INVALID_VALUE);
}

static void
base64_decoder_is_strict(void **state)
{
    (void)state;
    unsigned char *out = NULL;
    size_t n;
    struct err e = { 0 };
    assert_int_equal(crypto_base64_decode("aGk=", 4, false, &out, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(out, "hi", 2);
    free(out);
    assert_int_equal(crypto_base64_decode("aGk", 3, false, &out, &n, &e), -1);
    assert_int_equal(crypto_base64_decode("aG k", 4, false, &out, &n, &e), -1);
    assert_int_equal(crypto_base64_decode("aGl=", 4, false, &out, &n, &e), -1); /* non-canonical */
    assert_int_equal(crypto_base64_decode("aGk", 3, true, &out, &n, &e), 0);
    free(out);
    assert_int_equal(crypto_base64_decode("a+k", 3, true, &out, &n, &e), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(jwt_accepts_a_good_token, setup, teardown),
        cmocka_unit_test_setup_teardown(jwt_rejects_alg_none_and_hs256_before_crypto, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(jwt_rejects_alg_outside_the_allow_list, setup, teardown),
        cmocka_unit_test_setup_teardown(jwt_reports_unknown_kid_for_a_refetch, setup, teardown),
        cmocka_unit_test_setup_teardown(jwt_without_kid_needs_exactly_one_usable_key, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(jwt_rejects_a_five_part_token_as_jwe, setup, teardown),
        cmocka_unit_test_setup_teardown(jwt_rejects_a_changed_payload, setup, teardown),
        cmocka_unit_test(jwt_claims_table),
        cmocka_unit_test(return_to_accepts_only_same_origin_paths),
        cmocka_unit_test(secret_seal_opens_only_for_its_tenant),
        cmocka_unit_test(base64_decoder_is_strict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
