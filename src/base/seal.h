#ifndef SCIMD_BASE_SEAL_H
#define SCIMD_BASE_SEAL_H

#include <stddef.h>

#include "base/err.h"

/* Secrets scimd must be able to use again (an OIDC client secret, a webhook signing secret),
 * kept at rest under the configured 32-byte key: AES-256-GCM, a fresh 96-bit nonce per seal,
 * and `aad` naming the owner so a sealed value copied to another row does not open. Sealed
 * text: "v1." + base64url(nonce | ciphertext | tag). */

#define SEAL_PLAIN_MAX 512

/* Seals plain (1..SEAL_PLAIN_MAX bytes); malloc'd text, or NULL with ERR_INVALID_VALUE (too
 * long, empty, no key) or ERR_INTERNAL. */
char *seal_text(const unsigned char key[32], const char *aad, const char *plain, struct err *err);

/* True when text has the sealed form. */
int seal_is_sealed(const char *text);

/* Opens sealed into out (NUL-terminated; size > SEAL_PLAIN_MAX): ERR_INTERNAL when the key is
 * wrong, aad differs or the text was altered. Wipe out after use. */
int seal_open(const unsigned char key[32], const char *aad, const char *sealed, char *out,
              size_t size, struct err *err);

#endif
