#ifndef SCIMD_CORE_ROW_H
#define SCIMD_CORE_ROW_H

#include <stdbool.h>

#include <jansson.h>

#include "base/err.h"
#include "store/store.h"

/* The parts of writing a resource row that users and groups share: identity, versions,
 * timestamps, and the indexed columns mirrored from the canonical document. */

/* Fills *r as version 1 of a new resource of `type` made from doc (borrowed): a UUIDv7 id,
 * created = lastModified = now, the indexed columns and the stored text. */
int row_new(struct store_resource *r, int64_t tenant_id, enum store_rtype type, const json_t *doc,
            struct err *err);

/* Fills *r as the successor of `old` with doc's content. When the stored text is unchanged
 * and nothing else changed (`other_change`: a password, membership rows), r keeps old's
 * version and lastModified so ETags stay valid (RFC 7644 §3.14) and false is returned;
 * otherwise the version goes up by one, lastModified moves forward (never backwards, even
 * if the clock does) and true is returned. */
bool row_next(struct store_resource *r, const struct store_resource *old, const json_t *doc,
              bool other_change);

/* Bumps (store_member_bump, now) the resources at the other end of the membership rows a
 * removal answered: the groups a deleted user was in, the members of a deleted group. */
int row_bump_ends(struct store *s, int64_t tenant_id, const struct store_member *v, size_t n,
                  struct err *err);

#endif
