#include "query/query.h"

#include <string.h>

#include "base/limits.h"
#include "query/query_int.h"

/* RFC 7644 §3.5.2: PATH = attrPath / valuePath [subAttr]. The value filter uses the filter
 * grammar with paths relative to an element, so the parser of filter.c reads it. */
int
query_path_parse(struct arena *a, const char *text, struct query_path *out, struct err *err)
{
    struct query_parser p;
    struct query_path path = { 0 };

    *out = (struct query_path){ 0 };
    if (text == NULL)
        return err_set(err, ERR_INVALID_PATH, "missing path");
    size_t len = strnlen(text, (size_t)LIMIT_PATH_BYTES + 1);
    if (len > LIMIT_PATH_BYTES)
        return err_set(err, ERR_INVALID_PATH, "path is longer than %d bytes", LIMIT_PATH_BYTES);
    query_parser_init(&p, a, text, len, ERR_INVALID_PATH, "path", err);
    if (query_parser_attr_path(&p, &path) < 0)
        return -1;
    const char *expected = path.sub ? "end of path" : "\"[\" or end of path";
    if (path.sub == NULL && query_parser_at_bracket(&p)) {
        path.filter = query_parser_value_filter(&p);
        if (path.filter == NULL)
            return -1;
        if (p.pos < p.len && p.text[p.pos] == '.' && query_parser_sub_attr(&p, &path.sub) < 0)
            return -1;
        expected = path.sub ? "end of path" : "\".\" or end of path";
    }
    if (query_parser_expect_end(&p, expected) < 0)
        return -1;
    *out = path;
    return 0;
}
