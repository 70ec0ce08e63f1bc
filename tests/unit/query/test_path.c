/* query_path_parse, query_path_resolve and query_eval_element: PATCH paths of RFC 7644
 * §3.5.2 as Okta and Entra send them. */
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

struct fixture {
    struct arena *arena;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->arena = arena_new(LIMIT_REQUEST_ARENA_BYTES);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    arena_free(f->arena);
    free(f);
    return 0;
}

static struct query_path
parse_ok(struct fixture *f, const char *text)
{
    struct err err = { 0 };
    struct query_path path;
    if (query_path_parse(f->arena, text, &path, &err) < 0)
        fail_msg("parse of '%s' failed: %s", text, err.detail);
    return path;
}

struct ok_case {
    const char *in;
    const char *want;
};

static const struct ok_case ok_cases[] = {
    /* Okta group push (IDP-QUIRKS 8) and Entra member removal (14). */
    { "members", "members" },
    { "members[value eq \"2819c223\"]", "members[(eq value \"2819c223\")]" },
    { "members[value eq \"a\" or value eq \"b\"]",
      "members[(or (eq value \"a\") (eq value \"b\"))]" },
    /* RFC 7644 §3.5.2 examples. */
    { "name.familyName", "name.familyName" },
    { "emails[type eq \"work\"]", "emails[(eq type \"work\")]" },
    { "emails[type eq \"work\"].value", "emails[(eq type \"work\")].value" },
    { "emails[type eq \"work\" and primary eq true].display",
      "emails[(and (eq type \"work\") (eq primary true))].display" },
    { "addresses[type eq \"work\"].streetAddress", "addresses[(eq type \"work\")].streetAddress" },
    /* Entra: full-URN paths (IDP-QUIRKS 13) and the manager (16). */
    { URN_ENT ":manager", URN_ENT ":manager" },
    { URN_ENT ":manager.value", URN_ENT ":manager.value" },
    { URN_ENT ":employeeNumber", URN_ENT ":employeeNumber" },
    { URN_CORE ":name.givenName", URN_CORE ":name.givenName" },
    { URN_CORE ":emails[type eq \"work\"].value", URN_CORE ":emails[(eq type \"work\")].value" },
    /* Case is kept as written; resolution is case-insensitive. */
    { "Emails[Type EQ \"work\"].Value", "Emails[(eq Type \"work\")].Value" },
    { "roles[primary eq \"True\"]", "roles[(eq primary \"True\")]" },
    { "members.$ref", "members.$ref" },
    { "emails[not (type eq \"home\")]", "emails[(not (eq type \"home\"))]" },
    { "  members  ", "members" },
    { "emails [type eq \"work\"]", "emails[(eq type \"work\")]" },
};

static void
path_parse_table_gives_rendering(void **state)
{
    struct fixture *f = *state;

    for (size_t i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
        struct query_path p = parse_ok(f, ok_cases[i].in);
        const char *got = query_path_sexpr(f->arena, &p);
        assert_non_null(got);
        if (strcmp(got, ok_cases[i].want) != 0)
            fail_msg("'%s'\n  got  %s\n  want %s", ok_cases[i].in, got, ok_cases[i].want);
    }
}

static void
path_parse_value_filter_then_sub_attr_fills_fields(void **state)
{
    struct fixture *f = *state;
    struct query_path p = parse_ok(f, URN_CORE ":emails[type eq \"work\"].value");

    assert_string_equal(p.urn, URN_CORE);
    assert_string_equal(p.attr, "emails");
    assert_string_equal(p.sub, "value");
    assert_non_null(p.filter);
    assert_int_equal(p.filter->kind, QUERY_EQ);
    assert_string_equal(p.filter->path.attr, "type");
    assert_null(p.filter->path.urn);
}

static void
path_parse_plain_path_has_no_filter(void **state)
{
    struct fixture *f = *state;
    struct query_path p = parse_ok(f, URN_ENT ":manager.value");

    assert_string_equal(p.urn, URN_ENT);
    assert_string_equal(p.attr, "manager");
    assert_string_equal(p.sub, "value");
    assert_null(p.filter);
}

struct bad_case {
    const char *in;
    size_t position;
    const char *want;
};

static const struct bad_case bad_cases[] = {
    { "", 1, "unexpected end of path at position 1, expected an attribute name" },
    { "members eq \"x\"", 9, "unexpected \"eq\" at position 9, expected \"[\" or end of path" },
    { "name.givenName[x eq 1]", 15, "expected end of path" },
    { "a.b.c", 3, "invalid sub-attribute name \"b.c\"" },
    { "1members", 1, "expected an attribute name" },
    { "urn:x:", 7, "missing attribute name" },
    { "emails[type eq \"work\"", 22, "unexpected end of path" },
    { "emails[]", 8, "expected a sub-attribute name" },
    { "emails[type[x eq 1]]", 12, "cannot nest" },
    { "emails[type eq \"work\"]value", 23, "expected \".\" or end of path" },
    { "emails[type eq \"work\"].", 24, "missing sub-attribute name" },
    { "emails[type eq \"work\"].value.x", 24, "invalid sub-attribute name \"value.x\"" },
    { "emails[type eq \"work\"].value[x eq 1]", 29, "expected end of path" },
    { "emails[type eq \"\\u0000\"]", 17, "\\u0000" },
    { "emails[type eq work]", 16, "expected a value" },
    { "emails[type eq \"work\"] ]", 24, "unexpected \"]\"" },
};

