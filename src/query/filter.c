#include "query/query.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "base/str.h"
#include "query/query_int.h"

/* The filter grammar of RFC 7644 §3.4.2.2, with operator precedence made explicit:
 *
 *   filter    = orExp
 *   orExp     = andExp *("or" andExp)
 *   andExp    = unary *("and" unary)
 *   unary     = "(" orExp ")" / "not" "(" orExp ")" / attrExp / valuePath ["." subAttr cmp]
 *   valuePath = attrPath "[" orExp "]"            ; paths inside are relative, no nesting
 *   attrExp   = attrPath ("pr" / compareOp compValue)
 *
 * Recursion happens only through "(", "not" and "[", each of which counts against
 * LIMIT_FILTER_DEPTH; "and"/"or" chains are loops. Tokens may be separated by any blanks
 * (the RFC asks for exactly one SP; IdPs and hand-written URLs are not that careful). */

/* Echoed input in error details: at most this many bytes of escaped text. */
#define ECHO_MAX 40

enum tok {
    TOK_END,
    TOK_LPAREN,
    TOK_RPAREN,
    TOK_LBRACKET,
    TOK_RBRACKET,
    TOK_WORD,   /* attribute path, operator, keyword, true/false/null */
    TOK_STRING, /* "..." including the quotes, escapes not yet checked */
    TOK_NUMBER, /* starts with a digit or '-'; syntax checked when read as a value */
    TOK_BAD,    /* a byte no token starts with, or an unterminated string */
};

struct token {
    enum tok kind;
    size_t start; /* byte offset in the text */
    size_t len;
};

