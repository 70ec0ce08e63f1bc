#include "scim/patch.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/crypto.h"
#include "base/limits.h"
#include "base/str.h"
#include "query/query.h"
#include "scim/resource.h"
#include "scim/schema.h"
#include "scim/scim_int.h"

/* RFC 7644 §3.5.2. The request is normalised at the edge (op names, boolean strings, dotted
 * and URN keys, bare manager ids: IDP-QUIRKS.md 11-16), each op is reduced to a `target`
 * (attribute, sub-attribute, value filter) and one engine applies it to a deep copy of the
 * stored document. Group members never touch the document: they fold into id sets. */

enum op {
    OP_ADD,
    OP_REPLACE,
    OP_REMOVE,
};

static const char *const op_names[] = { "add", "replace", "remove" };

/* What one op addresses, resolved against the schema. */
struct target {
    const struct scim_attr *attr;    /* top-level attribute */
    const struct scim_attr *sub;     /* sub-attribute, or NULL for the whole attribute */
    const char *ext_urn;             /* canonical URN of attr's extension; NULL for core */
    const struct query_node *filter; /* value filter (multi-valued attr only), or NULL */
};

struct patch {
    const struct scim_resource_type *rt;
    struct arena *arena;
    json_t *doc;          /* owned: the working copy */
    char *password;       /* owned: the last password set, or NULL */
    json_t *add;          /* owned: member ids to add, as keys of an (insertion-ordered) object */
    json_t *remove;       /* owned: member ids to remove, likewise */
    bool replace_all;     /* members: the membership becomes `add` */
    bool remove_all;      /* members: all removed, then `add` added */
    const json_t *winner; /* the last element the current op made primary (RFC 7643 §2.4) */
    struct err *err;
};

/* The PATCH engine's side of the rules it shares with body normalisation (scim_int.h):
 * strings compared over their full length, empty values returned as such (an empty object
 * or array is an answer, not an absence), primaries settled by fix_primary, "schemas"
 * needing only to name the PatchOp URN. */
static const struct scim_value_rules rules = {
    .cstrings = false,
    .empty_absent = false,
    .one_primary = false,
    .strict_schemas = false,
    .single_as_array = true,
    .too_many_verb = "would have",
};

/* Above this many element pairs, "add" finds duplicates through a set of serialised
 * elements instead of comparing every pair. */
#define DEDUP_PAIRWISE_MAX 4096

/* ---- Errors ---- */

static int
read_only(struct err *err, const struct scim_attr *parent, const struct scim_attr *a)
{
    if (parent != NULL)
        return err_set(err, ERR_MUTABILITY, "attribute \"%s.%s\" is readOnly", parent->info.name,
                       a->info.name);
    return err_set(err, ERR_MUTABILITY, "attribute \"%s\" is readOnly", a->info.name);
}

static int
too_many(struct err *err, const struct scim_attr *a)
{
    return err_set(err, ERR_TOO_LARGE, "attribute \"%s\" would have more than %d values",
                   a->info.name, LIMIT_MEMBERS_PER_REQUEST);
}

/* ---- JSON helpers ---- */

/* The member of `obj` named `name` in any case. Two keys differing only in case make the
 * request ambiguous: ERR_INVALID_SYNTAX. *out is NULL when absent. */
static int
get_ci(const json_t *obj, const char *name, const json_t **out, struct err *err)
{
    const char *key;
    json_t *v;

    *out = NULL;
    json_object_foreach((json_t *)obj, key, v) {
        if (!cstr_ieq(key, name))
            continue;
        if (*out != NULL)
            return err_set(err, ERR_INVALID_SYNTAX, "\"%s\" is given more than once", name);
        *out = v;
    }
    return 0;
}

/* ---- Document helpers ---- */

/* The object holding the target's attribute: the document or its extension object (made
 * when `create`). NULL when absent and not created. */
static json_t *
container(struct patch *p, const struct target *t, bool create)
{
    if (t->ext_urn == NULL)
        return p->doc;
    json_t *c = json_object_get(p->doc, t->ext_urn);
    if (json_is_object(c) || !create)
        return json_is_object(c) ? c : NULL;
    c = json_object();
    json_object_set_new(p->doc, t->ext_urn, c);
    return c;
}

static void
delete_attr(struct patch *p, const struct target *t)
{
    json_t *c = container(p, t, false);
    if (c != NULL)
        json_object_del(c, t->attr->info.name);
}

/* Records that the current op added or changed element e. */
static void
touch(struct patch *p, const json_t *e)
{
    if (json_is_true(json_object_get(e, "primary")))
        p->winner = e;
}

/* RFC 7643 §2.4: "primary" true at most once. The element this op touched last wins, else
 * the last one in the array. */
static void
fix_primary(json_t *arr, const json_t *winner)
{
    const json_t *last = NULL;
    size_t i, n = 0;
    json_t *e;

    json_array_foreach(arr, i, e) {
        if (json_is_true(json_object_get(e, "primary"))) {
            last = e;
            n++;
        }
    }
    if (n < 2)
        return;
    if (winner == NULL || !json_is_true(json_object_get(winner, "primary")))
        winner = last;
    json_array_foreach(arr, i, e) {
        if (e != winner && json_is_true(json_object_get(e, "primary")))
            json_object_set_new(e, "primary", json_false());
    }
}

