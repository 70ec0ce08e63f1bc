#ifndef SCIMD_SSO_SETUP_H
#define SCIMD_SSO_SETUP_H

#include <stdbool.h>

#include "base/err.h"

/* Process-wide start-up of the SSO libraries: libcurl, libxml2 and xmlsec. Call once from
 * main before any thread starts; cleanup after the server stopped. */
int sso_setup_init(struct err *err);
void sso_setup_cleanup(void);

/* Parses the sso_key setting: exactly 64 hex digits into 32 bytes. ERR_INVALID_VALUE. */
int sso_setup_key_parse(const char *hex, unsigned char key[32], struct err *err);

#endif
