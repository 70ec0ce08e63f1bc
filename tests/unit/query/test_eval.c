/* query_eval: RFC 7644 §3.4.2.2 filter semantics over a User document, with the attribute
 * characteristics of RFC 7643 (caseExact, types, multi-valued, extensions). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/limits.h"
#include "query/fake_schema.h"
#include "query/query.h"

#define URN_CORE FAKE_URN_USER
#define URN_ENT  FAKE_URN_ENTERPRISE

/* RFC 7643 §8.2's bjensen, trimmed, with numbers and an empty title and roles. */
static const char user_json[] =
    "{"
    "\"schemas\": [\"" URN_CORE "\", \"" URN_ENT "\"],"
    "\"id\": \"2819c223-7f76-453a-919d-413861904646\","
    "\"externalId\": \"Ext-42\","
    "\"userName\": \"BJensen@example.com\","
    "\"displayName\": \"Babs Jensen\","
    "\"title\": \"\","
    "\"active\": true,"
    "\"loginCount\": 42,"
    "\"score\": 7.5,"
    "\"nickNames\": [\"Babs\", \"BJ\"],"
    "\"name\": {\"givenName\": \"Barbara\", \"familyName\": \"Jensen\"},"
    "\"emails\": ["
    "  {\"value\": \"bjensen@example.com\", \"type\": \"work\", \"primary\": true},"
    "  {\"value\": \"babs@jensen.org\", \"type\": \"home\"}"
    "],"
    "\"roles\": [],"
    "\"meta\": {\"created\": \"2011-08-01T18:29:49.793Z\","
    "  \"lastModified\": \"2011-08-01T20:31:02+02:00\", \"resourceType\": \"User\"},"
    "\"" URN_ENT "\": {\"employeeNumber\": \"701984\", \"manager\": "
    "  {\"value\": \"26118915-6090-4610-87e4-49d8ca9f808d\", \"displayName\": \"John Smith\"}}"
    "}";

struct fixture {
    struct arena *arena;
    json_t *user;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    json_error_t jerr;
    f->arena = arena_new(LIMIT_REQUEST_ARENA_BYTES);
    f->user = json_loads(user_json, 0, &jerr);
    if (f->user == NULL)
        fail_msg("fixture JSON: %s at %d", jerr.text, jerr.position);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    json_decref(f->user);
    arena_free(f->arena);
    free(f);
    return 0;
}

static struct query_node *
compile(struct fixture *f, const char *text)
{
    struct err err = { 0 };
    struct query_node *q = query_filter_parse(f->arena, text, &err);
    if (q == NULL)
        fail_msg("parse of '%s' failed: %s", text, err.detail);
    if (query_resolve(q, fake_resolve, NULL, &err) < 0)
        fail_msg("resolve of '%s' failed: %s", text, err.detail);
    return q;
}

struct eval_case {
    const char *filter;
    bool want;
};

static void
run_cases(struct fixture *f, const json_t *doc, const struct eval_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bool got = query_eval(compile(f, cases[i].filter), doc);
        if (got != cases[i].want)
            fail_msg("'%s': got %s, want %s", cases[i].filter, got ? "true" : "false",
                     cases[i].want ? "true" : "false");
    }
}

#define RUN(f, doc, cases) run_cases(f, doc, cases, sizeof(cases) / sizeof(cases[0]))

static void
eval_eq_ne_follow_case_exact(void **state)
{
    static const struct eval_case cases[] = {
        /* userName is caseExact false (RFC 7643 §4.1.1): Okta's existence check. */
        { "userName eq \"bjensen@example.com\"", true },
        { "userName eq \"BJENSEN@EXAMPLE.COM\"", true },
        { "userName eq \"bjensen\"", false },
        { "userName ne \"bjensen@EXAMPLE.com\"", false },
        { "userName ne \"someone@example.com\"", true },
        /* externalId and id are caseExact true: Entra's existence check. */
        { "externalId eq \"Ext-42\"", true },
        { "externalId eq \"ext-42\"", false },
        { "externalId ne \"ext-42\"", true },
        { "id eq \"2819C223-7F76-453A-919D-413861904646\"", false },
        { "id eq \"2819c223-7f76-453a-919d-413861904646\"", true },
        /* Names of attributes are case-insensitive. */
        { "USERNAME EQ \"bjensen@example.com\"", true },
        { "displayName eq \"babs jensen\"", true },
        /* Mixed types never compare equal. */
        { "userName eq 1", false },
        { "userName eq true", false },
        { "loginCount eq \"42\"", false },
    };
    RUN(*state, ((struct fixture *)*state)->user, cases);
}

