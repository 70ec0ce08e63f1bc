/* Unit tests for src/scim/cursor.c: RFC 9865 paging cursors, signed and stateless. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "scim/cursor.h"

static const unsigned char key[32] = "0123456789abcdef0123456789abcde";
static const unsigned char other_key[32] = "fedcba9876543210fedcba987654321";

#define NOW     1700000000000LL
#define TIMEOUT 3600000LL

static struct scim_cursor
sample(void)
{
    return (struct scim_cursor){ .tenant_id = 42,
                                 .type = 1,
                                 .listing = scim_cursor_listing(1, "userName sw \"a\"", NULL),
                                 .count = 100,
                                 .seq = 123456789,
                                 .issued_ms = NOW - 1000 };
}

static void
cursor_round_trips_every_field(void **state)
{
    (void)state;
    struct scim_cursor c = sample(), got;
    char text[SCIM_CURSOR_TEXT];
    scim_cursor_encode(key, &c, text);
    assert_int_equal(strlen(text), SCIM_CURSOR_TEXT - 1);
    /* RFC 9865 §2, Table 1: only RFC 3986 unreserved characters. */
    assert_int_equal(strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                  "0123456789-_"),
                     strlen(text));
    struct err err = { 0 };
    assert_int_equal(scim_cursor_decode(key, text, NOW, TIMEOUT, &got, &err), 0);
    assert_int_equal(got.tenant_id, 42);
    assert_int_equal(got.type, 1);
    assert_true(got.listing == c.listing);
    assert_int_equal(got.count, 100);
    assert_int_equal(got.seq, 123456789);
    assert_int_equal(got.issued_ms, NOW - 1000);
}

static void
cursor_decode_rejects_every_flipped_character(void **state)
{
    (void)state;
    struct scim_cursor c = sample(), got;
    char text[SCIM_CURSOR_TEXT];
    scim_cursor_encode(key, &c, text);
    for (size_t i = 0; i < strlen(text); i++) {
        char t[SCIM_CURSOR_TEXT];
        memcpy(t, text, sizeof(t));
        t[i] = t[i] == 'A' ? 'B' : 'A';
        struct err err = { 0 };
        /* The last character carries only 2 bits of the tag, so a change may give the
         * same bytes in a non-canonical spelling: refused by the strict decoder too. */
        if (scim_cursor_decode(key, t, NOW, TIMEOUT, &got, &err) == 0)
            fail_msg("flipped character %zu accepted: %s", i, t);
        assert_int_equal(err.code, ERR_INVALID_CURSOR);
    }
}

static void
cursor_decode_rejects_another_key_and_garbage(void **state)
{
    (void)state;
    struct scim_cursor c = sample(), got;
    char text[SCIM_CURSOR_TEXT];
    scim_cursor_encode(other_key, &c, text);
    static const char *const bad[] = { "", "x", "AAAA", "!!!!", "%00", NULL };
    struct err err = { 0 };
    assert_int_equal(scim_cursor_decode(key, text, NOW, TIMEOUT, &got, &err), -1);
    assert_int_equal(err.code, ERR_INVALID_CURSOR);
    for (size_t i = 0; bad[i]; i++) {
        err = (struct err){ 0 };
        assert_int_equal(scim_cursor_decode(key, bad[i], NOW, TIMEOUT, &got, &err), -1);
        assert_int_equal(err.code, ERR_INVALID_CURSOR);
    }
    /* Padding, whitespace or an extra character around a good cursor. */
    char longer[SCIM_CURSOR_TEXT + 2];
    scim_cursor_encode(key, &c, text);
    snprintf(longer, sizeof(longer), "%s=", text);
    assert_int_equal(scim_cursor_decode(key, longer, NOW, TIMEOUT, &got, &err), -1);
    assert_int_equal(err.code, ERR_INVALID_CURSOR);
    snprintf(longer, sizeof(longer), " %s", text);
    assert_int_equal(scim_cursor_decode(key, longer, NOW, TIMEOUT, &got, &err), -1);
    assert_int_equal(err.code, ERR_INVALID_CURSOR);
}

static void
cursor_older_than_timeout_is_expired(void **state)
{
    (void)state;
    struct scim_cursor c = sample(), got;
    char text[SCIM_CURSOR_TEXT];
    c.issued_ms = NOW - TIMEOUT;
    scim_cursor_encode(key, &c, text);
    struct err err = { 0 };
    assert_int_equal(scim_cursor_decode(key, text, NOW, TIMEOUT, &got, &err), 0);
    c.issued_ms = NOW - TIMEOUT - 1;
    scim_cursor_encode(key, &c, text);
    assert_int_equal(scim_cursor_decode(key, text, NOW, TIMEOUT, &got, &err), -1);
    assert_int_equal(err.code, ERR_EXPIRED_CURSOR);
    /* An expired cursor signed with another key is invalid, not expired: the tag first. */
    scim_cursor_encode(other_key, &c, text);
    assert_int_equal(scim_cursor_decode(key, text, NOW, TIMEOUT, &got, &err), -1);
    assert_int_equal(err.code, ERR_INVALID_CURSOR);
}

static void
cursor_from_the_future_is_invalid(void **state)
{
    (void)state;
    struct scim_cursor c = sample(), got;
    char text[SCIM_CURSOR_TEXT];
    c.issued_ms = NOW + 60 * 1000; /* a minute of clock skew between instances is fine */
    scim_cursor_encode(key, &c, text);
    struct err err = { 0 };
    assert_int_equal(scim_cursor_decode(key, text, NOW, TIMEOUT, &got, &err), 0);
    c.issued_ms = NOW + 3600 * 1000;
    scim_cursor_encode(key, &c, text);
    assert_int_equal(scim_cursor_decode(key, text, NOW, TIMEOUT, &got, &err), -1);
    assert_int_equal(err.code, ERR_INVALID_CURSOR);
}

static void
cursor_listing_hash_separates_filters_roles_and_types(void **state)
{
    (void)state;
    uint64_t a = scim_cursor_listing(1, "userName sw \"a\"", NULL);
    assert_true(a == scim_cursor_listing(1, "userName sw \"a\"", ""));
    assert_true(a != scim_cursor_listing(2, "userName sw \"a\"", NULL));
    assert_true(a != scim_cursor_listing(1, "userName sw \"b\"", NULL));
    assert_true(a != scim_cursor_listing(1, "userName sw \"a\"", "admin"));
    /* Length prefixes: moving text from the filter to the role changes the hash. */
    assert_true(scim_cursor_listing(1, "ab", "c") != scim_cursor_listing(1, "a", "bc"));
    assert_true(scim_cursor_listing(1, NULL, NULL) == scim_cursor_listing(1, "", ""));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cursor_round_trips_every_field),
        cmocka_unit_test(cursor_decode_rejects_every_flipped_character),
        cmocka_unit_test(cursor_decode_rejects_another_key_and_garbage),
        cmocka_unit_test(cursor_older_than_timeout_is_expired),
        cmocka_unit_test(cursor_from_the_future_is_invalid),
        cmocka_unit_test(cursor_listing_hash_separates_filters_roles_and_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
