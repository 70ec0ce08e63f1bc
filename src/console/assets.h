#ifndef SCIMD_CONSOLE_ASSETS_H
#define SCIMD_CONSOLE_ASSETS_H

#include <stdbool.h>
#include <stddef.h>

/* The console's files, embedded at build time by cmake/embed-console.cmake from console/:
 * each asset's served name carries the first 16 hex digits of its SHA-256, and index.html
 * names them so. */
struct console_asset {
    const char *name; /* "app.0123456789abcdef.js", or "index.html" */
    const char *content_type;
    const char *data; /* NUL-terminated text */
    size_t len;
    bool immutable; /* hashed name: cache for a year */
};

extern const struct console_asset console_assets[];
extern const size_t console_asset_count;

#endif
