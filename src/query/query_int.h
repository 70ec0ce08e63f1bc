#ifndef SCIMD_QUERY_QUERY_INT_H
#define SCIMD_QUERY_QUERY_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "base/err.h"
#include "query/query.h"

/* The recursive-descent parser of filter.c, shared with path.c: a PATCH path is an attribute
 * path with an optional value filter, and that filter uses the filter grammar. */
struct query_parser {
    struct arena *arena;
    const char *text; /* NUL-terminated; len bytes long */
    size_t len;
    size_t pos;         /* next byte to read */
    enum err_code code; /* ERR_INVALID_FILTER or ERR_INVALID_PATH */
    const char *what;   /* "filter" or "path", as error details name the input */
    int depth;          /* open parentheses, "not"s and value filters */
    int nodes;          /* query_node structs made so far */
    struct err *err;
};

/* Prepares p to read text (len bytes, already checked against the caller's byte limit).
 * Errors are reported with `code`, naming the input `what`. */
void query_parser_init(struct query_parser *p, struct arena *a, const char *text, size_t len,
                       enum err_code code, const char *what, struct err *err);

/* Reads an absolute attribute path ([urn ":"] attr ["." sub]) into *out. 0, or -1 with err. */
int query_parser_attr_path(struct query_parser *p, struct query_path *out);

/* True when the next token (after blanks) is "[". */
bool query_parser_at_bracket(struct query_parser *p);

/* Reads "[" valFilter "]" and returns the inner filter, whose paths are relative to the
 * element. NULL with err on error. */
struct query_node *query_parser_value_filter(struct query_parser *p);

/* Reads "." subAttr directly after "]" into *sub (arena). 0, or -1 with err. */
int query_parser_sub_attr(struct query_parser *p, const char **sub);

/* Succeeds only at the end of the input; otherwise reports what was `expected`. */
int query_parser_expect_end(struct query_parser *p, const char *expected);

#endif