static bool
is_blank(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* RFC 7644 nameChar, plus ':' and '.' (URNs and sub-attributes) and '$' ($ref). */
static bool
is_word(int c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '_' || c == ':' || c == '.' || c == '$';
}

/* Looks at the next token without consuming it. */
static void
scan(const struct query_parser *p, struct token *t)
{
    size_t i = p->pos;
    while (i < p->len && is_blank((unsigned char)p->text[i]))
        i++;
    t->start = i;
    t->len = 1;
    if (i >= p->len) {
        t->kind = TOK_END;
        t->len = 0;
        return;
    }
    unsigned char c = (unsigned char)p->text[i];
    size_t j = i + 1;
    switch (c) {
    case '(':
        t->kind = TOK_LPAREN;
        return;
    case ')':
        t->kind = TOK_RPAREN;
        return;
    case '[':
        t->kind = TOK_LBRACKET;
        return;
    case ']':
        t->kind = TOK_RBRACKET;
        return;
    case '"':
        while (j < p->len && p->text[j] != '"')
            j += p->text[j] == '\\' ? 2 : 1;
        if (j >= p->len) {
            t->kind = TOK_BAD;
            t->len = p->len - i;
            return;
        }
        t->kind = TOK_STRING;
        t->len = j + 1 - i;
        return;
    default:
        break;
    }
    if (is_digit(c) || c == '-') {
        /* Take everything a malformed number could run into, so "12ab" is one bad token. */
        while (j < p->len && (is_word((unsigned char)p->text[j]) || p->text[j] == '+'))
            j++;
        t->kind = TOK_NUMBER;
    } else if (is_word(c)) {
        while (j < p->len && is_word((unsigned char)p->text[j]))
            j++;
        t->kind = TOK_WORD;
    } else {
        t->kind = TOK_BAD;
    }
    t->len = j - i;
}

static void
consume(struct query_parser *p, const struct token *t)
{
    p->pos = t->start + t->len;
}

/* Writes at most ECHO_MAX bytes of s, escaped so that the detail holds no control bytes, no
 * unbalanced quotes and no raw non-ASCII; "..." marks a cut. dst holds ECHO_MAX + 4 bytes. */
static void
echo(char *dst, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char tmp[4];
        size_t k = 0;
        if (c == '"' || c == '\\') {
            tmp[k++] = '\\';
            tmp[k++] = (char)c;
        } else if (c >= 0x20 && c < 0x7f) {
            tmp[k++] = (char)c;
        } else {
            tmp[k++] = '\\';
            tmp[k++] = 'x';
            tmp[k++] = hex[c >> 4];
            tmp[k++] = hex[c & 15];
        }
        if (o + k > ECHO_MAX) {
            memcpy(dst + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(dst + o, tmp, k);
        o += k;
    }
    dst[o] = '\0';
}

/* Reports the token t as unexpected; positions in details count bytes from 1. */
static int
fail_at(struct query_parser *p, const struct token *t, const char *expected)
{
    char shown[ECHO_MAX + 4];

    if (t->kind == TOK_END)
        return err_set(p->err, p->code, "unexpected end of %s at position %zu, expected %s",
                       p->what, t->start + 1, expected);
    if (t->kind == TOK_BAD && p->text[t->start] == '"')
        return err_set(p->err, p->code, "unterminated string at position %zu", t->start + 1);
    echo(shown, p->text + t->start, t->len);
    return err_set(p->err, p->code, "unexpected \"%s\" at position %zu, expected %s", shown,
                   t->start + 1, expected);
}

/* Reports a malformed piece of a token: `problem` names what is wrong with it. */
static int
fail_span(struct query_parser *p, size_t start, size_t len, const char *problem)
{
    char shown[ECHO_MAX + 4];

    echo(shown, p->text + start, len);
    return err_set(p->err, p->code, "%s \"%s\" at position %zu", problem, shown, start + 1);
}

static bool
word_is(const struct query_parser *p, const struct token *t, const char *kw)
{
    return t->kind == TOK_WORD && str_ieq_cstr((struct str){ p->text + t->start, t->len }, kw);
}

/* Counts one more level of nesting at token t; fails past LIMIT_FILTER_DEPTH. */
static int
enter(struct query_parser *p, const struct token *t)
{
    if (++p->depth > LIMIT_FILTER_DEPTH)
        return err_set(p->err, p->code, "%s nests deeper than %d levels at position %zu", p->what,
                       LIMIT_FILTER_DEPTH, t->start + 1);
    return 0;
}

static struct query_node *
new_node(struct query_parser *p, enum query_kind kind)
{
    if (++p->nodes > LIMIT_FILTER_NODES) {
        err_set(p->err, p->code, "%s has more than %d terms", p->what, LIMIT_FILTER_NODES);
        return NULL;
    }
    struct query_node *n = arena_alloc(p->arena, sizeof(*n), p->err);
    if (n != NULL)
        n->kind = kind;
    return n;
}

static struct query_node *
binary(struct query_parser *p, enum query_kind kind, struct query_node *l, struct query_node *r)
{
    struct query_node *n = new_node(p, kind);
    if (n != NULL) {
        n->left = l;
        n->right = r;
    }
    return n;
}

/* ---- attribute paths ---- */

/* RFC 7644: ATTRNAME = ALPHA *(nameChar). */
static bool
is_attrname(const char *s, size_t n)
{
    if (n == 0 || !is_alpha((unsigned char)s[0]))
        return false;
    for (size_t i = 1; i < n; i++) {
        int c = (unsigned char)s[i];
        if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '_')
            return false;
    }
    return true;
}

/* "$ref" (RFC 7643 §2.4) is the one sub-attribute name outside ATTRNAME. */
static bool
is_ref(const char *s, size_t n)
{
    return str_ieq_cstr((struct str){ s, n }, "$ref");
}

/* A schema URN as written before an attribute name: letters first, then URN characters. */
static bool
is_urn(const char *s, size_t n)
{
    if (n == 0 || !is_alpha((unsigned char)s[0]) || s[n - 1] == ':')
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '$')
            return false;
    return true;
}

static const char *
dup_span(struct query_parser *p, size_t start, size_t len)
{
    return arena_strndup(p->arena, p->text + start, len, p->err);
}

/* Splits the word token t into urn, attr and sub. The URN is everything up to the last ':'
 * (URNs contain dots, as in "2.0"); the rest is attr ["." sub]. A relative path (inside a
 * value filter) is one sub-attribute name, which may be "$ref". */
