#ifndef SCIMD_STORE_COPY_INT_H
#define SCIMD_STORE_COPY_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store_int.h"

/* What store_copy (copy.c) moves, in dependency order, and the backend halves it drives:
 * sqlite/export.c reads each table, postgres/import.c writes it. Both halves list the same
 * columns in the same order for each table (copy_tables[t].ncols of them); every value
 * travels as text, NULL as a NULL pointer. */
enum copy_table {
    COPY_TENANTS,
    COPY_TOKENS,
    COPY_RESOURCES,
    COPY_RESOURCE_COUNTS,
    COPY_MEMBERS,
    COPY_ROLE_MAP,
    COPY_USER_ROLES,
    COPY_EVENTS,
    COPY_WEBHOOKS,
    COPY_WEBHOOK_ATTEMPTS,
    COPY_SSO_CONNECTIONS,
    COPY_SSO_LINKS,
    COPY_SSO_REPLAY,
    COPY_SET_KEYS,
    COPY_WEBHOOK_ACKS,
    /* Not a table: the events after each webhook's cursor, counted on both sides. */
    COPY_WEBHOOK_BACKLOG,
    COPY__COUNT
};

struct copy_table_info {
    const char *name;
    int ncols; /* 0: counted only */
};

extern const struct copy_table_info copy_tables[COPY__COUNT];

#define COPY_MAX_COLS 16

/* Receives one source row; 0, or -1 with err to stop. */
typedef int (*copy_row_fn)(void *ctx, const char *const *values, struct err *err);

/* The source's rows of table t that the copy takes (replay entries still live at now_ms). */
int sqlite_export_count(struct store *s, enum copy_table t, int64_t now_ms, int64_t *n,
                        struct err *err);
/* Calls row() for each of them, in key order (resources and events by seq). */
int sqlite_export_rows(struct store *s, enum copy_table t, int64_t now_ms, copy_row_fn row,
                       void *ctx, struct err *err);

/* Whether the target's schema has table t (a backend that lacks one has nothing to copy
 * into; COPY_WEBHOOK_BACKLOG always "exists"). */
int pg_import_has_table(struct store *s, enum copy_table t, bool *has, struct err *err);
int pg_import_count(struct store *s, enum copy_table t, int64_t *n, struct err *err);

/* Rows are sent in batches (a libpq pipeline where libpq has one), so an insert may fail
 * only at a later call: each error names the table and the row's position in it. */
struct pg_import;
struct pg_import *pg_import_start(struct store *s, struct err *err);
/* Queues one row of t (keys as given) inside the caller's transaction. */
int pg_import_row(struct pg_import *imp, enum copy_table t, const char *const *values,
                  struct err *err);
/* Waits for every queued row: 0 once all are in, -1 with err for the first that failed. */
int pg_import_flush(struct pg_import *imp, struct err *err);
/* Flushes what is queued (errors ignored) and frees imp; NULL is a no-op. */
void pg_import_end(struct pg_import *imp);
/* Moves the identity sequences past the copied keys, so new rows continue after them, and
 * forgets any listing positions the target remembered. */
int pg_import_finish(struct store *s, struct err *err);
/* Refreshes the planner's statistics of the copied tables (after the commit). */
int pg_import_analyze(struct store *s, struct err *err);

#endif