/* Merges normalised complex value `add` into object `dst`: null sub-attributes remove. */
static void
merge_into(json_t *dst, const json_t *add)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)add, key, v) {
        if (json_is_null(v))
            json_object_del(dst, key);
        else
            json_object_set(dst, key, v);
    }
}

/* A JSON value for a filter literal; NULL for null. */
static json_t *
literal(const struct query_value *v)
{
    switch (v->type) {
    case QUERY_VAL_STRING:
        return json_string(v->string);
    case QUERY_VAL_BOOL:
        return json_boolean(v->boolean);
    case QUERY_VAL_NUMBER:
        return v->is_integer ? json_integer(v->integer) : json_real(v->number);
    case QUERY_VAL_NULL:
        break;
    }
    return NULL;
}

/* Builds into obj the element a value filter describes when it is eq clauses joined by
 * "and" (emails[type eq "work"] → {"type": "work"}), so add and replace can create the
 * element it names (IDP-QUIRKS.md 15). -1 for any other filter or a contradiction. */
static int
filter_template(const struct scim_attr *a, const struct query_node *n, json_t *obj, int depth)
{
    struct err ignored;

    if (n == NULL || depth > LIMIT_FILTER_NODES)
        return -1;
    if (n->kind == QUERY_AND)
        return filter_template(a, n->left, obj, depth + 1) < 0 ||
                       filter_template(a, n->right, obj, depth + 1) < 0
                   ? -1
                   : 0;
    if (n->kind != QUERY_EQ || n->path.attr_info == NULL || n->path.sub != NULL)
        return -1;
    const struct scim_attr *s = scim_attr_of(n->path.attr_info);
    json_t *lit = literal(&n->value);
    json_t *v = NULL;
    int rc = -1;
    if (lit != NULL && s->info.type != QUERY_TYPE_COMPLEX &&
        scim_value_normalize_simple(&rules, a, s, lit, &v, &ignored) == 0 && v != NULL) {
        const json_t *have = json_object_get(obj, s->info.name);
        if (have == NULL || json_equal((json_t *)have, v)) {
            json_object_set(obj, s->info.name, v);
            rc = 0;
        }
    }
    json_decref(lit);
    json_decref(v);
    return rc;
}

static int
no_target(struct err *err, const struct scim_attr *a)
{
    return err_set(
        err, ERR_NO_TARGET,
        "no value of \"%s\" matches the filter, and the filter does not describe one to create",
        a->info.name);
}

/* ---- Multi-valued attributes ---- */

