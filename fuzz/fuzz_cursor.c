/* The SCIM paging cursor decoder (RFC 9865, scim/cursor.c) on arbitrary bytes: must never
 * crash or leak; a refusal is ERR_INVALID_CURSOR (or ERR_EXPIRED_CURSOR, only for a cursor
 * that carries a valid tag) with a printable detail; whatever decodes re-encodes to the very
 * same text (there is one spelling of each cursor). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/limits.h"
#include "scim/cursor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char key[32] = "fuzzing key for scimd cursors..";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > LIMIT_CURSOR_BYTES + 16)
        return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    struct err err = { 0 };
    struct scim_cursor c;
    /* A fixed clock and a long timeout; the seed corpus holds cursors issued near it. */
    if (scim_cursor_decode(key, text, 1700000000000LL, 3600000LL, &c, &err) < 0) {
        if (err.code != ERR_INVALID_CURSOR && err.code != ERR_EXPIRED_CURSOR)
            abort();
        for (const char *p = err.detail; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
                abort();
    } else {
        char again[SCIM_CURSOR_TEXT];
        scim_cursor_encode(key, &c, again);
        if (strcmp(again, text) != 0)
            abort();
    }
    free(text);
    return 0;
}
