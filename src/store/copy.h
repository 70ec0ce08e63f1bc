#ifndef SCIMD_STORE_COPY_H
#define SCIMD_STORE_COPY_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* Copying a whole database from one backend into another (`scimd migrate`, docs/deploy.md):
 * today a SQLite database into an empty PostgreSQL one. Everything durable is copied with
 * its keys, so ids, versions, ETags, event seqs (and so webhook cursors and events-API
 * cursors), token and password hashes and the default listing order stay as they were;
 * what is ephemeral (SSO sign-ins in progress, hand-off codes, expired replay entries,
 * console sessions, set-up links, page cursors) is left behind. */

/* One line of the check: rows of a table (or of a derived quantity) in the source as read
 * and in the target after the copy. */
struct store_copy_count {
    const char *name; /* "tenants", …, "webhook backlog" (events after webhook cursors) */
    int64_t source;
    int64_t target;
    bool absent; /* the target has no such table and the source had no rows for it */
};

#define STORE_COPY_MAX_COUNTS 16

struct store_copy_report {
    size_t n; /* counts filled, in copy order */
    struct store_copy_count counts[STORE_COPY_MAX_COUNTS];
    bool checked;  /* every count was compared (the copy got that far) */
    bool mismatch; /* some count differs: nothing was committed */
};

/* Copies everything durable in `from` (SQLite) into `to` (PostgreSQL, migrated and empty)
 * in one transaction on `to`, reading `from` from one snapshot. Before committing, counts
 * each table on both sides into *out; any difference rolls the copy back. Errors:
 * ERR_NOT_IMPLEMENTED for another pair of backends, ERR_CONFLICT when `to` holds data or a
 * count differs, and the store's errors (with the table and row named) otherwise. */
int store_copy(struct store *from, struct store *to, struct store_copy_report *out,
               struct err *err);

#endif