/* Serialised element, for the duplicate set. */
static char *
element_key(const json_t *e)
{
    return json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

/* The element of arr equal to e, or NULL. `seen` (or NULL) maps element_key to index. */
static json_t *
find_equal(json_t *arr, const json_t *e, json_t *seen)
{
    size_t i;
    json_t *x;

    if (seen != NULL) {
        char *k = element_key(e);
        json_t *idx = k != NULL ? json_object_get(seen, k) : NULL;
        free(k);
        return idx != NULL ? json_array_get(arr, (size_t)json_integer_value(idx)) : NULL;
    }
    json_array_foreach(arr, i, x) {
        if (json_equal(x, (json_t *)e))
            return x;
    }
    return NULL;
}

static void
seen_add(json_t *seen, const json_t *e, size_t index)
{
    char *k = seen != NULL ? element_key(e) : NULL;
    if (k != NULL)
        json_object_set_new(seen, k, json_integer((json_int_t)index));
    free(k);
}

/* RFC 7644 §3.5.2.1: values are appended; an exact duplicate is not added twice. */
static int
append_unique(struct patch *p, const struct target *t, json_t *arr, const json_t *vals)
{
    size_t n = json_array_size(arr), m = json_array_size(vals), i;
    json_t *seen = NULL;
    json_t *v, *x;

    if (n * m > DEDUP_PAIRWISE_MAX) {
        seen = json_object();
        json_array_foreach(arr, i, x) {
            seen_add(seen, x, i);
        }
    }
    json_array_foreach(vals, i, v) {
        json_t *dup = find_equal(arr, v, seen);
        if (dup != NULL) {
            touch(p, dup);
            continue;
        }
        if (json_array_size(arr) >= LIMIT_MEMBERS_PER_REQUEST) {
            json_decref(seen);
            return too_many(p->err, t->attr);
        }
        seen_add(seen, v, json_array_size(arr));
        json_array_append(arr, v);
        touch(p, v);
    }
    json_decref(seen);
    return 0;
}

/* Does element e hold every sub-attribute value of `want` (a normalised element)? */
static bool
element_has_all(const struct scim_attr *a, const json_t *e, const json_t *want)
{
    const char *key;
    json_t *v;

    if (!json_is_object(want))
        return scim_value_is_same(&rules, a, e, want);
    if (!json_is_object(e) || json_object_size(want) == 0)
        return false;
    json_object_foreach((json_t *)want, key, v) {
        const json_t *have = json_object_get(e, key);
        if (have == NULL || !scim_value_is_same(&rules, scim_attr_sub_find(a, key), have, v))
            return false;
    }
    return true;
}

/* remove with a value on a multi-valued attribute: only the listed values go (Entra's
 * members shape, IDP-QUIRKS.md 14, applied to every multi-valued attribute). */
static int
remove_listed(struct patch *p, const struct target *t, json_t *arr, const json_t *value)
{
    json_t *want;

    if (scim_value_normalize_multi(&rules, t->attr, value, &want, p->err) < 0)
        return -1;
    for (size_t i = json_array_size(arr); i-- > 0;) {
        size_t j;
        json_t *w;
        json_array_foreach(want, j, w) {
            if (element_has_all(t->attr, json_array_get(arr, i), w)) {
                json_array_remove(arr, i);
                break;
            }
        }
    }
    json_decref(want);
    return 0;
}

/* The whole attribute, no filter and no sub-attribute. */
static int
multi_whole(struct patch *p, enum op op, const struct target *t, const json_t *value,
            bool has_value)
{
    json_t *c = container(p, t, op != OP_REMOVE);
    json_t *arr = c != NULL ? json_object_get(c, t->attr->info.name) : NULL;
    json_t *nv;

    if (op == OP_REMOVE) {
        if (!has_value || json_is_null(value)) {
            delete_attr(p, t);
            return 0;
        }
        if (!json_is_array(arr))
            return 0;
        if (remove_listed(p, t, arr, value) < 0)
            return -1;
        /* The last value gone leaves the attribute unassigned, as a path filter's removal
         * does (RFC 7643 §2.5: the same state; one shape whichever syntax the IdP used). */
        if (json_array_size(arr) == 0)
            delete_attr(p, t);
        return 0;
    }
    if (scim_value_normalize_multi(&rules, t->attr, value, &nv, p->err) < 0)
        return -1;
    if (op == OP_REPLACE) {
        /* RFC 7644 §3.5.2.3: the attribute and all its values are replaced; [] or null
         * leaves it unassigned. */
        if (nv == NULL || json_array_size(nv) == 0)
            json_object_del(c, t->attr->info.name);
        else
            json_object_set(c, t->attr->info.name, nv);
        json_decref(nv);
        return 0;
    }
    int rc = 0;
    if (nv != NULL && json_array_size(nv) > 0) {
        if (!json_is_array(arr)) {
            arr = json_array();
            json_object_set_new(c, t->attr->info.name, arr);
        }
        rc = append_unique(p, t, arr, nv);
    }
    json_decref(nv);
    return rc;
}

/* remove on attr[filter], attr[filter].sub, attr.sub: matching elements, or their
 * sub-attribute (elements left empty go too). No match is a no-op. */
static void
multi_remove_selected(const struct target *t, json_t *arr)
{
    for (size_t i = json_array_size(arr); i-- > 0;) {
        json_t *e = json_array_get(arr, i);
        if (t->filter != NULL && !query_eval_element(t->filter, e))
            continue;
        if (t->sub != NULL && json_is_object(e)) {
            json_object_del(e, t->sub->info.name);
            if (json_object_size(e) > 0)
                continue;
        }
        json_array_remove(arr, i);
    }
}

/* The element a filter describes, for creation; NULL when it describes none. */
static json_t *
template_of(const struct target *t)
{
    json_t *e = json_object();
    if (t->filter != NULL && filter_template(t->attr, t->filter, e, 0) < 0) {
        json_decref(e);
        return NULL;
    }
    return e;
}

/* Appends a created element: template + `add` merged. */
static int
create_element(struct patch *p, const struct target *t, json_t *arr, const json_t *add)
{
    json_t *e = template_of(t);
    if (e == NULL)
        return no_target(p->err, t->attr);
    merge_into(e, add);
    if (json_array_size(arr) >= LIMIT_MEMBERS_PER_REQUEST) {
        json_decref(e);
        return too_many(p->err, t->attr);
    }
    json_array_append_new(arr, e);
    touch(p, e);
    return 0;
}

/* add/replace on selected elements. `nv` is the normalised value: an object of
 * sub-attributes (for attr.sub, {sub: value}), with nulls when they should remove. With
 * `whole` (replace attr[filter]) matching elements are replaced, else merged. */
static int
multi_set_selected(struct patch *p, enum op op, const struct target *t, json_t *arr,
                   const json_t *nv, bool whole)
{
    size_t i, matched = 0;
    json_t *e;

    json_array_foreach(arr, i, e) {
        if (!json_is_object(e) || (t->filter != NULL && !query_eval_element(t->filter, e)))
            continue;
        matched++;
        if (whole) {
            json_t *ne = template_of(t);
            if (ne == NULL)
                ne = json_object();
            merge_into(ne, nv);
            json_array_set_new(arr, i, ne);
            touch(p, ne);
            continue;
        }
        merge_into(e, nv);
        touch(p, e);
    }
    if (matched > 0)
        return 0;
    /* RFC 7644 §3.5.2.3 would answer noTarget; the Entra erratum and every IdP expect
     * emails[type eq "work"].value to create the work email (IDP-QUIRKS.md 15). */
    if (op == OP_REPLACE && whole)
        return err_set(p->err, ERR_NO_TARGET, "no value of \"%s\" matches the filter",
                       t->attr->info.name);
    return create_element(p, t, arr, nv);
}

/* attr[filter], attr[filter].sub and attr.sub on a multi-valued complex attribute. */
static int
multi_selected(struct patch *p, enum op op, const struct target *t, const json_t *value)
{
    json_t *c = container(p, t, op != OP_REMOVE);
    json_t *arr = c != NULL ? json_object_get(c, t->attr->info.name) : NULL;
    json_t *nv = NULL;
    bool whole = t->sub == NULL && op == OP_REPLACE;
    int rc = 0;

    if (op != OP_REMOVE) {
        if (t->sub != NULL) {
            json_t *sv;
            if (scim_value_normalize_simple(&rules, t->attr, t->sub, value, &sv, p->err) < 0)
                return -1;
            nv = json_object();
            json_object_set_new(nv, t->sub->info.name, sv != NULL ? sv : json_null());
        } else if (scim_value_normalize_complex(&rules, t->attr, value, !whole, &nv, p->err) < 0) {
            return -1;
        }
    }
    /* null (or {} for whole elements) in a replace removes what it names; in an add it
     * adds nothing. A value left empty by dropping unknown keys changes nothing. */
    bool removes = op == OP_REMOVE || json_is_null(value) ||
                   (t->sub == NULL && json_is_object(value) && json_object_size(value) == 0);
    if (removes) {
        if (json_is_array(arr) && op != OP_ADD)
            multi_remove_selected(t, arr);
    } else if (json_object_size(nv) > 0) {
        if (!json_is_array(arr)) {
            arr = json_array();
            json_object_set_new(c, t->attr->info.name, arr);
        }
        rc = multi_set_selected(p, op, t, arr, nv, whole);
    }
    json_decref(nv);
    /* Merging nulls can empty an element; an empty element or attribute means nothing. */
    for (size_t i = json_array_size(arr); i-- > 0;) {
        json_t *e = json_array_get(arr, i);
        if (json_is_object(e) && json_object_size(e) == 0)
            json_array_remove(arr, i);
    }
    if (json_is_array(arr) && json_array_size(arr) == 0)
        delete_attr(p, t);
    return rc;
}

/* ---- Single-valued attributes ---- */

/* A complex attribute (name, manager): sub-attributes merged (RFC 7644 §3.5.2.1 and
 * §3.5.2.3: those not given are left unchanged), but a new "value" drops the others, which
 * described the old referent (a manager's $ref). */
static int
complex_whole(struct patch *p, enum op op, const struct target *t, const json_t *value)
{
    json_t *nv;

    if (op == OP_REMOVE) {
        delete_attr(p, t);
        return 0;
    }
    if (scim_value_normalize_complex(&rules, t->attr, value, true, &nv, p->err) < 0)
        return -1;
    if (nv == NULL || (json_is_object(value) && json_object_size(value) == 0)) {
        if (op == OP_REPLACE)
            delete_attr(p, t);
        json_decref(nv);
        return 0;
    }
    json_t *c = container(p, t, true);
    json_t *cur = json_object_get(c, t->attr->info.name);
    const json_t *old_v = json_object_get(cur, "value");
    const json_t *new_v = json_object_get(nv, "value");
    if (!json_is_object(cur) ||
        (old_v != NULL && new_v != NULL && !json_is_null(new_v) &&
         !scim_value_is_same(&rules, scim_attr_sub_find(t->attr, "value"), old_v, new_v))) {
        cur = json_object();
        json_object_set_new(c, t->attr->info.name, cur);
    }
    merge_into(cur, nv);
    json_decref(nv);
    if (json_object_size(cur) == 0)
        json_object_del(c, t->attr->info.name);
    return 0;
}

/* attr.sub of a single-valued complex attribute (name.familyName, manager.value). */
static int
complex_sub(struct patch *p, enum op op, const struct target *t, const json_t *value)
{
    json_t *sv = NULL;

    if (op != OP_REMOVE &&
        scim_value_normalize_simple(&rules, t->attr, t->sub, value, &sv, p->err) < 0)
        return -1;
    if (sv == NULL && op == OP_ADD)
        return 0;
    json_t *c = container(p, t, sv != NULL);
    json_t *cur = c != NULL ? json_object_get(c, t->attr->info.name) : NULL;
    if (sv == NULL) {
        if (json_is_object(cur)) {
            json_object_del(cur, t->sub->info.name);
            if (json_object_size(cur) == 0)
                json_object_del(c, t->attr->info.name);
        }
        return 0;
    }
    if (!json_is_object(cur)) {
        cur = json_object();
        json_object_set_new(c, t->attr->info.name, cur);
    }
    json_object_set_new(cur, t->sub->info.name, sv);
    return 0;
}

/* A simple attribute: add and replace both set it (RFC 7644 §3.5.2.1: add on a
 * single-valued attribute replaces); a null value in replace removes it. */
static int
simple_whole(struct patch *p, enum op op, const struct target *t, const json_t *value)
{
    json_t *sv = NULL;

    if (op != OP_REMOVE &&
        scim_value_normalize_simple(&rules, NULL, t->attr, value, &sv, p->err) < 0)
        return -1;
    if (sv != NULL)
        json_object_set_new(container(p, t, true), t->attr->info.name, sv);
    else if (op != OP_ADD)
        delete_attr(p, t);
    return 0;
}

/* ---- password (writeOnly) ---- */

static int
take_password(struct patch *p, enum op op, const struct target *t, const json_t *value)
{
    if (op == OP_REMOVE || t->sub != NULL || t->filter != NULL)
        return err_set(p->err, ERR_MUTABILITY, "attribute \"%s\" can only be set",
                       t->attr->info.name);
    char *password;
    if (scim_value_normalize_password(&rules, t->attr, value, &password, p->err) < 0)
        return -1;
    if (password == NULL)
        return 0;
    /* The last password set wins. */
    if (p->password != NULL) {
        crypto_wipe(p->password, strlen(p->password));
        free(p->password);
    }
    p->password = password;
    return 0;
}

/* ---- Group members ---- */

static bool
is_members(const struct patch *p, const struct target *t)
{
    return p->rt == &scim_rt_group && t->ext_urn == NULL &&
           t->attr == scim_schema_attr_find(scim_rt_group.schema, "members");
}

static void
member_add(struct patch *p, const char *id)
{
    json_object_del(p->remove, id);
    if (json_object_get(p->add, id) == NULL)
        json_object_set_new(p->add, id, json_true());
}

static void
member_remove(struct patch *p, const char *id)
{
    json_object_del(p->add, id);
    /* After replace_all or remove_all the membership is exactly `add`. */
    if (!p->replace_all && !p->remove_all && json_object_get(p->remove, id) == NULL)
        json_object_set_new(p->remove, id, json_true());
}

static void
members_clear(struct patch *p)
{
    json_object_clear(p->add);
    json_object_clear(p->remove);
}

/* The id of one member value: {"value": "id", ...} or a bare "id". NULL for null. */
static int
member_id(struct patch *p, const json_t *m, const char **id)
{
    const json_t *v = m;

    *id = NULL;
    if (json_is_null(m))
        return 0;
    if (json_is_object(m) && get_ci(m, "value", &v, p->err) < 0)
        return -1;
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        strlen(json_string_value(v)) != json_string_length(v))
        return err_set(p->err, ERR_INVALID_VALUE,
                       "each member must be an object with a non-empty string \"value\"");
    *id = json_string_value(v);
    return 0;
}

