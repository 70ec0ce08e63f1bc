#include "sso/setup.h"

#include <string.h>

#include <curl/curl.h>

#include "sso/jwks.h"
#include "sso/saml.h"
#include "sso/web.h"

int
sso_setup_init(struct err *err)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return err_set(err, ERR_INTERNAL, "cannot initialise libcurl");
    return sso_saml_global_init(err);
}

void
sso_setup_cleanup(void)
{
    sso_jwks_clear();
    sso_saml_global_cleanup();
    curl_global_cleanup();
}

int
sso_setup_key_parse(const char *hex, unsigned char key[32], struct err *err)
{
    if (hex == NULL || strlen(hex) != 64)
        return err_set(err, ERR_INVALID_VALUE, "sso_key must be 64 hex digits (32 bytes)");
    for (int i = 0; i < 32; i++) {
        int hi = sso_hex_value(hex[2 * i]), lo = sso_hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return err_set(err, ERR_INVALID_VALUE, "sso_key must be 64 hex digits (32 bytes)");
        key[i] = (unsigned char)(hi * 16 + lo);
    }
    return 0;
}
