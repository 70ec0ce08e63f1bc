/* Filter AST → SQLite WHERE fragments (RFC 7644 §3.4.2.2 semantics, matching query_eval).
 * The text is built only from fixed fragments; every value, including JSON paths made from
 * schema names, is a bound parameter, so no request text ever becomes SQL. */
#include "store/sqlite/sqlite_int.h"

#include <string.h>

#include "base/clock.h"
#include "base/str.h"

/* Where an attribute's value lives: a column of the resources table, or a JSON path into
 * the document (r.doc, or e.value inside a json_each over a multi-valued attribute). */
struct operand {
    char expr[96];       /* SQL expression, fixed text */
    char json_path[320]; /* bound path when expr uses it */
    bool has_path;
    const char *doc; /* JSON the path applies to: "r.doc" or "e.value"; NULL for columns */
    bool is_ms;      /* column holds epoch ms: compare against parsed dateTime */
    enum query_attr_type type;
    bool case_exact;
};

static int
bind_add(struct sql_binds *b, struct sql_bind v, struct err *err)
{
    if (b->n >= (int)(sizeof(b->v) / sizeof(b->v[0])))
        return err_set(err, ERR_INVALID_FILTER, "filter has too many values");
    b->v[b->n++] = v;
    return 0;
}

static int
bind_text(struct sql_binds *b, const char *t, struct err *err)
{
    return bind_add(b, (struct sql_bind){ .type = BIND_TEXT, .text = t }, err);
}

/* Appends `."name"` to a JSON path; schema names never contain quotes. */
static int
path_push(char *path, size_t size, const char *name, struct err *err)
{
    size_t n = strlen(path), m = strlen(name);
    if (n + m + 4 > size || strchr(name, '"'))
        return err_set(err, ERR_INVALID_FILTER, "attribute path too long");
    path[n] = '.';
    path[n + 1] = '"';
    memcpy(path + n + 2, name, m);
    path[n + 2 + m] = '"';
    path[n + 3 + m] = '\0';
    return 0;
}

static bool
is_meta(const struct query_path *p, const char *sub)
{
    return p->ext_urn == NULL && p->attr_info && strcmp(p->attr_info->name, "meta") == 0 &&
           p->sub_info && strcmp(p->sub_info->name, sub) == 0;
}

/* The column for a top-level single-valued attribute, or NULL to use the JSON document. */
static const char *
column_of(const struct query_path *p)
{
    if (p->ext_urn || p->attr_info == NULL)
        return NULL;
    const char *n = p->attr_info->name;
    if (p->sub_info == NULL) {
        if (strcmp(n, "id") == 0)
            return "r.id";
        if (strcmp(n, "userName") == 0)
            return "r.user_name";
        if (strcmp(n, "externalId") == 0)
            return "r.external_id";
        if (strcmp(n, "displayName") == 0)
            return "r.display_name";
        if (strcmp(n, "active") == 0)
            return "r.active";
        return NULL;
    }
    if (is_meta(p, "lastModified"))
        return "r.modified_ms";
    if (is_meta(p, "created"))
        return "r.created_ms";
    return NULL;
}

/* Operand of a single-valued top-level path. */
static int
operand_top(const struct query_path *p, struct operand *o, struct err *err)
{
    *o = (struct operand){ 0 };
    const struct query_attr_info *leaf = p->sub_info ? p->sub_info : p->attr_info;
    o->type = leaf->type;
    o->case_exact = leaf->case_exact;
    const char *col = column_of(p);
    if (col) {
        str_copy(o->expr, sizeof(o->expr), col);
        o->is_ms = p->sub_info != NULL; /* meta.created / meta.lastModified */
        return 0;
    }
    if (p->ext_urn == NULL && strcmp(p->attr_info->name, "meta") == 0)
        return err_set(err, ERR_INVALID_FILTER, "meta.%s cannot be filtered",
                       p->sub_info ? p->sub_info->name : "");
    str_copy(o->json_path, sizeof(o->json_path), "$");
    if ((p->ext_urn && path_push(o->json_path, sizeof(o->json_path), p->ext_urn, err) < 0) ||
        path_push(o->json_path, sizeof(o->json_path), p->attr_info->name, err) < 0 ||
        (p->sub_info && path_push(o->json_path, sizeof(o->json_path), p->sub_info->name, err) < 0))
        return -1;
    str_copy(o->expr, sizeof(o->expr), "json_extract(r.doc, ?)");
    o->has_path = true;
    o->doc = "r.doc";
    return 0;
}