static void
eval_co_sw_ew_follow_case_exact(void **state)
{
    static const struct eval_case cases[] = {
        { "displayName co \"jen\"", true },
        { "displayName co \"JENSEN\"", true },
        { "displayName co \"xyz\"", false },
        { "displayName sw \"babs\"", true },
        { "displayName sw \"Jensen\"", false },
        { "displayName ew \"JENSEN\"", true },
        { "displayName ew \"Babs\"", false },
        { "displayName co \"\"", true },
        { "displayName sw \"Babs Jensen and more\"", false },
        { "externalId co \"ext\"", false },
        { "externalId co \"Ext\"", true },
        { "externalId sw \"Ext-\"", true },
        { "externalId ew \"-42\"", true },
        /* co, sw and ew apply to strings only. */
        { "loginCount co 4", false },
        { "active sw \"t\"", false },
        { "displayName co 1", false },
    };
    RUN(*state, ((struct fixture *)*state)->user, cases);
}

static void
eval_ordering_of_strings_numbers_and_booleans(void **state)
{
    static const struct eval_case cases[] = {
        { "loginCount eq 42", true },
        { "loginCount eq 42.0", true },
        { "loginCount gt 41", true },
        { "loginCount gt 42", false },
        { "loginCount ge 42", true },
        { "loginCount lt 42", false },
        { "loginCount le 42", true },
        { "loginCount gt 41.5", true },
        { "loginCount lt 4.2e1", false },
        { "score eq 7.5", true },
        { "score gt 7", true },
        { "score lt 7.5", false },
        { "score le 75e-1", true },
        { "score ne 7.5", false },
        /* Strings order by bytes, folded unless caseExact. */
        { "userName gt \"a\"", true },
        { "userName lt \"C\"", true },
        { "userName ge \"BJENSEN@EXAMPLE.COM\"", true },
        { "userName le \"bjensen@example.com\"", true },
        { "userName gt \"bjensen@example.com\"", false },
        { "externalId gt \"ext\"", false },
        { "externalId lt \"ext\"", true },
        /* Booleans have no order; numbers and strings do not order against each other. */
        { "active gt false", false },
        { "active ge true", false },
        { "active lt \"z\"", false },
        { "loginCount gt \"1\"", false },
        { "userName gt 1", false },
    };
    RUN(*state, ((struct fixture *)*state)->user, cases);
}

static void
eval_datetime_compares_instants(void **state)
{
    static const struct eval_case cases[] = {
        /* lastModified is 2011-08-01T18:31:02Z written with a +02:00 offset. */
        { "meta.lastModified eq \"2011-08-01T18:31:02Z\"", true },
        { "meta.lastModified eq \"2011-08-01T18:31:02.000Z\"", true },
        { "meta.lastModified ne \"2011-08-01T18:31:02Z\"", false },
        { "meta.lastModified gt \"2011-08-01T18:29:49.793Z\"", true },
        { "meta.lastModified lt \"2011-08-01T18:31:02.001Z\"", true },
        /* As text "20:31:02+02:00" > "20:00:00Z", as instants it is earlier. */
        { "meta.lastModified gt \"2011-08-01T20:00:00Z\"", false },
        { "meta.lastModified lt \"2011-08-01T20:00:00Z\"", true },
        { "meta.created ge \"2011-08-01T18:29:49.793Z\"", true },
        { "meta.created gt \"2011-08-01T18:29:49.793Z\"", false },
        { "meta.created le \"2011-08-01T20:29:49.793+02:00\"", true },
        /* Not a dateTime: no order. */
        { "meta.created gt \"yesterday\"", false },
        { "meta.created lt \"2012-01-01\"", false },
        { "meta.created gt 1", false },
        { "meta.resourceType eq \"User\"", true },
    };
    RUN(*state, ((struct fixture *)*state)->user, cases);
}

static void
eval_booleans_and_entra_strings(void **state)
{
    static const struct eval_case cases[] = {
        { "active eq true", true },
        { "active eq false", false },
        { "active ne false", true },
        { "active ne true", false },
        /* Entra (IDP-QUIRKS 12): booleans as "True"/"False" strings. */
        { "active eq \"True\"", true },
        { "active eq \"true\"", true },
        { "active eq \"FALSE\"", false },
        { "active ne \"False\"", true },
        { "active eq \"yes\"", false },
        { "emails[primary eq \"True\"]", true },
        { "emails[primary eq \"True\" and type eq \"home\"]", false },
        { "emails.primary eq true", true },
    };
    RUN(*state, ((struct fixture *)*state)->user, cases);
}

