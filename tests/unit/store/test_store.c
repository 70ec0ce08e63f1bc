/* store_dsn_redact: a PostgreSQL URI's password never reaches a log line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/store.h"

static void
check(const char *dsn, const char *want)
{
    char out[256];
    store_dsn_redact(dsn, out, sizeof(out));
    assert_string_equal(out, want);
}

static void
dsn_redact_hides_the_uri_password(void **state)
{
    (void)state;
    check("postgresql://scimd:s3cr:et@db.internal:5432/scimd?sslmode=require",
          "postgresql://scimd:***@db.internal:5432/scimd?sslmode=require");
    check("postgres://u:p@h/d", "postgres://u:***@h/d");
}

static void
dsn_redact_hides_a_password_parameter(void **state)
{
    (void)state;
    check("postgresql://h/d?user=u&password=xyz&sslmode=require",
          "postgresql://h/d?user=u&password=***&sslmode=require");
    check("postgresql://h/d?password=xyz", "postgresql://h/d?password=***");
}

static void
dsn_redact_keeps_what_holds_no_password(void **state)
{
    (void)state;
    check("postgresql://scimd@127.0.0.1:5432/db", "postgresql://scimd@127.0.0.1:5432/db");
    check("postgresql:///db?host=/tmp/x", "postgresql:///db?host=/tmp/x");
    check("/var/lib/scimd/u:p@x.db", "/var/lib/scimd/u:p@x.db");
}

static void
dsn_redact_truncates_to_the_buffer(void **state)
{
    (void)state;
    char out[12];
    store_dsn_redact("postgres://u:secret@host/db", out, sizeof(out));
    assert_string_equal(out, "postgres://");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dsn_redact_hides_the_uri_password),
        cmocka_unit_test(dsn_redact_hides_a_password_parameter),
        cmocka_unit_test(dsn_redact_keeps_what_holds_no_password),
        cmocka_unit_test(dsn_redact_truncates_to_the_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
