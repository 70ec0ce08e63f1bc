#include "scim/scim_int.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "scim/schema.h"

/* RFC 7643 §2.3 value checks and the canonical document, for resource.c (POST, PUT bodies)
 * and patch.c (PATCH values). Where the two differ, struct scim_value_rules says how. */

static int
type_error(struct err *err, const struct scim_attr *parent, const struct scim_attr *a,
           const char *what)
{
    if (parent != NULL)
        return err_set(err, ERR_INVALID_VALUE, "attribute \"%s.%s\" must be %s", parent->info.name,
                       a->info.name, what);
    return err_set(err, ERR_INVALID_VALUE, "attribute \"%s\" must be %s", a->info.name, what);
}

/* True when v is a string equal to `word` in any case, read as r says. */
static bool
string_is(const struct scim_value_rules *r, const json_t *v, const char *word)
{
    if (!json_is_string(v))
        return false;
    if (r->cstrings)
        return cstr_ieq(json_string_value(v), word);
    return str_ieq_cstr((struct str){ json_string_value(v), json_string_length(v) }, word);
}

/* RFC 7643 §2.4 canonical values, enforced where the schema says canonical_strict (the
 * tenant "role"): matched in any case, stored in the canonical spelling. */
static int
canonical(const struct scim_value_rules *r, const struct scim_attr *parent,
          const struct scim_attr *a, const json_t *v, json_t **out, struct err *err)
{
    char list[160] = "";
    size_t len = 0;

    for (const char *const *cv = a->canonical_values; cv != NULL && *cv != NULL; cv++) {
        if (string_is(r, v, *cv)) {
            *out = json_string(*cv);
            return 0;
        }
        int w = snprintf(list + len, sizeof(list) - len, "%s%s", len > 0 ? ", " : "", *cv);
        if (w < 0 || (size_t)w >= sizeof(list) - len) {
            list[len] = '\0';
            break;
        }
        len += (size_t)w;
    }
    char what[sizeof(list) + 16];
    int n = snprintf(what, sizeof(what), "one of: %s", list);
    return type_error(err, parent, a, n > 0 && (size_t)n < sizeof(what) ? what : "canonical");
}

/* NULL when v has the JSON type that a's type needs, else what it should have been. */
static const char *
type_mismatch(const struct scim_value_rules *r, const struct scim_attr *a, const json_t *v)
{
    int64_t ms;

    switch (a->info.type) {
    case QUERY_TYPE_STRING:
    case QUERY_TYPE_REFERENCE:
    case QUERY_TYPE_BINARY:
        return json_is_string(v) ? NULL : "a string";
    case QUERY_TYPE_BOOLEAN:
        /* Entra sends "True"/"False" (IDP-QUIRKS.md 12). */
        return json_is_boolean(v) || string_is(r, v, "true") || string_is(r, v, "false")
                   ? NULL
                   : "a boolean";
    case QUERY_TYPE_INTEGER:
        return json_is_integer(v) ? NULL : "an integer";
    case QUERY_TYPE_DECIMAL:
        return json_is_number(v) ? NULL : "a number";
    case QUERY_TYPE_DATETIME:
        return json_is_string(v) && clock_parse_datetime(json_string_value(v), &ms) ? NULL
                                                                                    : "a dateTime";
    case QUERY_TYPE_COMPLEX:
    case QUERY_TYPE_UNKNOWN:
        break;
    }
    return "a simple value";
}

int
scim_value_normalize_simple(const struct scim_value_rules *r, const struct scim_attr *parent,
                            const struct scim_attr *a, const json_t *v, json_t **out,
                            struct err *err)
{
    *out = NULL;
    if (json_is_null(v))
        return 0;
    const char *what = type_mismatch(r, a, v);
    if (what != NULL)
        return type_error(err, parent, a, what);
    if (a->info.type == QUERY_TYPE_BOOLEAN) {
        *out = json_boolean(json_is_true(v) || string_is(r, v, "true"));
        return 0;
    }
    if (a->info.type == QUERY_TYPE_STRING && a->canonical_strict)
        return canonical(r, parent, a, v, out, err);
    *out = json_copy((json_t *)v);
    return 0;
}

