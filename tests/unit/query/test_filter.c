/* query_filter_parse, query_sexpr and query_resolve: RFC 7644 §3.4.2.2 filters as Okta and
 * Entra send them, and the inputs the parser must refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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

static struct query_node *
parse_ok(struct fixture *f, const char *text)
{
    struct err err = { 0 };
    struct query_node *q = query_filter_parse(f->arena, text, &err);
    if (q == NULL)
        fail_msg("parse of '%s' failed: %s", text, err.detail);
    return q;
}

static const char *
sexpr_of(struct fixture *f, const char *text)
{
    const char *s = query_sexpr(f->arena, parse_ok(f, text));
    assert_non_null(s);
    return s;
}

/* Asserts that text is refused with ERR_INVALID_FILTER, a detail naming `position` and
 * containing `want` (if not NULL), and no control byte in the detail. */
static void
parse_fails(struct fixture *f, const char *text, size_t position, const char *want)
{
    struct err err = { 0 };
    char pos[32];

    if (query_filter_parse(f->arena, text, &err) != NULL)
        fail_msg("'%s' parsed but must fail", text);
    if (err.code != ERR_INVALID_FILTER)
        fail_msg("'%s': code %s, want ERR_INVALID_FILTER", text, err_name(err.code));
    snprintf(pos, sizeof(pos), "position %zu", position);
    if (strstr(err.detail, pos) == NULL)
        fail_msg("'%s': detail '%s' does not name %s", text, err.detail, pos);
    if (want != NULL && strstr(err.detail, want) == NULL)
        fail_msg("'%s': detail '%s' lacks '%s'", text, err.detail, want);
    for (const char *c = err.detail; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
            fail_msg("'%s': detail has byte 0x%02x", text, (unsigned char)*c);
}

struct ok_case {
    const char *in;
    const char *want;
};

static const struct ok_case ok_cases[] = {
    /* Okta's existence check and Entra's default one (IDP-QUIRKS 2, 17). */
    { "userName eq \"bjensen\"", "(eq userName \"bjensen\")" },
    { "externalId eq \"00u1a2b3c4\"", "(eq externalId \"00u1a2b3c4\")" },
    { "displayName eq \"Group\"", "(eq displayName \"Group\")" },
    { "emails[type eq \"work\"].value eq \"x\"",
      "(vp emails (and (eq type \"work\") (eq value \"x\")))" },
    /* Keywords and names are case-insensitive; names print as written. */
    { "USERNAME EQ \"x\"", "(eq USERNAME \"x\")" },
    { "userName Eq \"x\" AND active eQ TRUE", "(and (eq userName \"x\") (eq active true))" },
    /* The examples of RFC 7644 §3.4.2.2. */
    { "name.familyName co \"O'Malley\"", "(co name.familyName \"O'Malley\")" },
    { "urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"J\"",
      "(sw " URN_CORE ":userName \"J\")" },
    { "title pr", "(pr title)" },
    { "meta.lastModified gt \"2011-05-13T04:42:34Z\"",
      "(gt meta.lastModified \"2011-05-13T04:42:34Z\")" },
    { "meta.lastModified le \"2011-05-13T04:42:34Z\"",
      "(le meta.lastModified \"2011-05-13T04:42:34Z\")" },
    { "loginCount ge 1 and loginCount lt 10", "(and (ge loginCount 1) (lt loginCount 10))" },
    { "title pr and userType eq \"Employee\"", "(and (pr title) (eq userType \"Employee\"))" },
    { "title pr or userType eq \"Intern\"", "(or (pr title) (eq userType \"Intern\"))" },
    { "schemas eq \"" URN_ENT "\"", "(eq schemas \"" URN_ENT "\")" },
    { "userType eq \"Employee\" and (emails co \"example.com\" or emails.value co "
      "\"example.org\")",
      "(and (eq userType \"Employee\") (or (co emails \"example.com\") (co emails.value "
      "\"example.org\")))" },
    { "userType ne \"Employee\" and not (emails co \"example.com\" or emails.value co "
      "\"example.org\")",
      "(and (ne userType \"Employee\") (not (or (co emails \"example.com\") (co emails.value "
      "\"example.org\"))))" },
    { "userType eq \"Employee\" and emails[type eq \"work\" and value co \"@example.com\"]",
      "(and (eq userType \"Employee\") (vp emails (and (eq type \"work\") (co value "
      "\"@example.com\"))))" },
    { "emails[type eq \"work\" and value co \"@example.com\"] or ims[type eq \"xmpp\" and "
      "value co \"@foo.com\"]",
      "(or (vp emails (and (eq type \"work\") (co value \"@example.com\"))) (vp ims (and (eq "
      "type \"xmpp\") (co value \"@foo.com\"))))" },
    /* Fully qualified paths: the URN is everything up to the last ':'. */
    { URN_ENT ":employeeNumber eq \"1\"", "(eq " URN_ENT ":employeeNumber \"1\")" },
    { URN_CORE ":name.givenName eq \"x\"", "(eq " URN_CORE ":name.givenName \"x\")" },
    { URN_ENT ":manager.value eq \"m1\"", "(eq " URN_ENT ":manager.value \"m1\")" },
    { URN_CORE ":emails[type eq \"work\"]", "(vp " URN_CORE ":emails (eq type \"work\"))" },
    /* Precedence: not > and > or, both binary operators associate to the left. */
    { "a eq 1 and b eq 2 or c eq 3", "(or (and (eq a 1) (eq b 2)) (eq c 3))" },
    { "a eq 1 and b eq 2 and c eq 3", "(and (and (eq a 1) (eq b 2)) (eq c 3))" },
    { "a eq 1 or b eq 2 or c eq 3", "(or (or (eq a 1) (eq b 2)) (eq c 3))" },
    { "(a eq 1 or b eq 2) and c eq 3", "(and (or (eq a 1) (eq b 2)) (eq c 3))" },
    { "not (a eq 1)", "(not (eq a 1))" },
    { "NOT(a eq 1)", "(not (eq a 1))" },
    { "not (a eq 1) and b eq 2", "(and (not (eq a 1)) (eq b 2))" },
    { "not (not (a pr))", "(not (not (pr a)))" },
    { "((a eq 1))", "(eq a 1)" },
    /* Values: JSON literals and numbers. */
    { "a eq true", "(eq a true)" },
    { "a eq FALSE", "(eq a false)" },
    { "a eq Null", "(eq a null)" },
    { "a eq 0", "(eq a 0)" },
    { "a eq -12", "(eq a -12)" },
    { "a eq 1.5", "(eq a 1.5)" },
    { "a eq -0.25", "(eq a -0.25)" },
    { "a eq 1e3", "(eq a 1000)" },
    { "a eq 2.5E-1", "(eq a 0.25)" },
    { "a eq 9223372036854775807", "(eq a 9223372036854775807)" },
    { "a eq 12345678901234567890", "(eq a 1.23457e+19)" },
    /* Strings: every JSON escape, surrogate pairs, raw UTF-8. */
    { "a eq \"q\\\"b\\\\c\\/d\"", "(eq a \"q\\\"b\\\\c/d\")" },
    { "a eq \"tab\\there\\nnl\\r\\b\\f\"", "(eq a \"tab\\there\\nnl\\r\\u0008\\u000c\")" },
    { "a eq \"\\u00e9t\\u00C9\"", "(eq a \"\xc3\xa9t\xc3\x89\")" },
    { "a eq \"\\u20ac\"", "(eq a \"\xe2\x82\xac\")" },
    { "a eq \"\\ud83d\\ude00\"", "(eq a \"\xf0\x9f\x98\x80\")" },
    { "a eq \"\xe6\x97\xa5\xe6\x9c\xac\"", "(eq a \"\xe6\x97\xa5\xe6\x9c\xac\")" },
    { "a eq \"\"", "(eq a \"\")" },
    /* Blanks: lenient about runs of them and about none next to quotes and brackets. */
    { "  userName   eq   \"x\"  ", "(eq userName \"x\")" },
    { "(userName eq \"x\")", "(eq userName \"x\")" },
    { "userName eq\"x\"", "(eq userName \"x\")" },
    { "userName\teq \"x\"\tand\ta pr", "(and (eq userName \"x\") (pr a))" },
    { "( a eq 1 )and( b eq 2 )", "(and (eq a 1) (eq b 2))" },
    /* Value filters. */
    { "members[value eq \"2819c223\"]", "(vp members (eq value \"2819c223\"))" },
    { "members[$ref eq \"https://x/Users/1\"]", "(vp members (eq $ref \"https://x/Users/1\"))" },
    { "members.$ref pr", "(pr members.$ref)" },
    { "roles[primary eq \"True\"]", "(vp roles (eq primary \"True\"))" },
    { "emails[not (type eq \"work\")]", "(vp emails (not (eq type \"work\")))" },
    { "emails[(type eq \"work\") or value pr]", "(vp emails (or (eq type \"work\") (pr value)))" },
    { "emails [type eq \"work\"]", "(vp emails (eq type \"work\"))" },
    { "emails[type eq \"work\" or type eq \"home\"].value ew \"@x.org\"",
      "(vp emails (and (or (eq type \"work\") (eq type \"home\")) (ew value \"@x.org\")))" },
    { "emails[type eq \"work\"].value pr", "(vp emails (and (eq type \"work\") (pr value)))" },
    { "emails[type eq \"work\"].value eq \"x\" and active eq true",
      "(and (vp emails (and (eq type \"work\") (eq value \"x\"))) (eq active true))" },
    /* Names: nameChar is ALPHA / DIGIT / "-" / "_"; an attribute may be called "not". */
    { "x-y_z1 eq 1", "(eq x-y_z1 1)" },
    { "not eq 1", "(eq not 1)" },
};

static void
filter_parse_table_gives_sexpr(void **state)
{
    struct fixture *f = *state;

    for (size_t i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
        const char *got = sexpr_of(f, ok_cases[i].in);
        if (strcmp(got, ok_cases[i].want) != 0)
            fail_msg("'%s'\n  got  %s\n  want %s", ok_cases[i].in, got, ok_cases[i].want);
    }
}

static void
filter_parse_and_binds_tighter_than_or(void **state)
{
    struct fixture *f = *state;

    /* RFC 7644 §3.4.2.2: "and" has higher precedence than "or". */
    assert_string_equal(sexpr_of(f, "a eq 1 or b eq 2 and c eq 3"),
                        "(or (eq a 1) (and (eq b 2) (eq c 3)))");
}

static void
filter_parse_entra_value_path_sub_attr_is_one_element(void **state)
{
    struct fixture *f = *state;
    struct query_node *q = parse_ok(f, "emails[type eq \"work\"].value eq \"x@example.com\"");

    /* Entra (IDP-QUIRKS 17): the sub-attribute belongs to the element the filter picks. */
    assert_int_equal(q->kind, QUERY_VALUE_PATH);
    assert_string_equal(q->path.attr, "emails");
    assert_null(q->path.sub);
    assert_int_equal(q->left->kind, QUERY_AND);
    assert_int_equal(q->left->right->kind, QUERY_EQ);
    assert_string_equal(q->left->right->path.attr, "value");
    assert_string_equal(q->left->right->value.string, "x@example.com");
}

static void
filter_parse_splits_urn_at_last_colon(void **state)
{
    struct fixture *f = *state;
    struct query_node *q = parse_ok(f, URN_ENT ":manager.displayName eq \"Jo\"");

    assert_string_equal(q->path.urn, URN_ENT);
    assert_string_equal(q->path.attr, "manager");
    assert_string_equal(q->path.sub, "displayName");
    assert_null(q->path.filter);
}

static void
filter_parse_number_keeps_integer_and_double(void **state)
{
    struct fixture *f = *state;
    struct query_node *q = parse_ok(f, "a eq -9223372036854775808");

    assert_int_equal(q->value.type, QUERY_VAL_NUMBER);
    assert_true(q->value.is_integer);
    assert_true(q->value.integer == INT64_MIN);
    q = parse_ok(f, "a eq 2.0");
    assert_false(q->value.is_integer);
    assert_true(q->value.number == 2.0);
}

struct bad_case {
    const char *in;
    size_t position;
    const char *want;
};

static const struct bad_case bad_cases[] = {
    { "", 1, "unexpected end of filter" },
    { "   ", 4, "expected an attribute name" },
    { "userName", 9, "expected a comparison operator" },
    { "userName xx \"x\"", 10, "unexpected \"xx\" at position 10, expected a comparison operator" },
    { "userName eq", 12, "expected a value" },
    { "userName eq bjensen", 13, "unexpected \"bjensen\"" },
    { "userName eq \"x\" and", 20, "expected an attribute name" },
    { "userName eq \"x\" xor b eq 1", 17, "unexpected \"xor\"" },
    { "userName eq \"x\" )", 17, "unexpected \")\"" },
    { "(userName eq \"x\"", 17, "expected \"and\", \"or\" or \")\"" },
    { "((a eq 1)", 10, "\")\"" },
    { "()", 2, "unexpected \")\"" },
    { "not userName eq \"x\"", 5, "\"(\" after \"not\"" },
    { "not", 4, "\"(\" after \"not\"" },
    { "not ()", 6, "unexpected \")\"" },
    { "a pr \"x\"", 6, "unexpected \"\\\"x\\\"\"" },
    { "a eq 1 @", 8, "unexpected \"@\"" },
    { "a \x01 eq 1", 3, "unexpected \"\\x01\"" },
    { "a eq \xff", 6, "unexpected \"\\xff\"" },
    { "1abc eq 1", 1, "expected an attribute name" },
    { "$ref eq \"x\"", 1, "invalid attribute name \"$ref\"" },
    { "-a eq 1", 1, "expected an attribute name" },
    { "a.b.c eq 1", 3, "invalid sub-attribute name \"b.c\"" },
    { "a. eq 1", 3, "invalid sub-attribute name" },
    { "_a eq 1", 1, "invalid attribute name" },
    { ":userName eq 1", 1, "invalid schema URN" },
    { "urn:x: eq 1", 7, "missing attribute name" },
    { "urn:x$:a eq 1", 1, "invalid schema URN" },
    /* Value filters: closed, not nested, on an attribute, relative names inside. */
    { "emails[type eq \"work\"", 22, "\"]\"" },
    { "emails[]", 8, "expected a sub-attribute name" },
    { "emails[type eq \"work\"][value eq \"x\"]", 23, "unexpected \"[\"" },
    { "emails[x[y eq 1]]", 9, "cannot nest" },
    { "emails[(x[y eq 1])]", 10, "cannot nest" },
    { "name.givenName[x eq 1]", 15, "not a sub-attribute" },
    { "emails[" URN_CORE ":type eq 1]", 8, "without schema URN" },
    { "emails[type.x eq 1]", 8, "without \".\"" },
    { "emails[type eq \"work\"].", 24, "missing sub-attribute name" },
    { "emails[type eq \"work\"].value", 29, "expected a comparison operator" },
    { "emails[type eq \"work\"].1x eq 2", 24, "invalid sub-attribute name" },
    { "emails[type eq \"work\"] eq 2", 24, "unexpected \"eq\"" },
    /* Numbers are JSON numbers. */
    { "a eq 01", 6, "invalid number \"01\"" },
    { "a eq 1.", 6, "invalid number" },
    { "a eq .5", 6, "expected a value" },
    { "a eq -", 6, "invalid number" },
    { "a eq 1e", 6, "invalid number" },
    { "a eq +1", 6, "expected a value" },
    { "a eq 1x", 6, "invalid number \"1x\"" },
    { "a eq 1e999", 6, "out of range" },
    /* Strings are JSON strings. */
    { "a eq \"x", 6, "unterminated string" },
    { "a eq \"x\\\"", 6, "unterminated string" },
    { "a eq \"\\q\"", 7, "invalid escape \"\\\\q\"" },
    { "a eq \"\\u0000\"", 7, "\\u0000" },
    { "a eq \"\\u12\"", 7, "invalid \\u escape" },
    { "a eq \"\\u12g4\"", 7, "invalid \\u escape" },
    { "a eq \"\\ud800\"", 7, "unpaired surrogate" },
    { "a eq \"\\udc00\"", 7, "unpaired surrogate" },
    { "a eq \"\\ud800\\u0041\"", 7, "unpaired surrogate" },
    { "a eq \"x\\ud83dz\"", 8, "unpaired surrogate" },
    { "a eq \"\xff\"", 7, "invalid UTF-8" },
    { "a eq \"\xc0\x80\"", 7, "invalid UTF-8" },
    { "a eq \"\xed\xa0\x80\"", 7, "invalid UTF-8" },
    { "a eq \"\xf4\x90\x80\x80\"", 7, "invalid UTF-8" },
    { "a eq \"\xe2\x82\"", 7, "invalid UTF-8" },
    { "a eq \"a\tb\"", 8, "control byte" },
};

static void
filter_parse_rejects_table_with_position(void **state)
{
    struct fixture *f = *state;

    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
        parse_fails(f, bad_cases[i].in, bad_cases[i].position, bad_cases[i].want);
}

static void
filter_parse_rejects_null_text(void **state)
{
    struct fixture *f = *state;
    struct err err = { 0 };

    assert_null(query_filter_parse(f->arena, NULL, &err));
    assert_int_equal(err.code, ERR_INVALID_FILTER);
}

static void
filter_parse_error_echo_is_escaped_and_cut(void **state)
{
    struct fixture *f = *state;
    struct err err = { 0 };
    char text[200];

    snprintf(text, sizeof(text), "a eq 1 %s",
             "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz");
    assert_null(query_filter_parse(f->arena, text, &err));
    assert_non_null(strstr(err.detail, "\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz...\""));
    /* A quote inside the echoed token is escaped so the detail stays well formed. */
    parse_fails(f, "a eq 1 x\"y", 8, "unexpected \"x\"");
    parse_fails(f, "a eq \"x\" \"y\\\"z\"", 10, "unexpected \"\\\"y\\\\\\\"z\\\"\"");
}

static char *
repeat(const char *head, const char *unit, size_t n, const char *tail)
{
    size_t len = strlen(head) + strlen(unit) * n + strlen(tail) + 1;
    char *s = malloc(len), *p = s;
    p += snprintf(p, len, "%s", head);
    for (size_t i = 0; i < n; i++)
        p += snprintf(p, len - (size_t)(p - s), "%s", unit);
    snprintf(p, len - (size_t)(p - s), "%s", tail);
    return s;
}

static char *
nested(const char *open, size_t n, const char *middle, const char *close)
{
    char *head = repeat("", open, n, "");
    char *text = repeat(head, "", 0, middle);
    char *all = repeat(text, close, n, "");
    free(head);
    free(text);
    return all;
}

static void
filter_parse_accepts_depth_at_limit(void **state)
{
    struct fixture *f = *state;
    char *text = nested("(", LIMIT_FILTER_DEPTH, "a eq 1", ")");

    assert_string_equal(sexpr_of(f, text), "(eq a 1)");
    free(text);
    text = nested("not (", LIMIT_FILTER_DEPTH, "a eq 1", ")");
    assert_non_null(parse_ok(f, text));
    free(text);
    /* The value filter's "[" counts as one level. */
    text = nested("(", LIMIT_FILTER_DEPTH - 1, "emails[a eq 1]", ")");
    assert_non_null(parse_ok(f, text));
    free(text);
}

static void
filter_parse_rejects_depth_over_limit(void **state)
{
    struct fixture *f = *state;
    char *text = nested("(", LIMIT_FILTER_DEPTH + 1, "a eq 1", ")");

    parse_fails(f, text, LIMIT_FILTER_DEPTH + 1, "deeper than 16");
    free(text);
    text = nested("not (", LIMIT_FILTER_DEPTH + 1, "a eq 1", ")");
    parse_fails(f, text, 5 * LIMIT_FILTER_DEPTH + 1, "deeper than 16");
    free(text);
    text = nested("(", LIMIT_FILTER_DEPTH, "emails[a eq 1]", ")");
    parse_fails(f, text, LIMIT_FILTER_DEPTH + 7, "deeper than 16");
    free(text);
    /* Far deeper than the limit must fail the same way, without exhausting the stack. */
    text = nested("(", 100000, "a eq 1", ")");
    struct err err = { 0 };
    assert_null(query_filter_parse(f->arena, text, &err));
    assert_int_equal(err.code, ERR_INVALID_FILTER);
    free(text);
}

static void
filter_parse_rejects_nodes_over_limit(void **state)
{
    struct fixture *f = *state;
    struct err err = { 0 };
    /* n comparisons joined by n - 1 "or"s make 2n - 1 nodes. */
    size_t fits = (LIMIT_FILTER_NODES + 1) / 2;
    char *text = repeat("a eq 1", " or a eq 1", fits - 1, "");

    assert_non_null(parse_ok(f, text));
    free(text);
    text = repeat("a eq 1", " or a eq 1", fits, "");
    assert_null(query_filter_parse(f->arena, text, &err));
    assert_int_equal(err.code, ERR_INVALID_FILTER);
    assert_non_null(strstr(err.detail, "more than 256 terms"));
    free(text);
}

static void
filter_parse_rejects_text_over_byte_limit(void **state)
{
    struct fixture *f = *state;
    struct err err = { 0 };
    /* a eq "xxx...": exactly LIMIT_FILTER_BYTES bytes parse, one more does not. */
    size_t pad = LIMIT_FILTER_BYTES - strlen("a eq \"\"");
    char *body = repeat("a eq \"", "x", pad, "\"");

    assert_int_equal(strlen(body), LIMIT_FILTER_BYTES);
    assert_non_null(parse_ok(f, body));
    free(body);
    body = repeat("a eq \"", "x", pad + 1, "\"");
    assert_null(query_filter_parse(f->arena, body, &err));
    assert_int_equal(err.code, ERR_INVALID_FILTER);
    assert_non_null(strstr(err.detail, "longer than 8192 bytes"));
    free(body);
}

static void
filter_parse_reports_arena_exhaustion_as_too_large(void **state)
{
    struct arena *small = arena_new(64);
    struct err err = { 0 };

    (void)state;
    assert_null(query_filter_parse(small, "userName eq \"bjensen\" and title pr", &err));
    assert_int_equal(err.code, ERR_TOO_LARGE);
    arena_free(small);
}

/* ---- query_resolve ---- */

static struct query_node *
resolve_ok(struct fixture *f, const char *text)
{
    struct err err = { 0 };
    struct query_node *q = parse_ok(f, text);
    if (query_resolve(q, fake_resolve, NULL, &err) < 0)
        fail_msg("resolve of '%s' failed: %s", text, err.detail);
    return q;
}

static void
filter_resolve_fills_info_and_ext_urn(void **state)
{
    struct fixture *f = *state;
    struct query_node *q = resolve_ok(f, "USERNAME eq \"x\" and employeeNumber eq \"1\"");

    assert_ptr_equal(q->left->path.attr_info, &fake_core[2].info);
    assert_null(q->left->path.ext_urn);
    assert_string_equal(q->right->path.attr_info->name, "employeeNumber");
    assert_string_equal(q->right->path.ext_urn, URN_ENT);
    q = resolve_ok(f, "name.givenName eq \"B\"");
    assert_string_equal(q->path.attr_info->name, "name");
    assert_string_equal(q->path.sub_info->name, "givenName");
}

static void
filter_resolve_complex_comparison_reads_value_sub_attr(void **state)
{
    struct fixture *f = *state;
    struct query_node *q = resolve_ok(f, "emails co \"@example.com\"");

    /* RFC 7644 §3.4.2.2: emails co "x" compares emails.value. */
    assert_string_equal(q->path.sub, "value");
    assert_string_equal(q->path.sub_info->name, "value");
    assert_string_equal(query_sexpr(f->arena, q), "(co emails.value \"@example.com\")");
    q = resolve_ok(f, URN_ENT ":manager eq \"m1\"");
    assert_string_equal(q->path.sub_info->name, "value");
    assert_string_equal(q->path.ext_urn, URN_ENT);
    /* Presence of the complex attribute itself is not rewritten. */
    q = resolve_ok(f, "name pr");
    assert_null(q->path.sub);
}

static void
filter_resolve_complex_without_value_sub_attr_fails(void **state)
{
    struct fixture *f = *state;
    struct err err = { 0 };
    struct query_node *q = parse_ok(f, "name eq \"Babs\"");

    assert_int_equal(query_resolve(q, fake_resolve, NULL, &err), -1);
    assert_int_equal(err.code, ERR_INVALID_FILTER);
    assert_non_null(strstr(err.detail, "name.value"));
}

static void
filter_resolve_value_path_passes_parent_to_inner_paths(void **state)
{
    struct fixture *f = *state;
    struct query_node *q = resolve_ok(f, "emails[type eq \"work\" and primary eq true]");

    assert_string_equal(q->path.attr_info->name, "emails");
    assert_ptr_equal(q->left->left->path.attr_info, &fake_emails_subs[1].info);
    assert_ptr_equal(q->left->right->path.attr_info, &fake_emails_subs[2].info);
    assert_null(q->left->left->path.sub_info);
}

struct call_log {
    char calls[8][64];
    int n;
};

static int
logging_resolve(void *ctx, const struct query_path *parent, struct query_path *path,
                struct err *err)
{
    struct call_log *log = ctx;
    if (log->n < 8)
        snprintf(log->calls[log->n++], 64, "%s>%s%s%s", parent ? parent->attr : "-", path->attr,
                 path->sub ? "." : "", path->sub ? path->sub : "");
    return fake_resolve(NULL, parent, path, err);
}

static void
filter_resolve_calls_resolver_in_documented_order(void **state)
{
    struct fixture *f = *state;
    struct err err = { 0 };
    struct call_log log = { 0 };
    struct query_node *q = parse_ok(f, "emails[type eq \"work\"].value eq \"x\" or emails pr or "
                                       "emails eq \"y\"");

    assert_int_equal(query_resolve(q, logging_resolve, &log, &err), 0);
    assert_int_equal(log.n, 6);
    assert_string_equal(log.calls[0], "->emails");
    assert_string_equal(log.calls[1], "emails>type");
    assert_string_equal(log.calls[2], "emails>value");
    assert_string_equal(log.calls[3], "->emails");
    assert_string_equal(log.calls[4], "->emails");
    assert_string_equal(log.calls[5], "->emails.value");
}

static void
filter_resolve_rejects_value_filter_on_simple_attr(void **state)
{
    struct fixture *f = *state;
    struct err err = { 0 };
    struct query_node *q = parse_ok(f, "userName[value eq \"x\"]");

    assert_int_equal(query_resolve(q, fake_resolve, NULL, &err), -1);
    assert_int_equal(err.code, ERR_INVALID_FILTER);
    assert_non_null(strstr(err.detail, "not a complex attribute"));
}

static void
filter_resolve_passes_resolver_error_up(void **state)
{
    struct fixture *f = *state;
    struct err err = { 0 };
    struct query_node *q = parse_ok(f, "userName eq \"x\" and nope eq 1");

    assert_int_equal(query_resolve(q, fake_resolve, NULL, &err), -1);
    assert_int_equal(err.code, ERR_INVALID_FILTER);
    assert_string_equal(err.detail, "unknown attribute nope");
    q = parse_ok(f, "emails[nope eq 1]");
    assert_int_equal(query_resolve(q, fake_resolve, NULL, &err), -1);
    assert_string_equal(err.detail, "unknown attribute emails.nope");
    q = parse_ok(f, "urn:example:Other:userName eq 1");
    assert_int_equal(query_resolve(q, fake_resolve, NULL, &err), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(filter_parse_table_gives_sexpr),
        T(filter_parse_and_binds_tighter_than_or),
        T(filter_parse_entra_value_path_sub_attr_is_one_element),
        T(filter_parse_splits_urn_at_last_colon),
        T(filter_parse_number_keeps_integer_and_double),
        T(filter_parse_rejects_table_with_position),
        T(filter_parse_rejects_null_text),
        T(filter_parse_error_echo_is_escaped_and_cut),
        T(filter_parse_accepts_depth_at_limit),
        T(filter_parse_rejects_depth_over_limit),
        T(filter_parse_rejects_nodes_over_limit),
        T(filter_parse_rejects_text_over_byte_limit),
        T(filter_parse_reports_arena_exhaustion_as_too_large),
        T(filter_resolve_fills_info_and_ext_urn),
        T(filter_resolve_complex_comparison_reads_value_sub_attr),
        T(filter_resolve_complex_without_value_sub_attr_fails),
        T(filter_resolve_value_path_passes_parent_to_inner_paths),
        T(filter_resolve_calls_resolver_in_documented_order),
        T(filter_resolve_rejects_value_filter_on_simple_attr),
        T(filter_resolve_passes_resolver_error_up),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
