#include "base/seal.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/crypto.h"
#include "base/xmalloc.h"

#define NONCE 12
#define TAG   16

char *
seal_text(const unsigned char key[32], const char *aad, const char *plain, struct err *err)
{
    if (key == NULL) {
        err_set(err, ERR_INVALID_VALUE, "no key is configured to keep this secret at rest");
        return NULL;
    }
    size_t n = strlen(plain);
    if (n == 0 || n > SEAL_PLAIN_MAX) {
        err_set(err, ERR_INVALID_VALUE, "a secret must be 1 to %d bytes", SEAL_PLAIN_MAX);
        return NULL;
    }
    unsigned char raw[NONCE + SEAL_PLAIN_MAX + TAG];
    int len = 0, fin = 0;
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
        err_set(err, ERR_INTERNAL, "cannot seal a secret");
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
seal_is_sealed(const char *text)
{
    return text && strncmp(text, "v1.", 3) == 0;
}

int
seal_open(const unsigned char key[32], const char *aad, const char *sealed, char *out, size_t size,
          struct err *err)
{
    unsigned char *raw = NULL;
    size_t n = 0;
    int len = 0, fin = 0;
    if (key == NULL || !seal_is_sealed(sealed))
        return err_set(err, ERR_INTERNAL, "a secret cannot be opened (no key or format)");
    if (crypto_base64_decode(sealed + 3, strlen(sealed + 3), true, &raw, &n, err) < 0)
        return err_set(err, ERR_INTERNAL, "a sealed secret is corrupt");
    if (n < NONCE + TAG + 1 || n - NONCE - TAG >= size) {
        free(raw);
        return err_set(err, ERR_INTERNAL, "a sealed secret is corrupt");
    }
    size_t clen = n - NONCE - TAG;
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
        return err_set(err, ERR_INTERNAL, "a sealed secret does not open with the configured key");
    }
    out[clen] = '\0';
    return 0;
}
