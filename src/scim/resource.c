#include "scim/resource.h"

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/crypto.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/str.h"
#include "scim/schema.h"
#include "scim/scim_int.h"

/* Extensions one resource type may have; the static tables in schema.c have at most two. */
#define MAX_EXTENSIONS 8

/* Body normalisation's side of the rules it shares with the PATCH engine (scim_int.h):
 * strings read as C strings, empty values are absent, at most one primary, "schemas" an
 * array of strings. */
static const struct scim_value_rules rules = {
    .cstrings = true,
    .empty_absent = true,
    .one_primary = true,
    .strict_schemas = true,
    .single_as_array = false,
    .too_many_verb = "has",
};

/* Where normalised attributes collect before the output is assembled in schema order. */
struct norm {
    const struct scim_resource_type *rt;
    json_t *core;                 /* owned: core and common attributes by canonical name */
    json_t *exts[MAX_EXTENSIONS]; /* owned: one object per extension of rt */
    char *password;               /* owned, NULL when absent */
    bool password_seen;
};

/* Which schema an attribute name is looked up in: the core one (with the common
 * attributes) or extension number `ext`. */
#define SCHEMA_CORE (-1)

/* "emails.primary" for messages; `parent` may be NULL. */
static const char *
qname(char *dst, size_t size, const struct scim_attr *parent, const struct scim_attr *a)
{
    int n = parent ? snprintf(dst, size, "%s.%s", parent->info.name, a->info.name)
                   : snprintf(dst, size, "%s", a->info.name);
    /* Truncation only shortens a message; the names are static and short. */
    (void)n;
    return dst;
}

static int
duplicate(struct err *err, const struct scim_attr *parent, const struct scim_attr *a)
{
    char name[128];
    return err_set(err, ERR_INVALID_SYNTAX, "attribute \"%s\" is given more than once",
                   qname(name, sizeof(name), parent, a));
}

/* A single-valued attribute's value; *out NULL when absent (null, or nothing left). */
static int
norm_single(const struct scim_attr *a, json_t *v, json_t **out, struct err *err)
{
    if (a->info.type == QUERY_TYPE_COMPLEX)
        return scim_value_normalize_complex(&rules, a, v, false, out, err);
    return scim_value_normalize_simple(&rules, NULL, a, v, out, err);
}

static int
take_password(struct norm *n, const struct scim_attr *a, json_t *v, struct err *err)
{
    if (json_is_null(v))
        return 0;
    if (n->password_seen)
        return duplicate(err, NULL, a);
    n->password_seen = true;
    return scim_value_normalize_password(&rules, a, v, &n->password, err);
}

static json_t *
target_of(struct norm *n, int schema)
{
    return schema == SCHEMA_CORE ? n->core : n->exts[schema];
}

static const struct scim_attr *
lookup(const struct norm *n, int schema, const char *name)
{
    if (schema != SCHEMA_CORE)
        return scim_schema_attr_find(n->rt->extensions[schema].schema, name);
    const struct scim_attr *a = scim_schema_attr_find(n->rt->schema, name);
    return a ? a : scim_common_attr_find(name);
}

/* Merges the members of `add` (a normalised complex value) into target[a]. */
static int
merge_complex(json_t *target, const struct scim_attr *a, json_t *add, struct err *err)
{
    json_t *cur = json_object_get(target, a->info.name);
    if (cur == NULL) {
        json_object_set_new(target, a->info.name, add);
        return 0;
    }
    const char *key;
    json_t *v;
    json_object_foreach(add, key, v) {
        if (json_object_get(cur, key) != NULL) {
            /* `key` belongs to `add`: report before letting go of it. */
            duplicate(err, a, scim_attr_sub_find(a, key));
            json_decref(add);
            return -1;
        }
    }
    json_object_update(cur, add);
    json_decref(add);
    return 0;
}

/* One attribute of schema `schema` written as `key`: "name", or "name.givenName" (Entra
 * dotted keys fold into the complex attribute). Unknown names are ignored (RFC 7644 §3.3
 * lets a service provider ignore attributes it does not define). */
