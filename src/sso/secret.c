#include "sso/secret.h"

#include <string.h>

#include "core/signin.h"

char *
sso_secret_seal(const struct seal_keyring *ring, int64_t tenant_id, const char *plain,
                struct err *err)
{
    char aad[SIGNIN_AAD_MAX];
    if (seal_keyring_newest(ring) == NULL) {
        err_set(err, ERR_INVALID_VALUE,
                "no sso_key is configured: scimd cannot store a client secret");
        return NULL;
    }
    size_t n = strlen(plain);
    if (n == 0 || n > SSO_SECRET_MAX) {
        err_set(err, ERR_INVALID_VALUE, "clientSecret must be 1 to %d bytes", SSO_SECRET_MAX);
        return NULL;
    }
    signin_secret_aad(tenant_id, aad);
    return seal_text(ring, aad, plain, err);
}

int
sso_secret_open(const struct seal_keyring *ring, int64_t tenant_id, const char *sealed, char *out,
                size_t size, struct err *err)
{
    char aad[SIGNIN_AAD_MAX];
    signin_secret_aad(tenant_id, aad);
    return seal_open(ring, aad, sealed, out, size, err);
}