/* Operand of an element of a multi-valued attribute inside json_each (alias e). */
static int
operand_elem(const struct query_attr_info *sub, struct operand *o, struct err *err)
{
    *o = (struct operand){ 0 };
    if (sub == NULL) {
        str_copy(o->expr, sizeof(o->expr), "e.value");
        o->doc = "e";
        return 0;
    }
    o->type = sub->type;
    o->case_exact = sub->case_exact;
    str_copy(o->json_path, sizeof(o->json_path), "$");
    if (path_push(o->json_path, sizeof(o->json_path), sub->name, err) < 0)
        return -1;
    str_copy(o->expr, sizeof(o->expr), "json_extract(e.value, ?)");
    o->has_path = true;
    o->doc = "e.value";
    return 0;
}

/* Appends the operand expression (binding its path), lower-cased when case-insensitive. */
static int
emit_operand(struct buf *sql, struct sql_binds *b, const struct operand *o, struct err *err)
{
    bool fold = o->type == QUERY_TYPE_STRING && !o->case_exact;
    if (fold && buf_append_cstr(sql, "lower(", err) < 0)
        return -1;
    if (buf_append_cstr(sql, o->expr, err) < 0)
        return -1;
    if (o->has_path && sqlite_binds_keep(b, o->json_path, err) < 0)
        return -1;
    return fold ? buf_append_cstr(sql, ")", err) : 0;
}

static const char *
value_placeholder(const struct operand *o)
{
    return o->type == QUERY_TYPE_STRING && !o->case_exact ? "lower(?)" : "?";
}

static bool
bool_literal(const struct query_value *v, bool *out)
{
    if (v->type == QUERY_VAL_BOOL) {
        *out = v->boolean;
        return true;
    }
    /* Entra sends booleans as "True"/"False" strings, in filters too. */
    if (v->type == QUERY_VAL_STRING &&
        (cstr_ieq(v->string, "true") || cstr_ieq(v->string, "false"))) {
        *out = cstr_ieq(v->string, "true");
        return true;
    }
    return false;
}

static int
bind_value(struct sql_binds *b, const struct operand *o, const struct query_value *v,
           struct err *err)
{
    bool flag;
    if (o->is_ms) {
        int64_t ms;
        if (v->type != QUERY_VAL_STRING || !clock_parse_datetime(v->string, &ms))
            return err_set(err, ERR_INVALID_FILTER, "a dateTime value is expected for meta");
        return bind_add(b, (struct sql_bind){ .type = BIND_INT, .i = ms }, err);
    }
    if (o->type == QUERY_TYPE_BOOLEAN && bool_literal(v, &flag))
        return bind_add(b, (struct sql_bind){ .type = BIND_INT, .i = flag }, err);
    switch (v->type) {
    case QUERY_VAL_STRING:
        return bind_text(b, v->string, err);
    case QUERY_VAL_BOOL:
        return bind_add(b, (struct sql_bind){ .type = BIND_INT, .i = v->boolean }, err);
    case QUERY_VAL_NUMBER:
        if (v->is_integer)
            return bind_add(b, (struct sql_bind){ .type = BIND_INT, .i = v->integer }, err);
        return bind_add(b, (struct sql_bind){ .type = BIND_REAL, .r = v->number }, err);
    case QUERY_VAL_NULL:
        break;
    }
    return bind_add(b, (struct sql_bind){ .type = BIND_NULL }, err);
}