static int
put_key(struct norm *n, int schema, const char *key, json_t *v, struct err *err)
{
    char name[LIMIT_PATH_BYTES + 1];
    const char *dot = strchr(key, '.');
    size_t len = dot ? (size_t)(dot - key) : strlen(key);

    if (len >= sizeof(name))
        return 0;
    memcpy(name, key, len);
    name[len] = '\0';
    const struct scim_attr *a = lookup(n, schema, name);
    /* "schemas" is handled on its own; read-only attributes are ignored on input
     * (RFC 7643 §2.2: id, meta, groups). */
    if (a == NULL || a == scim_common_attr_find("schemas") || a->mutability == SCIM_MUT_READ_ONLY)
        return 0;
    if (a->mutability == SCIM_MUT_WRITE_ONLY)
        return dot ? 0 : take_password(n, a, v, err);

    json_t *target = target_of(n, schema);
    json_t *nv = NULL;
    if (dot != NULL) {
        /* A sub-attribute of a single-valued complex attribute; dotted keys into
         * multi-valued ones would not say which element, so they are ignored. */
        const struct scim_attr *s = scim_attr_sub_find(a, dot + 1);
        if (a->info.type != QUERY_TYPE_COMPLEX || a->info.multi_valued || s == NULL ||
            s->mutability == SCIM_MUT_READ_ONLY)
            return 0;
        json_t *sv;
        if (scim_value_normalize_simple(&rules, a, s, v, &sv, err) < 0)
            return -1;
        if (sv == NULL)
            return 0;
        nv = json_object();
        json_object_set_new(nv, s->info.name, sv);
        return merge_complex(target, a, nv, err);
    }
    if (a->info.multi_valued) {
        if (scim_value_normalize_multi(&rules, a, v, &nv, err) < 0)
            return -1;
    } else if (norm_single(a, v, &nv, err) < 0) {
        return -1;
    }
    if (nv == NULL)
        return 0;
    if (a->info.type == QUERY_TYPE_COMPLEX && !a->info.multi_valued)
        return merge_complex(target, a, nv, err);
    if (json_object_get(target, a->info.name) != NULL) {
        json_decref(nv);
        return duplicate(err, NULL, a);
    }
    json_object_set_new(target, a->info.name, nv);
    return 0;
}