int
scim_value_normalize_complex(const struct scim_value_rules *r, const struct scim_attr *a,
                             const json_t *v, bool keep_null, json_t **out, struct err *err)
{
    *out = NULL;
    if (json_is_null(v))
        return 0;
    if (!json_is_object(v)) {
        const struct scim_attr *value = scim_attr_sub_find(a, "value");
        json_t *sv;
        if (value == NULL || json_is_array(v))
            return type_error(err, NULL, a, "a complex value");
        if (scim_value_normalize_simple(r, a, value, v, &sv, err) < 0)
            return -1;
        /* sv is not NULL: v is not null. */
        *out = json_object();
        json_object_set_new(*out, value->info.name, sv != NULL ? sv : json_null());
        return 0;
    }
    json_t *o = json_object();
    const char *key;
    json_t *sub_v;
    json_object_foreach((json_t *)v, key, sub_v) {
        const struct scim_attr *s = scim_attr_sub_find(a, key);
        json_t *sv;
        if (s == NULL || s->mutability == SCIM_MUT_READ_ONLY)
            continue;
        if (json_object_get(o, s->info.name) != NULL) {
            json_decref(o);
            return err_set(err, ERR_INVALID_SYNTAX, "attribute \"%s.%s\" is given more than once",
                           a->info.name, s->info.name);
        }
        if (scim_value_normalize_simple(r, a, s, sub_v, &sv, err) < 0) {
            json_decref(o);
            return -1;
        }
        if (sv != NULL)
            json_object_set_new(o, s->info.name, sv);
        else if (keep_null)
            json_object_set_new(o, s->info.name, json_null());
    }
    if (r->empty_absent && json_object_size(o) == 0) {
        json_decref(o);
        return 0;
    }
    *out = o;
    return 0;
}

/* Appends element v of multi-valued attribute a to arr, normalised, unless it holds
 * nothing; counts it in *primaries when it is primary. */
static int
append_element(const struct scim_value_rules *r, const struct scim_attr *a, const json_t *v,
               json_t *arr, size_t *primaries, struct err *err)
{
    json_t *e = NULL;

    if (json_is_array(v))
        return type_error(err, NULL, a, "an array of values, not of arrays");
    if (a->info.type != QUERY_TYPE_COMPLEX) {
        if (scim_value_normalize_simple(r, NULL, a, v, &e, err) < 0)
            return -1;
    } else {
        if (scim_value_normalize_complex(r, a, v, false, &e, err) < 0)
            return -1;
        if (e != NULL && json_object_size(e) == 0) {
            json_decref(e);
            e = NULL;
        }
    }
    if (e == NULL)
        return 0;
    if (json_is_true(json_object_get(e, "primary")))
        (*primaries)++;
    json_array_append_new(arr, e);
    return 0;
}

int
scim_value_normalize_multi(const struct scim_value_rules *r, const struct scim_attr *a,
                           const json_t *v, json_t **out, struct err *err)
{
    size_t primaries = 0;

    *out = NULL;
    if (json_is_null(v))
        return 0;
    if (json_is_array(v) && json_array_size(v) > LIMIT_MEMBERS_PER_REQUEST)
        return err_set(err, ERR_TOO_LARGE, "attribute \"%s\" %s more than %d values", a->info.name,
                       r->too_many_verb, LIMIT_MEMBERS_PER_REQUEST);
    if (!json_is_array(v) && !r->single_as_array)
        return err_set(err, ERR_INVALID_VALUE,
                       "attribute \"%s\" is multi-valued: give its values as a JSON array",
                       a->info.name);
    json_t *arr = json_array();
    if (!json_is_array(v)) {
        if (append_element(r, a, v, arr, &primaries, err) < 0)
            goto fail;
    } else {
        size_t i;
        json_t *elem;
        json_array_foreach(v, i, elem) {
            if (append_element(r, a, elem, arr, &primaries, err) < 0)
                goto fail;
        }
    }
    if (r->one_primary && primaries > 1) {
        err_set(
            err, ERR_INVALID_VALUE,
            "attribute \"%s\" has more than one value with primary true; only one primary is allowed",
            a->info.name);
        goto fail;
    }
    if (r->empty_absent && json_array_size(arr) == 0) {
        json_decref(arr);
        return 0;
    }
    *out = arr;
    return 0;
fail:
    json_decref(arr);
    return -1;
}