static int
split_path(struct query_parser *p, const struct token *t, struct query_path *out, bool relative)
{
    const char *w = p->text + t->start;
    size_t n = t->len, name = 0;

    *out = (struct query_path){ 0 };
    for (size_t i = n; i > 0; i--) {
        if (w[i - 1] == ':') {
            name = i;
            break;
        }
    }
    if (name > 0) {
        if (relative)
            return fail_at(p, t, "a sub-attribute name without schema URN inside \"[]\"");
        if (!is_urn(w, name - 1))
            return fail_span(p, t->start, name - 1, "invalid schema URN");
        out->urn = dup_span(p, t->start, name - 1);
        if (out->urn == NULL)
            return -1;
    }
    const char *dot = memchr(w + name, '.', n - name);
    size_t attr_len = dot ? (size_t)(dot - (w + name)) : n - name;
    if (!is_attrname(w + name, attr_len) && !(relative && is_ref(w + name, attr_len))) {
        if (attr_len == 0)
            return err_set(p->err, p->code, "missing attribute name at position %zu",
                           t->start + name + 1);
        return fail_span(p, t->start + name, attr_len, "invalid attribute name");
    }
    out->attr = dup_span(p, t->start + name, attr_len);
    if (out->attr == NULL)
        return -1;
    if (dot == NULL)
        return 0;
    size_t sub = name + attr_len + 1;
    if (relative)
        return fail_at(p, t, "a sub-attribute name without \".\" inside \"[]\"");
    if (!is_attrname(w + sub, n - sub) && !is_ref(w + sub, n - sub))
        return fail_span(p, t->start + sub, n - sub, "invalid sub-attribute name");
    out->sub = dup_span(p, t->start + sub, n - sub);
    return out->sub ? 0 : -1;
}

/* ---- values ---- */

static int
hex4(const char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int c = (unsigned char)s[i], d;
        if (is_digit(c))
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static size_t
utf8_put(char *out, long cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Reads the \uXXXX escape (and a following low surrogate) at s[i]; n bytes are left in the
 * string body. Sets *cp and *used, or returns -1 with err naming position `at`. */
static int
unicode_escape(struct query_parser *p, const char *s, size_t n, size_t at, long *cp, size_t *used)
{
    int hi = n >= 6 ? hex4(s + 2) : -1;
    if (hi < 0)
        return fail_span(p, at, n < 6 ? n : 6, "invalid \\u escape");
    if (hi == 0)
        return err_set(p->err, p->code, "\\u0000 is not allowed in strings at position %zu",
                       at + 1);
    if (hi >= 0xdc00 && hi <= 0xdfff)
        return fail_span(p, at, 6, "unpaired surrogate");
    *cp = hi;
    *used = 6;
    if (hi < 0xd800 || hi > 0xdbff)
        return 0;
    int lo = (n >= 12 && s[6] == '\\' && s[7] == 'u') ? hex4(s + 8) : -1;
    if (lo < 0xdc00 || lo > 0xdfff)
        return fail_span(p, at, 6, "unpaired surrogate");
    *cp = 0x10000 + (((long)hi - 0xd800) << 10) + (lo - 0xdc00);
    *used = 12;
    return 0;
}

/* Unescapes a JSON string token (RFC 8259 §7) into the arena, checking UTF-8. Escapes never
 * grow, so the token length bounds the output. */
static const char *
read_string(struct query_parser *p, const struct token *t)
{
    const char *s = p->text + t->start + 1;
    size_t n = t->len - 2, o = 0;
    char *out = arena_alloc(p->arena, n + 1, p->err);

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t at = t->start + 1 + i;
        if (c < 0x20) {
            fail_span(p, at, 1, "control byte in string");
            return NULL;
        }
        if (c >= 0x80) {
            size_t k = str_utf8_len((const unsigned char *)s + i, n - i);
            if (k == 0) {
                fail_span(p, at, 1, "invalid UTF-8 in string");
                return NULL;
            }
            memcpy(out + o, s + i, k);
            o += k;
            i += k;
            continue;
        }
        if (c != '\\') {
            out[o++] = (char)c;
            i++;
            continue;
        }
        /* The scanner guarantees a byte after every backslash inside the quotes. */
        char e = s[i + 1], r;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            r = e;
            break;
        case 'b':
            r = '\b';
            break;
        case 'f':
            r = '\f';
            break;
        case 'n':
            r = '\n';
            break;
        case 'r':
            r = '\r';
            break;
        case 't':
            r = '\t';
            break;
        case 'u': {
            long cp = 0;
            size_t used = 0;
            if (unicode_escape(p, s + i, n - i, at, &cp, &used) < 0)
                return NULL;
            o += utf8_put(out + o, cp);
            i += used;
            continue;
        }
        default:
            fail_span(p, at, 2, "invalid escape");
            return NULL;
        }
        out[o++] = r;
        i += 2;
    }
    out[o] = '\0';
    return out;
}