static int
put_extension_object(struct norm *n, int ext, json_t *v, struct err *err)
{
    if (json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return err_set(err, ERR_INVALID_VALUE, "\"%s\" must be an object",
                       n->rt->extensions[ext].schema->id);
    const char *key;
    json_t *sub;
    json_object_foreach(v, key, sub) {
        if (put_key(n, ext, key, sub, err) < 0)
            return -1;
    }
    return 0;
}

/* A top-level key that starts with "urn:": an extension object, or a flat full-URN key
 * "urn:...:enterprise:2.0:User:department" (Entra, IDP-QUIRKS.md 13) whose URN is one of
 * rt's schemas. Other URNs (Okta custom extensions scimd does not define) are ignored. */
static int
put_urn_key(struct norm *n, const char *key, json_t *v, struct err *err)
{
    const struct scim_resource_type *rt = n->rt;
    size_t klen = strlen(key);

    for (size_t i = 0; i < rt->n_extensions; i++)
        if (cstr_ieq(key, rt->extensions[i].schema->id))
            return put_extension_object(n, (int)i, v, err);
    for (int s = SCHEMA_CORE; s < (int)rt->n_extensions; s++) {
        const char *urn = s == SCHEMA_CORE ? rt->schema->id : rt->extensions[s].schema->id;
        size_t ulen = strlen(urn);
        if (klen > ulen + 1 && key[ulen] == ':' &&
            str_ieq((struct str){ key, ulen }, (struct str){ urn, ulen }))
            return put_key(n, s, key + ulen + 1, v, err);
    }
    return 0;
}

/* Required attributes (RFC 7644 §3.3: missing ones are a 400 invalidValue) and required
 * sub-attributes in every element (members[].value). */
static int
check_required_subs(const struct scim_attr *a, const json_t *v, struct err *err)
{
    for (size_t i = 0; i < a->n_sub_attrs; i++) {
        const struct scim_attr *s = &a->sub_attrs[i];
        if (!s->required)
            continue;
        if (json_is_object(v)) {
            const json_t *sv = json_object_get(v, s->info.name);
            if (sv == NULL || (json_is_string(sv) && json_string_length(sv) == 0)) {
                char name[128];
                return err_set(err, ERR_INVALID_VALUE, "attribute \"%s\" is required",
                               qname(name, sizeof(name), a, s));
            }
        }
    }
    return 0;
}

int
scim_required_string_check(const struct scim_attr *a, const json_t *v, struct err *err)
{
    if (!json_is_string(v))
        return 0;
    const char *text = json_string_value(v);
    size_t len = json_string_length(v);
    if (len > LIMIT_RESOURCE_NAME_BYTES)
        return err_set(err, ERR_INVALID_VALUE, "attribute \"%s\" is longer than %d bytes",
                       a->info.name, LIMIT_RESOURCE_NAME_BYTES);
    /* RFC 7643 §4.1.1: userName "MUST be non-empty"; white space alone names nobody. */
    for (size_t i = 0; i < len; i++)
        if (!(text[i] == ' ' || (text[i] >= '\t' && text[i] <= '\r')))
            return 0;
    return err_set(err, ERR_INVALID_VALUE, "attribute \"%s\" must not be empty or blank",
                   a->info.name);
}

static int
check_required(const struct scim_schema *s, const json_t *obj, struct err *err)
{
    for (size_t i = 0; i < s->n_attrs; i++) {
        const struct scim_attr *a = &s->attrs[i];
        const json_t *v = json_object_get(obj, a->info.name);
        if (a->required && a->mutability != SCIM_MUT_READ_ONLY) {
            if (v == NULL)
                return err_set(err, ERR_INVALID_VALUE, "attribute \"%s\" is required",
                               a->info.name);
            if (scim_required_string_check(a, v, err) < 0)
                return -1;
        }
        if (v == NULL || a->info.type != QUERY_TYPE_COMPLEX)
            continue;
        if (!a->info.multi_valued) {
            if (check_required_subs(a, v, err) < 0)
                return -1;
            continue;
        }
        size_t j;
        const json_t *e;
        json_array_foreach(v, j, e) {
            if (check_required_subs(a, e, err) < 0)
                return -1;
        }
    }
    return 0;
}

static int
collect(struct norm *n, const json_t *in, struct err *err)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)in, key, v) {
        int rc;
        if (cstr_ieq(key, "schemas"))
            /* RFC 7643 §3: "schemas" lists the URNs the body uses and must name the core
             * schema; null is as good as absent. */
            rc = json_is_null(v) ? 0 : scim_value_schemas_check(&rules, v, n->rt->schema->id, err);
        else if (cstr_istarts_with(key, "urn:"))
            rc = put_urn_key(n, key, v, err);
        else
            rc = put_key(n, SCHEMA_CORE, key, v, err);
        if (rc < 0)
            return -1;
    }
    if (check_required(n->rt->schema, n->core, err) < 0)
        return -1;
    for (size_t e = 0; e < n->rt->n_extensions; e++)
        if (check_required(n->rt->extensions[e].schema, n->exts[e], err) < 0)
            return -1;
    return 0;
}

json_t *
scim_resource_normalize(const struct scim_resource_type *rt, const json_t *in,
                        enum scim_write_mode mode, char **password_out, struct err *err)
{
    struct norm n = { .rt = rt };
    json_t *out = NULL;

    /* Both modes validate alike (RFC 7644 §3.5.1: a PUT carries the whole resource). */
    (void)mode;
    if (password_out != NULL)
        *password_out = NULL;
    if (rt == NULL) {
        err_set(err, ERR_INTERNAL, NULL);
        return NULL;
    }
    assert(rt->n_extensions <= MAX_EXTENSIONS);
    if (!json_is_object(in)) {
        err_set(err, ERR_INVALID_SYNTAX, "the request body must be a JSON object");
        return NULL;
    }
    if (scim_json_depth_check(in, LIMIT_JSON_DEPTH, err) < 0)
        return NULL;