typedef void (*member_fn)(struct patch *p, const char *id);

/* Calls fn for the id of every member in `value` (an array, or one member). */
static int
members_each(struct patch *p, const json_t *value, member_fn fn)
{
    const char *id;
    size_t i;
    json_t *m;

    if (!json_is_array(value)) {
        if (member_id(p, value, &id) < 0)
            return -1;
        if (id != NULL)
            fn(p, id);
        return 0;
    }
    if (json_array_size(value) > LIMIT_MEMBERS_PER_REQUEST)
        return err_set(p->err, ERR_TOO_LARGE, "more than %d members in one operation",
                       LIMIT_MEMBERS_PER_REQUEST);
    /* A bad member fails the whole request, so the sets may change before it is seen. */
    json_array_foreach(value, i, m) {
        if (member_id(p, m, &id) < 0)
            return -1;
        if (id != NULL)
            fn(p, id);
    }
    return 0;
}

/* members[value eq "a" or value eq "b"]: Okta's and Entra's removal filters. Any other
 * filter could need the member rows to evaluate; it is refused. */
static int
filter_ids(struct patch *p, const struct query_node *n, int depth)
{
    if (n == NULL || depth > LIMIT_FILTER_NODES)
        return err_set(p->err, ERR_INVALID_FILTER, "malformed members filter");
    if (n->kind == QUERY_OR) {
        if (filter_ids(p, n->left, depth + 1) < 0)
            return -1;
        return filter_ids(p, n->right, depth + 1);
    }
    if (n->kind != QUERY_EQ || n->path.attr_info == NULL || n->path.sub != NULL ||
        !cstr_ieq(n->path.attr_info->name, "value") || n->value.type != QUERY_VAL_STRING ||
        n->value.string[0] == '\0')
        return err_set(p->err, ERR_INVALID_FILTER,
                       "a members filter must be value eq \"id\", optionally joined by \"or\"");
    member_remove(p, n->value.string);
    return 0;
}