static void
eval_pr_and_null(void **state)
{
    static const struct eval_case cases[] = {
        { "displayName pr", true },
        { "title pr", false }, /* empty string */
        { "roles pr", false }, /* empty array */
        { "nickNames pr", true },
        { "emails pr", true },
        { "name pr", true },
        { "name.givenName pr", true },
        { "emails.value pr", true },
        { "emails.display pr", false },
        { "department pr", false }, /* absent, in the extension */
        { "employeeNumber pr", true },
        { "active pr", true },
        /* "eq null" means not present; "ne null" means present. */
        { "title eq null", true },
        { "department eq null", true },
        { "displayName eq null", false },
        { "title ne null", false },
        { "displayName ne null", true },
        { "displayName gt null", false },
        { "displayName co null", false },
        { "not (displayName pr)", false },
    };
    RUN(*state, ((struct fixture *)*state)->user, cases);
}

static void
eval_multi_valued_any_element_matches(void **state)
{
    static const struct eval_case cases[] = {
        { "nickNames eq \"bj\"", true },
        { "nickNames eq \"Barbara\"", false },
        { "nickNames co \"ab\"", true },
        /* ne is not eq: true only when no value equals. */
        { "nickNames ne \"Babs\"", false },
        { "nickNames ne \"Barbara\"", true },
        { "emails.value eq \"babs@jensen.org\"", true },
        { "emails.value ew \"@example.com\"", true },
        { "emails.type eq \"other\"", false },
        { "emails.value ne \"babs@jensen.org\"", false },
        { "emails.value ne \"x@y\"", true },
        /* A complex attribute without sub-attribute compares "value". */
        { "emails co \"example.com\"", true },
        { "emails eq \"BJENSEN@example.com\"", true },
        { "emails ne \"bjensen@example.com\"", false },
        /* Without a value filter, conditions may hold on different elements... */
        { "emails.type eq \"home\" and emails.value co \"@example.com\"", true },
        /* ...with one, on the same element. */
        { "emails[type eq \"home\" and value co \"@example.com\"]", false },
        { "emails[type eq \"work\" and value co \"@example.com\"]", true },
        { "emails[type eq \"home\" and value co \"@jensen.org\"]", true },
        { "emails[not (primary eq true)]", true },
        { "emails[type eq \"work\"].value eq \"bjensen@example.com\"", true },
        { "emails[type eq \"home\"].value eq \"bjensen@example.com\"", false },
        { "emails[type eq \"work\"].value pr", true },
        { "emails[value pr]", true },
        { "roles[value pr]", false },
        { "name[givenName eq \"barbara\"]", true },
    };
    RUN(*state, ((struct fixture *)*state)->user, cases);
}

static void
eval_extension_attributes_under_urn(void **state)
{
    static const struct eval_case cases[] = {
        { "employeeNumber eq \"701984\"", true },
        { URN_ENT ":employeeNumber eq \"701984\"", true },
        { URN_ENT ":employeeNumber eq \"1\"", false },
        { URN_ENT ":manager eq \"26118915-6090-4610-87e4-49d8ca9f808d\"", true },
        { URN_ENT ":manager.displayName co \"smith\"", true },
        { "manager.value sw \"26118915\"", true },
        { URN_CORE ":userName eq \"bjensen@example.com\"", true },
        { URN_CORE ":name.familyName eq \"jensen\"", true },
    };
    RUN(*state, ((struct fixture *)*state)->user, cases);
}

static void
eval_logical_operators(void **state)
{
    static const struct eval_case cases[] = {
        { "not (userName eq \"x\")", true },
        { "not (userName pr)", false },
        { "userName eq \"x\" or active eq true", true },
        { "userName eq \"x\" and active eq true", false },
        { "userName eq \"x\" or active eq false or loginCount eq 42", true },
        { "userName pr and (title pr or displayName pr)", true },
        { "userName pr and not (title pr or displayName pr)", false },
        /* ne on an absent attribute is true (ne is not eq). */
        { "department ne \"Sales\"", true },
        { "title ne \"boss\"", true },
    };
    RUN(*state, ((struct fixture *)*state)->user, cases);
}

