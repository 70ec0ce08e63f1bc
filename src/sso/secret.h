#ifndef SCIMD_SSO_SECRET_H
#define SCIMD_SSO_SECRET_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* OIDC client secrets at rest (issue 7): AES-256-GCM with the configured key, a fresh 96-bit
 * nonce per seal, and the tenant id as associated data so a sealed value copied to another
 * tenant's row does not open. Sealed text: "v1." + base64url(nonce | ciphertext | tag). */

#define SSO_SECRET_MAX 512

/* Seals plain (at most SSO_SECRET_MAX bytes) for tenant_id; malloc'd text. ERR_INVALID_VALUE
 * when key is NULL (no sso_key configured) or the secret is too long. */
char *sso_secret_seal(const unsigned char *key, int64_t tenant_id, const char *plain,
                      struct err *err);

/* Opens a sealed value into out (NUL-terminated, size > SSO_SECRET_MAX): ERR_INTERNAL when
 * the key is wrong, the tenant differs or the text was altered. Wipe out after use. */
int sso_secret_open(const unsigned char *key, int64_t tenant_id, const char *sealed, char *out,
                    size_t size, struct err *err);

#endif