static int
members_apply(struct patch *p, enum op op, const struct target *t, const json_t *value,
              bool has_value)
{
    if (t->sub != NULL || (t->filter != NULL && op != OP_REMOVE))
        return err_set(p->err, ERR_INVALID_PATH,
                       "members can be added, replaced or removed, not their sub-attributes");
    if (t->filter != NULL)
        return filter_ids(p, t->filter, 0);
    switch (op) {
    case OP_ADD:
        return members_each(p, value, member_add);
    case OP_REPLACE:
        /* Okta pushes the whole membership this way, possibly empty (IDP-QUIRKS.md 8). */
        break;
    case OP_REMOVE:
        /* Entra lists the members to remove (IDP-QUIRKS.md 14): only those go. */
        if (has_value && !json_is_null(value))
            return members_each(p, value, member_remove);
        members_clear(p);
        if (!p->replace_all)
            p->remove_all = true;
        return 0;
    }
    members_clear(p);
    p->replace_all = true;
    p->remove_all = false;
    return members_each(p, value, member_add);
}

/* ---- Targets ---- */

/* Applies one op to one resolved target. `has_value` says whether the op had "value". */
static int
apply_target(struct patch *p, enum op op, const struct target *t, const json_t *value,
             bool has_value)
{
    const struct scim_attr *a = t->attr;

    /* "schemas" is derived from the extensions present (RFC 7643 §3). */
    if (a == scim_common_attr_find("schemas"))
        return 0;
    if (a->mutability == SCIM_MUT_WRITE_ONLY)
        return take_password(p, op, t, value);
    if (is_members(p, t))
        return members_apply(p, op, t, value, has_value);
    if (a->info.multi_valued) {
        p->winner = NULL;
        int rc = t->filter == NULL && t->sub == NULL ? multi_whole(p, op, t, value, has_value)
                                                     : multi_selected(p, op, t, value);
        json_t *c = container(p, t, false);
        json_t *arr = c != NULL ? json_object_get(c, a->info.name) : NULL;
        if (rc == 0 && json_is_array(arr))
            fix_primary(arr, p->winner);
        return rc;
    }
    if (a->info.type == QUERY_TYPE_COMPLEX)
        return t->sub != NULL ? complex_sub(p, op, t, value) : complex_whole(p, op, t, value);
    return simple_whole(p, op, t, value);
}

