#ifndef SCIMD_BASE_CRYPTO_H
#define SCIMD_BASE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* Fills buf with n bytes from OpenSSL's CSPRNG (seeded from the OS). -1 with ERR_INTERNAL if
 * the generator fails, which callers must treat as fatal for the operation. */
int crypto_random(void *buf, size_t n, struct err *err);

/* Unpadded base64url (RFC 4648 §5) of n bytes into out (size >= 4*ceil(n/3)+1). */
void crypto_base64url(const void *in, size_t n, char *out, size_t size);

/* SHA-256 of n bytes. */
void crypto_sha256(const void *in, size_t n, unsigned char out[32]);
/* Lower-case hex SHA-256 of n bytes: out must hold 65 bytes. */
void crypto_sha256_hex(const void *in, size_t n, char out[65]);

/* Decodes base64 (std alphabet with padding when url is false; base64url without padding
 * when true) strictly: no whitespace, no stray characters, canonical padding. *out is
 * malloc'd with a NUL after the bytes. ERR_INVALID_VALUE on any bad byte. */
int crypto_base64_decode(const char *in, size_t len, bool url, unsigned char **out, size_t *out_len,
                         struct err *err);

/* Removes CR, LF, space and tab from the NUL-terminated s, in place, and returns its new
 * length: base64 as MIME wraps it (RFC 2045 §6.8, lines of 76 characters) becomes what
 * crypto_base64_decode accepts; any other byte stays for it to refuse. */
size_t crypto_base64_unwrap(char *s);

/* HMAC-SHA256 of in under key, the 32 raw bytes (SCIM cursors). */
void crypto_hmac_sha256(const void *key, size_t key_len, const void *in, size_t n,
                        unsigned char out[32]);

/* Lower-case hex HMAC-SHA256 of in under key (webhook signatures). */
void crypto_hmac_sha256_hex(const void *key, size_t key_len, const void *in, size_t n,
                            char out[65]);

/* Constant-time equality of two equally long byte strings (CRYPTO_memcmp). */
bool crypto_equal(const void *a, const void *b, size_t n);

/* Overwrites n bytes so a secret does not linger (OPENSSL_cleanse). */
void crypto_wipe(void *p, size_t n);

/* A random UUID version 7 (RFC 9562 §5.7): time-ordered, so B-tree inserts stay local.
 * out must hold 37 bytes. */
int crypto_uuid_v7(char out[37], struct err *err);

/* Salted password hash for storage (PBKDF2-HMAC-SHA256), "pbkdf2-sha256$iter$salt$hash".
 * out must hold 128 bytes. */
int crypto_password_hash(const char *password, char out[128], struct err *err);

#endif