static void
eval_finds_keys_case_insensitively(void **state)
{
    struct fixture *f = *state;
    json_error_t jerr;
    json_t *doc = json_loads("{\"USERNAME\": \"x\", \"Emails\": [{\"Value\": \"a@b\", "
                             "\"TYPE\": \"work\"}], \"" URN_ENT "\": {\"EmployeeNumber\": "
                             "\"7\"}}",
                             0, &jerr);
    static const struct eval_case cases[] = {
        { "userName eq \"x\"", true },        /* USERNAME */
        { "emails.value eq \"a@b\"", true },  /* Emails[].Value */
        { "emails[type eq \"WORK\"]", true }, /* Emails[].TYPE */
        { "emails[value eq \"A@B\"]", true }, /* and the value's case */
        { "employeeNumber eq \"7\"", true },  /* EmployeeNumber in the extension */
    };

    assert_non_null(doc);
    RUN(f, doc, cases);
    json_decref(doc);
}

static void
eval_unresolved_paths_compare_as_strings(void **state)
{
    struct fixture *f = *state;
    struct err err = { 0 };
    struct query_node *q = query_filter_parse(f->arena, "externalId eq \"EXT-42\"", &err);

    /* Without resolution caseExact is unknown and defaults to false (RFC 7643 §2.2). */
    assert_true(query_eval(q, f->user));
    q = query_filter_parse(f->arena, URN_ENT ":employeeNumber eq \"701984\"", &err);
    assert_true(query_eval(q, f->user));
    q = query_filter_parse(f->arena, "active eq \"true\"", &err);
    assert_true(query_eval(q, f->user));
}

static void
eval_rejects_non_object_doc_and_null_root(void **state)
{
    struct fixture *f = *state;
    json_t *arr = json_array();

    assert_false(query_eval(compile(f, "userName pr"), arr));
    assert_false(query_eval(compile(f, "userName pr"), NULL));
    assert_false(query_eval(NULL, f->user));
    assert_false(query_eval_element(NULL, f->user));
    json_decref(arr);
}

static void
eval_long_contains_stays_correct(void **state)
{
    struct fixture *f = *state;
    size_t n = 200000;
    char *hay = malloc(n + 1), *text = malloc(4096);

    /* A needle longer than the search's on-stack table, against a long value. */
    memset(hay, 'a', n);
    memcpy(hay + n - 5, "NEEDL", 5);
    hay[n] = '\0';
    json_t *doc = json_pack("{s:s}", "displayName", hay);
    snprintf(text, 4096, "displayName co \"%.*sneedl\"", 2000, hay);
    assert_true(query_eval(compile(f, text), doc));
    snprintf(text, 4096, "displayName co \"%.*sneedx\"", 2000, hay);
    assert_false(query_eval(compile(f, text), doc));
    snprintf(text, 4096, "displayName ew \"aNeEdL\"");
    assert_true(query_eval(compile(f, text), doc));
    json_decref(doc);
    free(hay);
    free(text);
}

static void
eval_contains_handles_overlapping_prefixes(void **state)
{
    struct fixture *f = *state;
    json_t *doc = json_pack("{s:s, s:s}", "displayName", "aaAB ababAbaBC", "externalId", "xxXy");
    static const struct eval_case cases[] = {
        { "displayName co \"aab\"", true },    /* restarts inside "aaab" */
        { "displayName co \"ABABC\"", true },  /* restarts inside "ababab" */
        { "displayName co \"ababd\"", false }, /* prefix matches, tail does not */
        { "displayName co \"b a\"", true },    /* across the blank */
        { "displayName co \"aaaab\"", false }, /* longer run than the value has */
        { "externalId co \"xXy\"", true },     /* caseExact, exact bytes */
        { "externalId co \"xxy\"", false },    /* caseExact, folded would match */
    };

    RUN(f, doc, cases);
    json_decref(doc);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(eval_eq_ne_follow_case_exact),
        T(eval_co_sw_ew_follow_case_exact),
        T(eval_ordering_of_strings_numbers_and_booleans),
        T(eval_datetime_compares_instants),
        T(eval_booleans_and_entra_strings),
        T(eval_pr_and_null),
        T(eval_multi_valued_any_element_matches),
        T(eval_extension_attributes_under_urn),
        T(eval_logical_operators),
        T(eval_finds_keys_case_insensitively),
        T(eval_unresolved_paths_compare_as_strings),
        T(eval_rejects_non_object_doc_and_null_root),
        T(eval_long_contains_stays_correct),
        T(eval_contains_handles_overlapping_prefixes),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