    n.core = json_object();
    for (size_t e = 0; e < rt->n_extensions; e++)
        n.exts[e] = json_object();
    if (collect(&n, in, err) < 0)
        goto out;
    /* The extension objects go under their URNs, where scim_value_assemble looks. */
    for (size_t e = 0; e < rt->n_extensions; e++)
        json_object_set(n.core, rt->extensions[e].schema->id, n.exts[e]);
    out = scim_value_assemble(rt, n.core);
    if (password_out != NULL) {
        *password_out = n.password;
        n.password = NULL;
    }
out:
    if (n.password != NULL) {
        crypto_wipe(n.password, strlen(n.password));
        free(n.password);
    }
    json_decref(n.core);
    for (size_t e = 0; e < rt->n_extensions; e++)
        json_decref(n.exts[e]);
    return out;
}

/* ---- Immutability ---- */

static int
immutable_attrs(const struct scim_attr *attrs, size_t n_attrs, const json_t *old_obj,
                const json_t *new_obj, struct err *err)
{
    for (size_t i = 0; i < n_attrs; i++) {
        const struct scim_attr *a = &attrs[i];
        const json_t *ov = json_object_get(old_obj, a->info.name);
        const json_t *nv = json_object_get(new_obj, a->info.name);
        if (ov == NULL || nv == NULL || json_is_null(ov) || json_is_null(nv))
            continue;
        if (a->mutability == SCIM_MUT_IMMUTABLE) {
            if (!scim_value_is_same(&rules, a, ov, nv))
                return err_set(err, ERR_MUTABILITY, "attribute \"%s\" is immutable", a->info.name);
            continue;
        }
        if (a->info.type != QUERY_TYPE_COMPLEX || a->info.multi_valued)
            continue;
        for (size_t j = 0; j < a->n_sub_attrs; j++) {
            const struct scim_attr *s = &a->sub_attrs[j];
            const json_t *os = json_object_get(ov, s->info.name);
            const json_t *ns = json_object_get(nv, s->info.name);
            if (s->mutability != SCIM_MUT_IMMUTABLE || os == NULL || ns == NULL ||
                json_is_null(os) || json_is_null(ns))
                continue;
            if (!scim_value_is_same(&rules, s, os, ns)) {
                char name[128];
                return err_set(err, ERR_MUTABILITY, "attribute \"%s\" is immutable",
                               qname(name, sizeof(name), a, s));
            }
        }
    }
    return 0;
}

int
scim_resource_check_immutable(const struct scim_resource_type *rt, const json_t *old_doc,
                              const json_t *new_doc, struct err *err)
{
    if (rt == NULL || !json_is_object(old_doc) || !json_is_object(new_doc))
        return err_set(err, ERR_INTERNAL, NULL);
    /* The common attributes: id is readOnly (never taken from input) and none is
     * immutable today, but a future one would be checked here. */
    for (size_t i = 0; i < scim_common_attr_count(); i++)
        if (immutable_attrs(scim_common_attr_at(i), 1, old_doc, new_doc, err) < 0)
            return -1;
    if (immutable_attrs(rt->schema->attrs, rt->schema->n_attrs, old_doc, new_doc, err) < 0)
        return -1;
    for (size_t e = 0; e < rt->n_extensions; e++) {
        const struct scim_schema *s = rt->extensions[e].schema;
        if (immutable_attrs(s->attrs, s->n_attrs, json_object_get(old_doc, s->id),
                            json_object_get(new_doc, s->id), err) < 0)
            return -1;
    }
    return 0;
}

/* ---- Depth ---- */

static bool
depth_ok(const json_t *j, int left)
{
    if (json_is_object(j)) {
        if (left <= 0)
            return false;
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)j, key, v) {
            if (!depth_ok(v, left - 1))
                return false;
        }
        return true;
    }
    if (json_is_array(j)) {
        if (left <= 0)
            return false;
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) {
            if (!depth_ok(v, left - 1))
                return false;
        }
        return true;
    }
    return true;
}

int
scim_json_depth_check(const json_t *j, int max, struct err *err)
{
    if (!depth_ok(j, max))
        return err_set(err, ERR_INVALID_SYNTAX, "JSON is nested more than %d levels deep", max);
    return 0;
}
