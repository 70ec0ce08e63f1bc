#include "query/query.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/limits.h"
#include "base/str.h"
#include "base/xmalloc.h"

/* Filter semantics over one JSON document (RFC 7644 §3.4.2.2). The SQL compilers in store/
 * must agree with this file; tests check both against the same cases. */

/* What a comparison asks of each value its path selects. */
enum test {
    TEST_PRESENT, /* not null, not "", not [] or {} */
    TEST_EQUAL,
    TEST_OPERATOR, /* co sw ew gt ge lt le */
};

/* A member of an object by name: the exact key first (documents are stored canonically),
 * then an ASCII case-insensitive scan (RFC 7643 §2.1: attribute names are case-insensitive). */
static const json_t *
member(const json_t *obj, const char *name)
{
    const char *key;
    json_t *value;

    if (!json_is_object(obj) || name == NULL)
        return NULL;
    const json_t *v = json_object_get(obj, name);
    if (v != NULL)
        return v;
    /* jansson's iterators take a non-const object but do not modify it. */
    json_object_foreach((json_t *)obj, key, value) {
        if (cstr_ieq(key, name))
            return value;
    }
    return NULL;
}

/* The object holding path->attr: the extension object under its URN key, or the document.
 * An unresolved path with a URN is looked up under that URN if the document has it. */
static const json_t *
scope_of(const struct query_path *path, const json_t *doc)
{
    if (path->ext_urn != NULL)
        return member(doc, path->ext_urn);
    if (path->attr_info == NULL && path->urn != NULL) {
        const json_t *ext = member(doc, path->urn);
        if (json_is_object(ext))
            return ext;
    }
    return doc;
}

static struct str
text_of(const json_t *v)
{
    return (struct str){ json_string_value(v), json_string_length(v) };
}

