#ifndef SCIMD_CORE_REQLOG_H
#define SCIMD_CORE_REQLOG_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

/* The last SCIM requests each token made, with their status and error detail, so a tenant
 * admin can see why an identity provider's import failed (issue 8). Kept in memory by this
 * instance only (a ring of LIMIT_REQLOG_ENTRIES shared by all tenants, behind a mutex): a
 * restart or another instance starts empty. Nothing secret is kept: the route pattern, never
 * the URL, and the error detail the client was sent. */

struct reqlog_entry {
    int64_t at_ms;
    int64_t tenant_id;
    char token_id[37];
    char method[8];
    char route[64];
    int status;
    char detail[160];
};

/* Appends one request (copied), evicting the oldest entry when the ring is full. */
void reqlog_record(const struct reqlog_entry *e);

/* Copies up to max of the tenant's entries, newest first, into out (only token_id's when it
 * is not NULL) and sets *n. Only requests made with one of the tokens the tenant holds now
 * are its: a deleted tenant's id can be given to a new tenant (SQLite reuses row ids), whose
 * tokens are new, so the old customer's requests are never shown to it. */
int reqlog_list(struct store *s, int64_t tenant_id, const char *token_id, struct reqlog_entry *out,
                size_t max, size_t *n, struct err *err);

#endif