/* Parses and resolves a PATCH path into *t, enforcing readOnly (RFC 7643 §2.2). */
static int
resolve_path(struct patch *p, const char *text, struct target *t)
{
    struct query_path path;

    if (query_path_parse(p->arena, text, &path, p->err) < 0)
        return -1;
    if (query_path_resolve(&path, scim_schema_resolve, (void *)p->rt, p->err) < 0) {
        /* The resolver reports for filters; an unknown name in a PATCH path is invalidPath
         * (RFC 7644 §3.12). */
        if (p->err->code == ERR_INVALID_FILTER)
            p->err->code = ERR_INVALID_PATH;
        return -1;
    }
    if (path.attr_info == NULL) {
        /* Not reached with scim_schema_resolve; spelled out for the analyzer. */
        err_set(p->err, ERR_INVALID_PATH, "unknown attribute");
        return -1;
    }
    *t = (struct target){
        .attr = scim_attr_of(path.attr_info),
        .sub = path.sub_info != NULL ? scim_attr_of(path.sub_info) : NULL,
        .ext_urn = path.ext_urn,
        .filter = path.filter,
    };
    if (t->filter != NULL && !t->attr->info.multi_valued)
        return err_set(p->err, ERR_INVALID_PATH,
                       "a value filter needs a multi-valued attribute; \"%s\" is single-valued",
                       t->attr->info.name);
    if (t->attr->mutability == SCIM_MUT_READ_ONLY)
        return read_only(p->err, NULL, t->attr);
    if (t->sub != NULL && t->sub->mutability == SCIM_MUT_READ_ONLY)
        return read_only(p->err, t->attr, t->sub);
    return 0;
}

static int apply_ext_value(struct patch *p, enum op op, const struct scim_schema *ext,
                           const json_t *value);

/* "urn:...:enterprise:2.0:User:department" (Entra, IDP-QUIRKS.md 13): the schema of rt whose
 * URN prefixes the key, and the rest. False when no schema of rt does. */
static bool
urn_key_split(const struct scim_resource_type *rt, const char *key,
              const struct scim_schema **scope, const char **name)
{
    size_t klen = strlen(key);

    for (size_t i = 0; i <= rt->n_extensions; i++) {
        const struct scim_schema *s = i == 0 ? rt->schema : rt->extensions[i - 1].schema;
        size_t ulen = strlen(s->id);
        if (klen > ulen + 1 && key[ulen] == ':' &&
            str_ieq((struct str){ key, ulen }, str_of(s->id))) {
            *scope = s;
            *name = key + ulen + 1;
            return true;
        }
    }
    return false;
}

/* One key of a path-less value, at the top (ext NULL) or inside extension `ext`'s object:
 * "name", "name.givenName", a full-URN key or an extension object. Unknown names, readOnly
 * attributes and "schemas" are ignored (RFC 7644 §3.3; Okta sends "id"). A key with a value
 * filter, {"emails[type eq \"work\"].value": "x"} (Entra), says which element it means: it is
 * applied exactly as the same "path" would be, errors included, never skipped. */
static int
apply_key(struct patch *p, enum op op, const struct scim_schema *ext, const char *key,
          const json_t *v)
{
    const struct scim_schema *scope = ext != NULL ? ext : p->rt->schema;
    const char *name = key;

    if (ext == NULL && strchr(key, '[') != NULL) {
        struct target t = { 0 };
        if (resolve_path(p, key, &t) < 0)
            return -1;
        return apply_target(p, op, &t, v, true);
    }
    if (ext == NULL && cstr_istarts_with(key, "urn:")) {
        const struct scim_schema_extension *e = scim_resource_type_extension_find(p->rt, key);
        if (e != NULL)
            return apply_ext_value(p, op, e->schema, v);
        if (!urn_key_split(p->rt, key, &scope, &name))
            return 0;
    }
    char attr[LIMIT_PATH_BYTES + 1];
    const char *dot = strchr(name, '.');
    size_t len = dot != NULL ? (size_t)(dot - name) : strlen(name);
    if (len >= sizeof(attr))
        return 0;
    memcpy(attr, name, len);
    attr[len] = '\0';
    const struct scim_attr *a = scim_schema_attr_find(scope, attr);
    if (a == NULL && scope == p->rt->schema)
        a = scim_common_attr_find(attr);
    if (a == NULL || a->mutability == SCIM_MUT_READ_ONLY)
        return 0;
    struct target t = { .attr = a, .ext_urn = scope == p->rt->schema ? NULL : scope->id };
    if (dot != NULL) {
        /* Dotted keys into multi-valued attributes would not say which element. */
        t.sub = scim_attr_sub_find(a, dot + 1);
        if (t.sub == NULL || a->info.multi_valued || t.sub->mutability == SCIM_MUT_READ_ONLY)
            return 0;
    }
    return apply_target(p, op, &t, v, true);
}