/* "Present" as query_eval defines it: not null, not "", not [] and not {}. */
static int
emit_present(struct buf *sql, struct sql_binds *b, const struct operand *o, struct err *err)
{
    if (o->doc == NULL) /* a column: NULL or text */
        return buf_printf(sql, err, "(%s IS NOT NULL AND %s <> '')", o->expr, o->expr);
    if (strcmp(o->doc, "e") == 0) /* an element of json_each itself */
        return buf_append_cstr(sql,
                               "(CASE e.type WHEN 'null' THEN 0 WHEN 'text' THEN e.value <> ''"
                               " WHEN 'object' THEN e.value <> '{}' WHEN 'array' THEN"
                               " e.value <> '[]' ELSE 1 END)",
                               err);
    /* json_type is NULL for a missing key, 'null' for an explicit null. */
    if (buf_printf(sql, err,
                   "(CASE coalesce(json_type(%s, ?), 'null') WHEN 'null' THEN 0"
                   " WHEN 'text' THEN json_extract(%s, ?) <> ''"
                   " WHEN 'object' THEN json_extract(%s, ?) <> '{}'"
                   " WHEN 'array' THEN json_array_length(%s, ?) > 0 ELSE 1 END)",
                   o->doc, o->doc, o->doc, o->doc) < 0)
        return -1;
    for (int i = 0; i < 4; i++)
        if (sqlite_binds_keep(b, o->json_path, err) < 0)
            return -1;
    return 0;
}

/* query_eval compares values of the same type only: a number never equals a boolean or a
 * string. The schema gives the attribute's type, so a mismatch is decided here, statically. */
static bool
literal_fits(const struct operand *o, const struct query_value *v)
{
    bool flag;
    if (o->is_ms)
        return v->type == QUERY_VAL_STRING;
    switch (o->type) {
    case QUERY_TYPE_BOOLEAN:
        return bool_literal(v, &flag);
    case QUERY_TYPE_INTEGER:
    case QUERY_TYPE_DECIMAL:
        return v->type == QUERY_VAL_NUMBER;
    case QUERY_TYPE_COMPLEX:
    case QUERY_TYPE_UNKNOWN:
        return true;
    default: /* string, reference, binary, dateTime */
        return v->type == QUERY_VAL_STRING;
    }
}

/* One comparison of operand o. The text shapes mirror query_eval's rules. */
static int
emit_compare(struct buf *sql, struct sql_binds *b, const struct operand *o,
             const struct query_node *n, struct err *err)
{
    const struct query_value *v = &n->value;
    const char *ph = value_placeholder(o);
    if (n->kind == QUERY_PR)
        return emit_present(sql, b, o, err);
    if (v->type == QUERY_VAL_NULL) {
        /* "eq null" asks for absence, "ne null" for presence; other operators never match. */
        if (n->kind == QUERY_NE)
            return emit_present(sql, b, o, err);
        if (n->kind != QUERY_EQ)
            return buf_append_cstr(sql, "0", err);
        if (buf_append_cstr(sql, "NOT ", err) < 0)
            return -1;
        return emit_present(sql, b, o, err);
    }
    if (n->kind == QUERY_NE) {
        /* ne is the negation of eq, so an absent value is "not equal" (query_eval's rule). */
        struct query_node eq = *n;
        eq.kind = QUERY_EQ;
        if (buf_append_cstr(sql, "NOT coalesce(", err) < 0 || emit_compare(sql, b, o, &eq, err) < 0)
            return -1;
        return buf_append_cstr(sql, ", 0)", err);
    }
    if (!literal_fits(o, v))
        return buf_append_cstr(sql, "0", err);
    bool is_string = v->type == QUERY_VAL_STRING && !o->is_ms && !(o->type == QUERY_TYPE_BOOLEAN);
    switch (n->kind) {
    case QUERY_EQ:
    case QUERY_GT:
    case QUERY_GE:
    case QUERY_LT:
    case QUERY_LE: {
        static const char *const ops[] = {
            [QUERY_EQ] = " = ", [QUERY_GT] = " > ",  [QUERY_GE] = " >= ",
            [QUERY_LT] = " < ", [QUERY_LE] = " <= ",
        };
        if (n->kind != QUERY_EQ && o->type == QUERY_TYPE_BOOLEAN)
            return buf_append_cstr(sql, "0", err);
        if (buf_append_cstr(sql, "(", err) < 0 || emit_operand(sql, b, o, err) < 0 ||
            buf_append_cstr(sql, ops[n->kind], err) < 0 ||
            buf_append_cstr(sql, o->is_ms ? "?" : ph, err) < 0 || bind_value(b, o, v, err) < 0)
            return -1;
        return buf_append_cstr(sql, ")", err);
    }
    case QUERY_CO:
    case QUERY_SW:
    case QUERY_EW:
        if (!is_string)
            return buf_append_cstr(sql, "0", err);
        if (n->kind == QUERY_CO) {
            if (buf_append_cstr(sql, "(instr(", err) < 0 || emit_operand(sql, b, o, err) < 0 ||
                buf_printf(sql, err, ", %s) > 0)", ph) < 0 || bind_text(b, v->string, err) < 0)
                return -1;
            return 0;
        }
        if (n->kind == QUERY_SW) {
            if (buf_append_cstr(sql, "(substr(", err) < 0 || emit_operand(sql, b, o, err) < 0 ||
                buf_printf(sql, err, ", 1, length(?)) = %s)", ph) < 0 ||
                bind_text(b, v->string, err) < 0 || bind_text(b, v->string, err) < 0)
                return -1;
            return 0;
        }
        if (buf_append_cstr(sql, "(", err) < 0 || emit_operand(sql, b, o, err) < 0 ||
            buf_append_cstr(sql, " IS NOT NULL AND (length(?) = 0 OR substr(", err) < 0 ||
            bind_text(b, v->string, err) < 0 || emit_operand(sql, b, o, err) < 0 ||
            buf_printf(sql, err, ", -length(?)) = %s))", ph) < 0 ||
            bind_text(b, v->string, err) < 0 || bind_text(b, v->string, err) < 0)
            return -1;
        return 0;
    default:
        return err_set(err, ERR_INTERNAL, "unexpected filter node");
    }
}

