#include "sso/secret.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/crypto.h"
#include "base/xmalloc.h"
#include "sso/web.h"

#define NONCE 12
#define TAG   16

static void
aad_of(int64_t tenant_id, char aad[48])
{
    snprintf(aad, 48, "scimd-oidc-secret:%lld", (long long)tenant_id);
}

char *
sso_secret_seal(const unsigned char *key, int64_t tenant_id, const char *plain, struct err *err)
{
    if (key == NULL) {
        err_set(err, ERR_INVALID_VALUE,
                "no sso_key is configured: scimd cannot store a client secret");
        return NULL;
    }
    size_t n = strlen(plain);
    if (n == 0 || n > SSO_SECRET_MAX) {
        err_set(err, ERR_INVALID_VALUE, "clientSecret must be 1 to %d bytes", SSO_SECRET_MAX);
        return NULL;
    }
    unsigned char raw[NONCE + SSO_SECRET_MAX + TAG];
    char aad[48];
    int len = 0, fin = 0;
    aad_of(tenant_id, aad);
    if (crypto_random(raw, NONCE, err) < 0)
        return NULL;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    bool ok =
        ctx && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, raw) == 1 &&
        EVP_EncryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
        EVP_EncryptUpdate(ctx, raw + NONCE, &len, (const unsigned char *)plain, (int)n) == 1 &&
        EVP_EncryptFinal_ex(ctx, raw + NONCE + len, &fin) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG, raw + NONCE + n) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
        crypto_wipe(raw, sizeof(raw));
        err_set(err, ERR_INTERNAL, "cannot seal the client secret");
        return NULL;
    }
    size_t total = NONCE + n + TAG;
    char *out = xmalloc(3 + (total + 2) / 3 * 4 + 1);
    memcpy(out, "v1.", 3);
    crypto_base64url(raw, total, out + 3, (total + 2) / 3 * 4 + 1);
    crypto_wipe(raw, sizeof(raw));
    return out;
}

int
sso_secret_open(const unsigned char *key, int64_t tenant_id, const char *sealed, char *out,
                size_t size, struct err *err)
{
    unsigned char *raw = NULL;
    size_t n = 0;
    char aad[48];
    int len = 0, fin = 0;
    if (key == NULL || sealed == NULL || strncmp(sealed, "v1.", 3) != 0)
        return err_set(err, ERR_INTERNAL, "client secret cannot be opened (no key or format)");
    if (sso_base64_decode(sealed + 3, strlen(sealed + 3), true, &raw, &n, err) < 0)
        return err_set(err, ERR_INTERNAL, "client secret is corrupt");
    if (n < NONCE + TAG + 1 || n - NONCE - TAG >= size) {
        free(raw);
        return err_set(err, ERR_INTERNAL, "client secret is corrupt");
    }
    size_t clen = n - NONCE - TAG;
    aad_of(tenant_id, aad);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    bool ok =
        ctx && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, raw) == 1 &&
        EVP_DecryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
        EVP_DecryptUpdate(ctx, (unsigned char *)out, &len, raw + NONCE, (int)clen) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG, raw + NONCE + clen) == 1 &&
        EVP_DecryptFinal_ex(ctx, (unsigned char *)out + len, &fin) == 1;
    EVP_CIPHER_CTX_free(ctx);
    crypto_wipe(raw, n);
    free(raw);
    if (!ok) {
        crypto_wipe(out, size);
        return err_set(err, ERR_INTERNAL, "client secret does not open with the configured key");
    }
    out[clen] = '\0';
    return 0;
}
