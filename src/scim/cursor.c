#include "scim/cursor.h"

#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/limits.h"
#include "base/xmalloc.h"

#define VERSION  1
#define BODY_LEN 38 /* version 1, tenant 8, type 1, listing 8, count 4, seq 8, issued 8 */
#define TAG_LEN  16 /* HMAC-SHA256 truncated to 128 bits (RFC 2104 §5 allows it) */
#define RAW_LEN  (BODY_LEN + TAG_LEN)
/* Clocks of instances on one database may differ a little; a cursor from further ahead
 * than this was not issued by any of them. */
#define SKEW_MS (5 * 60 * 1000)

static void
put64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

static uint64_t
get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

uint64_t
scim_cursor_listing(int type, const char *filter, const char *role)
{
    /* Each field is length-prefixed, so no two different listings hash the same bytes. */
    const char *fields[] = { filter ? filter : "", role ? role : "" };
    size_t lens[] = { strlen(fields[0]), strlen(fields[1]) };
    unsigned char *buf = xmalloc(24 + lens[0] + lens[1]);
    size_t used = 0;
    put64(buf, (uint64_t)type);
    used += 8;
    for (size_t i = 0; i < 2; i++) {
        put64(buf + used, (uint64_t)lens[i]);
        memcpy(buf + used + 8, fields[i], lens[i]);
        used += 8 + lens[i];
    }
    char hex[65];
    crypto_sha256_hex(buf, used, hex);
    free(buf);
    uint64_t v = 0;
    for (int i = 0; i < 16; i++)
        v = v << 4 | (uint64_t)(hex[i] <= '9' ? hex[i] - '0' : hex[i] - 'a' + 10);
    return v;
}

static void
tag(const unsigned char key[32], const unsigned char *body, unsigned char out[TAG_LEN])
{
    unsigned char mac[32];
    crypto_hmac_sha256(key, 32, body, BODY_LEN, mac);
    memcpy(out, mac, TAG_LEN);
}

void
scim_cursor_encode(const unsigned char key[32], const struct scim_cursor *c,
                   char out[SCIM_CURSOR_TEXT])
{
    unsigned char raw[RAW_LEN];
    raw[0] = VERSION;
    put64(raw + 1, (uint64_t)c->tenant_id);
    raw[9] = (unsigned char)c->type;
    put64(raw + 10, c->listing);
    uint32_t count = (uint32_t)c->count;
    for (int i = 3; i >= 0; i--, count >>= 8)
        raw[18 + i] = (unsigned char)(count & 0xff);
    put64(raw + 22, (uint64_t)c->seq);
    put64(raw + 30, (uint64_t)c->issued_ms);
    tag(key, raw, raw + BODY_LEN);
    crypto_base64url(raw, RAW_LEN, out, SCIM_CURSOR_TEXT);
}

int
scim_cursor_decode(const unsigned char key[32], const char *text, int64_t now_ms,
                   int64_t timeout_ms, struct scim_cursor *out, struct err *err)
{
    size_t len = strnlen(text, LIMIT_CURSOR_BYTES + 1);
    unsigned char *raw = NULL;
    size_t n = 0;
    struct err ignored;
    if (len != SCIM_CURSOR_TEXT - 1 ||
        crypto_base64_decode(text, len, true, &raw, &n, &ignored) < 0)
        return err_set(err, ERR_INVALID_CURSOR, "cursor is not one this service issued");
    unsigned char want[TAG_LEN];
    int ok = n == RAW_LEN && raw[0] == VERSION;
    if (ok) {
        tag(key, raw, want);
        ok = crypto_equal(want, raw + BODY_LEN, TAG_LEN);
    }
    struct scim_cursor c = { 0 };
    if (ok) {
        c.tenant_id = (int64_t)get64(raw + 1);
        c.type = raw[9];
        c.listing = get64(raw + 10);
        c.count = (int64_t)((uint32_t)raw[18] << 24 | (uint32_t)raw[19] << 16 |
                            (uint32_t)raw[20] << 8 | raw[21]);
        c.seq = (int64_t)get64(raw + 22);
        c.issued_ms = (int64_t)get64(raw + 30);
    }
    free(raw);
    if (!ok)
        return err_set(err, ERR_INVALID_CURSOR, "cursor is not one this service issued");
    int64_t age;
    if (c.seq < 0 || c.issued_ms < 0 || __builtin_sub_overflow(now_ms, c.issued_ms, &age) ||
        age < -SKEW_MS)
        return err_set(err, ERR_INVALID_CURSOR, "cursor is not one this service issued");
    /* RFC 9865 §2.1: a cursor older than cursorTimeout is expiredCursor. */
    if (age > timeout_ms)
        return err_set(err, ERR_EXPIRED_CURSOR,
                       "cursor has expired (older than cursorTimeout, %lld s): start the listing "
                       "again with an empty cursor",
                       (long long)(timeout_ms / 1000));
    *out = c;
    return 0;
}