static int compile(struct buf *sql, struct sql_binds *b, const struct query_node *n, bool in_elem,
                   struct err *err);

/* "Some element of the multi-valued attribute satisfies `inner`". */
static int
emit_exists(struct buf *sql, struct sql_binds *b, const struct query_path *p,
            const struct query_node *inner_filter, const struct query_node *leaf, struct err *err)
{
    char path[320] = "$";
    if ((p->ext_urn && path_push(path, sizeof(path), p->ext_urn, err) < 0) ||
        path_push(path, sizeof(path), p->attr_info->name, err) < 0)
        return -1;
    /* The path comes first in the text, so it is bound before the inner operands. A
     * single-valued complex attribute (name[givenName eq "x"]) is its one element. */
    const char *from = p->attr_info->multi_valued
                           ? "EXISTS (SELECT 1 FROM json_each(r.doc, ?) AS e WHERE "
                           : "EXISTS (SELECT 1 FROM (SELECT json_extract(r.doc, ?) AS value,"
                             " 'object' AS type) AS e WHERE e.value IS NOT NULL AND ";
    if (buf_append_cstr(sql, from, err) < 0 || sqlite_binds_keep(b, path, err) < 0)
        return -1;
    if (inner_filter) {
        if (compile(sql, b, inner_filter, true, err) < 0)
            return -1;
    } else {
        struct operand o;
        if (operand_elem(p->sub_info, &o, err) < 0)
            return -1;
        if (p->sub_info == NULL) {
            o.type = p->attr_info->type;
            o.case_exact = p->attr_info->case_exact;
        }
        if (emit_compare(sql, b, &o, leaf, err) < 0)
            return -1;
    }
    return buf_append_cstr(sql, ")", err);
}