static size_t
skip_digits(const char *s, size_t n, size_t i)
{
    while (i < n && is_digit((unsigned char)s[i]))
        i++;
    return i;
}

/* RFC 8259 §6: -? (0 / [1-9] *DIGIT) ["." 1*DIGIT] [("e" / "E") ["+" / "-"] 1*DIGIT], over
 * all n bytes. *integer says whether fraction and exponent are both absent. */
static bool
is_json_number(const char *s, size_t n, bool *integer)
{
    size_t i = s[0] == '-' ? 1 : 0, j;

    if (i >= n || !is_digit((unsigned char)s[i]))
        return false;
    i = s[i] == '0' ? i + 1 : skip_digits(s, n, i);
    *integer = true;
    if (i < n && s[i] == '.') {
        *integer = false;
        j = skip_digits(s, n, i + 1);
        if (j == i + 1)
            return false;
        i = j;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        *integer = false;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        j = skip_digits(s, n, i);
        if (j == i)
            return false;
        i = j;
    }
    return i == n;
}

/* A number token; integers within int64 also keep their exact value. */
static int
read_number(struct query_parser *p, const struct token *t, struct query_value *v)
{
    const char *s = p->text + t->start;
    bool integer;

    if (!is_json_number(s, t->len, &integer))
        return fail_span(p, t->start, t->len, "invalid number");
    /* The token is followed by a delimiter, not a NUL, so strtod gets its own copy. */
    const char *copy = dup_span(p, t->start, t->len);
    if (copy == NULL)
        return -1;
    v->type = QUERY_VAL_NUMBER;
    v->number = strtod(copy, NULL);
    if (!isfinite(v->number))
        return fail_span(p, t->start, t->len, "number out of range");
    if (integer) {
        struct err ignored;
        /* Integers beyond int64 are kept as doubles only. */
        v->is_integer = str_to_i64((struct str){ s, t->len }, INT64_MIN, INT64_MAX, &v->integer,
                                   "number", &ignored) == 0;
    }
    return 0;
}

/* compValue = false / null / true / number / string (RFC 7644 §3.4.2.2). */
static int
read_value(struct query_parser *p, struct query_value *v)
{
    struct token t;

    scan(p, &t);
    switch (t.kind) {
    case TOK_STRING:
        v->type = QUERY_VAL_STRING;
        v->string = read_string(p, &t);
        if (v->string == NULL)
            return -1;
        break;
    case TOK_NUMBER:
        if (read_number(p, &t, v) < 0)
            return -1;
        break;
    case TOK_WORD:
        if (word_is(p, &t, "true") || word_is(p, &t, "false")) {
            v->type = QUERY_VAL_BOOL;
            v->boolean = word_is(p, &t, "true");
        } else if (word_is(p, &t, "null")) {
            v->type = QUERY_VAL_NULL;
        } else {
            return fail_at(p, &t, "a value (string, number, true, false or null)");
        }
        break;
    default:
        return fail_at(p, &t, "a value (string, number, true, false or null)");
    }
    consume(p, &t);
    return 0;
}

/* ---- filters ---- */

static const struct {
    const char *name;
    enum query_kind kind;
} operators[] = {
    { "eq", QUERY_EQ }, { "ne", QUERY_NE }, { "co", QUERY_CO }, { "sw", QUERY_SW },
    { "ew", QUERY_EW }, { "gt", QUERY_GT }, { "ge", QUERY_GE }, { "lt", QUERY_LT },
    { "le", QUERY_LE }, { "pr", QUERY_PR },
};

static bool
find_operator(const struct query_parser *p, const struct token *t, enum query_kind *kind)
{
    for (size_t i = 0; i < sizeof(operators) / sizeof(operators[0]); i++) {
        if (word_is(p, t, operators[i].name)) {
            *kind = operators[i].kind;
            return true;
        }
    }
    return false;
}

