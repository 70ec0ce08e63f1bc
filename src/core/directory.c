#include "core/directory.h"

#include <stdio.h>
#include <string.h>

#include "base/crypto.h"

int
directory_list(struct store *s, const struct store_list_query *q, struct store_list_result *out,
               struct err *err)
{
    if (q->tenant_id <= 0)
        return err_set(err, ERR_INTERNAL, "listing without a tenant");
    return store_resource_list(s, q, out, err);
}

int
directory_get(struct store *s, int64_t tenant_id, enum store_rtype type, const char *id,
              struct store_resource *out, struct err *err)
{
    return store_resource_get(s, tenant_id, type, id, out, err);
}

int
directory_health(struct store *s, struct err *err)
{
    if (store_ping(s, err) < 0)
        return err_set(err, ERR_UNAVAILABLE, "database unavailable");
    return 0;
}

uint64_t
directory_reprepares(struct store *s)
{
    return store_reprepares(s);
}

int
directory_read_begin(struct store *s, struct err *err)
{
    return store_read_begin(s, err);
}

int
directory_generation(struct store *s, struct store_generation *g)
{
    return store_generation(s, g);
}

bool
directory_generation_is_local(const struct store *s)
{
    return store_generation_is_local(s);
}

void
directory_read_end(struct store *s)
{
    store_read_end(s);
}

int
directory_cursor_key(struct store *s, const unsigned char *sso_key, unsigned char out[32],
                     struct err *err)
{
    /* A key of its own for each use of sso_key: a cursor tag reveals nothing about the key
     * that seals secrets (HMAC as a PRF, with a fixed label). */
    static const char label[] = "scimd SCIM cursor key v1";
    if (sso_key) {
        crypto_hmac_sha256(sso_key, 32, label, sizeof(label) - 1, out);
        return 0;
    }
    unsigned char fresh[32];
    char candidate[65], stored[65];
    if (crypto_random(fresh, sizeof(fresh), err) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(fresh); i++)
        snprintf(candidate + 2 * i, 3, "%02x", fresh[i]);
    crypto_wipe(fresh, sizeof(fresh));
    if (store_tx_begin(s, err) < 0)
        return -1;
    if (store_server_key_get(s, "scim_cursor", candidate, stored, err) < 0) {
        store_tx_rollback(s);
        return -1;
    }
    if (store_tx_commit(s, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < 32 && rc == 0; i++) {
        unsigned hi = 0, lo = 0;
        const char *d = "0123456789abcdef";
        const char *h = strchr(d, stored[2 * i]), *l = strchr(d, stored[2 * i + 1]);
        if (stored[2 * i] == '\0' || stored[2 * i + 1] == '\0' || h == NULL || l == NULL)
            rc = err_set(err, ERR_INTERNAL, "the stored cursor key is not 64 hex digits");
        else {
            hi = (unsigned)(h - d);
            lo = (unsigned)(l - d);
            out[i] = (unsigned char)(hi << 4 | lo);
        }
    }
    crypto_wipe(candidate, sizeof(candidate));
    crypto_wipe(stored, sizeof(stored));
    return rc;
}