int
scim_value_normalize_password(const struct scim_value_rules *r, const struct scim_attr *a,
                              const json_t *v, char **out, struct err *err)
{
    *out = NULL;
    if (json_is_null(v))
        return 0;
    if (!json_is_string(v) ||
        (!r->cstrings && strlen(json_string_value(v)) != json_string_length(v)))
        return type_error(err, NULL, a, "a string");
    if (json_string_length(v) == 0)
        return 0;
    *out = xstrndup(json_string_value(v), json_string_length(v));
    return 0;
}

bool
scim_value_is_same(const struct scim_value_rules *r, const struct scim_attr *a, const json_t *x,
                   const json_t *y)
{
    if (json_is_string(x) && json_is_string(y) && (a == NULL || !a->info.case_exact)) {
        if (r->cstrings)
            return cstr_ieq(json_string_value(x), json_string_value(y));
        return str_ieq((struct str){ json_string_value(x), json_string_length(x) },
                       (struct str){ json_string_value(y), json_string_length(y) });
    }
    return json_equal((json_t *)x, (json_t *)y);
}

int
scim_value_schemas_check(const struct scim_value_rules *r, const json_t *schemas, const char *urn,
                         struct err *err)
{
    bool found = false;
    size_t i;
    json_t *s;

    if (r->strict_schemas && !json_is_array(schemas))
        return err_set(err, ERR_INVALID_SYNTAX, "\"schemas\" must be an array of strings");
    json_array_foreach(schemas, i, s) {
        if (!json_is_string(s)) {
            if (r->strict_schemas)
                return err_set(err, ERR_INVALID_SYNTAX, "\"schemas\" must be an array of strings");
            continue;
        }
        if (cstr_ieq(json_string_value(s), urn))
            found = true;
    }
    if (!found)
        return err_set(err, ERR_INVALID_SYNTAX, "\"schemas\" must contain \"%s\"", urn);
    return 0;
}

static bool
is_write_only(const struct scim_resource_type *rt, const char *key)
{
    const struct scim_attr *a = scim_schema_attr_find(rt->schema, key);
    return a != NULL && a->mutability == SCIM_MUT_WRITE_ONLY;
}

/* Copies the attributes of schema s from src into dst, in schema order; writeOnly ones
 * never. */
static void
copy_ordered(json_t *dst, const json_t *src, const struct scim_schema *s)
{
    for (size_t i = 0; i < s->n_attrs; i++) {
        const struct scim_attr *a = &s->attrs[i];
        json_t *v = json_object_get(src, a->info.name);
        if (v != NULL && a->mutability != SCIM_MUT_WRITE_ONLY)
            json_object_set(dst, a->info.name, v);
    }
}

json_t *
scim_value_assemble(const struct scim_resource_type *rt, const json_t *doc)
{
    json_t *out = json_object();
    json_t *schemas = json_array();
    const char *key;
    json_t *v;

    json_array_append_new(schemas, json_string(rt->schema->id));
    json_object_set_new(out, "schemas", schemas);
    for (size_t i = 0; i < scim_common_attr_count(); i++) {
        const char *name = scim_common_attr_at(i)->info.name;
        v = json_object_get(doc, name);
        if (v != NULL && strcmp(name, "schemas") != 0)
            json_object_set(out, name, v);
    }
    copy_ordered(out, doc, rt->schema);
    for (size_t e = 0; e < rt->n_extensions; e++) {
        const struct scim_schema *s = rt->extensions[e].schema;
        json_t *src = json_object_get(doc, s->id);
        if (!json_is_object(src) || json_object_size(src) == 0)
            continue;
        json_t *obj = json_object();
        copy_ordered(obj, src, s);
        json_object_foreach(src, key, v) {
            if (json_object_get(obj, key) == NULL)
                json_object_set(obj, key, v);
        }
        json_array_append_new(schemas, json_string(s->id));
        json_object_set_new(out, s->id, obj);
    }
    json_object_foreach((json_t *)doc, key, v) {
        if (json_object_get(out, key) == NULL && !is_write_only(rt, key) &&
            scim_resource_type_extension_find(rt, key) == NULL)
            json_object_set(out, key, v);
    }
    return out;
}
