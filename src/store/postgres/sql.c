/* The PostgreSQL dialect of the filter compiler (store/sqlgen.c): jsonb path operators over
 * resources.doc, jsonb_array_elements for multi-valued attributes. Text taken out of the
 * document is COLLATE "C", like the text columns, so comparisons, sorting and lower() are
 * those of SQLite (byte order, ASCII case folding) whatever the database's locale. */
#include "store/postgres/postgres_int.h"

#include <string.h>

/* '{"a","b"}': a text[] literal, each name quoted (URNs hold ':' and '.'). */
static int
path(char *dst, size_t size, const char *const *names, int n, struct err *err)
{
    size_t len = 1;
    dst[0] = '{';
    for (int i = 0; i < n; i++) {
        size_t m = strlen(names[i]);
        if (len + m + 5 > size)
            return err_set(err, ERR_INVALID_FILTER, "attribute path too long");
        if (i > 0)
            dst[len++] = ',';
        dst[len] = '"';
        memcpy(dst + len + 1, names[i], m);
        dst[len + 1 + m] = '"';
        len += m + 2;
    }
    dst[len] = '}';
    dst[len + 1] = '\0';
    return 0;
}

static int
present_column(struct buf *sql, const char *col, struct err *err)
{
    return buf_printf(sql, err, "(%s IS NOT NULL AND %s::text <> '')", col, col);
}

/* One bound path: the value is taken once in a sub-select. A missing key is SQL NULL. */
static int
present_path(struct buf *sql, const char *doc, struct err *err)
{
    return buf_printf(sql, err,
                      "(SELECT CASE coalesce(jsonb_typeof(v), 'null') WHEN 'null' THEN false"
                      " WHEN 'string' THEN v <> '\"\"'::jsonb WHEN 'object' THEN v <> '{}'::jsonb"
                      " WHEN 'array' THEN v <> '[]'::jsonb ELSE true END"
                      " FROM (SELECT %s #> ?::text[] AS v) AS p)",
                      doc);
}

/* The elements of the array at a bound path of r.doc; none when the value is not an array. */
#define ELEMENTS                                   \
    " FROM (SELECT r.doc #> ?::text[] AS a) AS p," \
    " jsonb_array_elements(CASE jsonb_typeof(p.a) WHEN 'array' THEN p.a END)"

const struct sqlgen_dialect pg_dialect = {
    .true_sql = "true",
    .false_sql = "false",
    .path = path,
    .doc_text = "((r.doc #>> ?::text[]) COLLATE \"C\")",
    .doc_typed = "(r.doc #> ?::text[])",
    .elem_text = "((e.value #>> ?::text[]) COLLATE \"C\")",
    .elem_typed = "(e.value #> ?::text[])",
    .self_text = "((e.value #>> '{}') COLLATE \"C\")",
    .self_typed = "e.value",
    .ph_fold = SQLGEN_FOLD_PG("?"),
    .ph_number = "to_jsonb(?::numeric)",
    .ph_bool = "to_jsonb(?::boolean)",
    .contains_open = "(strpos(",
    .prefix_open = "left(",
    .prefix_close = ", length(?::text))",
    .suffix_open = "right(",
    .suffix_close = ", length(?::text))",
    .length_param = "length(?::text)",
    .exists_multi = "EXISTS (SELECT 1" ELEMENTS " AS e(value) WHERE ",
    .exists_single = "EXISTS (SELECT 1 FROM (SELECT r.doc #> ?::text[] AS value) AS e"
                     " WHERE coalesce(jsonb_typeof(e.value), 'null') <> 'null' AND ",
    .sort_multi =
        "(SELECT (e.value #>> ?::text[]) COLLATE \"C\"" ELEMENTS " WITH ORDINALITY AS e(value, i)"
        " ORDER BY coalesce(e.value -> 'primary' = 'true'::jsonb, false) DESC, e.i"
        " LIMIT 1)",
    .present_column = present_column,
    .present_path = present_path,
    .present_path_binds = 1,
    .present_self = "(CASE jsonb_typeof(e.value) WHEN 'null' THEN false"
                    " WHEN 'string' THEN e.value <> '\"\"'::jsonb"
                    " WHEN 'object' THEN e.value <> '{}'::jsonb"
                    " WHEN 'array' THEN e.value <> '[]'::jsonb ELSE true END)",
};
