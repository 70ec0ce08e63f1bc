/* The SQLite dialect of the filter compiler (store/sqlgen.c): JSON1 functions over the text
 * document, json_each for multi-valued attributes. */
#include "store/sqlite/sqlite_int.h"

#include <string.h>

/* '$."a"."b"': JSON1's path syntax, names quoted. */
static int
path(char *dst, size_t size, const char *const *names, int n, struct err *err)
{
    size_t len = 1;
    dst[0] = '$';
    for (int i = 0; i < n; i++) {
        size_t m = strlen(names[i]);
        if (len + m + 4 > size)
            return err_set(err, ERR_INVALID_FILTER, "attribute path too long");
        dst[len] = '.';
        dst[len + 1] = '"';
        memcpy(dst + len + 2, names[i], m);
        dst[len + 2 + m] = '"';
        len += m + 3;
    }
    dst[len] = '\0';
    return 0;
}

static int
present_column(struct buf *sql, const char *col, struct err *err)
{
    return buf_printf(sql, err, "(%s IS NOT NULL AND %s <> '')", col, col);
}

/* json_type is NULL for a missing key, 'null' for an explicit null. */
static int
present_path(struct buf *sql, const char *doc, struct err *err)
{
    return buf_printf(sql, err,
                      "(CASE coalesce(json_type(%s, ?), 'null') WHEN 'null' THEN 0"
                      " WHEN 'text' THEN json_extract(%s, ?) <> ''"
                      " WHEN 'object' THEN json_extract(%s, ?) <> '{}'"
                      " WHEN 'array' THEN json_array_length(%s, ?) > 0 ELSE 1 END)",
                      doc, doc, doc, doc);
}

const struct sqlgen_dialect sqlite_dialect = {
    .true_sql = "1",
    .false_sql = "0",
    .path = path,
    .doc_text = "json_extract(r.doc, ?)",
    .doc_typed = "json_extract(r.doc, ?)",
    .elem_text = "json_extract(e.value, ?)",
    .elem_typed = "json_extract(e.value, ?)",
    .self_text = "e.value",
    .self_typed = "e.value",
    .ph_fold = SQLGEN_FOLD_SQLITE("?"),
    .ph_number = "?",
    .ph_bool = "?",
    .contains_open = "(instr(",
    .prefix_open = "substr(",
    .prefix_close = ", 1, length(?))",
    .suffix_open = "substr(",
    .suffix_close = ", -length(?))",
    .length_param = "length(?)",
    .exists_multi = "EXISTS (SELECT 1 FROM json_each(r.doc, ?) AS e WHERE ",
    .exists_single = "EXISTS (SELECT 1 FROM (SELECT json_extract(r.doc, ?) AS value,"
                     " 'object' AS type) AS e WHERE e.value IS NOT NULL AND ",
    .sort_multi = "(SELECT json_extract(e.value, ?) FROM json_each(r.doc, ?) AS e"
                  " ORDER BY json_extract(e.value, '$.primary') DESC LIMIT 1)",
    .present_column = present_column,
    .present_path = present_path,
    .present_path_binds = 4,
    .present_self = "(CASE e.type WHEN 'null' THEN 0 WHEN 'text' THEN e.value <> ''"
                    " WHEN 'object' THEN e.value <> '{}' WHEN 'array' THEN"
                    " e.value <> '[]' ELSE 1 END)",
};
