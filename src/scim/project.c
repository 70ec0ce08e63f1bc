#include "scim/project.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "base/limits.h"
#include "base/str.h"
#include "query/query.h"
#include "scim/schema.h"

/* One entry of an attributes list, resolved: a whole schema (attr NULL), an attribute (sub
 * NULL) or one sub-attribute of a complex attribute. */
struct sel {
    const struct scim_schema *schema;
    const struct scim_attr *attr;
    const struct scim_attr *sub;
};

struct list {
    struct sel v[LIMIT_ATTR_LIST];
    size_t n;
    bool given;
};

enum mode {
    MODE_ALL,      /* neither list */
    MODE_ONLY,     /* attributes= */
    MODE_EXCLUDED, /* excludedAttributes= */
};

struct proj {
    const struct scim_resource_type *rt;
    enum mode mode;
    const struct list *list;
};

static bool
name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$' || c == '.' || c == ':' || c == '-';
}

/* Resolves one entry (NUL-terminated, in a scratch buffer we may cut up). Unknown names
 * leave the list unchanged. */
static void
resolve_entry(const struct scim_resource_type *rt, char *entry, struct list *l)
{
    struct sel sel = { 0 };

    if (cstr_ieq(entry, rt->schema->id)) {
        sel.schema = rt->schema;
        l->v[l->n++] = sel;
        return;
    }
    const struct scim_schema_extension *ext = scim_resource_type_extension_find(rt, entry);
    if (ext != NULL) {
        sel.schema = ext->schema;
        l->v[l->n++] = sel;
        return;
    }

    struct query_path path = { 0 };
    char *rest = entry;
    if (cstr_istarts_with(entry, "urn:")) {
        char *colon = strrchr(entry, ':');
        *colon = '\0';
        path.urn = entry;
        rest = colon + 1;
    }
    char *dot = strchr(rest, '.');
    if (dot != NULL) {
        *dot = '\0';
        path.sub = dot + 1;
        if (strchr(path.sub, '.') != NULL)
            return;
    }
    path.attr = rest;

    struct err ignored;
    if (scim_schema_resolve((void *)rt, NULL, &path, &ignored) < 0)
        return;
    sel.attr = scim_attr_of(path.attr_info);
    sel.sub = scim_attr_of(path.sub_info);
    if (path.ext_urn != NULL) {
        ext = scim_resource_type_extension_find(rt, path.ext_urn);
        sel.schema = ext ? ext->schema : NULL;
    } else {
        sel.schema = rt->schema;
    }
    l->v[l->n++] = sel;
}

static int
list_parse(const struct scim_resource_type *rt, const char *text, struct list *l, struct err *err)
{
    size_t entries = 0;

    l->n = 0;
    l->given = false;
    if (text == NULL)
        return 0;
    for (const char *p = text; *p != '\0';) {
        const char *end = strchr(p, ',');
        if (end == NULL)
            end = p + strlen(p);
        const char *b = p, *e = end;
        while (b < e && (*b == ' ' || *b == '\t'))
            b++;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        p = *end == ',' ? end + 1 : end;
        if (b == e)
            continue;
        if (++entries > LIMIT_ATTR_LIST)
            return err_set(err, ERR_INVALID_VALUE, "more than %d attribute names in a list",
                           LIMIT_ATTR_LIST);
        size_t len = (size_t)(e - b);
        if (len > LIMIT_PATH_BYTES)
            return err_set(err, ERR_INVALID_VALUE, "attribute name longer than %d bytes",
                           LIMIT_PATH_BYTES);
        for (size_t i = 0; i < len; i++)
            if (!name_char(b[i]))
                return err_set(err, ERR_INVALID_VALUE,
                               "invalid character in attribute name list at entry %zu", entries);
        char buf[LIMIT_PATH_BYTES + 1];
        memcpy(buf, b, len);
        buf[len] = '\0';
        resolve_entry(rt, buf, l);
    }
    l->given = entries > 0;
    return 0;
}

/* Which list applies (RFC 7644 §3.9 lets a client send one; when both come, attributes
 * wins) and its parse. */
static int
proj_init(struct proj *pr, struct list *l, const struct scim_resource_type *rt,
          const char *attributes, const char *excluded, struct err *err)
{
    pr->rt = rt;
    pr->list = l;
    pr->mode = MODE_ALL;
    if (list_parse(rt, attributes, l, err) < 0)
        return -1;
    if (l->given) {
        pr->mode = MODE_ONLY;
        return 0;
    }
    if (list_parse(rt, excluded, l, err) < 0)
        return -1;
    if (l->given)
        pr->mode = MODE_EXCLUDED;
    return 0;
}