static int
compile_leaf(struct buf *sql, struct sql_binds *b, const struct query_node *n, bool in_elem,
             struct err *err)
{
    const struct query_path *p = &n->path;
    struct operand o;
    if (p->attr_info == NULL)
        return err_set(err, ERR_INTERNAL, "filter not resolved");
    if (in_elem) {
        if (operand_elem(p->attr_info, &o, err) < 0)
            return -1;
        return emit_compare(sql, b, &o, n, err);
    }
    if (p->attr_info->multi_valued) {
        if (n->kind != QUERY_PR && n->value.type == QUERY_VAL_NULL) {
            /* eq null: no element is present; ne null: some element is (query_eval's rule). */
            struct query_node pr = *n;
            pr.kind = QUERY_PR;
            if (n->kind != QUERY_EQ && n->kind != QUERY_NE)
                return buf_append_cstr(sql, "0", err);
            if (n->kind == QUERY_EQ && buf_append_cstr(sql, "NOT ", err) < 0)
                return -1;
            return emit_exists(sql, b, p, NULL, &pr, err);
        }
        if (n->kind == QUERY_NE) {
            /* ne on a multi-valued attribute: no element is equal. */
            struct query_node eq = *n;
            eq.kind = QUERY_EQ;
            if (buf_append_cstr(sql, "NOT ", err) < 0)
                return -1;
            return emit_exists(sql, b, p, NULL, &eq, err);
        }
        return emit_exists(sql, b, p, NULL, n, err);
    }
    if (operand_top(p, &o, err) < 0)
        return -1;
    if (o.is_ms && n->kind == QUERY_PR)
        return buf_append_cstr(sql, "1", err);
    return emit_compare(sql, b, &o, n, err);
}

static int
compile(struct buf *sql, struct sql_binds *b, const struct query_node *n, bool in_elem,
        struct err *err)
{
    switch (n->kind) {
    case QUERY_AND:
    case QUERY_OR:
        if (buf_append_cstr(sql, "(", err) < 0 || compile(sql, b, n->left, in_elem, err) < 0 ||
            buf_append_cstr(sql, n->kind == QUERY_AND ? " AND " : " OR ", err) < 0 ||
            compile(sql, b, n->right, in_elem, err) < 0)
            return -1;
        return buf_append_cstr(sql, ")", err);
    case QUERY_NOT:
        if (buf_append_cstr(sql, "NOT coalesce(", err) < 0 ||
            compile(sql, b, n->left, in_elem, err) < 0)
            return -1;
        return buf_append_cstr(sql, ", 0)", err);
    case QUERY_VALUE_PATH:
        if (in_elem)
            return err_set(err, ERR_INVALID_FILTER, "value filters cannot be nested");
        return emit_exists(sql, b, &n->path, n->left, NULL, err);
    default:
        return compile_leaf(sql, b, n, in_elem, err);
    }
}

int
sqlite_binds_keep(struct sql_binds *b, const char *text, struct err *err)
{
    size_t n = strlen(text) + 1;
    if (b->pool_used + n > sizeof(b->pool))
        return err_set(err, ERR_INVALID_FILTER, "filter is too complex");
    char *copy = b->pool + b->pool_used;
    memcpy(copy, text, n);
    b->pool_used += n;
    return bind_text(b, copy, err);
}

int
sqlite_sql_filter(struct buf *sql, struct sql_binds *binds, const struct query_node *n,
                  struct err *err)
{
    return compile(sql, binds, n, false, err);
}

int
sqlite_sql_sort_expr(struct buf *sql, const struct query_path *p, struct sql_binds *binds,
                     struct err *err)
{
    struct operand o;
    if (p->attr_info == NULL)
        return err_set(err, ERR_INTERNAL, "sort path not resolved");
    if (p->attr_info->multi_valued) {
        /* RFC 7644 §3.4.2.3: multi-valued attributes sort by their primary value, or the first. */
        char path[320] = "$";
        if ((p->ext_urn && path_push(path, sizeof(path), p->ext_urn, err) < 0) ||
            path_push(path, sizeof(path), p->attr_info->name, err) < 0 ||
            buf_append_cstr(sql,
                            "(SELECT json_extract(e.value, ?) FROM json_each(r.doc, ?) AS e"
                            " ORDER BY json_extract(e.value, '$.primary') DESC LIMIT 1)",
                            err) < 0)
            return -1;
        char sub[64] = "$";
        if (path_push(sub, sizeof(sub), p->sub_info ? p->sub_info->name : "value", err) < 0)
            return -1;
        if (sqlite_binds_keep(binds, sub, err) < 0 || sqlite_binds_keep(binds, path, err) < 0)
            return -1;
        return 0;
    }
    if (operand_top(p, &o, err) < 0)
        return -1;
    if (o.has_path && sqlite_binds_keep(binds, o.json_path, err) < 0)
        return -1;
    bool fold = o.type == QUERY_TYPE_STRING && !o.case_exact;
    return buf_printf(sql, err, fold ? "lower(%s)" : "%s", o.expr);
}
