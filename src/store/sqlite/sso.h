#ifndef SCIMD_STORE_SQLITE_SSO_H
#define SCIMD_STORE_SQLITE_SSO_H

#include "store/store.h"

/* The SQLite single sign-on operations (issue 7): each has the contract of the store_sso_*
 * function of the same name in store/store.h. */

int sqlite_sso_conn_put(struct store *s, const struct store_sso_conn *c, struct err *err);
int sqlite_sso_conn_get(struct store *s, int64_t tenant_id, const char *protocol,
                        struct store_sso_conn *out, struct err *err);
int sqlite_sso_conn_delete(struct store *s, int64_t tenant_id, const char *protocol,
                           struct err *err);
int sqlite_sso_conn_verified(struct store *s, int64_t tenant_id, const char *protocol,
                             int64_t now_ms, struct err *err);
int sqlite_sso_tx_insert(struct store *s, const struct store_sso_tx *t, struct err *err);
int sqlite_sso_tx_take(struct store *s, const char *handle, int64_t now_ms,
                       struct store_sso_tx *out, struct err *err);
int sqlite_sso_replay_insert(struct store *s, int64_t tenant_id, const char *issuer, const char *id,
                             int64_t expires_ms, int64_t now_ms, struct err *err);
int sqlite_sso_link_find(struct store *s, int64_t tenant_id, const char *issuer,
                         const char *subject, char user_id[37], struct err *err);
int sqlite_sso_link_of_user(struct store *s, int64_t tenant_id, const char *issuer,
                            const char *user_id, char subject[256], struct err *err);
int sqlite_sso_link_insert(struct store *s, int64_t tenant_id, const char *issuer,
                           const char *subject, const char *user_id, int64_t now_ms,
                           struct err *err);
int sqlite_sso_links_of_user(struct store *s, int64_t tenant_id, const char *user_id,
                             struct store_sso_link *out, size_t max, size_t *n, struct err *err);
int sqlite_sso_links_delete(struct store *s, int64_t tenant_id, const char *user_id,
                            struct err *err);
int sqlite_sso_code_insert(struct store *s, const struct store_sso_code *c, struct err *err);
int sqlite_sso_code_take(struct store *s, const char *hash, int64_t now_ms,
                         struct store_sso_code *out, struct err *err);
int sqlite_sso_users_by_email(struct store *s, int64_t tenant_id, const char *email,
                              struct store_resource *out, size_t max, size_t *n, struct err *err);

#endif
