#include "sso/samlsp.h"

json_t *
sso_saml_configure(const json_t *body, const struct api_settings *settings, struct err *err)
{
    (void)body;
    (void)settings;
    err_set(err, ERR_NOT_IMPLEMENTED, "SAML is not implemented yet");
    return NULL;
}

json_t *
sso_saml_describe(const json_t *config, const char *public_url, const char *slug)
{
    (void)public_url;
    (void)slug;
    return json_deep_copy(config);
}

int
sso_saml_metadata(struct api_call *call, struct err *err)
{
    (void)call;
    return err_set(err, ERR_NOT_IMPLEMENTED, NULL);
}

int
sso_saml_login(struct api_call *call, struct err *err)
{
    (void)call;
    return err_set(err, ERR_NOT_IMPLEMENTED, NULL);
}

int
sso_saml_acs(struct api_call *call, struct err *err)
{
    (void)call;
    return err_set(err, ERR_NOT_IMPLEMENTED, NULL);
}
