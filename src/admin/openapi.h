#ifndef SCIMD_ADMIN_OPENAPI_H
#define SCIMD_ADMIN_OPENAPI_H

#include <stddef.h>

/* The OpenAPI 3.1 document of /admin/v1, docs/openapi.json, embedded at build time by
 * cmake/embed-openapi.cmake (the served document is the repository's file). */
extern const char *const admin_openapi_doc;  /* NUL-terminated JSON text */
extern const size_t admin_openapi_len;       /* bytes, without the NUL */
extern const char *const admin_openapi_etag; /* strong tag: "<32 hex digits of its SHA-256>" */

#endif
