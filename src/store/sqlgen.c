/* Filter AST → SQL WHERE fragments for every SQL backend; a backend supplies its dialect
 * (sqlgen.h). The shapes mirror query_eval's rules, so a filter selects in SQL exactly what
 * it would select in memory. */
#include "store/sqlgen.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/str.h"
#include "base/xmalloc.h"

#define PATH_MAX_NAMES 3
#define PATH_BYTES     320

/* Where an attribute's value lives: a column of the resources table, or a JSON path into
 * the document (r.doc, or the element e of a multi-valued attribute). */
struct operand {
    const char *expr;           /* SQL expression, fixed text */
    char json_path[PATH_BYTES]; /* bound path when expr uses it */
    bool has_path;
    const char *doc; /* JSON the path applies to: "r.doc" or "e.value"; "e" for the element
                        itself; NULL for columns */
    bool is_ms;      /* column holds epoch ms: compare against parsed dateTime */
    enum query_attr_type type;
    bool case_exact;
};

static bool
is_typed(enum query_attr_type t)
{
    return t == QUERY_TYPE_BOOLEAN || t == QUERY_TYPE_INTEGER || t == QUERY_TYPE_DECIMAL;
}

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

/* The JSON path of [urn.]attr[.sub] in the dialect's syntax; schema names never contain
 * quotes. */