static bool
named_whole(const struct list *l, const struct scim_schema *s, const struct scim_attr *a)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct sel *e = &l->v[i];
        if ((e->attr == NULL && e->schema == s) || (e->attr == a && e->sub == NULL))
            return true;
    }
    return false;
}

static bool
named_sub(const struct list *l, const struct scim_attr *a, const struct scim_attr *sub)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct sel *e = &l->v[i];
        if (e->attr == a && e->sub != NULL && (sub == NULL || e->sub == sub))
            return true;
    }
    return false;
}

/* Whether sub-attribute `s` (NULL: a key the schema does not define) of a kept complex
 * attribute `a` stays. `whole` says the attribute itself was named (or nothing was). */
static bool
keep_sub(const struct proj *pr, const struct scim_attr *a, const struct scim_attr *s, bool whole)
{
    if (s == NULL)
        return whole;
    switch (s->returned) {
    case SCIM_RET_NEVER:
        return false;
    case SCIM_RET_ALWAYS:
        return true;
    case SCIM_RET_REQUEST:
        return pr->mode == MODE_ONLY && named_sub(pr->list, a, s);
    case SCIM_RET_DEFAULT:
        break;
    }
    if (pr->mode == MODE_ONLY)
        return whole || named_sub(pr->list, a, s);
    if (pr->mode == MODE_EXCLUDED)
        return !named_sub(pr->list, a, s);
    return true;
}

/* A copy of one complex value with only the kept sub-attributes; NULL when none is. */
static json_t *
complex_copy(const struct proj *pr, const struct scim_attr *a, const json_t *v, bool whole)
{
    if (!json_is_object(v))
        return whole ? json_deep_copy(v) : NULL;
    json_t *o = json_object();
    const char *key;
    json_t *sv;
    json_object_foreach((json_t *)v, key, sv) {
        if (keep_sub(pr, a, scim_attr_sub_find(a, key), whole))
            json_object_set_new(o, key, json_deep_copy(sv));
    }
    if (json_object_size(o) == 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* A copy of the value of attribute `a`, filtered by sub-attribute; NULL when nothing
 * remains. */
static json_t *
value_copy(const struct proj *pr, const struct scim_attr *a, const json_t *v, bool whole)
{
    if (a->info.type != QUERY_TYPE_COMPLEX)
        return json_deep_copy(v);
    if (!json_is_array(v))
        return complex_copy(pr, a, v, whole);
    json_t *arr = json_array();
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e) {
        json_t *c = complex_copy(pr, a, e, whole);
        if (c != NULL)
            json_array_append_new(arr, c);
    }
    if (json_array_size(arr) == 0) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

/* The projected value of top-level attribute `a` of schema `s`, or NULL when it goes. */
static json_t *
attr_project(const struct proj *pr, const struct scim_schema *s, const struct scim_attr *a,
             const json_t *v)
{
    switch (a->returned) {
    case SCIM_RET_NEVER:
        return NULL;
    case SCIM_RET_ALWAYS:
        return value_copy(pr, a, v, true);
    case SCIM_RET_REQUEST:
        if (pr->mode != MODE_ONLY)
            return NULL;
        break;
    case SCIM_RET_DEFAULT:
        break;
    }
    switch (pr->mode) {
    case MODE_ONLY:
        if (named_whole(pr->list, s, a))
            return value_copy(pr, a, v, true);
        if (named_sub(pr->list, a, NULL))
            return value_copy(pr, a, v, false);
        return NULL;
    case MODE_EXCLUDED:
        if (named_whole(pr->list, s, a))
            return NULL;
        return value_copy(pr, a, v, true);
    case MODE_ALL:
        break;
    }
    return value_copy(pr, a, v, true);
}

/* The attributes of one schema held in `obj` (the document itself for the core schema,
 * with the common attributes; the extension object otherwise) into `out`. */
static void
object_project(const struct proj *pr, const struct scim_schema *s, bool core, const json_t *obj,
               json_t *out)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)obj, key, v) {
        if (core && (cstr_ieq(key, "schemas") || cstr_istarts_with(key, "urn:")))
            continue;
        const struct scim_attr *a = scim_schema_attr_find(s, key);
        if (a == NULL && core)
            a = scim_common_attr_find(key);
        if (a == NULL) {
            /* Not in the schema (a stored document should not have any): kept only when
             * the client did not ask for a list of attributes. */
            if (pr->mode != MODE_ONLY)
                json_object_set_new(out, key, json_deep_copy(v));
            continue;
        }
        json_t *pv = attr_project(pr, s, a, v);
        if (pv != NULL)
            json_object_set_new(out, key, pv);
    }
}

