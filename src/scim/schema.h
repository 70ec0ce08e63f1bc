#ifndef SCIMD_SCIM_SCHEMA_H
#define SCIMD_SCIM_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "base/err.h"
#include "query/query.h"

/* Schema definitions (RFC 7643 §7, §8.7): the one copy of what each attribute is. Discovery
 * renders them; validation, filtering, PATCH and projection read them. */

#define SCIM_URN_USER       "urn:ietf:params:scim:schemas:core:2.0:User"
#define SCIM_URN_GROUP      "urn:ietf:params:scim:schemas:core:2.0:Group"
#define SCIM_URN_ENTERPRISE "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define SCIM_URN_LIST       "urn:ietf:params:scim:api:messages:2.0:ListResponse"
#define SCIM_URN_ERROR      "urn:ietf:params:scim:api:messages:2.0:Error"
#define SCIM_URN_PATCH      "urn:ietf:params:scim:api:messages:2.0:PatchOp"
#define SCIM_URN_SEARCH     "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
#define SCIM_URN_SPC        "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
#define SCIM_URN_RT         "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
#define SCIM_URN_SCHEMA     "urn:ietf:params:scim:schemas:core:2.0:Schema"

enum scim_mutability {
    SCIM_MUT_READ_WRITE,
    SCIM_MUT_READ_ONLY,
    SCIM_MUT_IMMUTABLE,
    SCIM_MUT_WRITE_ONLY,
};

enum scim_returned {
    SCIM_RET_DEFAULT,
    SCIM_RET_ALWAYS,
    SCIM_RET_NEVER,
    SCIM_RET_REQUEST,
};

enum scim_uniqueness {
    SCIM_UNIQ_NONE,
    SCIM_UNIQ_SERVER,
    SCIM_UNIQ_GLOBAL,
};

struct scim_attr {
    struct query_attr_info info; /* name, type, multiValued, caseExact */
    const char *description;
    bool required;
    enum scim_mutability mutability;
    enum scim_returned returned;
    enum scim_uniqueness uniqueness;
    const char *const *canonical_values; /* NULL-terminated, or NULL */
    const char *const *reference_types;  /* NULL-terminated, or NULL */
    const struct scim_attr *sub_attrs;   /* for complex attributes */
    size_t n_sub_attrs;
    /* Input must be one of canonical_values (case-insensitive) and is stored in its canonical
     * spelling. Off for most attributes: IdPs send types such as "proxyAddress" that are not
     * canonical (RFC 7643 §2.4 lets a server accept others). */
    bool canonical_strict;
};

struct scim_schema {
    const char *id; /* URN */
    const char *name;
    const char *description;
    const struct scim_attr *attrs;
    size_t n_attrs;
};

struct scim_schema_extension {
    const struct scim_schema *schema;
    bool required;
};

struct scim_resource_type {
    const char *id;       /* "User" */
    const char *name;     /* "User" */
    const char *endpoint; /* "/Users" */
    const char *description;
    const struct scim_schema *schema;
    const struct scim_schema_extension *extensions;
    size_t n_extensions;
};

/* The resource types scimd serves, by id ("User", "Group"); case-insensitive. NULL when
 * absent. */
const struct scim_resource_type *scim_resource_type_find(const char *id);
/* Not const: scim_schema_configure adds the role extension once at start; read-only after. */
extern struct scim_resource_type scim_rt_user;
extern const struct scim_resource_type scim_rt_group;

/* Adds the role extension of the process-wide role catalogue (core/role.h) to the User
 * resource type and the schema list: its URN, and its "role" attribute whose canonical
 * values are the catalogue's names. Without roles the extension is not served at all (not in
 * /Schemas, /ResourceTypes, nor accepted in documents). Call once at start, after
 * role_catalogue_set and before any thread runs; tests call it after choosing a catalogue. */
void scim_schema_configure(void);

/* All resource types / schemas, for discovery listings. */
size_t scim_resource_type_count(void);
const struct scim_resource_type *scim_resource_type_at(size_t i);
size_t scim_schema_count(void);
const struct scim_schema *scim_schema_at(size_t i);

/* A schema by URN (case-insensitive), or NULL. */
const struct scim_schema *scim_schema_find(const char *urn);

/* An attribute of a schema / a sub-attribute of a complex attribute, by name
 * (case-insensitive, RFC 7643 §2.1), or NULL. */
const struct scim_attr *scim_schema_attr_find(const struct scim_schema *s, const char *name);
const struct scim_attr *scim_attr_sub_find(const struct scim_attr *a, const char *name);

/* Common attributes of every resource (RFC 7643 §3.1): schemas, id, externalId, meta. They
 * are not part of any schema's "attributes" (scim_schema_attr_find does not search them) but
 * resolve for every resource type. scim_common_attr_find is case-insensitive and
 * returns NULL when absent. */
size_t scim_common_attr_count(void);
const struct scim_attr *scim_common_attr_at(size_t i);
const struct scim_attr *scim_common_attr_find(const char *name);

/* The extension of `rt` whose URN is `urn` (case-insensitive), or NULL when `urn` is not one
 * of rt's extensions (the core schema URN gives NULL too). */
const struct scim_schema_extension *
scim_resource_type_extension_find(const struct scim_resource_type *rt, const char *urn);

/* The scim_attr that owns a query_attr_info returned by a resolution (they are embedded). */
const struct scim_attr *scim_attr_of(const struct query_attr_info *info);

/* A query_resolve_fn for resource type `ctx` (a const struct scim_resource_type *): resolves
 * core and extension attributes, with or without URN prefix. Unknown names fail with
 * ERR_INVALID_FILTER naming the attribute. */
int scim_schema_resolve(void *ctx, const struct query_path *parent, struct query_path *path,
                        struct err *err);

/* Discovery documents (RFC 7643 §6, §7): new references. `base_url` is the absolute SCIM
 * base ("https://host/scim/v2") used in meta.location. */
json_t *scim_schema_render(const struct scim_schema *s, const char *base_url);
json_t *scim_resource_type_render(const struct scim_resource_type *rt, const char *base_url);

#endif
