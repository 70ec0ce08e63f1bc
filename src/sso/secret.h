#ifndef SCIMD_SSO_SECRET_H
#define SCIMD_SSO_SECRET_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/seal.h"

/* OIDC client secrets at rest (issue 7): AES-256-GCM under the sso keyring (base/seal.h: the
 * newest key seals, the sealed text names its key), and the tenant id as associated data
 * (signin_secret_aad) so a sealed value copied to another tenant's row does not open. */

#define SSO_SECRET_MAX 512

/* Seals plain (at most SSO_SECRET_MAX bytes) for tenant_id; malloc'd text. ERR_INVALID_VALUE
 * when ring has no key (no sso_key or sso_keys_file) or the secret is too long. */
char *sso_secret_seal(const struct seal_keyring *ring, int64_t tenant_id, const char *plain,
                      struct err *err);

/* Opens a sealed value into out (NUL-terminated, size > SSO_SECRET_MAX) with the key it
 * names: ERR_INTERNAL when that key is not in ring or is wrong, the tenant differs or the
 * text was altered. Wipe out after use. */
int sso_secret_open(const struct seal_keyring *ring, int64_t tenant_id, const char *sealed,
                    char *out, size_t size, struct err *err);

#endif