static int
fold(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Byte order, ASCII letters folded unless exact. Non-ASCII letters compare exactly: the SQL
 * side uses lower(), which folds ASCII only in SQLite, and both must agree. */
static int
compare_text(struct str a, struct str b, bool exact)
{
    size_t n = a.len < b.len ? a.len : b.len;
    for (size_t i = 0; i < n; i++) {
        int x = (unsigned char)a.ptr[i], y = (unsigned char)b.ptr[i];
        if (!exact) {
            x = fold(x);
            y = fold(y);
        }
        if (x != y)
            return x < y ? -1 : 1;
    }
    return (a.len > b.len) - (a.len < b.len);
}

static bool
text_eq(struct str a, struct str b, bool exact)
{
    return a.len == b.len && compare_text(a, b, exact) == 0;
}

static int
byte_at(struct str s, size_t i, bool exact)
{
    int c = (unsigned char)s.ptr[i];
    return exact ? c : fold(c);
}

/* Knuth-Morris-Pratt: both the stored value and the literal come from clients, so the search
 * costs O(n + m), never O(n * m). */
static bool
text_contains(struct str hay, struct str needle, bool exact)
{
    size_t small[64];

    if (needle.len == 0)
        return true;
    if (needle.len > hay.len)
        return false;
    size_t *fail = needle.len <= 64 ? small : xmalloc(needle.len * sizeof(*fail));
    fail[0] = 0;
    for (size_t i = 1, k = 0; i < needle.len; i++) {
        while (k > 0 && byte_at(needle, i, exact) != byte_at(needle, k, exact))
            k = fail[k - 1];
        if (byte_at(needle, i, exact) == byte_at(needle, k, exact))
            k++;
        fail[i] = k;
    }
    bool found = false;
    for (size_t i = 0, k = 0; i < hay.len && !found; i++) {
        while (k > 0 && byte_at(hay, i, exact) != byte_at(needle, k, exact))
            k = fail[k - 1];
        if (byte_at(hay, i, exact) == byte_at(needle, k, exact))
            k++;
        found = k == needle.len;
    }
    if (fail != small)
        free(fail);
    return found;
}

static bool
text_op(enum query_kind kind, struct str v, struct str lit, bool exact)
{
    switch (kind) {
    case QUERY_CO:
        return text_contains(v, lit, exact);
    case QUERY_SW:
        return v.len >= lit.len && text_eq((struct str){ v.ptr, lit.len }, lit, exact);
    case QUERY_EW:
        return v.len >= lit.len &&
               text_eq((struct str){ v.ptr + v.len - lit.len, lit.len }, lit, exact);
    default:
        return false;
    }
}

static int
compare_number(const json_t *v, const struct query_value *lit)
{
    if (json_is_integer(v) && lit->is_integer) {
        json_int_t a = json_integer_value(v);
        return (a > lit->integer) - (a < lit->integer);
    }
    double a = json_number_value(v);
    return (a > lit->number) - (a < lit->number);
}

/* dateTime values compare as instants (RFC 7643 §2.3.5), so "2024-01-01T00:00:00Z" equals
 * "2024-01-01T01:00:00+01:00". False when either side is not a dateTime. */
static bool
compare_instants(const json_t *v, const struct query_value *lit, int *out)
{
    int64_t a, b;
    if (!clock_parse_datetime(json_string_value(v), &a) || !clock_parse_datetime(lit->string, &b))
        return false;
    *out = (a > b) - (a < b);
    return true;
}

/* Entra sends booleans as strings, also in filters (active eq "True"): for a boolean
 * attribute, the literal strings "true" and "false" in any case are read as booleans. */
static bool
string_as_bool(const struct query_value *lit, bool *out)
{
    if (lit->type != QUERY_VAL_STRING)
        return false;
    if (cstr_ieq(lit->string, "true") || cstr_ieq(lit->string, "false")) {
        *out = cstr_ieq(lit->string, "true");
        return true;
    }
    return false;
}

static bool
equals(const struct query_attr_info *info, const struct query_value *lit, const json_t *v)
{
    enum query_attr_type type = info ? info->type : QUERY_TYPE_UNKNOWN;
    bool exact = info ? info->case_exact : false;
    bool b;
    int c;

    switch (lit->type) {
    case QUERY_VAL_NULL:
        return json_is_null(v);
    case QUERY_VAL_BOOL:
        return json_is_boolean(v) && json_is_true(v) == lit->boolean;
    case QUERY_VAL_NUMBER:
        return json_is_number(v) && compare_number(v, lit) == 0;
    case QUERY_VAL_STRING:
        break;
    }
    if (json_is_boolean(v) && (type == QUERY_TYPE_BOOLEAN || type == QUERY_TYPE_UNKNOWN))
        return string_as_bool(lit, &b) && json_is_true(v) == b;
    if (!json_is_string(v))
        return false;
    if (type == QUERY_TYPE_DATETIME && compare_instants(v, lit, &c))
        return c == 0;
    return text_eq(text_of(v), str_of(lit->string), exact);
}

/* Orders v against the literal: numbers numerically, dateTimes as instants, other strings
 * by bytes (folded unless caseExact). Booleans, null and mixed types have no order. */
static bool
order(const struct query_attr_info *info, const struct query_value *lit, const json_t *v, int *out)
{
    enum query_attr_type type = info ? info->type : QUERY_TYPE_UNKNOWN;

    if (lit->type == QUERY_VAL_NUMBER && json_is_number(v)) {
        *out = compare_number(v, lit);
        return true;
    }
    if (lit->type != QUERY_VAL_STRING || !json_is_string(v))
        return false;
    if (type == QUERY_TYPE_DATETIME)
        return compare_instants(v, lit, out);
    *out = compare_text(text_of(v), str_of(lit->string), info ? info->case_exact : false);
    return true;
}

static bool
is_present(const json_t *v)
{
    if (json_is_string(v))
        return json_string_length(v) > 0;
    if (json_is_array(v))
        return json_array_size(v) > 0;
    if (json_is_object(v))
        return json_object_size(v) > 0;
    return v != NULL && !json_is_null(v);
}

static bool
test_one(const struct query_node *n, const struct query_attr_info *info, enum test test,
         const json_t *v)
{
    int c;

    switch (test) {
    case TEST_PRESENT:
        return is_present(v);
    case TEST_EQUAL:
        return equals(info, &n->value, v);
    case TEST_OPERATOR:
        break;
    }
    switch (n->kind) {
    case QUERY_CO:
    case QUERY_SW:
    case QUERY_EW:
        return n->value.type == QUERY_VAL_STRING && json_is_string(v) &&
               text_op(n->kind, text_of(v), str_of(n->value.string),
                       info ? info->case_exact : false);
    case QUERY_GT:
        return order(info, &n->value, v, &c) && c > 0;
    case QUERY_GE:
        return order(info, &n->value, v, &c) && c >= 0;
    case QUERY_LT:
        return order(info, &n->value, v, &c) && c < 0;
    case QUERY_LE:
        return order(info, &n->value, v, &c) && c <= 0;
    default:
        return false;
    }
}

/* A multi-valued attribute matches if any of its values does. */
static bool
test_any(const struct query_node *n, const struct query_attr_info *info, enum test test,
         const json_t *v)
{
    size_t i;
    json_t *e;

    if (!json_is_array(v))
        return test_one(n, info, test, v);
    json_array_foreach(v, i, e) {
        if (test_one(n, info, test, e))
            return true;
    }
    return false;
}

/* Does any value selected by n's path pass `test`? Inside a value filter (relative), scope
 * is the element; otherwise it is the document. With a sub-attribute, every element of a
 * multi-valued complex attribute contributes its sub-attribute (emails.value). */
static bool
select_any(const struct query_node *n, const json_t *scope, bool relative, enum test test)
{
    const struct query_path *path = &n->path;
    const json_t *obj = relative ? scope : scope_of(path, scope);
    const json_t *v = member(obj, path->attr_info ? path->attr_info->name : path->attr);
    size_t i;
    json_t *e;

    if (v == NULL)
        return false;
    if (path->sub == NULL)
        return test_any(n, path->attr_info, test, v);
    const char *sub = path->sub_info ? path->sub_info->name : path->sub;
    if (!json_is_array(v)) {
        const json_t *s = member(v, sub);
        return s != NULL && test_any(n, path->sub_info, test, s);
    }
    json_array_foreach(v, i, e) {
        const json_t *s = member(e, sub);
        if (s != NULL && test_any(n, path->sub_info, test, s))
            return true;
    }
    return false;
}

static bool
eval_compare(const struct query_node *n, const json_t *scope, bool relative)
{
    bool null_literal = n->value.type == QUERY_VAL_NULL;

    switch (n->kind) {
    case QUERY_PR:
        return select_any(n, scope, relative, TEST_PRESENT);
    case QUERY_EQ:
        /* "eq null" asks for an absent value, "ne null" for a present one. */
        if (null_literal)
            return !select_any(n, scope, relative, TEST_PRESENT);
        return select_any(n, scope, relative, TEST_EQUAL);
    case QUERY_NE:
        if (null_literal)
            return select_any(n, scope, relative, TEST_PRESENT);
        return !select_any(n, scope, relative, TEST_EQUAL);
    default:
        return !null_literal && select_any(n, scope, relative, TEST_OPERATOR);
    }
}

static bool eval_node(const struct query_node *n, const json_t *scope, bool relative, int depth);

/* attr[filter]: some element of the attribute (or the one value of a single-valued complex
 * attribute) satisfies the inner filter. */
static bool
eval_value_path(const struct query_node *n, const json_t *doc, int depth)
{
    const struct query_path *path = &n->path;
    const json_t *v =
        member(scope_of(path, doc), path->attr_info ? path->attr_info->name : path->attr);
    size_t i;
    json_t *e;

    if (json_is_object(v))
        return eval_node(n->left, v, true, depth + 1);
    if (!json_is_array(v))
        return false;
    json_array_foreach(v, i, e) {
        if (json_is_object(e) && eval_node(n->left, e, true, depth + 1))
            return true;
    }
    return false;
}

/* Recursion follows the AST, which the parser bounds; `depth` guards hand-made trees. */
static bool
eval_node(const struct query_node *n, const json_t *scope, bool relative, int depth)
{
    if (n == NULL || depth > LIMIT_FILTER_NODES)
        return false;
    switch (n->kind) {
    case QUERY_AND:
        return eval_node(n->left, scope, relative, depth + 1) &&
               eval_node(n->right, scope, relative, depth + 1);
    case QUERY_OR:
        return eval_node(n->left, scope, relative, depth + 1) ||
               eval_node(n->right, scope, relative, depth + 1);
    case QUERY_NOT:
        return !eval_node(n->left, scope, relative, depth + 1);
    case QUERY_VALUE_PATH:
        return !relative && eval_value_path(n, scope, depth);
    default:
        return eval_compare(n, scope, relative);
    }
}

bool
query_eval(const struct query_node *root, const json_t *doc)
{
    return json_is_object(doc) && eval_node(root, doc, false, 0);
}

bool
query_eval_element(const struct query_node *filter, const json_t *element)
{
    return json_is_object(element) && eval_node(filter, element, true, 0);
}
