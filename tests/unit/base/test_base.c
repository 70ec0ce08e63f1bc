/* base/: strings, buffers, arena, crypto helpers, clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/crypto.h"
#include "base/err.h"
#include "base/fetch.h"
#include "base/log.h"
#include "base/ratelimit.h"
#include "base/str.h"
#include "base/xmalloc.h"

static void
str_to_i64_accepts_range_and_rejects_junk(void **state)
{
    (void)state;
    struct err e;
    int64_t v;
    assert_int_equal(str_to_i64(STR_LIT("42"), 0, 100, &v, "n", &e), 0);
    assert_int_equal(v, 42);
    assert_int_equal(str_to_i64(STR_LIT("-7"), -10, 10, &v, "n", &e), 0);
    assert_int_equal(v, -7);
    assert_int_equal(str_to_i64(STR_LIT("101"), 0, 100, &v, "n", &e), -1);
    assert_int_equal(e.code, ERR_INVALID_VALUE);
    assert_int_equal(str_to_i64(STR_LIT("4x"), 0, 100, &v, "count", &e), -1);
    assert_non_null(strstr(e.detail, "count"));
    assert_int_equal(str_to_i64(STR_LIT(""), 0, 100, &v, "n", &e), -1);
    assert_int_equal(str_to_i64(STR_LIT("99999999999999999999"), INT64_MIN, INT64_MAX, &v, "n", &e),
                     -1);
}

static void
str_ieq_folds_ascii_only(void **state)
{
    (void)state;
    assert_true(str_ieq(STR_LIT("userName"), STR_LIT("USERNAME")));
    assert_false(str_ieq(STR_LIT("user"), STR_LIT("users")));
    assert_true(cstr_istarts_with("Bearer abc", "bearer "));
    assert_true(str_is_slug("acme-1", 63));
    assert_false(str_is_slug("-acme", 63));
    assert_false(str_is_slug("Acme", 63));
    assert_false(str_is_slug("", 63));
}

/* XML 1.0 §2.3: space, tab, CR and LF are white space; a pretty-printed NameID carries them
 * around the email. Nothing inside is touched. */
static void
str_trim_space_drops_xml_white_space_at_both_ends(void **state)
{
    (void)state;
    struct str t = str_trim_space(str_of("\n      bob@example.test\r\n    \t"));
    assert_int_equal(t.len, strlen("bob@example.test"));
    assert_memory_equal(t.ptr, "bob@example.test", t.len);
    t = str_trim_space(str_of("a b\nc"));
    assert_int_equal(t.len, 5);
    assert_int_equal(str_trim_space(str_of(" \t\r\n")).len, 0);
    assert_int_equal(str_trim_space(str_of("")).len, 0);
    /* Other control bytes and non-breaking spaces are not XML white space. */
    assert_int_equal(str_trim_space(str_of("\vx\f")).len, 3);
    assert_int_equal(str_trim_space(str_of("x\xc2\xa0")).len, 3);
}

/* RFC 3629 §4: overlongs, surrogates, code points past U+10FFFF and cut sequences are not
 * UTF-8; ids that are not UTF-8 get the same 404 from both backends. */
static void
str_is_utf8_rejects_malformed_sequences(void **state)
{
    (void)state;
    assert_true(str_is_utf8(STR_LIT("plain")));
    assert_true(str_is_utf8(STR_LIT("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80")));
    assert_false(str_is_utf8(STR_LIT("\xff\xfe")));
    assert_false(str_is_utf8(STR_LIT("\xc0\xaf")));         /* overlong '/' */
    assert_false(str_is_utf8(STR_LIT("\xed\xa0\x80")));     /* surrogate */
    assert_false(str_is_utf8(STR_LIT("\xf4\x90\x80\x80"))); /* past U+10FFFF */
    assert_false(str_is_utf8(STR_LIT("ab\xe2\x82")));       /* cut short */
}

/* A key is limited after max events in its window, with the seconds left; the next window
 * starts afresh; other keys are unaffected; max 0 never limits. */
