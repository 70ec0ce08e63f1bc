#include "sso/secret.h"

#include <stdio.h>
#include <string.h>

#include "base/seal.h"

/* The owner of a sealed client secret is its tenant (docs/sso.md). */
static void
aad_of(int64_t tenant_id, char aad[48])
{
    snprintf(aad, 48, "scimd-oidc-secret:%lld", (long long)tenant_id);
}

char *
sso_secret_seal(const unsigned char *key, int64_t tenant_id, const char *plain, struct err *err)
{
    char aad[48];
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
    aad_of(tenant_id, aad);
    return seal_text(key, aad, plain, err);
}

int
sso_secret_open(const unsigned char *key, int64_t tenant_id, const char *sealed, char *out,
                size_t size, struct err *err)
{
    char aad[48];
    aad_of(tenant_id, aad);
    return seal_open(key, aad, sealed, out, size, err);
}