/* attrExp after its path: "pr", or an operator and a value. */
static struct query_node *
parse_comparison(struct query_parser *p, const struct query_path *path)
{
    struct token t;
    enum query_kind kind;

    scan(p, &t);
    if (!find_operator(p, &t, &kind)) {
        fail_at(p, &t, "a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr)");
        return NULL;
    }
    consume(p, &t);
    struct query_node *n = new_node(p, kind);
    if (n == NULL)
        return NULL;
    n->path = *path;
    if (kind != QUERY_PR && read_value(p, &n->value) < 0)
        return NULL;
    return n;
}

static struct query_node *parse_or(struct query_parser *p, bool in_vp);

/* Reads the closing token `want` of a group opened with enter(), or reports `expected`. */
static int
close_group(struct query_parser *p, enum tok want, const char *expected)
{
    struct token t;

    scan(p, &t);
    if (t.kind != want)
        return fail_at(p, &t, expected);
    consume(p, &t);
    p->depth--;
    return 0;
}

/* valuePath after its attribute path, at "[". Entra's emails[type eq "work"].value eq "x"
 * names one element, so it reads as emails[type eq "work" and value eq "x"]. */
static struct query_node *
parse_value_path(struct query_parser *p, const struct query_path *path, bool in_vp,
                 const struct token *bracket)
{
    if (in_vp) {
        err_set(p->err, p->code, "value filters cannot nest (\"[\" at position %zu)",
                bracket->start + 1);
        return NULL;
    }
    if (path->sub != NULL) {
        err_set(
            p->err, p->code,
            "a value filter must follow an attribute, not a sub-attribute (\"[\" at position %zu)",
            bracket->start + 1);
        return NULL;
    }
    struct query_node *inner = query_parser_value_filter(p);
    if (inner == NULL)
        return NULL;
    if (p->pos < p->len && p->text[p->pos] == '.') {
        struct query_path rel = { 0 };
        if (query_parser_sub_attr(p, &rel.attr) < 0)
            return NULL;
        struct query_node *cmp = parse_comparison(p, &rel);
        if (cmp == NULL)
            return NULL;
        inner = binary(p, QUERY_AND, inner, cmp);
        if (inner == NULL)
            return NULL;
    }
    struct query_node *n = new_node(p, QUERY_VALUE_PATH);
    if (n == NULL)
        return NULL;
    n->path = *path;
    n->left = inner;
    return n;
}

static struct query_node *
parse_unary(struct query_parser *p, bool in_vp)
{
    struct token t, next;

    scan(p, &t);
    if (t.kind == TOK_LPAREN) {
        if (enter(p, &t) < 0)
            return NULL;
        consume(p, &t);
        struct query_node *n = parse_or(p, in_vp);
        if (n == NULL || close_group(p, TOK_RPAREN, "\"and\", \"or\" or \")\"") < 0)
            return NULL;
        return n;
    }
    if (t.kind != TOK_WORD) {
        fail_at(p, &t,
                in_vp ? "a sub-attribute name, \"(\" or \"not\""
                      : "an attribute name, \"(\" or \"not\"");
        return NULL;
    }
    consume(p, &t);
    scan(p, &next);
    if (word_is(p, &t, "not") && next.kind == TOK_LPAREN) {
        if (enter(p, &t) < 0)
            return NULL;
        consume(p, &next);
        struct query_node *inner = parse_or(p, in_vp);
        if (inner == NULL || close_group(p, TOK_RPAREN, "\"and\", \"or\" or \")\"") < 0)
            return NULL;
        struct query_node *n = new_node(p, QUERY_NOT);
        if (n != NULL)
            n->left = inner;
        return n;
    }
    enum query_kind ignored;
    if (word_is(p, &t, "not") && !find_operator(p, &next, &ignored)) {
        /* "not" is a keyword unless an operator follows (an attribute named "not"). */
        fail_at(p, &next, "\"(\" after \"not\"");
        return NULL;
    }
    struct query_path path;
    if (split_path(p, &t, &path, in_vp) < 0)
        return NULL;
    if (next.kind == TOK_LBRACKET)
        return parse_value_path(p, &path, in_vp, &next);
    return parse_comparison(p, &path);
}