static void
str_utf8_prefix_cuts_between_characters(void **state)
{
    (void)state;
    const char *s = "ab\xc3\xa9\xe2\x82\xac"; /* "abé€": 2 + 2 + 3 bytes */
    assert_int_equal(str_utf8_prefix(s, 7, 100), 7);
    assert_int_equal(str_utf8_prefix(s, 7, 7), 7);
    assert_int_equal(str_utf8_prefix(s, 7, 6), 4); /* not half of the euro sign */
    assert_int_equal(str_utf8_prefix(s, 7, 3), 2); /* not half of the e-acute */
    assert_int_equal(str_utf8_prefix(s, 7, 0), 0);
    assert_int_equal(str_utf8_prefix("a\xff"
                                     "b",
                                     3, 3),
                     1); /* ends before an ill-formed byte */
}

static void
ratelimit_limits_per_key_and_window(void **state)
{
    (void)state;
    struct ratelimit *rl = ratelimit_new(3, 60);
    /* Nothing counted: no key can be limited, the lock-free answer says so. */
    assert_false(ratelimit_any(rl, 1000));
    int64_t retry = 0;
    for (int i = 0; i < 3; i++) {
        assert_false(ratelimit_is_limited(rl, "a:1", 1000, &retry));
        ratelimit_count(rl, "a:1", 1000);
    }
    assert_true(ratelimit_any(rl, 31000));
    assert_true(ratelimit_is_limited(rl, "a:1", 31000, &retry));
    assert_int_equal(retry, 30);
    assert_false(ratelimit_is_limited(rl, "a:2", 31000, &retry));
    assert_false(ratelimit_is_limited(rl, "a:1", 61000, &retry));
    assert_false(ratelimit_any(rl, 61000)); /* the window that reached the limit is over */
    ratelimit_free(rl);
    rl = ratelimit_new(0, 60);
    ratelimit_count(rl, "a:1", 0);
    assert_false(ratelimit_is_limited(rl, "a:1", 0, &retry));
    ratelimit_free(rl);
}

/* Issue 15 item 7: the whole IANA special-purpose registries, both families, are refused
 * for outbound requests; public unicast addresses are not. */
static void
fetch_refuses_every_special_purpose_address(void **state)
{
    (void)state;
    static const char *const special[] = {
        "0.1.2.3",
        "10.1.1.1",
        "100.64.0.1",
        "100.127.255.255",
        "127.0.0.1",
        "169.254.169.254",
        "172.31.0.1",
        "192.0.0.9",
        "192.0.2.1",
        "192.31.196.1",
        "192.52.193.1",
        "192.88.99.1",
        "192.168.1.1",
        "192.175.48.1",
        "198.18.0.1",
        "198.19.255.254",
        "198.51.100.7",
        "203.0.113.9",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "::127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::808:808",
        "64:ff9b:1::1",
        "100::1",
        "2001::1",
        "2001:2::1",
        "2001:db8::1",
        "2002:c000:0204::1",
        "2620:4f:8000::1",
        "3fff::1",
        "5f00::1",
        "fc00::1",
        "fd12::1",
        "fe80::1",
        "fec0::1",
        "ff02::1",
        "not-an-address",
    };
    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
        if (!fetch_addr_is_special(special[i]))
            fail_msg("%s should be refused", special[i]);
    static const char *const public[] = {
        "8.8.8.8",         "1.1.1.1",        "100.63.255.255", "100.128.0.1",
        "172.32.0.1",      "198.17.255.255", "198.20.0.1",     "192.0.3.1",
        "2606:4700::1111", "2a00:1450::1",   "::ffff:8.8.8.8", "64:ff9c::1",
    };
    for (size_t i = 0; i < sizeof(public) / sizeof(public[0]); i++)
        if (fetch_addr_is_special(public[i]))
            fail_msg("%s should be allowed", public[i]);
}

static void
buf_refuses_to_grow_past_its_maximum(void **state)
{
    (void)state;
    struct buf b;
    struct err e;
    buf_init(&b, 8);
    assert_int_equal(buf_append_cstr(&b, "1234567", &e), 0);
    assert_int_equal(buf_append_cstr(&b, "8", &e), -1);
    assert_int_equal(e.code, ERR_TOO_LARGE);
    assert_string_equal(b.data, "1234567");
    buf_cleanup(&b);
    buf_init(&b, 4096);
    assert_int_equal(buf_printf(&b, &e, "%d-%s", 7, "x"), 0);
    assert_string_equal(b.data, "7-x");
    buf_cleanup(&b);
}

