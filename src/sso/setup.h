#ifndef SCIMD_SSO_SETUP_H
#define SCIMD_SSO_SETUP_H

#include <stdbool.h>

#include "base/err.h"

/* Process-wide start-up of the SSO libraries: libcurl, libxml2 and xmlsec. Call once from
 * main before any thread starts; cleanup after the server stopped. */
int sso_setup_init(struct err *err);
void sso_setup_cleanup(void);

#endif
