#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct row {
    int status;
    const char *scim_type;
    const char *text;
    const char *name;
};

static const struct row rows[] = {
#define ERR_ROW(code, status, scim_type, text) [code] = { status, scim_type, text, #code },
    ERR_TABLE(ERR_ROW)
#undef ERR_ROW
};

static const struct row *
row_of(enum err_code code)
{
    if ((unsigned)code >= sizeof(rows) / sizeof(rows[0]))
        return &rows[ERR_INTERNAL];
    return &rows[code];
}

int
err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
    if (e == NULL)
        return -1;
    e->code = code;
    if (fmt == NULL) {
        snprintf(e->detail, sizeof(e->detail), "%s", row_of(code)->text);
        return -1;
    }
    va_list ap;
    va_start(ap, fmt);
    /* Truncation is intended: the detail is a bounded message for the client. */
    int n = vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
    va_end(ap);
    if (n < 0)
        snprintf(e->detail, sizeof(e->detail), "%s", row_of(code)->text);
    /* Details often quote input (an unknown field, a slug from the URL): no control byte
     * reaches a client or a log line through them. */
    for (char *c = e->detail; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    return -1;
}

void
err_clear(struct err *e)
{
    e->code = ERR_OK;
    e->detail[0] = '\0';
}

int
err_status(enum err_code code)
{
    return row_of(code)->status;
}

const char *
err_scim_type(enum err_code code)
{
    return row_of(code)->scim_type;
}

const char *
err_text(enum err_code code)
{
    return row_of(code)->text;
}

const char *
err_name(enum err_code code)
{
    return row_of(code)->name;
}