static int
json_path(const struct sqlgen_dialect *d, char *dst, size_t size, const char *urn, const char *attr,
          const char *sub, struct err *err)
{
    const char *names[PATH_MAX_NAMES];
    int n = 0;
    if (urn)
        names[n++] = urn;
    if (attr)
        names[n++] = attr;
    if (sub)
        names[n++] = sub;
    for (int i = 0; i < n; i++)
        if (strchr(names[i], '"') || strchr(names[i], '\\'))
            return err_set(err, ERR_INVALID_FILTER, "attribute path cannot be expressed");
    return d->path(dst, size, names, n, err);
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
operand_top(const struct sqlgen_dialect *d, const struct query_path *p, struct operand *o,
            struct err *err)
{
    *o = (struct operand){ 0 };
    const struct query_attr_info *leaf = p->sub_info ? p->sub_info : p->attr_info;
    o->type = leaf->type;
    o->case_exact = leaf->case_exact;
    const char *col = column_of(p);
    if (col) {
        o->expr = col;
        o->is_ms = p->sub_info != NULL; /* meta.created / meta.lastModified */
        return 0;
    }
    if (p->ext_urn == NULL && strcmp(p->attr_info->name, "meta") == 0)
        return err_set(err, ERR_INVALID_FILTER, "meta.%s cannot be filtered",
                       p->sub_info ? p->sub_info->name : "");
    if (json_path(d, o->json_path, sizeof(o->json_path), p->ext_urn, p->attr_info->name,
                  p->sub_info ? p->sub_info->name : NULL, err) < 0)
        return -1;
    o->expr = is_typed(o->type) ? d->doc_typed : d->doc_text;
    o->has_path = true;
    o->doc = "r.doc";
    return 0;
}

/* Operand of an element of a multi-valued attribute (alias e): its sub-attribute, or the
 * element itself when sub is NULL (type then set by the caller). */
static int
operand_elem(const struct sqlgen_dialect *d, const struct query_attr_info *sub,
             enum query_attr_type self_type, struct operand *o, struct err *err)
{
    *o = (struct operand){ 0 };
    if (sub == NULL) {
        o->type = self_type;
        o->expr = is_typed(self_type) ? d->self_typed : d->self_text;
        o->doc = "e";
        return 0;
    }
    o->type = sub->type;
    o->case_exact = sub->case_exact;
    if (json_path(d, o->json_path, sizeof(o->json_path), NULL, sub->name, NULL, err) < 0)
        return -1;
    o->expr = is_typed(o->type) ? d->elem_typed : d->elem_text;
    o->has_path = true;
    o->doc = "e.value";
    return 0;
}

static bool
folds(const struct operand *o)
{
    return o->type == QUERY_TYPE_STRING && !o->case_exact;
}

/* Appends the operand expression (binding its path), lower-cased when case-insensitive. */
static int
emit_operand(struct buf *sql, struct sql_binds *b, const struct operand *o, struct err *err)
{
    if (folds(o) && buf_append_cstr(sql, "lower(", err) < 0)
        return -1;
    if (buf_append_cstr(sql, o->expr, err) < 0)
        return -1;
    if (o->has_path && sqlgen_binds_keep(b, o->json_path, err) < 0)
        return -1;
    return folds(o) ? buf_append_cstr(sql, ")", err) : 0;
}

static const char *
value_placeholder(const struct sqlgen_dialect *d, const struct operand *o)
{
    if (folds(o))
        return d->ph_fold;
    if (o->doc == NULL || o->is_ms)
        return "?"; /* a column of its own type */
    if (o->type == QUERY_TYPE_BOOLEAN)
        return d->ph_bool;
    if (o->type == QUERY_TYPE_INTEGER || o->type == QUERY_TYPE_DECIMAL)
        return d->ph_number;
    return "?";
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
            return err_set(err, ERR_INVALID_FILTER, "a dateTime value is expected for meta.%s",
                           strcmp(o->expr, "r.created_ms") == 0 ? "created" : "lastModified");
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
emit_present(const struct sqlgen_dialect *d, struct buf *sql, struct sql_binds *b,
             const struct operand *o, struct err *err)
{
    if (o->doc == NULL)
        return d->present_column(sql, o->expr, err);
    if (strcmp(o->doc, "e") == 0)
        return buf_append_cstr(sql, d->present_self, err);
    if (d->present_path(sql, o->doc, err) < 0)
        return -1;
    for (int i = 0; i < d->present_path_binds; i++)
        if (sqlgen_binds_keep(b, o->json_path, err) < 0)
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

/* co, sw, ew on a string operand. */
static int
emit_substring(const struct sqlgen_dialect *d, struct buf *sql, struct sql_binds *b,
               const struct operand *o, const struct query_node *n, const char *ph, struct err *err)
{
    const char *s = n->value.string;
    if (n->kind == QUERY_CO) {
        if (buf_append_cstr(sql, d->contains_open, err) < 0 || emit_operand(sql, b, o, err) < 0 ||
            buf_printf(sql, err, ", %s) > 0)", ph) < 0 || bind_text(b, s, err) < 0)
            return -1;
        return 0;
    }
    if (n->kind == QUERY_SW) {
        if (buf_append_cstr(sql, "(", err) < 0 || buf_append_cstr(sql, d->prefix_open, err) < 0 ||
            emit_operand(sql, b, o, err) < 0 || buf_append_cstr(sql, d->prefix_close, err) < 0 ||
            buf_printf(sql, err, " = %s)", ph) < 0 || bind_text(b, s, err) < 0 ||
            bind_text(b, s, err) < 0)
            return -1;
        return 0;
    }
    if (buf_append_cstr(sql, "(", err) < 0 || emit_operand(sql, b, o, err) < 0 ||
        buf_printf(sql, err, " IS NOT NULL AND (%s = 0 OR ", d->length_param) < 0 ||
        bind_text(b, s, err) < 0 || buf_append_cstr(sql, d->suffix_open, err) < 0 ||
        emit_operand(sql, b, o, err) < 0 || buf_append_cstr(sql, d->suffix_close, err) < 0 ||
        buf_printf(sql, err, " = %s))", ph) < 0 || bind_text(b, s, err) < 0 ||
        bind_text(b, s, err) < 0)
        return -1;
    return 0;
}

/* One comparison of operand o. The text shapes mirror query_eval's rules. */
static int
emit_compare(const struct sqlgen_dialect *d, struct buf *sql, struct sql_binds *b,
             const struct operand *o, const struct query_node *n, struct err *err)
{
    const struct query_value *v = &n->value;
    const char *ph = value_placeholder(d, o);
    if (n->kind == QUERY_PR)
        return emit_present(d, sql, b, o, err);
    if (v->type == QUERY_VAL_NULL) {
        /* "eq null" asks for absence, "ne null" for presence; other operators never match. */
        if (n->kind == QUERY_NE)
            return emit_present(d, sql, b, o, err);
        if (n->kind != QUERY_EQ)
            return buf_append_cstr(sql, d->false_sql, err);
        if (buf_append_cstr(sql, "NOT ", err) < 0)
            return -1;
        return emit_present(d, sql, b, o, err);
    }
    if (n->kind == QUERY_NE) {
        /* ne is the negation of eq, so an absent value is "not equal" (query_eval's rule). */
        struct query_node eq = *n;
        eq.kind = QUERY_EQ;
        if (buf_append_cstr(sql, "NOT coalesce(", err) < 0 ||
            emit_compare(d, sql, b, o, &eq, err) < 0)
            return -1;
        return buf_printf(sql, err, ", %s)", d->false_sql);
    }
    if (!literal_fits(o, v))
        return buf_append_cstr(sql, d->false_sql, err);
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
            return buf_append_cstr(sql, d->false_sql, err);
        if (buf_append_cstr(sql, "(", err) < 0 || emit_operand(sql, b, o, err) < 0 ||
            buf_append_cstr(sql, ops[n->kind], err) < 0 || buf_append_cstr(sql, ph, err) < 0 ||
            bind_value(b, o, v, err) < 0)
            return -1;
        return buf_append_cstr(sql, ")", err);
    }
    case QUERY_CO:
    case QUERY_SW:
    case QUERY_EW:
        if (!is_string)
            return buf_append_cstr(sql, d->false_sql, err);
        return emit_substring(d, sql, b, o, n, ph, err);
    default:
        return err_set(err, ERR_INTERNAL, "unexpected filter node");
    }
}

static int compile(const struct sqlgen_dialect *d, struct buf *sql, struct sql_binds *b,
                   const struct query_node *n, bool in_elem, struct err *err);

/* "Some element of the multi-valued attribute satisfies `inner`". */
static int
emit_exists(const struct sqlgen_dialect *d, struct buf *sql, struct sql_binds *b,
            const struct query_path *p, const struct query_node *inner_filter,
            const struct query_node *leaf, struct err *err)
{
    char path[PATH_BYTES];
    if (json_path(d, path, sizeof(path), p->ext_urn, p->attr_info->name, NULL, err) < 0)
        return -1;
    /* The path comes first in the text, so it is bound before the inner operands. A
     * single-valued complex attribute (name[givenName eq "x"]) is its one element. */
    const char *from = p->attr_info->multi_valued ? d->exists_multi : d->exists_single;
    if (buf_append_cstr(sql, from, err) < 0 || sqlgen_binds_keep(b, path, err) < 0)
        return -1;
    if (inner_filter) {
        if (compile(d, sql, b, inner_filter, true, err) < 0)
            return -1;
    } else {
        struct operand o;
        if (operand_elem(d, p->sub_info, p->attr_info->type, &o, err) < 0)
            return -1;
        if (p->sub_info == NULL)
            o.case_exact = p->attr_info->case_exact;
        if (emit_compare(d, sql, b, &o, leaf, err) < 0)
            return -1;
    }
    return buf_append_cstr(sql, ")", err);
}

/* Group membership lives in rows, not in documents (DESIGN.md "Storage model"): a Group's
 * "members" and a User's derived "groups" are filtered through the members table. Entra
 * checks membership with `members eq "id"` / `members[value eq "id"]`. */
static const char *
membership_sql(const struct query_path *p)
{
    if (p->ext_urn || p->attr_info == NULL)
        return NULL;
    if (strcmp(p->attr_info->name, "members") == 0)
        return "EXISTS (SELECT 1 FROM members m WHERE m.tenant_id = r.tenant_id"
               " AND m.group_id = r.id";
    if (strcmp(p->attr_info->name, "groups") == 0)
        return "EXISTS (SELECT 1 FROM members m WHERE m.tenant_id = r.tenant_id"
               " AND m.member_id = r.id";
    return NULL;
}

/* n compares the membership path p (value eq/ne a string, pr, eq/ne null). */
static int
emit_membership(struct buf *sql, struct sql_binds *b, const struct query_path *p,
                const struct query_node *n, struct err *err)
{
    bool is_members = strcmp(p->attr_info->name, "members") == 0;
    const char *other = is_members ? "m.member_id" : "m.group_id";
    const struct query_value *v = &n->value;
    bool value = p->sub_info == NULL || strcmp(p->sub_info->name, "value") == 0;
    bool null = n->kind != QUERY_PR && v->type == QUERY_VAL_NULL;
    if (!value || (n->kind != QUERY_EQ && n->kind != QUERY_NE && n->kind != QUERY_PR) ||
        (n->kind != QUERY_PR && !null && v->type != QUERY_VAL_STRING))
        return err_set(err, ERR_INVALID_FILTER,
                       "%s can be filtered only by value, with eq, ne or pr", p->attr_info->name);
    /* pr and "ne null": some row; "eq null": no row; eq: the row; ne: not that row. */
    bool negate = (null && n->kind == QUERY_EQ) || (!null && n->kind == QUERY_NE);
    if ((negate && buf_append_cstr(sql, "NOT ", err) < 0) ||
        buf_append_cstr(sql, membership_sql(p), err) < 0)
        return -1;
    if (n->kind != QUERY_PR && !null &&
        (buf_printf(sql, err, " AND %s = ?", other) < 0 || bind_text(b, v->string, err) < 0))
        return -1;
    return buf_append_cstr(sql, ")", err);
}

/* members[value eq "id"]: the one inner shape membership rows can answer. */
static int
emit_membership_path(struct buf *sql, struct sql_binds *b, const struct query_node *vp,
                     struct err *err)
{
    const struct query_node *in = vp->left;
    if (in == NULL || in->kind != QUERY_EQ || in->path.attr_info == NULL ||
        strcmp(in->path.attr_info->name, "value") != 0)
        return err_set(err, ERR_INVALID_FILTER, "%s[...] can be filtered only by value eq",
                       vp->path.attr_info->name);
    struct query_path p = vp->path;
    p.sub_info = in->path.attr_info;
    return emit_membership(sql, b, &p, in, err);
}

static int
compile_leaf(const struct sqlgen_dialect *d, struct buf *sql, struct sql_binds *b,
             const struct query_node *n, bool in_elem, struct err *err)
{
    const struct query_path *p = &n->path;
    struct operand o;
    if (p->attr_info == NULL)
        return err_set(err, ERR_INTERNAL, "filter not resolved");
    if (in_elem) {
        if (operand_elem(d, p->attr_info, QUERY_TYPE_UNKNOWN, &o, err) < 0)
            return -1;
        return emit_compare(d, sql, b, &o, n, err);
    }
    if (membership_sql(p))
        return emit_membership(sql, b, p, n, err);
    if (p->attr_info->multi_valued) {
        if (n->kind != QUERY_PR && n->value.type == QUERY_VAL_NULL) {
            /* eq null: no element is present; ne null: some element is (query_eval's rule). */
            struct query_node pr = *n;
            pr.kind = QUERY_PR;
            if (n->kind != QUERY_EQ && n->kind != QUERY_NE)
                return buf_append_cstr(sql, d->false_sql, err);
            if (n->kind == QUERY_EQ && buf_append_cstr(sql, "NOT ", err) < 0)
                return -1;
            return emit_exists(d, sql, b, p, NULL, &pr, err);
        }
        if (n->kind == QUERY_NE) {
            /* ne on a multi-valued attribute: no element is equal. */
            struct query_node eq = *n;
            eq.kind = QUERY_EQ;
            if (buf_append_cstr(sql, "NOT ", err) < 0)
                return -1;
            return emit_exists(d, sql, b, p, NULL, &eq, err);
        }
        return emit_exists(d, sql, b, p, NULL, n, err);
    }
    if (operand_top(d, p, &o, err) < 0)
        return -1;
    if (o.is_ms && n->kind == QUERY_PR)
        return buf_append_cstr(sql, d->true_sql, err);
    return emit_compare(d, sql, b, &o, n, err);
}

static int compile(const struct sqlgen_dialect *d, struct buf *sql, struct sql_binds *b,
                   const struct query_node *n, bool in_elem, struct err *err);

/* The operands of a run of one operator (a or b or c …), flat: "a OR b OR c". Nesting each
 * pair in parentheses made SQLite's parser overflow its stack at 83 terms, well inside the
 * filter's own limits (a 500 for a valid filter); AND and OR are associative in SQL's
 * three-valued logic, so the flat run means the same. */
static int
compile_run(const struct sqlgen_dialect *d, struct buf *sql, struct sql_binds *b,
            const struct query_node *n, enum query_kind kind, bool in_elem, struct err *err)
{
    if (n->kind != kind)
        return compile(d, sql, b, n, in_elem, err);
    if (compile_run(d, sql, b, n->left, kind, in_elem, err) < 0 ||
        buf_append_cstr(sql, kind == QUERY_AND ? " AND " : " OR ", err) < 0)
        return -1;
    return compile_run(d, sql, b, n->right, kind, in_elem, err);
}

static int
compile(const struct sqlgen_dialect *d, struct buf *sql, struct sql_binds *b,
        const struct query_node *n, bool in_elem, struct err *err)
{
    switch (n->kind) {
    case QUERY_AND:
    case QUERY_OR:
        if (buf_append_cstr(sql, "(", err) < 0 ||
            compile_run(d, sql, b, n, n->kind, in_elem, err) < 0)
            return -1;
        return buf_append_cstr(sql, ")", err);
    case QUERY_NOT:
        if (buf_append_cstr(sql, "NOT coalesce(", err) < 0 ||
            compile(d, sql, b, n->left, in_elem, err) < 0)
            return -1;
        return buf_printf(sql, err, ", %s)", d->false_sql);
    case QUERY_VALUE_PATH:
        if (in_elem)
            return err_set(err, ERR_INVALID_FILTER, "value filters cannot be nested");
        if (membership_sql(&n->path))
            return emit_membership_path(sql, b, n, err);
        return emit_exists(d, sql, b, &n->path, n->left, NULL, err);
    default:
        return compile_leaf(d, sql, b, n, in_elem, err);
    }
}

int
sqlgen_binds_keep(struct sql_binds *b, const char *text, struct err *err)
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
sqlgen_filter(const struct sqlgen_dialect *d, struct buf *sql, struct sql_binds *binds,
              const struct query_node *n, struct err *err)
{
    return compile(d, sql, binds, n, false, err);
}

int
sqlgen_where(const struct sqlgen_dialect *d, struct buf *sql, struct sql_binds *binds,
             const struct store_list_query *q, struct err *err)
{
    if (q->filter == NULL && q->role == NULL)
        return buf_append_cstr(sql, d->true_sql, err);
    if (q->filter &&
        (buf_append_cstr(sql, "(", err) < 0 || compile(d, sql, binds, q->filter, false, err) < 0 ||
         buf_append_cstr(sql, ")", err) < 0))
        return -1;
    if (q->role == NULL)
        return 0;
    if ((q->filter && buf_append_cstr(sql, " AND ", err) < 0) ||
        buf_append_cstr(sql,
                        "EXISTS (SELECT 1 FROM user_roles ur WHERE ur.tenant_id = r.tenant_id"
                        " AND ur.user_id = r.id AND ur.role = ?)",
                        err) < 0)
        return -1;
    return bind_text(binds, q->role, err);
}

int
sqlgen_sort_expr(const struct sqlgen_dialect *d, struct buf *sql, const struct query_path *p,
                 struct sql_binds *binds, struct err *err)
{
    struct operand o;
    if (p->attr_info == NULL)
        return err_set(err, ERR_INTERNAL, "sort path not resolved");
    if (p->attr_info->multi_valued) {
        /* RFC 7644 §3.4.2.3: multi-valued attributes sort by their primary value, or the first. */
        char path[PATH_BYTES], sub[PATH_BYTES];
        if (json_path(d, path, sizeof(path), p->ext_urn, p->attr_info->name, NULL, err) < 0 ||
            json_path(d, sub, sizeof(sub), NULL, p->sub_info ? p->sub_info->name : "value", NULL,
                      err) < 0 ||
            buf_append_cstr(sql, d->sort_multi, err) < 0)
            return -1;
        if (sqlgen_binds_keep(binds, sub, err) < 0 || sqlgen_binds_keep(binds, path, err) < 0)
            return -1;
        return 0;
    }
    if (operand_top(d, p, &o, err) < 0)
        return -1;
    if (o.has_path && sqlgen_binds_keep(binds, o.json_path, err) < 0)
        return -1;
    return buf_printf(sql, err, folds(&o) ? "lower(%s)" : "%s", o.expr);
}

/* ---- keyset continuation ---- */

struct cursor {
    uint64_t key; /* 0 = empty */
    int64_t last_seq;
};

struct sqlgen_cursors {
    pthread_mutex_t mu;
    size_t n;
    struct cursor slots[]; /* n of them */
};

struct sqlgen_cursors *
sqlgen_cursors_new(size_t n_slots)
{
    struct sqlgen_cursors *c = xcalloc(1, sizeof(*c) + n_slots * sizeof(c->slots[0]));
    pthread_mutex_init(&c->mu, NULL);
    c->n = n_slots;
    return c;
}

void
sqlgen_cursors_free(struct sqlgen_cursors *c)
{
    if (c == NULL)
        return;
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

uint64_t
sqlgen_list_key(const struct store_list_query *q, const struct buf *where,
                const struct sql_binds *b, int n_binds)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    h = fnv(h, &q->tenant_id, sizeof(q->tenant_id));
    h = fnv(h, &q->type, sizeof(q->type));
    h = fnv(h, q->reader ? q->reader : "", q->reader ? strlen(q->reader) + 1 : 0);
    h = fnv(h, where->data ? where->data : "", where->len);
    for (int i = 0; i < n_binds; i++) {
        const struct sql_bind *v = &b->v[i];
        h = fnv(h, &v->type, sizeof(v->type));
        if (v->type == BIND_TEXT)
            h = fnv(h, v->text, strlen(v->text) + 1);
        else
            h = fnv(h, v->type == BIND_REAL ? (const void *)&v->r : (const void *)&v->i, 8);
    }
    return h;
}

uint64_t
sqlgen_slot_key(uint64_t list_key, int64_t start_index)
{
    uint64_t k = fnv(list_key, &start_index, sizeof(start_index));
    return k ? k : 1;
}

bool
sqlgen_cursor_find(struct sqlgen_cursors *c, uint64_t key, int64_t *last_seq)
{
    bool found = false;
    pthread_mutex_lock(&c->mu);
    const struct cursor *e = &c->slots[key % c->n];
    if (e->key == key) {
        *last_seq = e->last_seq;
        found = true;
    }
    pthread_mutex_unlock(&c->mu);
    return found;
}

void
sqlgen_cursor_put(struct sqlgen_cursors *c, uint64_t key, int64_t last_seq)
{
    pthread_mutex_lock(&c->mu);
    c->slots[key % c->n] = (struct cursor){ key, last_seq };
    pthread_mutex_unlock(&c->mu);
}

bool
sqlgen_unique_match(const struct query_node *f, enum store_rtype type)
{
    if (f == NULL || f->kind != QUERY_EQ || f->value.type != QUERY_VAL_STRING || f->path.ext_urn ||
        f->path.sub_info || f->path.attr_info == NULL)
        return false;
    const char *n = f->path.attr_info->name;
    return strcmp(n, "id") == 0 || (type == STORE_RTYPE_USER && strcmp(n, "userName") == 0) ||
           (type == STORE_RTYPE_GROUP && strcmp(n, "displayName") == 0);
}

char *
sqlgen_json_ids(const char *const *ids, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(ids[i]));
    char *text = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return text;
}
