#ifndef SCIMD_QUERY_QUERY_H
#define SCIMD_QUERY_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/arena.h"
#include "base/err.h"

/* The SCIM filter language (RFC 7644 §3.4.2.2) and attribute paths (§3.5.2), as an AST that
 * is parsed once per request into the request's arena, resolved against a schema, and then
 * either evaluated over an in-memory JSON document (query_eval) or compiled to SQL by a store
 * backend. It lives here, below scim/ and store/, so both can use it. */

enum query_kind {
    QUERY_EQ,
    QUERY_NE,
    QUERY_CO,
    QUERY_SW,
    QUERY_EW,
    QUERY_GT,
    QUERY_GE,
    QUERY_LT,
    QUERY_LE,
    QUERY_PR,
    QUERY_AND,
    QUERY_OR,
    QUERY_NOT,
    QUERY_VALUE_PATH, /* attr[filter]: some element of a multi-valued attribute matches */
};

enum query_value_type {
    QUERY_VAL_NULL,
    QUERY_VAL_BOOL,
    QUERY_VAL_NUMBER,
    QUERY_VAL_STRING,
};

/* A comparison literal. Strings are unescaped, NUL-terminated, in the arena. */
struct query_value {
    enum query_value_type type;
    bool boolean;
    double number;
    bool is_integer; /* number was written without fraction or exponent */
    int64_t integer; /* valid when is_integer */
    const char *string;
};

/* Attribute types of RFC 7643 §2.3. */
enum query_attr_type {
    QUERY_TYPE_UNKNOWN = 0,
    QUERY_TYPE_STRING,
    QUERY_TYPE_BOOLEAN,
    QUERY_TYPE_DECIMAL,
    QUERY_TYPE_INTEGER,
    QUERY_TYPE_DATETIME,
    QUERY_TYPE_BINARY,
    QUERY_TYPE_REFERENCE,
    QUERY_TYPE_COMPLEX,
};

/* What a schema says about one attribute, as far as filtering needs it. Owned by the schema
 * (static data), borrowed by resolved paths. */
struct query_attr_info {
    const char *name; /* canonical spelling, as stored in documents */
    enum query_attr_type type;
    bool multi_valued;
    bool case_exact;
};

/* An attribute path: [urn ":"] attr ["." sub], or in a PATCH path also
 * attr "[" filter "]" ["." sub]. Names are as written (case preserved); after
 * query_resolve, the *_info fields and ext_urn say what they mean. */
struct query_path {
    const char *urn;           /* schema URN as written, or NULL */
    const char *attr;          /* attribute name as written */
    const char *sub;           /* sub-attribute name, or NULL */
    struct query_node *filter; /* PATCH value filter, or NULL; never set in filter ASTs */
    /* Filled by query_resolve: */
    const struct query_attr_info *attr_info;
    const struct query_attr_info *sub_info; /* NULL when sub is NULL */
    const char *ext_urn; /* canonical URN of the extension holding attr; NULL for core */
};

struct query_node {
    enum query_kind kind;
    struct query_path path;   /* comparisons, PR, VALUE_PATH (the multi-valued attribute) */
    struct query_value value; /* comparisons other than PR */
    struct query_node *left;  /* AND, OR, NOT (operand); VALUE_PATH (the inner filter) */
    struct query_node *right; /* AND, OR */
};

/* Parses a filter (RFC 7644 §3.4.2.2): attribute names and operators case-insensitive,
 * "and" binds tighter than "or", "not" applies to a parenthesised filter, value paths
 * emails[type eq "work" and value co "@x"], and the Entra shape
 * emails[type eq "work"].value eq "x" (read as emails[type eq "work" and value eq "x"]).
 * A path is [urn ":"] attr ["." sub], the URN being everything up to the last ':'. Inside
 * "[]" a path is one sub-attribute name (ATTRNAME or "$ref"): no URN, no dot, no nested "[".
 * Strings are JSON strings (\u0000, lone surrogates and invalid UTF-8 are rejected); numbers
 * are JSON numbers; true, false and null are case-insensitive. Tokens may be separated by any
 * run of blanks. Bounded by LIMIT_FILTER_BYTES, LIMIT_FILTER_DEPTH (parentheses, "not" and
 * value filters; the parser's recursion) and LIMIT_FILTER_NODES. Returns the root (in arena
 * a), or NULL with ERR_INVALID_FILTER and a detail such as
 * `unexpected "xyz" at position 12, expected a comparison operator` (positions count bytes
 * from 1; echoed input is escaped and cut to 40 bytes), or ERR_TOO_LARGE when the arena is
 * exhausted. */
struct query_node *query_filter_parse(struct arena *a, const char *text, struct err *err);