static void
path_parse_rejects_table_with_position(void **state)
{
    struct fixture *f = *state;

    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        struct err err = { 0 };
        struct query_path p;
        char pos[32];
        const struct bad_case *c = &bad_cases[i];

        if (query_path_parse(f->arena, c->in, &p, &err) == 0)
            fail_msg("'%s' parsed but must fail", c->in);
        if (err.code != ERR_INVALID_PATH)
            fail_msg("'%s': code %s, want ERR_INVALID_PATH", c->in, err_name(err.code));
        snprintf(pos, sizeof(pos), "position %zu", c->position);
        if (strstr(err.detail, pos) == NULL || strstr(err.detail, c->want) == NULL)
            fail_msg("'%s': detail '%s' lacks '%s' or '%s'", c->in, err.detail, pos, c->want);
        /* The output is zeroed, so a caller that ignores the error holds no half path. */
        assert_null(p.attr);
        assert_null(p.filter);
    }
}

static void
path_parse_rejects_over_byte_limit(void **state)
{
    struct fixture *f = *state;
    struct err err = { 0 };
    struct query_path p;
    char text[LIMIT_PATH_BYTES + 2];

    memset(text, 'a', LIMIT_PATH_BYTES);
    text[LIMIT_PATH_BYTES] = '\0';
    assert_int_equal(query_path_parse(f->arena, text, &p, &err), 0);
    text[LIMIT_PATH_BYTES] = 'a';
    text[LIMIT_PATH_BYTES + 1] = '\0';
    assert_int_equal(query_path_parse(f->arena, text, &p, &err), -1);
    assert_int_equal(err.code, ERR_INVALID_PATH);
    assert_non_null(strstr(err.detail, "longer than 512 bytes"));
    assert_int_equal(query_path_parse(f->arena, NULL, &p, &err), -1);
    assert_int_equal(err.code, ERR_INVALID_PATH);
}

static void
path_resolve_fills_attr_sub_and_filter(void **state)
{
    struct fixture *f = *state;
    struct err err = { 0 };
    struct query_path p = parse_ok(f, "emails[type eq \"work\"].value");

    assert_int_equal(query_path_resolve(&p, fake_resolve, NULL, &err), 0);
    assert_string_equal(p.attr_info->name, "emails");
    assert_string_equal(p.sub_info->name, "value");
    assert_null(p.ext_urn);
    /* The filter is relative to an element of emails, not to emails.value. */
    assert_ptr_equal(p.filter->path.attr_info, &fake_emails_subs[1].info);
}

static void
path_resolve_extension_sets_ext_urn(void **state)
{
    struct fixture *f = *state;
    struct err err = { 0 };
    struct query_path p = parse_ok(f, URN_ENT ":Manager.Value");

    assert_int_equal(query_path_resolve(&p, fake_resolve, NULL, &err), 0);
    assert_string_equal(p.ext_urn, URN_ENT);
    assert_string_equal(p.attr_info->name, "manager");
    assert_string_equal(p.sub_info->name, "value");
    /* A complex target without sub-attribute stays as it is: PATCH replaces it whole. */
    p = parse_ok(f, "name");
    assert_int_equal(query_path_resolve(&p, fake_resolve, NULL, &err), 0);
    assert_null(p.sub);
}

static void
path_resolve_rejects_value_filter_on_simple_attr(void **state)
{
    struct fixture *f = *state;
    struct err err = { 0 };
    struct query_path p = parse_ok(f, "userName[value eq \"x\"]");

    assert_int_equal(query_path_resolve(&p, fake_resolve, NULL, &err), -1);
    assert_int_equal(err.code, ERR_INVALID_PATH);
    p = parse_ok(f, "emails[nope eq \"x\"]");
    assert_int_equal(query_path_resolve(&p, fake_resolve, NULL, &err), -1);
    assert_string_equal(err.detail, "unknown attribute emails.nope");
}

static void
path_eval_element_picks_matching_members(void **state)
{
    struct fixture *f = *state;
    struct err err = { 0 };
    json_error_t jerr;
    json_t *emails = json_loads("[{\"value\": \"a@work.example\", \"type\": \"work\", "
                                "\"primary\": true}, {\"value\": \"b@home.example\", "
                                "\"type\": \"HOME\"}, \"stray\"]",
                                0, &jerr);
    struct query_path p = parse_ok(f, "emails[type eq \"home\" or primary eq \"True\"]");

    assert_non_null(emails);
    assert_int_equal(query_path_resolve(&p, fake_resolve, NULL, &err), 0);
    assert_true(query_eval_element(p.filter, json_array_get(emails, 0)));
    assert_true(query_eval_element(p.filter, json_array_get(emails, 1)));
    assert_false(query_eval_element(p.filter, json_array_get(emails, 2)));
    p = parse_ok(f, "members[value eq \"2819C223\"]");
    assert_int_equal(query_path_resolve(&p, fake_resolve, NULL, &err), 0);
    json_t *member = json_pack("{s:s}", "value", "2819c223");
    /* members.value is caseExact (an id). */
    assert_false(query_eval_element(p.filter, member));
    json_decref(member);
    json_decref(emails);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(path_parse_table_gives_rendering),
        T(path_parse_value_filter_then_sub_attr_fills_fields),
        T(path_parse_plain_path_has_no_filter),
        T(path_parse_rejects_table_with_position),
        T(path_parse_rejects_over_byte_limit),
        T(path_resolve_fills_attr_sub_and_filter),
        T(path_resolve_extension_sets_ext_urn),
        T(path_resolve_rejects_value_filter_on_simple_attr),
        T(path_eval_element_picks_matching_members),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
