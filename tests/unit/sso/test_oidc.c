/* The OIDC connection's "redirect" (docs/sso.md "One redirect URI for every tenant"): which
 * value a body settles on, and which redirect_uri the authorization request sends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "sso/oidc.h"

static const char *
settle(const char *body, const char *current, struct err *err)
{
    json_t *b = json_loads(body, 0, NULL), *c = current ? json_loads(current, 0, NULL) : NULL;
    const char *mode = sso_oidc_redirect_settle(b, c, err);
    json_decref(b);
    json_decref(c);
    return mode;
}

static void
redirect_settle_defaults_to_tenant_and_keeps_the_stored_value(void **state)
{
    (void)state;
    struct err err = { 0 };
    assert_string_equal(settle("{}", NULL, &err), "tenant");
    assert_string_equal(settle("{}", "{\"redirect\":\"shared\"}", &err), "shared");
    assert_string_equal(settle("{\"redirect\":\"tenant\"}", "{\"redirect\":\"shared\"}", &err),
                        "tenant");
    assert_string_equal(settle("{\"redirect\":\"shared\"}", NULL, &err), "shared");
}

static void
redirect_settle_refuses_other_values(void **state)
{
    (void)state;
    static const char *const bad[] = { "{\"redirect\":\"Shared\"}", "{\"redirect\":null}",
                                       "{\"redirect\":true}", "{\"redirect\":\"\"}" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct err err = { 0 };
        assert_null(settle(bad[i], NULL, &err));
        assert_int_equal(err.code, ERR_INVALID_VALUE);
        assert_non_null(strstr(err.detail, "redirect must be"));
    }
}

static void
redirect_uri_is_the_tenant_one_unless_shared(void **state)
{
    (void)state;
    char out[200];
    json_t *dflt = json_object(), *shared = json_pack("{s:s}", "redirect", "shared");
    json_t *tenant = json_pack("{s:s}", "redirect", "tenant");
    /* A tenant with its own public URL: the shared URI stays on the deployment's. */
    assert_int_equal(sso_oidc_redirect_uri(dflt, "https://acme.example",
                                           "https://id.example/p/sso/oidc/callback", "acme", out,
                                           sizeof(out)),
                     0);
    assert_string_equal(out, "https://acme.example/sso/acme/oidc/callback");
    assert_int_equal(sso_oidc_redirect_uri(tenant, "https://id.example/p",
                                           "https://id.example/p/sso/oidc/callback", "acme", out,
                                           sizeof(out)),
                     0);
    assert_string_equal(out, "https://id.example/p/sso/acme/oidc/callback");
    assert_int_equal(sso_oidc_redirect_uri(shared, "https://acme.example",
                                           "https://auth.example/api/OktaAuth/callback", "acme",
                                           out, sizeof(out)),
                     0);
    assert_string_equal(out, "https://auth.example/api/OktaAuth/callback");
    assert_true(sso_oidc_redirect_is_shared(shared));
    assert_false(sso_oidc_redirect_is_shared(dflt));
    /* Too long for the buffer: refused, never cut. */
    assert_int_equal(sso_oidc_redirect_uri(shared, NULL, "https://id.example/sso/oidc/callback",
                                           "acme", out, 20),
                     -1);
    json_decref(dflt);
    json_decref(shared);
    json_decref(tenant);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(redirect_settle_defaults_to_tenant_and_keeps_the_stored_value),
        cmocka_unit_test(redirect_settle_refuses_other_values),
        cmocka_unit_test(redirect_uri_is_the_tenant_one_unless_shared),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