/* Parses a PATCH path (RFC 7644 §3.5.2: attrPath / valuePath ["." subAttr]) into *out, with
 * strings and the value filter in arena a: members, name.familyName, emails[type eq "work"],
 * emails[type eq "work"].value, urn:...:enterprise:2.0:User:manager.value. Bounded by
 * LIMIT_PATH_BYTES. 0, or -1 with ERR_INVALID_PATH (also for errors inside the value filter)
 * or ERR_TOO_LARGE, and *out zeroed. */
int query_path_parse(struct arena *a, const char *text, struct query_path *out, struct err *err);

/* Resolves one path: sets attr_info, sub_info and ext_urn from the schema, or fails
 * (ERR_INVALID_FILTER / ERR_INVALID_PATH, as the caller chooses) for an unknown attribute.
 * When `parent` is not NULL the path is relative to an element of that multi-valued complex
 * attribute (the inside of a value filter): path->attr names a sub-attribute of parent. */
typedef int (*query_resolve_fn)(void *ctx, const struct query_path *parent, struct query_path *path,
                                struct err *err);

/* Walks the AST and resolves every path with fn: fn(ctx, NULL, path) for comparisons, PR and
 * the attribute of a VALUE_PATH, then fn(ctx, &vp->path, inner) for each path inside its
 * filter. A comparison (not PR) on a complex attribute without a sub-attribute is read as its
 * "value" sub-attribute (RFC 7644 §3.4.2.2): after fn resolves such a path, path->sub is set
 * to "value" and fn is called again to fill sub_info, so `emails co "@x"` evaluates and
 * compiles as `emails.value co "@x"` (and renders so). A value filter on a resolved attribute
 * that is not QUERY_TYPE_COMPLEX fails with ERR_INVALID_FILTER. 0, or -1 with err (from fn,
 * or ERR_INVALID_FILTER). */
int query_resolve(struct query_node *root, query_resolve_fn fn, void *ctx, struct err *err);

/* Resolves a PATCH path from query_path_parse: fn(ctx, NULL, path), then, when it has a value
 * filter, every path inside with a parent that is `path` without sub and filter (the filter
 * is relative to an element of path->attr even in emails[type eq "work"].value). A value
 * filter on an attribute that is not complex fails with ERR_INVALID_PATH. 0, or -1 with err. */
int query_path_resolve(struct query_path *path, query_resolve_fn fn, void *ctx, struct err *err);

/* Evaluates a resolved filter against a resource document (core attributes at the top
 * level, extension attributes under their URN key, path->ext_urn). Semantics:
 * - Keys are looked up by the canonical name (attr_info->name, else as written) exactly,
 *   then ASCII case-insensitively.
 * - Strings compare ASCII case-insensitively unless caseExact (no Unicode folding, as SQL's
 *   lower() in SQLite); co, sw and ew apply to strings only.
 * - eq/ne compare strings, numbers and booleans of the same type; for a BOOLEAN attribute
 *   (or an unresolved one holding a boolean) the literal strings "true"/"false" in any case
 *   are booleans (Entra: active eq "True").
 * - gt/ge/lt/le: numbers numerically, dateTime attributes as instants (clock_parse_datetime;
 *   false if either side does not parse), other strings by byte order following caseExact;
 *   booleans and null never order. dateTime eq/ne also compare instants when both parse.
 * - pr: some value is not null, not "", not [] and not {}.
 * - "eq null" is true when the attribute is not present (as pr defines it); "ne null" is
 *   pr. Every other operator with null is false.
 * - Multi-valued attributes: a comparison matches if any value does; with a sub-attribute
 *   (emails.value) any element's sub-attribute. "ne" is the negation of "eq": true when no
 *   value equals the literal, including when the attribute is absent.
 * - attr[filter]: some element (or the single value of a complex attribute) matches.
 * Unresolved paths evaluate too, as strings that are not caseExact. False for a NULL root
 * or a doc that is not an object. Never fails, never allocates from an arena. */
bool query_eval(const struct query_node *root, const json_t *doc);

/* Evaluates a value filter (paths relative to one element, as query_path_parse leaves in
 * path->filter after query_path_resolve) against one element of a multi-valued attribute,
 * with query_eval's semantics. PATCH uses it to pick the elements emails[type eq "work"]
 * targets. False when element is not an object. */
bool query_eval_element(const struct query_node *filter, const json_t *element);

/* Renders the AST as an s-expression for tests: (or (eq a 1) (and (eq b "x") (pr c))).
 * Paths print as written: urn:attr.sub; value paths as (vp emails (eq type "work")); strings
 * in double quotes with '"' and '\' escaped (control bytes as \n, \t, \r, \u00XX); integers
 * plainly, other numbers with %g; true, false, null. In arena a; NULL when the arena is
 * exhausted. */
char *query_sexpr(struct arena *a, const struct query_node *root);

/* Renders a path for tests: urn:attr.sub, with a value filter in brackets before the sub:
 * emails[(eq type "work")].value. In arena a; NULL when the arena is exhausted. */
char *query_path_sexpr(struct arena *a, const struct query_path *path);

#endif