static void
arena_enforces_its_cap(void **state)
{
    (void)state;
    struct err e;
    struct arena *a = arena_new(1024);
    assert_non_null(arena_alloc(a, 512, &e));
    assert_null(arena_alloc(a, 1024, &e));
    assert_int_equal(e.code, ERR_TOO_LARGE);
    assert_string_equal(arena_strndup(a, "hello", 4, &e), "hell");
    arena_free(a);
}

static void
base64url_has_no_padding_and_the_url_alphabet(void **state)
{
    (void)state;
    char out[64];
    crypto_base64url("\xfb\xff", 2, out, sizeof(out));
    assert_string_equal(out, "-_8");
    crypto_base64url("foobar", 6, out, sizeof(out));
    assert_string_equal(out, "Zm9vYmFy");
    unsigned char raw[32] = { 0 };
    crypto_base64url(raw, 32, out, 44);
    assert_int_equal(strlen(out), 43); /* a token's random part */
}

/* RFC 2045 §6.8: MIME base64 comes in lines of 76 characters (CRLF or LF); the breaks and
 * blanks go, anything else stays for the strict decoder to refuse. */
static void
base64_unwrap_drops_line_breaks_and_blanks_only(void **state)
{
    (void)state;
    char wrapped[] = "PHNh\r\nbWw+\n PC9z\tYW1sPg==\r\n";
    assert_int_equal(crypto_base64_unwrap(wrapped), 20);
    assert_string_equal(wrapped, "PHNhbWw+PC9zYW1sPg==");
    unsigned char *out = NULL;
    size_t n = 0;
    struct err e = { 0 };
    assert_int_equal(crypto_base64_decode(wrapped, 20, false, &out, &n, &e), 0);
    assert_int_equal(n, 13);
    assert_memory_equal(out, "<saml></saml>", 13);
    free(out);
    char other[] = "PHg+\n!\v";
    assert_int_equal(crypto_base64_unwrap(other), 6);
    assert_string_equal(other, "PHg+!\v");
    assert_int_equal(crypto_base64_decode(other, 6, false, &out, &n, &e), -1);
    char blank[] = "\r\n \t";
    assert_int_equal(crypto_base64_unwrap(blank), 0);
    assert_string_equal(blank, "");
}

static void
sha256_hex_matches_the_known_vector(void **state)
{
    (void)state;
    char hex[65];
    crypto_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_true(crypto_equal("abc", "abc", 3));
    assert_false(crypto_equal("abc", "abd", 3));
}

static void
uuid_v7_has_version_and_variant_bits(void **state)
{
    (void)state;
    char a[37], b[37];
    struct err e;
    assert_int_equal(crypto_uuid_v7(a, &e), 0);
    assert_int_equal(crypto_uuid_v7(b, &e), 0);
    assert_int_equal(strlen(a), 36);
    assert_int_equal(a[14], '7');
    assert_non_null(strchr("89ab", a[19]));
    assert_string_not_equal(a, b);
}

static void
password_hash_is_salted(void **state)
{
    (void)state;
    char h1[128], h2[128];
    struct err e;
    assert_int_equal(crypto_password_hash("secret", h1, &e), 0);
    assert_int_equal(crypto_password_hash("secret", h2, &e), 0);
    assert_string_not_equal(h1, h2);
    assert_non_null(strstr(h1, "pbkdf2-sha256$"));
    assert_null(strstr(h1, "secret"));
}

static void
clock_parses_xsd_datetimes(void **state)
{
    (void)state;
    int64_t ms;
    assert_true(clock_parse_datetime("1970-01-01T00:00:00Z", &ms));
    assert_int_equal(ms, 0);
    assert_true(clock_parse_datetime("2026-11-29T23:38:17.123Z", &ms));
    char out[32];
    clock_format_ms(ms, out);
    assert_string_equal(out, "2026-11-29T23:38:17.123Z");
    int64_t off;
    assert_true(clock_parse_datetime("2026-11-30T01:38:17.123+02:00", &off));
    assert_int_equal(off, ms);
    assert_false(clock_parse_datetime("2026-11-29", &ms));
    assert_false(clock_parse_datetime("2026-13-01T00:00:00Z", &ms));
    assert_false(clock_parse_datetime("2026-11-29T23:38:17Zjunk", &ms));
}

