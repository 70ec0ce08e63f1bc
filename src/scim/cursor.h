#ifndef SCIMD_SCIM_CURSOR_H
#define SCIMD_SCIM_CURSOR_H

#include <stdint.h>

#include "base/err.h"

/* SCIM paging cursors (RFC 9865): opaque to the client, stateless on the server. A cursor is
 * the base64url of a fixed binary record (version, tenant, resource type, a hash of the
 * listing it continues, the page size, the seq of the last row served, when it was issued)
 * and an HMAC-SHA256 tag over it under a key every instance shares, so any instance on the
 * database can continue a listing without a shared table, and a cursor cannot be forged or
 * moved to another tenant or listing. */

/* Characters of a cursor's text, with its NUL. The text holds only base64url characters,
 * which are all RFC 3986 unreserved characters (RFC 9865 §2, Table 1). */
#define SCIM_CURSOR_TEXT 73

struct scim_cursor {
    int64_t tenant_id;
    int type;         /* enum store_rtype */
    uint64_t listing; /* scim_cursor_listing of the query */
    int64_t count;    /* the page size the listing was started with */
    int64_t seq;      /* the keyset position: seq of the last row served */
    int64_t issued_ms;
};

/* Identity of a listing: what changes its set of rows or their order (type, filter text,
 * role condition), not the attributes returned. NULL filter or role is the same as "". */
uint64_t scim_cursor_listing(int type, const char *filter, const char *role);

/* The text of c, signed with key (32 bytes), into out. */
void scim_cursor_encode(const unsigned char key[32], const struct scim_cursor *c,
                        char out[SCIM_CURSOR_TEXT]);

/* Reads and checks a cursor's text: ERR_INVALID_CURSOR when it is not one scimd issued under
 * key (any other length, alphabet, version or tag), or was issued in the future;
 * ERR_EXPIRED_CURSOR when issued more than timeout_ms before now_ms. Only then *out is set.
 * Which tenant and listing it belongs to is the caller's check. */
int scim_cursor_decode(const unsigned char key[32], const char *text, int64_t now_ms,
                       int64_t timeout_ms, struct scim_cursor *out, struct err *err);

#endif
