/* SAML Response verification (sso/saml.c) and IdP metadata parsing on arbitrary bytes: the
 * libxml2 parse without DTDs, the tree walk, ID registration, xmlsec verification with a
 * pinned certificate and the value checks must never crash or leak, and every refusal of a
 * Response is ERR_UNAUTHORIZED with a reason code. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "sso/saml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The unit tests' fixture certificate: the pinned IdP key of the fuzzed SP. */
#include "../tests/unit/sso/saml_fixture.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        struct err e = { 0 };
        if (sso_saml_global_init(&e) < 0)
            abort();
        ready = true;
    }
    if (size > SSO_SAML_RESPONSE_MAX)
        return 0;
    const char *pins[] = { fixture_cert };
    struct sso_saml_expect x = {
        .idp_entity_id = "http://www.okta.com/exk-test-app",
        .acs_url = "https://id.example.test/sso/acme/saml/acs",
        .sp_entity_id = "https://id.example.test/sso/acme/saml/metadata",
        .certs_pem = pins,
        .n_certs = 1,
        .now_ms = 1900000000000,
    };
    struct sso_saml_result r;
    struct err err = { 0 };
    const char *reason = NULL;
    if (sso_saml_verify((const char *)data, size, &x, &r, &reason, &err) < 0 &&
        err.code != ERR_UNAUTHORIZED && err.code != ERR_INTERNAL)
        abort();
    struct err e2 = { 0 };
    json_t *md = sso_saml_metadata_parse((const char *)data, size, &e2);
    if (md == NULL && e2.code != ERR_INVALID_VALUE)
        abort();
    json_decref(md);
    return 0;
}
