#ifndef SCIMD_STORE_ROWS_H
#define SCIMD_STORE_ROWS_H

#include "store/db.h"
#include "store/store.h"

/* One column list and one row reader per table, shared by the operations that select it. */

#define TENANT_COLS                                                                         \
    "id, slug, display_name, plan, mode, deactivation, integration_enabled, saml_required," \
    " created_ms, updated_ms"
#define TOKEN_COLS \
    "id, tenant_id, hash, prefix, label, created_ms, last_used_ms, revoked_ms, expires_ms"

/* Reads TENANT_COLS starting at column `first` (group_count is left -1). */
void rows_read_tenant(struct db_stmt *st, int first, struct store_tenant *t);
/* Reads TOKEN_COLS starting at column 0. */
void rows_read_token(struct db_stmt *st, struct store_token *t);

#endif