/* An extension object as a value, {"urn:...:enterprise:2.0:User": {...}} or with the URN
 * as path: each attribute in it is added or replaced; null (or {}) in a replace removes the
 * extension. */
static int
apply_ext_value(struct patch *p, enum op op, const struct scim_schema *ext, const json_t *value)
{
    const char *key;
    json_t *v;

    if (json_is_null(value) || (json_is_object(value) && json_object_size(value) == 0)) {
        if (op == OP_REPLACE)
            json_object_del(p->doc, ext->id);
        return 0;
    }
    if (!json_is_object(value))
        return err_set(p->err, ERR_INVALID_VALUE, "\"%s\" must be an object", ext->id);
    json_object_foreach((json_t *)value, key, v) {
        if (apply_key(p, op, ext, key, v) < 0)
            return -1;
    }
    return 0;
}

/* RFC 7644 §3.5.2.1 and §3.5.2.3: without "path", "value" holds the attributes to add or
 * replace. Okta deactivates users this way ({"active": false}, IDP-QUIRKS.md 6). */
static int
apply_pathless(struct patch *p, enum op op, const json_t *value)
{
    const char *key;
    json_t *v;

    if (!json_is_object(value))
        return err_set(p->err, ERR_INVALID_SYNTAX,
                       "\"%s\" without \"path\" needs an object \"value\"", op_names[op]);
    json_object_foreach((json_t *)value, key, v) {
        if (apply_key(p, op, NULL, key, v) < 0)
            return -1;
    }
    return 0;
}

static int
apply_path(struct patch *p, enum op op, const json_t *path, const json_t *value, bool has_value)
{
    struct target t = { 0 };

    if (!json_is_string(path) || strlen(json_string_value(path)) != json_string_length(path))
        return err_set(p->err, ERR_INVALID_PATH, "\"path\" must be a string");
    const char *text = json_string_value(path);
    /* The URN of an extension alone names its whole object. */
    for (size_t i = 0; i < p->rt->n_extensions; i++) {
        const struct scim_schema *ext = p->rt->extensions[i].schema;
        if (!cstr_ieq(text, ext->id))
            continue;
        if (op == OP_REMOVE) {
            json_object_del(p->doc, ext->id);
            return 0;
        }
        return apply_ext_value(p, op, ext, value);
    }
    if (resolve_path(p, text, &t) < 0)
        return -1;
    return apply_target(p, op, &t, value, has_value);
}

/* ---- Request ---- */

static int
apply_op(struct patch *p, const json_t *o)
{
    const json_t *name, *path, *value;
    enum op op = OP_ADD;
    bool known = false;

    if (!json_is_object(o))
        return err_set(p->err, ERR_INVALID_SYNTAX, "each operation must be an object");
    if (get_ci(o, "op", &name, p->err) < 0 || get_ci(o, "path", &path, p->err) < 0 ||
        get_ci(o, "value", &value, p->err) < 0)
        return -1;
    /* Entra sends "Add", OneLogin "add" (IDP-QUIRKS.md 11, 22). */
    for (size_t i = 0; json_is_string(name) && i < sizeof(op_names) / sizeof(op_names[0]); i++) {
        if (str_ieq_cstr((struct str){ json_string_value(name), json_string_length(name) },
                         op_names[i])) {
            op = (enum op)i;
            known = true;
        }
    }
    if (!known)
        return err_set(p->err, ERR_INVALID_SYNTAX,
                       "\"op\" must be \"add\", \"replace\" or \"remove\"");
    if (op != OP_REMOVE && value == NULL)
        return err_set(p->err, ERR_INVALID_SYNTAX, "\"%s\" needs a \"value\"", op_names[op]);
    if (path == NULL || json_is_null(path)) {
        /* RFC 7644 §3.5.2.2: a remove without path fails with noTarget. */
        if (op == OP_REMOVE)
            return err_set(p->err, ERR_NO_TARGET, "\"remove\" needs a \"path\"");
        return apply_pathless(p, op, value);
    }
    return apply_path(p, op, path, value, value != NULL);
}

static int
apply_ops(struct patch *p, const json_t *ops)
{
    size_t i;
    json_t *o;

    json_array_foreach(ops, i, o) {
        if (apply_op(p, o) < 0) {
            char detail[sizeof(p->err->detail)];
            str_copy(detail, sizeof(detail), p->err->detail);
            return err_set(p->err, p->err->code, "operation %zu: %s", i + 1, detail);
        }
    }
    return 0;
}

/* ---- Result ---- */

/* RFC 7644 §3.5.2.2: a required attribute that had a value must keep one (mutability), as
 * must an immutable one; a required string must not become "" (scim_required_string_check). */
static int
check_kept(struct patch *p, const struct scim_schema *s, const json_t *old_obj,
           const json_t *new_obj)
{
    for (size_t i = 0; i < s->n_attrs; i++) {
        const struct scim_attr *a = &s->attrs[i];
        const json_t *ov = json_object_get(old_obj, a->info.name);
        const json_t *nv = json_object_get(new_obj, a->info.name);
        bool lost = ov != NULL && !json_is_null(ov) && (nv == NULL || json_is_null(nv));
        if (lost && a->required)
            return err_set(p->err, ERR_MUTABILITY, "attribute \"%s\" is required", a->info.name);
        if (lost && a->mutability == SCIM_MUT_IMMUTABLE)
            return err_set(p->err, ERR_MUTABILITY, "attribute \"%s\" is immutable", a->info.name);
        /* Only a new value: a user stored before a check existed can still be patched. */
        if (a->required && !json_equal(ov, nv) && scim_required_string_check(a, nv, p->err) < 0)
            return -1;
    }
    return 0;
}

