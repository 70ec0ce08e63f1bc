/* core/console: the Okta org URL check and the CSRF token comparison (pure functions). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/console.h"

static void
okta_org_url_check_refuses_the_admin_console_and_plain_http(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        enum err_code code;
        const char *says;
    } cases[] = {
        { "https://acme.okta.com", ERR_OK, NULL },
        { "https://acme.oktapreview.com/", ERR_OK, NULL },
        { "https://login.acme.example", ERR_OK, NULL },
        /* Okta's admin console lives at <org>-admin.okta.com and issues no tokens. */
        { "https://acme-admin.okta.com", ERR_INVALID_VALUE, "https://acme.okta.com" },
        { "https://acme-admin.oktapreview.com/app", ERR_INVALID_VALUE,
          "https://acme.oktapreview.com" },
        { "http://acme.okta.com", ERR_INVALID_VALUE, "https://" },
        { "https://", ERR_INVALID_VALUE, "host name" },
        { "https://localhost", ERR_INVALID_VALUE, "host name" },
        { "https://-admin.okta.com", ERR_OK, NULL },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct err e = { 0 };
        int rc = console_okta_org_url_check(cases[i].url, &e);
        assert_int_equal(rc, cases[i].code == ERR_OK ? 0 : -1);
        assert_int_equal(e.code, cases[i].code);
        if (cases[i].says && strstr(e.detail, cases[i].says) == NULL)
            fail_msg("%s: \"%s\" does not say %s", cases[i].url, e.detail, cases[i].says);
    }
}

static void
csrf_ok_compares_the_whole_token(void **state)
{
    (void)state;
    struct console_session cs = { 0 };
    memset(cs.csrf, 'a', 64);
    char good[65], bad[65];
    memset(good, 'a', 64);
    good[64] = '\0';
    memcpy(bad, good, sizeof(bad));
    bad[63] = 'b';
    assert_true(console_csrf_ok(&cs, good));
    assert_false(console_csrf_ok(&cs, bad));
    assert_false(console_csrf_ok(&cs, "aaaa"));
    assert_false(console_csrf_ok(&cs, NULL));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(okta_org_url_check_refuses_the_admin_console_and_plain_http),
        cmocka_unit_test(csrf_ok_compares_the_whole_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
