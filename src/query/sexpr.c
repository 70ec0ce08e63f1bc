#include "query/query.h"

#include <inttypes.h>
#include <string.h>

#include "base/buf.h"
#include "base/limits.h"

static const char *
kind_name(enum query_kind kind)
{
    switch (kind) {
    case QUERY_EQ:
        return "eq";
    case QUERY_NE:
        return "ne";
    case QUERY_CO:
        return "co";
    case QUERY_SW:
        return "sw";
    case QUERY_EW:
        return "ew";
    case QUERY_GT:
        return "gt";
    case QUERY_GE:
        return "ge";
    case QUERY_LT:
        return "lt";
    case QUERY_LE:
        return "le";
    case QUERY_PR:
        return "pr";
    case QUERY_AND:
        return "and";
    case QUERY_OR:
        return "or";
    case QUERY_NOT:
        return "not";
    case QUERY_VALUE_PATH:
        return "vp";
    }
    return "?";
}

/* A double-quoted string: '"' and '\' escaped, control bytes as \n, \t, \r or \u00XX so the
 * rendering stays on one line. */
static int
render_string(struct buf *b, const char *s, struct err *err)
{
    if (buf_append(b, "\"", 1, err) < 0)
        return -1;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int rc;
        if (c == '"' || c == '\\')
            rc = buf_printf(b, err, "\\%c", c);
        else if (c == '\n')
            rc = buf_append(b, "\\n", 2, err);
        else if (c == '\t')
            rc = buf_append(b, "\\t", 2, err);
        else if (c == '\r')
            rc = buf_append(b, "\\r", 2, err);
        else if (c < 0x20 || c == 0x7f)
            rc = buf_printf(b, err, "\\u%04x", c);
        else
            rc = buf_append(b, s, 1, err);
        if (rc < 0)
            return -1;
    }
    return buf_append(b, "\"", 1, err);
}

static int
render_value(struct buf *b, const struct query_value *v, struct err *err)
{
    switch (v->type) {
    case QUERY_VAL_NULL:
        return buf_append_cstr(b, "null", err);
    case QUERY_VAL_BOOL:
        return buf_append_cstr(b, v->boolean ? "true" : "false", err);
    case QUERY_VAL_NUMBER:
        if (v->is_integer)
            return buf_printf(b, err, "%" PRId64, v->integer);
        return buf_printf(b, err, "%g", v->number);
    case QUERY_VAL_STRING:
        return render_string(b, v->string ? v->string : "", err);
    }
    return buf_append_cstr(b, "?", err);
}

static int render_node(struct buf *b, const struct query_node *n, int depth, struct err *err);

/* urn:attr.sub as written; a PATCH value filter goes in brackets: attr[(eq type "w")].sub */
static int
render_path(struct buf *b, const struct query_path *p, int depth, struct err *err)
{
    if (p->urn != NULL && buf_printf(b, err, "%s:", p->urn) < 0)
        return -1;
    if (buf_append_cstr(b, p->attr ? p->attr : "?", err) < 0)
        return -1;
    if (p->filter != NULL) {
        if (buf_append(b, "[", 1, err) < 0 || render_node(b, p->filter, depth + 1, err) < 0 ||
            buf_append(b, "]", 1, err) < 0)
            return -1;
    }
    if (p->sub != NULL && buf_printf(b, err, ".%s", p->sub) < 0)
        return -1;
    return 0;
}

/* Recursion follows the AST, which the parser bounds; `depth` guards hand-made trees. */
static int
render_node(struct buf *b, const struct query_node *n, int depth, struct err *err)
{
    if (n == NULL || depth > LIMIT_FILTER_NODES)
        return err_set(err, ERR_INTERNAL, "malformed filter");
    if (buf_printf(b, err, "(%s ", kind_name(n->kind)) < 0)
        return -1;
    switch (n->kind) {
    case QUERY_AND:
    case QUERY_OR:
        if (render_node(b, n->left, depth + 1, err) < 0 || buf_append(b, " ", 1, err) < 0 ||
            render_node(b, n->right, depth + 1, err) < 0)
            return -1;
        break;
    case QUERY_NOT:
        if (render_node(b, n->left, depth + 1, err) < 0)
            return -1;
        break;
    case QUERY_VALUE_PATH:
        if (render_path(b, &n->path, depth, err) < 0 || buf_append(b, " ", 1, err) < 0 ||
            render_node(b, n->left, depth + 1, err) < 0)
            return -1;
        break;
    case QUERY_PR:
        if (render_path(b, &n->path, depth, err) < 0)
            return -1;
        break;
    default:
        if (render_path(b, &n->path, depth, err) < 0 || buf_append(b, " ", 1, err) < 0 ||
            render_value(b, &n->value, err) < 0)
            return -1;
        break;
    }
    return buf_append(b, ")", 1, err);
}

/* Copies the rendering into the arena: arena memory is the caller's, the buffer is ours. */
static char *
finish(struct arena *a, struct buf *b, int rc, struct err *err)
{
    char *out = NULL;
    if (rc == 0)
        out = arena_strndup(a, b->data ? b->data : "", b->len, err);
    buf_cleanup(b);
    return out;
}

char *
query_sexpr(struct arena *a, const struct query_node *root)
{
    struct buf b;
    struct err err;

    buf_init(&b, (size_t)LIMIT_REQUEST_ARENA_BYTES);
    return finish(a, &b, render_node(&b, root, 0, &err), &err);
}

char *
query_path_sexpr(struct arena *a, const struct query_path *path)
{
    struct buf b;
    struct err err;

    buf_init(&b, (size_t)LIMIT_REQUEST_ARENA_BYTES);
    return finish(a, &b, render_path(&b, path, 0, &err), &err);
}