static int
check_result(struct patch *p, const json_t *orig)
{
    const struct scim_resource_type *rt = p->rt;

    if (check_kept(p, rt->schema, orig, p->doc) < 0)
        return -1;
    for (size_t e = 0; e < rt->n_extensions; e++) {
        const struct scim_schema *s = rt->extensions[e].schema;
        if (check_kept(p, s, json_object_get(orig, s->id), json_object_get(p->doc, s->id)) < 0)
            return -1;
    }
    return scim_resource_check_immutable(rt, orig, p->doc, p->err);
}

/* Copies the ids of `set` (object keys, in insertion order) into the arena. */
static int
ids_to_arena(struct patch *p, const json_t *set, const char ***ids, size_t *n)
{
    size_t count = json_object_size(set), bytes, i = 0;
    const char *key;
    json_t *v;

    *ids = NULL;
    *n = 0;
    if (count == 0)
        return 0;
    if (__builtin_mul_overflow(count, sizeof(char *), &bytes))
        return err_set(p->err, ERR_TOO_LARGE, NULL);
    const char **arr = arena_alloc(p->arena, bytes, p->err);
    if (arr == NULL)
        return -1;
    json_object_foreach((json_t *)set, key, v) {
        arr[i] = arena_strdup(p->arena, key, p->err);
        if (arr[i] == NULL)
            return -1;
        i++;
    }
    *ids = arr;
    *n = count;
    return 0;
}

static int
members_out(struct patch *p, struct scim_patch_members *m)
{
    *m = (struct scim_patch_members){ .replace_all = p->replace_all, .remove_all = p->remove_all };
    if (ids_to_arena(p, p->add, &m->add, &m->n_add) < 0 ||
        ids_to_arena(p, p->remove, &m->remove, &m->n_remove) < 0)
        return -1;
    return 0;
}

/* Validates the envelope: object, depth, schemas, 1..LIMIT_PATCH_OPS operations. */
static int
check_body(const json_t *body, const json_t **ops, struct err *err)
{
    const json_t *schemas;

    if (!json_is_object(body))
        return err_set(err, ERR_INVALID_SYNTAX, "the request body must be a JSON object");
    /* RFC 7644 §3.5.2: "schemas" holds the PatchOp URN. Entra and Okta always send it. */
    if (scim_json_depth_check(body, LIMIT_JSON_DEPTH, err) < 0 ||
        get_ci(body, "schemas", &schemas, err) < 0 ||
        scim_value_schemas_check(&rules, schemas, SCIM_URN_PATCH, err) < 0)
        return -1;
    /* Entra sometimes spells it "operations". */
    if (get_ci(body, "Operations", ops, err) < 0)
        return -1;
    if (!json_is_array(*ops) || json_array_size(*ops) == 0)
        return err_set(err, ERR_INVALID_SYNTAX, "\"Operations\" must be a non-empty array");
    if (json_array_size(*ops) > LIMIT_PATCH_OPS)
        return err_set(err, ERR_TOO_LARGE, "more than %d operations", LIMIT_PATCH_OPS);
    return 0;
}

int
scim_patch_apply(const struct scim_resource_type *rt, const json_t *doc, const json_t *body,
                 struct arena *a, struct scim_patch_result *out, struct err *err)
{
    struct patch p = { .rt = rt, .arena = a, .err = err };
    const json_t *ops = NULL;
    json_t *result = NULL;
    int rc = -1;

    if (out == NULL)
        return err_set(err, ERR_INTERNAL, NULL);
    *out = (struct scim_patch_result){ 0 };
    if (rt == NULL || a == NULL || !json_is_object(doc))
        return err_set(err, ERR_INTERNAL, NULL);
    if (check_body(body, &ops, err) < 0)
        return -1;

    p.doc = json_deep_copy(doc);
    p.add = json_object();
    p.remove = json_object();
    if (p.doc == NULL) {
        err_set(err, ERR_INTERNAL, NULL);
        goto out;
    }
    if (apply_ops(&p, ops) < 0 || check_result(&p, doc) < 0)
        goto out;
    result = scim_value_assemble(rt, p.doc);
    if (members_out(&p, &out->members) < 0)
        goto out;
    out->changed = !json_equal((json_t *)doc, result) || p.password != NULL || p.replace_all ||
                   p.remove_all || out->members.n_add > 0 || out->members.n_remove > 0;
    out->doc = result;
    result = NULL;
    out->password = p.password;
    p.password = NULL;
    rc = 0;
out:
    if (rc < 0)
        *out = (struct scim_patch_result){ 0 };
    if (p.password != NULL) {
        crypto_wipe(p.password, strlen(p.password));
        free(p.password);
    }
    json_decref(result);
    json_decref(p.doc);
    json_decref(p.add);
    json_decref(p.remove);
    return rc;
}

void
scim_patch_result_cleanup(struct scim_patch_result *r)
{
    if (r == NULL)
        return;
    json_decref(r->doc);
    if (r->password != NULL) {
        crypto_wipe(r->password, strlen(r->password));
        free(r->password);
    }
    *r = (struct scim_patch_result){ 0 };
}
