#ifndef SCIMD_CORE_DIRECTORY_H
#define SCIMD_CORE_DIRECTORY_H

#include "base/err.h"
#include "store/store.h"

/* Reads across a tenant's directory that are not about one resource. */

/* Lists resources of one type in one tenant (filter, sort, page): the query names the
 * tenant, so one tenant never sees another's rows. */
int directory_list(struct store *s, const struct store_list_query *q, struct store_list_result *out,
                   struct err *err);

/* One resource of the tenant by type and id; ERR_NOT_FOUND when absent (or another
 * tenant's). */
int directory_get(struct store *s, int64_t tenant_id, enum store_rtype type, const char *id,
                  struct store_resource *out, struct err *err);

/* Brackets the reads of one request (store_read_begin): cheaper with SQLite, one snapshot. */
int directory_read_begin(struct store *s, struct err *err);
void directory_read_end(struct store *s);
/* The database's committed state (store_generation): 0, or -1 when it cannot be told. */
int directory_generation(struct store *s, struct store_generation *g);
/* store_generation_is_local. */
bool directory_generation_is_local(const struct store *s);

/* The 32-byte key signing SCIM paging cursors (scim/cursor.h), the same on every instance
 * of one database: derived from the newest sso key (32 bytes) when one is set, else the database's
 * own random key, made by whichever instance asks first (store_server_key_get). */
int directory_cursor_key(struct store *s, const unsigned char *sso_key, unsigned char out[32],
                         struct err *err);

/* 0 when the database answers; ERR_UNAVAILABLE otherwise (for /healthz). */
int directory_health(struct store *s, struct err *err);

/* store_reprepares, for /metrics. */
uint64_t directory_reprepares(struct store *s);

#endif
