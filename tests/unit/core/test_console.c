/* core/console: the CSRF token comparison (a pure function). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/console.h"

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
        cmocka_unit_test(csrf_ok_compares_the_whole_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