static struct query_node *
parse_and(struct query_parser *p, bool in_vp)
{
    struct query_node *left = parse_unary(p, in_vp);
    struct token t;

    while (left != NULL) {
        scan(p, &t);
        if (!word_is(p, &t, "and"))
            break;
        consume(p, &t);
        struct query_node *right = parse_unary(p, in_vp);
        if (right == NULL)
            return NULL;
        left = binary(p, QUERY_AND, left, right);
    }
    return left;
}

/* RFC 7644 §3.4.2.2: "and" binds tighter than "or"; both associate to the left. */
static struct query_node *
parse_or(struct query_parser *p, bool in_vp)
{
    struct query_node *left = parse_and(p, in_vp);
    struct token t;

    while (left != NULL) {
        scan(p, &t);
        if (!word_is(p, &t, "or"))
            break;
        consume(p, &t);
        struct query_node *right = parse_and(p, in_vp);
        if (right == NULL)
            return NULL;
        left = binary(p, QUERY_OR, left, right);
    }
    return left;
}

/* ---- shared with path.c (query_int.h) ---- */

void
query_parser_init(struct query_parser *p, struct arena *a, const char *text, size_t len,
                  enum err_code code, const char *what, struct err *err)
{
    *p = (struct query_parser){
        .arena = a, .text = text, .len = len, .code = code, .what = what, .err = err
    };
}

int
query_parser_attr_path(struct query_parser *p, struct query_path *out)
{
    struct token t;

    scan(p, &t);
    if (t.kind != TOK_WORD)
        return fail_at(p, &t, "an attribute name");
    consume(p, &t);
    return split_path(p, &t, out, false);
}

bool
query_parser_at_bracket(struct query_parser *p)
{
    struct token t;

    scan(p, &t);
    return t.kind == TOK_LBRACKET;
}

struct query_node *
query_parser_value_filter(struct query_parser *p)
{
    struct token t;

    scan(p, &t);
    if (t.kind != TOK_LBRACKET) {
        fail_at(p, &t, "\"[\"");
        return NULL;
    }
    if (enter(p, &t) < 0)
        return NULL;
    consume(p, &t);
    struct query_node *inner = parse_or(p, true);
    if (inner == NULL || close_group(p, TOK_RBRACKET, "\"and\", \"or\" or \"]\"") < 0)
        return NULL;
    return inner;
}

int
query_parser_sub_attr(struct query_parser *p, const char **sub)
{
    size_t start = p->pos + 1, end = start;

    while (end < p->len && is_word((unsigned char)p->text[end]))
        end++;
    if (!is_attrname(p->text + start, end - start) && !is_ref(p->text + start, end - start)) {
        if (end == start)
            return err_set(p->err, p->code, "missing sub-attribute name at position %zu",
                           start + 1);
        return fail_span(p, start, end - start, "invalid sub-attribute name");
    }
    *sub = dup_span(p, start, end - start);
    if (*sub == NULL)
        return -1;
    p->pos = end;
    return 0;
}

int
query_parser_expect_end(struct query_parser *p, const char *expected)
{
    struct token t;

    scan(p, &t);
    return t.kind == TOK_END ? 0 : fail_at(p, &t, expected);
}

/* ---- public ---- */

struct query_node *
query_filter_parse(struct arena *a, const char *text, struct err *err)
{
    struct query_parser p;

    if (text == NULL) {
        err_set(err, ERR_INVALID_FILTER, "missing filter");
        return NULL;
    }
    size_t len = strnlen(text, (size_t)LIMIT_FILTER_BYTES + 1);
    if (len > LIMIT_FILTER_BYTES) {
        err_set(err, ERR_INVALID_FILTER, "filter is longer than %d bytes", LIMIT_FILTER_BYTES);
        return NULL;
    }
    query_parser_init(&p, a, text, len, ERR_INVALID_FILTER, "filter", err);
    struct query_node *root = parse_or(&p, false);
    if (root == NULL || query_parser_expect_end(&p, "\"and\", \"or\" or end of filter") < 0)
        return NULL;
    return root;
}