/* The arithmetic formatter agrees with gmtime_r across eras, leap days and centuries. */
static void
clock_format_agrees_with_gmtime(void **state)
{
    (void)state;
    int64_t samples[] = { 0,
                          1,
                          999,
                          86399999,
                          951782400000 /* 2000-02-29 */,
                          4107542399999 /* 2100-02-28T23:59:59.999 */,
                          253402300799999 };
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 2000; i++) {
        int64_t ms;
        if (i < (int)(sizeof(samples) / sizeof(samples[0]))) {
            ms = samples[i];
        } else {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift */
            ms = (int64_t)(x % 253402300800000ULL);
        }
        char got[32], want[40];
        clock_format_ms(ms, got);
        time_t sec = (time_t)(ms / 1000);
        struct tm tm;
        gmtime_r(&sec, &tm);
        size_t n = strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(want + n, sizeof(want) - n, ".%03dZ", (int)(ms % 1000));
        if (strcmp(got, want) != 0)
            fail_msg("%lld: got %s, want %s", (long long)ms, got, want);
    }
}

/* Details quote input; a control byte in it never reaches a client or a log. */
static void
err_details_carry_no_control_bytes(void **state)
{
    (void)state;
    struct err e;
    err_set(&e, ERR_INVALID_VALUE, "unknown field \"%s\"", "a\tb\nc\x7f");
    assert_string_equal(e.detail, "unknown field \"a?b?c?\"");
}

static void
log_escape_neutralises_control_bytes_and_quotes(void **state)
{
    (void)state;
    char out[64];
    log_escape(out, sizeof(out), "a\nb\"c\\");
    assert_string_equal(out, "a\\x0ab\\\"c\\\\");
}

static void
err_table_gives_status_and_scim_type(void **state)
{
    (void)state;
    assert_int_equal(err_status(ERR_UNIQUENESS), 409);
    assert_string_equal(err_scim_type(ERR_UNIQUENESS), "uniqueness");
    assert_int_equal(err_status(ERR_PRECONDITION), 412);
    assert_null(err_scim_type(ERR_NOT_FOUND));
    struct err e;
    assert_int_equal(err_set(&e, ERR_INVALID_FILTER, "at %d", 3), -1);
    assert_string_equal(e.detail, "at 3");
}

static void
xgrow_doubles_from_first_and_keeps_the_elements(void **state)
{
    (void)state;
    int *v = NULL;
    size_t n = 0, cap = 0;
    for (int i = 0; i < 100; i++) {
        if (n == cap) {
            size_t before = cap;
            v = xgrow(v, &cap, 4, sizeof(*v));
            assert_int_equal(cap, before ? 2 * before : 4);
        }
        v[n++] = i;
    }
    assert_int_equal(cap, 128);
    for (int i = 0; i < 100; i++)
        assert_int_equal(v[i], i);
    free(v);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(str_to_i64_accepts_range_and_rejects_junk),
        cmocka_unit_test(str_ieq_folds_ascii_only),
        cmocka_unit_test(str_trim_space_drops_xml_white_space_at_both_ends),
        cmocka_unit_test(str_is_utf8_rejects_malformed_sequences),
        cmocka_unit_test(str_utf8_prefix_cuts_between_characters),
        cmocka_unit_test(ratelimit_limits_per_key_and_window),
        cmocka_unit_test(fetch_refuses_every_special_purpose_address),
        cmocka_unit_test(buf_refuses_to_grow_past_its_maximum),
        cmocka_unit_test(arena_enforces_its_cap),
        cmocka_unit_test(base64url_has_no_padding_and_the_url_alphabet),
        cmocka_unit_test(base64_unwrap_drops_line_breaks_and_blanks_only),
        cmocka_unit_test(sha256_hex_matches_the_known_vector),
        cmocka_unit_test(uuid_v7_has_version_and_variant_bits),
        cmocka_unit_test(password_hash_is_salted),
        cmocka_unit_test(clock_parses_xsd_datetimes),
        cmocka_unit_test(clock_format_agrees_with_gmtime),
        cmocka_unit_test(xgrow_doubles_from_first_and_keeps_the_elements),
        cmocka_unit_test(err_details_carry_no_control_bytes),
        cmocka_unit_test(log_escape_neutralises_control_bytes_and_quotes),
        cmocka_unit_test(err_table_gives_status_and_scim_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
