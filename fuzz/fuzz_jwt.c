/* ID-token parsing and validation (sso/jwt.c) on arbitrary bytes: the compact JWS split,
 * the strict header decode, key selection, cjose's verification and the claim checks must
 * never crash or leak, and every refusal is ERR_UNAUTHORIZED with a reason code. The input
 * is also tried as a claims object, to reach the claim checks without a signature. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "sso/jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A public RSA key (kid "k1") and an EC P-256 key (kid "e1"), as an IdP's JWKS. */
static const char jwks_json[] =
    "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k1\",\"use\":\"sig\",\"alg\":\"RS256\",\"e\":\"AQAB\","
    "\"n\":\"sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXb"
    "oIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svl"
    "JJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNh"
    "ZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw\"},"
    "{\"kty\":\"EC\",\"kid\":\"e1\",\"crv\":\"P-256\","
    "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}";

static const char *const algs[] = { "RS256", "ES256" };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > SSO_JWT_MAX_BYTES + 16)
        return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    json_t *jwks = json_loads(jwks_json, 0, NULL);
    struct sso_jwt_expect x = {
        .issuer = "https://idp.example.test",
        .client_id = "client-1",
        .nonce = "n-0123456789",
        .algs = algs,
        .n_algs = 2,
        .now_s = 1900000000,
    };
    struct err err = { 0 };
    const char *reason = NULL;
    json_t *claims = NULL;
    if (sso_jwt_verify(text, jwks, &x, &claims, &reason, &err) < 0) {
        if (err.code != ERR_UNAUTHORIZED || reason == NULL)
            abort();
    }
    json_decref(claims);
    json_t *c = json_loadb(text, size, JSON_REJECT_DUPLICATES, NULL);
    if (c) {
        struct err e2 = { 0 };
        if (sso_jwt_claims_check(c, &x, &reason, &e2) < 0 && e2.code != ERR_UNAUTHORIZED)
            abort();
        json_decref(c);
    }
    json_decref(jwks);
    free(text);
    return 0;
}