/* Keys of doc that start with "urn:": rt's extensions are projected attribute by attribute;
 * unknown URN keys are kept only without an attributes list. */
static void
extensions_project(const struct proj *pr, const json_t *doc, json_t *out)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)doc, key, v) {
        if (!cstr_istarts_with(key, "urn:"))
            continue;
        const struct scim_schema_extension *ext = scim_resource_type_extension_find(pr->rt, key);
        if (ext == NULL || !json_is_object(v)) {
            if (pr->mode != MODE_ONLY)
                json_object_set_new(out, key, json_deep_copy(v));
            continue;
        }
        json_t *o = json_object();
        object_project(pr, ext->schema, false, v, o);
        if (json_object_size(o) > 0)
            json_object_set_new(out, key, o);
        else
            json_decref(o);
    }
}

static bool
has_key_ci(const json_t *o, const char *name)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v) {
        if (cstr_ieq(key, name))
            return true;
    }
    return false;
}

static bool
array_has_ci(const json_t *arr, const char *s)
{
    size_t i;
    const json_t *e;
    json_array_foreach(arr, i, e) {
        if (json_is_string(e) && cstr_ieq(json_string_value(e), s))
            return true;
    }
    return false;
}

/* RFC 7643 §3: "schemas" names the schemas the representation uses: the core URN plus the
 * URNs whose objects survived the projection. */
static void
schemas_fill(const struct proj *pr, const json_t *doc, json_t *out, json_t *schemas)
{
    const json_t *old = json_object_get(doc, "schemas");
    size_t i;
    const json_t *e;

    json_array_append_new(schemas, json_string(pr->rt->schema->id));
    json_array_foreach(old, i, e) {
        if (!json_is_string(e) || array_has_ci(schemas, json_string_value(e)))
            continue;
        if (has_key_ci(out, json_string_value(e)))
            json_array_append_new(schemas, json_deep_copy(e));
    }
    const char *key;
    json_t *v;
    json_object_foreach(out, key, v) {
        if (cstr_istarts_with(key, "urn:") && !array_has_ci(schemas, key))
            json_array_append_new(schemas, json_string(key));
    }
}

int
scim_project_check(const struct scim_resource_type *rt, const char *attributes,
                   const char *excluded, struct err *err)
{
    struct proj pr;
    struct list l;

    if (rt == NULL)
        return err_set(err, ERR_INTERNAL, NULL);
    return proj_init(&pr, &l, rt, attributes, excluded, err);
}

json_t *
scim_project(const struct scim_resource_type *rt, const json_t *doc, const char *attributes,
             const char *excluded, struct err *err)
{
    struct proj pr;
    struct list l;

    if (rt == NULL || !json_is_object(doc)) {
        err_set(err, ERR_INTERNAL, NULL);
        return NULL;
    }
    if (proj_init(&pr, &l, rt, attributes, excluded, err) < 0)
        return NULL;

    json_t *out = json_object();
    json_t *schemas = json_array();
    /* "schemas" first, as in every SCIM example; it is filled once the rest is known. */
    json_object_set(out, "schemas", schemas);
    object_project(&pr, rt->schema, true, doc, out);
    extensions_project(&pr, doc, out);
    schemas_fill(&pr, doc, out, schemas);
    json_decref(schemas);
    return out;
}

bool
scim_project_wants(const struct scim_resource_type *rt, const char *attributes,
                   const char *excluded, const char *attr_name)
{
    struct proj pr;
    struct list l;
    struct err ignored;

    if (rt == NULL || attr_name == NULL)
        return true;
    if (proj_init(&pr, &l, rt, attributes, excluded, &ignored) < 0)
        return true;

    struct query_path path = { .attr = attr_name };
    if (scim_schema_resolve((void *)rt, NULL, &path, &ignored) < 0)
        return pr.mode != MODE_ONLY;
    const struct scim_attr *a = scim_attr_of(path.attr_info);
    const struct scim_schema *s = rt->schema;
    if (path.ext_urn != NULL) {
        const struct scim_schema_extension *ext =
            scim_resource_type_extension_find(rt, path.ext_urn);
        s = ext ? ext->schema : rt->schema;
    }
    switch (a->returned) {
    case SCIM_RET_NEVER:
        return false;
    case SCIM_RET_ALWAYS:
        return true;
    case SCIM_RET_REQUEST:
        if (pr.mode != MODE_ONLY)
            return false;
        break;
    case SCIM_RET_DEFAULT:
        break;
    }
    if (pr.mode == MODE_ONLY)
        return named_whole(&l, s, a) || named_sub(&l, a, NULL);
    if (pr.mode == MODE_EXCLUDED)
        return !named_whole(&l, s, a);
    return true;
}
