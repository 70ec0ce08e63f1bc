/* The RFC 8936 poll request parser (core/set.c set_poll_parse) on arbitrary bytes: must
 * never crash or leak; a refusal is ERR_INVALID_SYNTAX or ERR_INVALID_VALUE with a printable
 * detail; what it accepts is within the limits (acknowledgements, error reports, maxEvents)
 * and names events of the stream's own tenant only (seq >= 1). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/limits.h"
#include "core/set.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256 * 1024)
        return 0;
    static struct set_poll p;
    struct err err = { 0 };
    if (set_poll_parse((const char *)data, size, 7, &p, &err) < 0) {
        if (err.code != ERR_INVALID_SYNTAX && err.code != ERR_INVALID_VALUE)
            abort();
        for (const char *c = err.detail; *c; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f)
                abort();
        return 0;
    }
    if (p.n_acks > LIMIT_SET_POLL_ACKS || p.n_errs > LIMIT_SET_POLL_ACKS || p.max_events < 0 ||
        p.max_events > LIMIT_SET_POLL_EVENTS)
        abort();
    for (size_t i = 0; i < p.n_acks; i++)
        if (p.acks[i] < 1)
            abort();
    for (size_t i = 0; i < p.n_errs; i++)
        if (p.errs[i] < 1)
            abort();
    return 0;
}
