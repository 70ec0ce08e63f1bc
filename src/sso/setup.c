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
