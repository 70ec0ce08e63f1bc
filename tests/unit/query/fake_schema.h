#ifndef SCIMD_TESTS_QUERY_FAKE_SCHEMA_H
#define SCIMD_TESTS_QUERY_FAKE_SCHEMA_H

/* A small User schema and a query_resolve_fn over it, standing in for scim/schema.c (which
 * query/ may not include) in the query tests and fuzz targets. It follows the resolver
 * contract of query.h: top-level paths get attr_info, sub_info and ext_urn; relative paths
 * (parent != NULL) get the parent's sub-attribute as attr_info. */

#include <stddef.h>

#include "base/err.h"
#include "base/str.h"
#include "query/query.h"

#define FAKE_URN_USER       "urn:ietf:params:scim:schemas:core:2.0:User"
#define FAKE_URN_ENTERPRISE "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

struct fake_attr {
    struct query_attr_info info;
    const struct fake_attr *subs;
    size_t n_subs;
};

#define FAKE_N(a) (sizeof(a) / sizeof((a)[0]))

static const struct fake_attr fake_name_subs[] = {
    { { "givenName", QUERY_TYPE_STRING, false, false }, NULL, 0 },
    { { "familyName", QUERY_TYPE_STRING, false, false }, NULL, 0 },
};

static const struct fake_attr fake_emails_subs[] = {
    { { "value", QUERY_TYPE_STRING, false, false }, NULL, 0 },
    { { "type", QUERY_TYPE_STRING, false, false }, NULL, 0 },
    { { "primary", QUERY_TYPE_BOOLEAN, false, false }, NULL, 0 },
    { { "display", QUERY_TYPE_STRING, false, false }, NULL, 0 },
};

static const struct fake_attr fake_members_subs[] = {
    { { "value", QUERY_TYPE_STRING, false, true }, NULL, 0 },
    { { "display", QUERY_TYPE_STRING, false, false }, NULL, 0 },
    { { "type", QUERY_TYPE_STRING, false, false }, NULL, 0 },
    { { "$ref", QUERY_TYPE_REFERENCE, false, true }, NULL, 0 },
};

static const struct fake_attr fake_roles_subs[] = {
    { { "value", QUERY_TYPE_STRING, false, false }, NULL, 0 },
    { { "primary", QUERY_TYPE_BOOLEAN, false, false }, NULL, 0 },
};

static const struct fake_attr fake_meta_subs[] = {
    { { "created", QUERY_TYPE_DATETIME, false, false }, NULL, 0 },
    { { "lastModified", QUERY_TYPE_DATETIME, false, false }, NULL, 0 },
    { { "resourceType", QUERY_TYPE_STRING, false, true }, NULL, 0 },
};

static const struct fake_attr fake_manager_subs[] = {
    { { "value", QUERY_TYPE_STRING, false, false }, NULL, 0 },
    { { "displayName", QUERY_TYPE_STRING, false, false }, NULL, 0 },
};

/* loginCount and score are not RFC 7643 attributes: they give the tests numbers. */
static const struct fake_attr fake_core[] = {
    { { "id", QUERY_TYPE_STRING, false, true }, NULL, 0 },
    { { "externalId", QUERY_TYPE_STRING, false, true }, NULL, 0 },
    { { "userName", QUERY_TYPE_STRING, false, false }, NULL, 0 },
    { { "displayName", QUERY_TYPE_STRING, false, false }, NULL, 0 },
    { { "title", QUERY_TYPE_STRING, false, false }, NULL, 0 },
    { { "active", QUERY_TYPE_BOOLEAN, false, false }, NULL, 0 },
    { { "loginCount", QUERY_TYPE_INTEGER, false, false }, NULL, 0 },
    { { "score", QUERY_TYPE_DECIMAL, false, false }, NULL, 0 },
    { { "nickNames", QUERY_TYPE_STRING, true, false }, NULL, 0 },
    { { "name", QUERY_TYPE_COMPLEX, false, false }, fake_name_subs, FAKE_N(fake_name_subs) },
    { { "emails", QUERY_TYPE_COMPLEX, true, false }, fake_emails_subs, FAKE_N(fake_emails_subs) },
    { { "members", QUERY_TYPE_COMPLEX, true, false },
      fake_members_subs,
      FAKE_N(fake_members_subs) },
    { { "roles", QUERY_TYPE_COMPLEX, true, false }, fake_roles_subs, FAKE_N(fake_roles_subs) },
    { { "meta", QUERY_TYPE_COMPLEX, false, false }, fake_meta_subs, FAKE_N(fake_meta_subs) },
};

static const struct fake_attr fake_enterprise[] = {
    { { "employeeNumber", QUERY_TYPE_STRING, false, false }, NULL, 0 },
    { { "department", QUERY_TYPE_STRING, false, false }, NULL, 0 },
    { { "manager", QUERY_TYPE_COMPLEX, false, false },
      fake_manager_subs,
      FAKE_N(fake_manager_subs) },
};

static const struct fake_attr *
fake_find(const struct fake_attr *attrs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (cstr_ieq(attrs[i].info.name, name))
            return &attrs[i];
    return NULL;
}

/* The fake_attr that embeds info, among the top-level attributes. */
static const struct fake_attr *
fake_owner(const struct query_attr_info *info)
{
    for (size_t i = 0; i < FAKE_N(fake_core); i++)
        if (&fake_core[i].info == info)
            return &fake_core[i];
    for (size_t i = 0; i < FAKE_N(fake_enterprise); i++)
        if (&fake_enterprise[i].info == info)
            return &fake_enterprise[i];
    return NULL;
}

static int
fake_resolve(void *ctx, const struct query_path *parent, struct query_path *path, struct err *err)
{
    const struct fake_attr *a = NULL;
    const char *ext = NULL;

    (void)ctx;
    if (parent != NULL) {
        const struct fake_attr *owner = fake_owner(parent->attr_info);
        a = owner ? fake_find(owner->subs, owner->n_subs, path->attr) : NULL;
        if (a == NULL)
            return err_set(err, ERR_INVALID_FILTER, "unknown attribute %.40s.%.40s", parent->attr,
                           path->attr);
        path->attr_info = &a->info;
        path->sub_info = NULL;
        path->ext_urn = NULL;
        return 0;
    }
    if (path->urn == NULL || cstr_ieq(path->urn, FAKE_URN_USER))
        a = fake_find(fake_core, FAKE_N(fake_core), path->attr);
    if (a == NULL && (path->urn == NULL || cstr_ieq(path->urn, FAKE_URN_ENTERPRISE))) {
        a = fake_find(fake_enterprise, FAKE_N(fake_enterprise), path->attr);
        ext = FAKE_URN_ENTERPRISE;
    }
    if (a == NULL)
        return err_set(err, ERR_INVALID_FILTER, "unknown attribute %.40s", path->attr);
    path->attr_info = &a->info;
    path->ext_urn = ext;
    path->sub_info = NULL;
    if (path->sub == NULL)
        return 0;
    const struct fake_attr *s = fake_find(a->subs, a->n_subs, path->sub);
    if (s == NULL)
        return err_set(err, ERR_INVALID_FILTER, "unknown attribute %.40s.%.40s", path->attr,
                       path->sub);
    path->sub_info = &s->info;
    return 0;
}

#endif
