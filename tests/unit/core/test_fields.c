/* core/fields: the one check of a request body's members (known, read-only, unknown). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/fields.h"

static const char *const writable[] = { "label", "enabled", NULL };
static const char *const readonly[] = { "slug", "created", NULL };

/* Checks text as a body against the lists and current (JSON text, or NULL); returns the rc. */
static int
check(const char *text, const char *current_text, struct err *e)
{
    json_t *body = json_loads(text, 0, NULL);
    json_t *current = current_text ? json_loads(current_text, 0, NULL) : NULL;
    assert_non_null(body);
    *e = (struct err){ 0 };
    int rc = fields_check(body, writable, readonly, current, e);
    json_decref(body);
    json_decref(current);
    return rc;
}

static void
fields_check_accepts_writable_members_and_the_empty_object(void **state)
{
    (void)state;
    struct err e;
    assert_int_equal(check("{}", NULL, &e), 0);
    assert_int_equal(check("{\"label\": \"x\", \"enabled\": null}", NULL, &e), 0);
}

static void
fields_check_refuses_an_unknown_member_naming_it(void **state)
{
    (void)state;
    struct err e;
    assert_int_equal(check("{\"label\": \"x\", \"expiresIn\": 60}", NULL, &e), -1);
    assert_int_equal(e.code, ERR_INVALID_VALUE);
    assert_string_equal(e.detail, "unknown field \"expiresIn\"");
}

static void
fields_check_lets_a_read_only_member_repeat_its_current_value(void **state)
{
    (void)state;
    struct err e;
    const char *now = "{\"slug\": \"acme\", \"created\": \"2026-01-01\", \"label\": \"y\"}";
    assert_int_equal(check("{\"slug\": \"acme\", \"created\": \"2026-01-01\"}", now, &e), 0);
}

static void
fields_check_refuses_a_read_only_member_with_another_value(void **state)
{
    (void)state;
    struct err e;
    const char *now = "{\"slug\": \"acme\"}";
    assert_int_equal(check("{\"slug\": \"globex\"}", now, &e), -1);
    assert_int_equal(e.code, ERR_INVALID_VALUE);
    assert_non_null(strstr(e.detail, "read-only field \"slug\""));
    /* Absent from current (a new resource, or a member GET does not show now): refused. */
    assert_int_equal(check("{\"created\": \"2026-01-01\"}", now, &e), -1);
    assert_int_equal(check("{\"slug\": \"acme\"}", NULL, &e), -1);
    /* The same number in another JSON type is another value. */
    assert_int_equal(check("{\"slug\": 1}", "{\"slug\": 1.0}", &e), -1);
}

static void
fields_check_refuses_a_body_that_is_not_an_object(void **state)
{
    (void)state;
    struct err e;
    assert_int_equal(check("[]", NULL, &e), -1);
    assert_int_equal(e.code, ERR_INVALID_VALUE);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fields_check_accepts_writable_members_and_the_empty_object),
        cmocka_unit_test(fields_check_refuses_an_unknown_member_naming_it),
        cmocka_unit_test(fields_check_lets_a_read_only_member_repeat_its_current_value),
        cmocka_unit_test(fields_check_refuses_a_read_only_member_with_another_value),
        cmocka_unit_test(fields_check_refuses_a_body_that_is_not_an_object),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
