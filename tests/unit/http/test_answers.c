/* The answer cache's keys and bookkeeping (http/answers.h); serving is tested against the real
 * daemon (tests/integration/test_answer_cache.py), where libmicrohttpd has connections. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/answers.h"

static struct api_call
call_of(const char *path, const char *authorization)
{
    return (struct api_call){
        .method = "GET",
        .path = path,
        .path_prefix = "",
        .authorization = authorization,
    };
}

static void
keys_tell_every_part_of_a_request_apart(void **state)
{
    (void)state;
    struct http_answer_key a, b;
    struct api_call c = call_of("/scim/v2/Users/1", "Bearer scimd_one");
    assert_true(http_answers_key(&c, &a));
    assert_true(http_answers_key(&c, &b));
    assert_memory_equal(&a, &b, sizeof(a));

    struct api_call other_token = call_of("/scim/v2/Users/1", "Bearer scimd_two");
    assert_true(http_answers_key(&other_token, &b));
    assert_memory_not_equal(&a, &b, sizeof(a));

    struct api_call other_path = call_of("/scim/v2/Users/2", "Bearer scimd_one");
    assert_true(http_answers_key(&other_path, &b));
    assert_memory_not_equal(&a, &b, sizeof(a));

    /* The prefix a request came under is part of what it asked (its locations). */
    struct api_call prefixed = call_of("/scim/v2/Users/1", "Bearer scimd_one");
    prefixed.path_prefix = "/acme";
    assert_true(http_answers_key(&prefixed, &b));
    assert_memory_not_equal(&a, &b, sizeof(a));

    /* Arguments, and where one ends and the next begins. */
    struct api_call x = call_of("/scim/v2/Users", "Bearer scimd_one");
    struct api_call y = x;
    x.args[0] = (struct api_arg){ "count", "12" };
    x.n_args = 1;
    y.args[0] = (struct api_arg){ "count1", "2" };
    y.n_args = 1;
    assert_true(http_answers_key(&x, &a));
    assert_true(http_answers_key(&y, &b));
    assert_memory_not_equal(&a, &b, sizeof(a));
}

static void
conditional_and_other_requests_have_no_key(void **state)
{
    (void)state;
    struct http_answer_key k;
    struct api_call c = call_of("/scim/v2/Users/1", "Bearer scimd_one");
    c.if_none_match = "W/\"1\"";
    assert_false(http_answers_key(&c, &k));
    c = call_of("/scim/v2/Users/1", "Bearer scimd_one");
    c.if_match = "*";
    assert_false(http_answers_key(&c, &k));
    c = call_of("/scim/v2/Users/1", "Bearer scimd_one");
    c.method = "PATCH";
    assert_false(http_answers_key(&c, &k));
    c = call_of("/scim/v2/Users/1", NULL);
    assert_false(http_answers_key(&c, &k));
    static char long_value[9000];
    memset(long_value, 'a', sizeof(long_value) - 1);
    c = call_of("/scim/v2/Users", "Bearer scimd_one");
    c.args[0] = (struct api_arg){ "filter", long_value };
    c.n_args = 1;
    assert_false(http_answers_key(&c, &k));
}

static struct MHD_Response *
response(size_t n)
{
    static char body[128 * 1024];
    return MHD_create_response_from_buffer(n, body, MHD_RESPMEM_PERSISTENT);
}

static struct http_answer_key
key_n(int n)
{
    char path[32];
    snprintf(path, sizeof(path), "/scim/v2/Users/%d", n);
    struct api_call c = call_of(path, "Bearer scimd_one");
    struct http_answer_key k;
    assert_true(http_answers_key(&c, &k));
    return k;
}

static void
puts_stay_within_the_bound(void **state)
{
    (void)state;
    struct http_answers *a = http_answers_new(1024 * 1024);
    struct store_generation gen = { .known = true, .bytes = { 1 } };
    struct http_answer_meta meta = { .status = 200 };
    int kept = 0;
    for (int i = 0; i < 2000; i++) {
        struct http_answer_key k = key_n(i);
        struct MHD_Response *r = response(500);
        if (http_answers_put(a, &k, &gen, &meta, r, 500))
            kept++;
        else
            MHD_destroy_response(r);
    }
    /* 1 MiB holds about 500 answers of 500 bytes (each counted with its overhead). */
    assert_in_range(kept, 400, 700);
    int found = 0;
    for (int i = 0; i < 2000; i++) {
        struct http_answer_key k = key_n(i);
        found += http_answers_kept(a, &k);
    }
    assert_in_range(found, 400, 700);

    /* Too large to keep, or made at an unknown generation: refused. */
    struct http_answer_key k = key_n(5000);
    struct MHD_Response *r = response(100 * 1024);
    assert_false(http_answers_put(a, &k, &gen, &meta, r, 100 * 1024));
    MHD_destroy_response(r);
    struct store_generation unknown = { .known = false };
    r = response(10);
    assert_false(http_answers_put(a, &k, &unknown, &meta, r, 10));
    MHD_destroy_response(r);
    assert_false(http_answers_kept(a, &k));
    http_answers_free(a);
}

static void
a_new_answer_replaces_the_old_one_of_its_key(void **state)
{
    (void)state;
    struct http_answers *a = http_answers_new(1024 * 1024);
    struct store_generation g1 = { .known = true, .bytes = { 1 } };
    struct store_generation g2 = { .known = true, .bytes = { 2 } };
    struct http_answer_meta meta = { .status = 200 };
    struct http_answer_key k = key_n(1);
    /* Many times the budget through one key: each put replaces the previous answer. */
    for (int i = 0; i < 5000; i++) {
        struct MHD_Response *r = response(400);
        assert_true(http_answers_put(a, &k, i % 2 ? &g1 : &g2, &meta, r, 400));
    }
    assert_true(http_answers_kept(a, &k));
    assert_null(http_answers_new(0));
    http_answers_free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keys_tell_every_part_of_a_request_apart),
        cmocka_unit_test(conditional_and_other_requests_have_no_key),
        cmocka_unit_test(puts_stay_within_the_bound),
        cmocka_unit_test(a_new_answer_replaces_the_old_one_of_its_key),
    };
    return cmocka_run_group_tests_name("http answers", tests, NULL, NULL);
}
