/* Dispatch of the single sign-on store operations (issue 7). Kept apart from store.c so the
 * SSO block merges as one piece; every backend implements them. */
#include "store/store.h"

#include <stdlib.h>

#include "store/store_int.h"

#define CALL(op, ...) s->ops->op(s, __VA_ARGS__)

void
store_sso_conn_cleanup(struct store_sso_conn *c)
{
    if (c == NULL)
        return;
    free(c->config);
    free(c->secret);
    c->config = c->secret = NULL;
}

int
store_sso_conn_put(struct store *s, const struct store_sso_conn *c, struct err *err)
{
    return CALL(sso_conn_put, c, err);
}

int
store_sso_conn_get(struct store *s, int64_t tenant_id, const char *protocol,
                   struct store_sso_conn *out, struct err *err)
{
    return CALL(sso_conn_get, tenant_id, protocol, out, err);
}

int
store_sso_conn_delete(struct store *s, int64_t tenant_id, const char *protocol, struct err *err)
{
    return CALL(sso_conn_delete, tenant_id, protocol, err);
}

int
store_sso_conn_verified(struct store *s, int64_t tenant_id, const char *protocol, int64_t now_ms,
                        struct err *err)
{
    return CALL(sso_conn_verified, tenant_id, protocol, now_ms, err);
}

int
store_sso_tx_insert(struct store *s, const struct store_sso_tx *t, struct err *err)
{
    return CALL(sso_tx_insert, t, err);
}

int
store_sso_tx_take(struct store *s, const char *handle, int64_t now_ms, struct store_sso_tx *out,
                  struct err *err)
{
    return CALL(sso_tx_take, handle, now_ms, out, err);
}

int
store_sso_replay_insert(struct store *s, int64_t tenant_id, const char *issuer, const char *id,
                        int64_t expires_ms, int64_t now_ms, struct err *err)
{
    return CALL(sso_replay_insert, tenant_id, issuer, id, expires_ms, now_ms, err);
}

int
store_sso_link_find(struct store *s, int64_t tenant_id, const char *issuer, const char *subject,
                    char user_id[37], struct err *err)
{
    return CALL(sso_link_find, tenant_id, issuer, subject, user_id, err);
}

int
store_sso_link_of_user(struct store *s, int64_t tenant_id, const char *issuer, const char *user_id,
                       char subject[256], struct err *err)
{
    return CALL(sso_link_of_user, tenant_id, issuer, user_id, subject, err);
}

int
store_sso_link_insert(struct store *s, int64_t tenant_id, const char *issuer, const char *subject,
                      const char *user_id, int64_t now_ms, struct err *err)
{
    return CALL(sso_link_insert, tenant_id, issuer, subject, user_id, now_ms, err);
}

int
store_sso_links_of_user(struct store *s, int64_t tenant_id, const char *user_id,
                        struct store_sso_link *out, size_t max, size_t *n, struct err *err)
{
    return CALL(sso_links_of_user, tenant_id, user_id, out, max, n, err);
}

int
store_sso_links_delete(struct store *s, int64_t tenant_id, const char *user_id, struct err *err)
{
    return CALL(sso_links_delete, tenant_id, user_id, err);
}

int
store_sso_code_insert(struct store *s, const struct store_sso_code *c, struct err *err)
{
    return CALL(sso_code_insert, c, err);
}

int
store_sso_code_take(struct store *s, const char *hash, int64_t now_ms, struct store_sso_code *out,
                    struct err *err)
{
    return CALL(sso_code_take, hash, now_ms, out, err);
}

int
store_sso_users_by_email(struct store *s, int64_t tenant_id, const char *email,
                         struct store_resource *out, size_t max, size_t *n, struct err *err)
{
    return CALL(sso_users_by_email, tenant_id, email, out, max, n, err);
}
