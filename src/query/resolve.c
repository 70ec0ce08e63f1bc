#include "query/query.h"

#include "base/limits.h"

/* A value filter selects elements of a complex attribute; on anything else its inner paths
 * cannot name sub-attributes. An unresolved path (attr_info NULL) is the resolver's call. */
static int
check_complex(const struct query_path *path, enum err_code code, struct err *err)
{
    if (path->attr_info == NULL || path->attr_info->type == QUERY_TYPE_COMPLEX)
        return 0;
    return err_set(err, code, "%.64s is not a complex attribute and cannot take a value filter",
                   path->attr_info->name);
}

/* Resolves every path under n. `parent` is the multi-valued attribute whose value filter
 * holds n, or NULL at the top level. `depth` bounds recursion over ASTs that were not made
 * by the parser (its own are bounded by LIMIT_FILTER_NODES already). */
static int
resolve_node(struct query_node *n, const struct query_path *parent, query_resolve_fn fn, void *ctx,
             enum err_code code, struct err *err, int depth)
{
    if (n == NULL || depth > LIMIT_FILTER_NODES)
        return err_set(err, code, "malformed filter");
    switch (n->kind) {
    case QUERY_AND:
    case QUERY_OR:
        if (resolve_node(n->left, parent, fn, ctx, code, err, depth + 1) < 0)
            return -1;
        return resolve_node(n->right, parent, fn, ctx, code, err, depth + 1);
    case QUERY_NOT:
        return resolve_node(n->left, parent, fn, ctx, code, err, depth + 1);
    case QUERY_VALUE_PATH:
        if (parent != NULL)
            return err_set(err, code, "value filters cannot nest");
        if (fn(ctx, NULL, &n->path, err) < 0 || check_complex(&n->path, code, err) < 0)
            return -1;
        return resolve_node(n->left, &n->path, fn, ctx, code, err, depth + 1);
    case QUERY_PR:
        return fn(ctx, parent, &n->path, err);
    default:
        break;
    }
    if (fn(ctx, parent, &n->path, err) < 0)
        return -1;
    /* RFC 7644 §3.4.2.2: a comparison on a complex attribute without a sub-attribute, as in
     * emails co "@example.com", compares its "value" sub-attribute. The path is rewritten so
     * that the evaluator and SQL compiler see one shape, and resolved again for sub_info. */
    if (parent == NULL && n->path.sub == NULL && n->path.attr_info != NULL &&
        n->path.attr_info->type == QUERY_TYPE_COMPLEX) {
        n->path.sub = "value";
        return fn(ctx, NULL, &n->path, err);
    }
    return 0;
}

int
query_resolve(struct query_node *root, query_resolve_fn fn, void *ctx, struct err *err)
{
    return resolve_node(root, NULL, fn, ctx, ERR_INVALID_FILTER, err, 0);
}

int
query_path_resolve(struct query_path *path, query_resolve_fn fn, void *ctx, struct err *err)
{
    if (fn(ctx, NULL, path, err) < 0)
        return -1;
    if (path->filter == NULL)
        return 0;
    if (check_complex(path, ERR_INVALID_PATH, err) < 0)
        return -1;
    /* The inner filter is relative to an element of the attribute itself, not to the
     * sub-attribute that emails[type eq "work"].value goes on to name. */
    struct query_path parent = *path;
    parent.sub = NULL;
    parent.sub_info = NULL;
    parent.filter = NULL;
    return resolve_node(path->filter, &parent, fn, ctx, ERR_INVALID_PATH, err, 1);
}
