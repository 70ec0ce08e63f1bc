#include "base/crypto.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "base/xmalloc.h"

int
crypto_random(void *buf, size_t n, struct err *err)
{
    if (n > 0x7fffffff || RAND_bytes(buf, (int)n) != 1)
        return err_set(err, ERR_INTERNAL, "random generator failed");
    return 0;
}

void
crypto_base64url(const void *in, size_t n, char *out, size_t size)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *p = in;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        size_t k = n - i >= 3 ? 4 : n - i + 1; /* characters this group produces */
        if (o + k >= size)
            break;
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = alphabet[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = alphabet[v & 63];
    }
    out[o] = '\0';
}

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md; /* lives as long as the process */

static void
fetch_sha256(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void
crypto_sha256(const void *in, size_t n, unsigned char out[32])
{
    /* SHA256() fetches the algorithm from the provider on every call (OpenSSL 3); every
     * SCIM request hashes its token, so fetch once. */
    pthread_once(&sha256_once, fetch_sha256);
    if (sha256_md == NULL || EVP_Digest(in, n, out, NULL, sha256_md, NULL) != 1)
        SHA256(in, n, out);
}

void
crypto_sha256_hex(const void *in, size_t n, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[SHA256_DIGEST_LENGTH];
    crypto_sha256(in, n, md);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

bool
crypto_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

void
crypto_wipe(void *p, size_t n)
{
    OPENSSL_cleanse(p, n);
}

int
crypto_uuid_v7(char out[37], struct err *err)
{
    unsigned char b[16];
    struct timespec ts;
    if (crypto_random(b, sizeof(b), err) < 0)
        return -1;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long ms =
        (unsigned long long)ts.tv_sec * 1000ULL + (unsigned long long)ts.tv_nsec / 1000000ULL;
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (8 * (5 - i)));
    b[6] = (unsigned char)(0x70 | (b[6] & 0x0f));
    b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return 0;
}

/* OWASP's 2023 figure for PBKDF2-HMAC-SHA256 is 600 000 iterations; SCIM passwords are rare
 * (Okta sends one only when password sync is on), so the cost is paid seldom. */
#define PBKDF2_ITERATIONS 600000

int
crypto_password_hash(const char *password, char out[128], struct err *err)
{
    unsigned char salt[16], key[32];
    char salt64[32], key64[48];
    if (crypto_random(salt, sizeof(salt), err) < 0)
        return -1;
    if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof(salt), PBKDF2_ITERATIONS,
                          EVP_sha256(), sizeof(key), key) != 1)
        return err_set(err, ERR_INTERNAL, "password hashing failed");
    crypto_base64url(salt, sizeof(salt), salt64, sizeof(salt64));
    crypto_base64url(key, sizeof(key), key64, sizeof(key64));
    crypto_wipe(key, sizeof(key));
    snprintf(out, 128, "pbkdf2-sha256$%d$%s$%s", PBKDF2_ITERATIONS, salt64, key64);
    return 0;
}

void
crypto_hmac_sha256(const void *key, size_t key_len, const void *in, size_t n, unsigned char out[32])
{
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, (int)key_len, in, n, out, &len);
}

void
crypto_hmac_sha256_hex(const void *key, size_t key_len, const void *in, size_t n, char out[65])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key, (int)key_len, in, n, mac, &len);
    for (unsigned i = 0; i < len && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
    out[64] = '\0';
}

static int
b64_value(unsigned char c, bool url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

size_t
crypto_base64_unwrap(char *s)
{
    size_t w = 0;
    for (size_t r = 0; s[r] != '\0'; r++)
        if (s[r] != '\r' && s[r] != '\n' && s[r] != ' ' && s[r] != '\t')
            s[w++] = s[r];
    s[w] = '\0';
    return w;
}

int
crypto_base64_decode(const char *in, size_t len, bool url, unsigned char **out, size_t *out_len,
                     struct err *err)
{
    size_t pad = 0;
    if (!url) {
        if (len % 4 != 0)
            return err_set(err, ERR_INVALID_VALUE, "base64 length is not a multiple of 4");
        while (pad < 2 && len > pad && in[len - 1 - pad] == '=')
            pad++;
    } else if (len % 4 == 1) {
        return err_set(err, ERR_INVALID_VALUE, "base64url length is impossible");
    }
    size_t n = len - pad;
    unsigned char *o = xmalloc(n / 4 * 3 + 3 + 1);
    size_t w = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value((unsigned char)in[i], url);
        if (v < 0) {
            free(o);
            return err_set(err, ERR_INVALID_VALUE, "invalid base64 character");
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[w++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* Canonical: the bits left over must be zero (no second encoding of the same bytes). */
    if (acc != 0) {
        free(o);
        return err_set(err, ERR_INVALID_VALUE, "non-canonical base64");
    }
    o[w] = '\0';
    *out = o;
    *out_len = w;
    return 0;
}
