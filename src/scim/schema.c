#include "scim/schema.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/str.h"
#include "core/role.h"
#include "query/query.h"

/* The schema tables below transcribe RFC 7643 §8.7.1 (core User and Group) and §8.7.2
 * (Enterprise User), plus the role extension, whose URN and role names come from the
 * configured catalogue (core/role.h, scim_schema_configure). Zero is the default of every
 * characteristic that most attributes share: readWrite, returned default, uniqueness none,
 * caseExact false, required false. */

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define INFO(n, t, multi, exact) \
    .info = { .name = (n), .type = QUERY_TYPE_##t, .multi_valued = (multi), .case_exact = (exact) }

#define SUBS(a) .sub_attrs = (a), .n_sub_attrs = NELEM(a)

static const char *const ref_external[] = { "external", NULL };
static const char *const ref_uri[] = { "uri", NULL };
static const char *const ref_user_group[] = { "User", "Group", NULL };
static const char *const ref_user[] = { "User", NULL };

static const char *const cv_email_type[] = { "work", "home", "other", NULL };
static const char *const cv_phone_type[] = {
    "work", "home", "mobile", "fax", "pager", "other", NULL
};
static const char *const cv_im_type[] = { "aim",   "gtalk", "icq",   "xmpp", "msn",
                                          "skype", "qq",    "yahoo", NULL };
static const char *const cv_photo_type[] = { "photo", "thumbnail", NULL };
static const char *const cv_address_type[] = { "work", "home", "other", NULL };
static const char *const cv_group_type[] = { "direct", "indirect", NULL };
static const char *const cv_member_type[] = { "User", "Group", NULL };
/* The catalogue's role names, NULL-terminated (scim_schema_configure). */
static const char *cv_tenant_role[LIMIT_ROLES_MAX + 1];

/* ---- Common attributes (RFC 7643 §3.1) ---- */

static const struct scim_attr meta_subs[] = {
    { INFO("resourceType", STRING, false, true),
      .description = "The name of the resource type of the resource.",
      .mutability = SCIM_MUT_READ_ONLY },
    { INFO("created", DATETIME, false, false),
      .description = "The DateTime that the resource was added to the service provider.",
      .mutability = SCIM_MUT_READ_ONLY },
    { INFO("lastModified", DATETIME, false, false),
      .description =
          "The most recent DateTime that the details of this resource were updated at the service provider.",
      .mutability = SCIM_MUT_READ_ONLY },
    { INFO("location", REFERENCE, false, true),
      .description = "The URI of the resource being returned.", .mutability = SCIM_MUT_READ_ONLY,
      .reference_types = ref_uri },
    { INFO("version", STRING, false, true),
      .description = "The version of the resource being returned (its ETag).",
      .mutability = SCIM_MUT_READ_ONLY },
};

static const struct scim_attr common_attrs[] = {
    { INFO("schemas", REFERENCE, true, true),
      .description = "The schema URIs the resource conforms to.", .required = true,
      .returned = SCIM_RET_ALWAYS, .reference_types = ref_uri },
    { INFO("id", STRING, false, true),
      .description = "Unique identifier for the SCIM resource as defined by the service provider.",
      .mutability = SCIM_MUT_READ_ONLY, .returned = SCIM_RET_ALWAYS,
      .uniqueness = SCIM_UNIQ_SERVER },
    { INFO("externalId", STRING, false, true),
      .description =
          "A string identifier for the resource as defined by the provisioning client." },
    { INFO("meta", COMPLEX, false, false), .description = "Resource metadata.",
      .mutability = SCIM_MUT_READ_ONLY, SUBS(meta_subs) },
};

/* ---- Core User (RFC 7643 §4.1, §8.7.1) ---- */

static const struct scim_attr user_name_subs[] = {
    { INFO("formatted", STRING, false, false),
      .description =
          "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display." },
    { INFO("familyName", STRING, false, false),
      .description = "The family name of the User, or last name in most Western languages." },
    { INFO("givenName", STRING, false, false),
      .description = "The given name of the User, or first name in most Western languages." },
    { INFO("middleName", STRING, false, false), .description = "The middle name(s) of the User." },
    { INFO("honorificPrefix", STRING, false, false),
      .description = "The honorific prefix(es) of the User, or title in most Western languages." },
    { INFO("honorificSuffix", STRING, false, false),
      .description = "The honorific suffix(es) of the User, or suffix in most Western languages." },
};

static const struct scim_attr email_subs[] = {
    { INFO("value", STRING, false, false), .description = "Email address for the User." },
    { INFO("display", STRING, false, false),
      .description = "A human-readable name, primarily used for display purposes." },
    { INFO("type", STRING, false, false),
      .description = "A label indicating the attribute's function, e.g., 'work' or 'home'.",
      .canonical_values = cv_email_type },
    { INFO("primary", BOOLEAN, false, false),
      .description =
          "A Boolean value indicating the 'primary' or preferred attribute value for this attribute." },
};

static const struct scim_attr phone_subs[] = {
    { INFO("value", STRING, false, false), .description = "Phone number of the User." },
    { INFO("display", STRING, false, false),
      .description = "A human-readable name, primarily used for display purposes." },
    { INFO("type", STRING, false, false),
      .description = "A label indicating the attribute's function, e.g., 'work', 'home', 'mobile'.",
      .canonical_values = cv_phone_type },
    { INFO("primary", BOOLEAN, false, false),
      .description =
          "A Boolean value indicating the 'primary' or preferred attribute value for this attribute." },
};

static const struct scim_attr im_subs[] = {
    { INFO("value", STRING, false, false),
      .description = "Instant messaging address for the User." },
    { INFO("display", STRING, false, false),
      .description = "A human-readable name, primarily used for display purposes." },
    { INFO("type", STRING, false, false),
      .description = "A label indicating the attribute's function, e.g., 'aim', 'gtalk', 'xmpp'.",
      .canonical_values = cv_im_type },
    { INFO("primary", BOOLEAN, false, false),
      .description =
          "A Boolean value indicating the 'primary' or preferred attribute value for this attribute." },
};

static const struct scim_attr photo_subs[] = {
    { INFO("value", REFERENCE, false, false), .description = "URL of a photo of the User.",
      .reference_types = ref_external },
    { INFO("display", STRING, false, false),
      .description = "A human-readable name, primarily used for display purposes." },
    { INFO("type", STRING, false, false),
      .description = "A label indicating the attribute's function, i.e., 'photo' or 'thumbnail'.",
      .canonical_values = cv_photo_type },
    { INFO("primary", BOOLEAN, false, false),
      .description =
          "A Boolean value indicating the 'primary' or preferred attribute value for this attribute." },
};

static const struct scim_attr address_subs[] = {
    { INFO("formatted", STRING, false, false),
      .description =
          "The full mailing address, formatted for display or use with a mailing label." },
    { INFO("streetAddress", STRING, false, false),
      .description =
          "The full street address component, which may include house number, street name, P.O. box, and multi-line extended street address information." },
    { INFO("locality", STRING, false, false), .description = "The city or locality component." },
    { INFO("region", STRING, false, false), .description = "The state or region component." },
    { INFO("postalCode", STRING, false, false),
      .description = "The zip code or postal code component." },
    { INFO("country", STRING, false, false), .description = "The country name component." },
    { INFO("type", STRING, false, false),
      .description = "A label indicating the attribute's function, e.g., 'work' or 'home'.",
      .canonical_values = cv_address_type },
    { INFO("primary", BOOLEAN, false, false),
      .description =
          "A Boolean value indicating the 'primary' or preferred attribute value for this attribute." },
};

static const struct scim_attr user_group_subs[] = {
    { INFO("value", STRING, false, false), .description = "The identifier of the User's group.",
      .mutability = SCIM_MUT_READ_ONLY },
    { INFO("$ref", REFERENCE, false, false),
      .description = "The URI of the corresponding 'Group' resource to which the user belongs.",
      .mutability = SCIM_MUT_READ_ONLY, .reference_types = ref_user_group },
    { INFO("display", STRING, false, false),
      .description = "A human-readable name, primarily used for display purposes.",
      .mutability = SCIM_MUT_READ_ONLY },
    { INFO("type", STRING, false, false),
      .description = "A label indicating the attribute's function, e.g., 'direct' or 'indirect'.",
      .mutability = SCIM_MUT_READ_ONLY, .canonical_values = cv_group_type },
};

static const struct scim_attr entitlement_subs[] = {
    { INFO("value", STRING, false, false), .description = "The value of an entitlement." },
    { INFO("display", STRING, false, false),
      .description = "A human-readable name, primarily used for display purposes." },
    { INFO("type", STRING, false, false),
      .description = "A label indicating the attribute's function." },
    { INFO("primary", BOOLEAN, false, false),
      .description =
          "A Boolean value indicating the 'primary' or preferred attribute value for this attribute." },
};

static const struct scim_attr role_subs[] = {
    { INFO("value", STRING, false, false), .description = "The value of a role." },
    { INFO("display", STRING, false, false),
      .description = "A human-readable name, primarily used for display purposes." },
    { INFO("type", STRING, false, false),
      .description = "A label indicating the attribute's function." },
    { INFO("primary", BOOLEAN, false, false),
      .description =
          "A Boolean value indicating the 'primary' or preferred attribute value for this attribute." },
};

static const struct scim_attr x509_subs[] = {
    { INFO("value", BINARY, false, false), .description = "The value of an X.509 certificate." },
    { INFO("display", STRING, false, false),
      .description = "A human-readable name, primarily used for display purposes." },
    { INFO("type", STRING, false, false),
      .description = "A label indicating the attribute's function." },
    { INFO("primary", BOOLEAN, false, false),
      .description =
          "A Boolean value indicating the 'primary' or preferred attribute value for this attribute." },
};

static const struct scim_attr user_attrs[] = {
    { INFO("userName", STRING, false, false),
      .description =
          "Unique identifier for the User, typically used by the user to directly authenticate to the service provider. Each User MUST include a non-empty userName value. This identifier MUST be unique across the service provider's entire set of Users. REQUIRED.",
      .required = true, .uniqueness = SCIM_UNIQ_SERVER },
    { INFO("name", COMPLEX, false, false), .description = "The components of the user's real name.",
      SUBS(user_name_subs) },
    { INFO("displayName", STRING, false, false),
      .description = "The name of the User, suitable for display to end-users." },
    { INFO("nickName", STRING, false, false),
      .description = "The casual way to address the user in real life." },
    { INFO("profileUrl", REFERENCE, false, false),
      .description =
          "A fully qualified URL pointing to a page representing the User's online profile.",
      .reference_types = ref_external },
    { INFO("title", STRING, false, false),
      .description = "The user's title, such as \"Vice President\"." },
    { INFO("userType", STRING, false, false),
      .description = "Used to identify the relationship between the organization and the user." },
    { INFO("preferredLanguage", STRING, false, false),
      .description =
          "Indicates the User's preferred written or spoken language (RFC 7231 Accept-Language format)." },
    { INFO("locale", STRING, false, false),
      .description =
          "Used to indicate the User's default location for purposes of localizing items such as currency, date time format, or numerical representations." },
    { INFO("timezone", STRING, false, false),
      .description =
          "The User's time zone in the 'Olson' time zone database format, e.g., 'America/Los_Angeles'." },
    { INFO("active", BOOLEAN, false, false),
      .description = "A Boolean value indicating the User's administrative status." },
    { INFO("password", STRING, false, false),
      .description =
          "The User's cleartext password. Write-only: never returned; scimd stores a salted hash.",
      .mutability = SCIM_MUT_WRITE_ONLY, .returned = SCIM_RET_NEVER },
    { INFO("emails", COMPLEX, true, false), .description = "Email addresses for the user.",
      SUBS(email_subs) },
    { INFO("phoneNumbers", COMPLEX, true, false), .description = "Phone numbers for the User.",
      SUBS(phone_subs) },
    { INFO("ims", COMPLEX, true, false), .description = "Instant messaging addresses for the User.",
      SUBS(im_subs) },
    { INFO("photos", COMPLEX, true, false), .description = "URLs of photos of the User.",
      SUBS(photo_subs) },
    { INFO("addresses", COMPLEX, true, false),
      .description = "A physical mailing address for this User.", SUBS(address_subs) },
    { INFO("groups", COMPLEX, true, false),
      .description =
          "A list of groups to which the user belongs, either through direct membership, through nested groups, or dynamically calculated.",
      .mutability = SCIM_MUT_READ_ONLY, SUBS(user_group_subs) },
    { INFO("entitlements", COMPLEX, true, false),
      .description = "A list of entitlements for the User that represent a thing the User has.",
      SUBS(entitlement_subs) },
    { INFO("roles", COMPLEX, true, false),
      .description =
          "A list of roles for the User that collectively represent who the User is, e.g., 'Student', 'Faculty'.",
      SUBS(role_subs) },
    { INFO("x509Certificates", COMPLEX, true, false),
      .description = "A list of certificates issued to the User.", SUBS(x509_subs) },
};

/* ---- Enterprise User (RFC 7643 §4.3, §8.7.1) ---- */

static const struct scim_attr manager_subs[] = {
    { INFO("value", STRING, false, false),
      .description = "The id of the SCIM resource representing the User's manager." },
    { INFO("$ref", REFERENCE, false, false),
      .description = "The URI of the SCIM resource representing the User's manager.",
      .reference_types = ref_user },
    { INFO("displayName", STRING, false, false),
      .description = "The displayName of the User's manager.", .mutability = SCIM_MUT_READ_ONLY },
};

static const struct scim_attr enterprise_attrs[] = {
    { INFO("employeeNumber", STRING, false, false),
      .description =
          "Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or association with an organization." },
    { INFO("costCenter", STRING, false, false),
      .description = "Identifies the name of a cost center." },
    { INFO("organization", STRING, false, false),
      .description = "Identifies the name of an organization." },
    { INFO("division", STRING, false, false), .description = "Identifies the name of a division." },
    { INFO("department", STRING, false, false),
      .description = "Identifies the name of a department." },
    { INFO("manager", COMPLEX, false, false),
      .description =
          "The User's manager. A complex type that optionally allows service providers to represent organizational hierarchy by referencing the 'id' attribute of another User.",
      SUBS(manager_subs) },
};

/* ---- the role extension (configured: scim_schema_configure) ---- */

static char tenant_role_description[LIMIT_ROLES_MAX * (LIMIT_ROLE_NAME_BYTES + 2) + 160];

static struct scim_attr tenant_attrs[] = {
    { INFO("role", STRING, false, false), .description = tenant_role_description,
      .canonical_values = cv_tenant_role, .canonical_strict = true },
};

/* ---- Core Group (RFC 7643 §4.2, §8.7.1) ---- */

static const struct scim_attr member_subs[] = {
    { INFO("value", STRING, false, false),
      .description =
          "Identifier of the member of this Group. Required in every member: scimd cannot store a member it cannot identify.",
      .required = true, .mutability = SCIM_MUT_IMMUTABLE },
    { INFO("$ref", REFERENCE, false, false),
      .description = "The URI corresponding to a SCIM resource that is a member of this Group.",
      .mutability = SCIM_MUT_IMMUTABLE, .reference_types = ref_user_group },
    { INFO("display", STRING, false, false),
      .description =
          "A human-readable name for the member; scimd returns the member's current displayName." },
    { INFO("type", STRING, false, false),
      .description = "A label indicating the type of resource, e.g., 'User' or 'Group'.",
      .mutability = SCIM_MUT_IMMUTABLE, .canonical_values = cv_member_type },
};

static const struct scim_attr group_attrs[] = {
    /* RFC 7643 §8.7.1 says uniqueness "none"; scimd makes it server-unique because Entra
     * requires unique group names (IDP-QUIRKS.md 20) and groups are addressed by name. */
    { INFO("displayName", STRING, false, false),
      .description = "A human-readable name for the Group. REQUIRED.", .required = true,
      .uniqueness = SCIM_UNIQ_SERVER },
    { INFO("members", COMPLEX, true, false), .description = "A list of members of the Group.",
      SUBS(member_subs) },
};

static const struct scim_schema schema_user = {
    .id = SCIM_URN_USER,
    .name = "User",
    .description = "User Account",
    .attrs = user_attrs,
    .n_attrs = NELEM(user_attrs),
};

static const struct scim_schema schema_enterprise = {
    .id = SCIM_URN_ENTERPRISE,
    .name = "EnterpriseUser",
    .description = "Enterprise User",
    .attrs = enterprise_attrs,
    .n_attrs = NELEM(enterprise_attrs),
};

static struct scim_schema schema_tenant = {
    .id = NULL, /* the configured role_schema */
    .name = "TenantUser",
    .description = "The host application's attributes of a User: its role",
    .attrs = tenant_attrs,
    .n_attrs = NELEM(tenant_attrs),
};

static const struct scim_schema schema_group = {
    .id = SCIM_URN_GROUP,
    .name = "Group",
    .description = "Group",
    .attrs = group_attrs,
    .n_attrs = NELEM(group_attrs),
};

static const struct scim_schema_extension user_extensions[] = {
    { .schema = &schema_enterprise, .required = false },
    { .schema = &schema_tenant, .required = false },
};

/* Without roles the role extension is left out (n_extensions 1) until configured. */
struct scim_resource_type scim_rt_user = {
    .id = "User",
    .name = "User",
    .endpoint = "/Users",
    .description = "User Account",
    .schema = &schema_user,
    .extensions = user_extensions,
    .n_extensions = 1,
};

const struct scim_resource_type scim_rt_group = {
    .id = "Group",
    .name = "Group",
    .endpoint = "/Groups",
    .description = "Group",
    .schema = &schema_group,
    .extensions = NULL,
    .n_extensions = 0,
};

static const struct scim_resource_type *const all_rts[] = { &scim_rt_user, &scim_rt_group };
/* The role extension sits between the enterprise extension and Group when configured. */
static const struct scim_schema *all_schemas[4] = { &schema_user, &schema_enterprise,
                                                    &schema_group };
static size_t n_schemas = 3;

void
scim_schema_configure(void)
{
    const struct role_catalogue *c = role_catalogue_current();
    if (c->n == 0) {
        scim_rt_user.n_extensions = 1;
        all_schemas[2] = &schema_group;
        all_schemas[3] = NULL;
        n_schemas = 3;
        return;
    }
    size_t used = (size_t)snprintf(tenant_role_description, sizeof(tenant_role_description),
                                   "The role the identity provider assigns to the user, one of:");
    for (size_t i = 0; i < c->n; i++) {
        cv_tenant_role[i] = c->names[i];
        if (used < sizeof(tenant_role_description))
            used += (size_t)snprintf(tenant_role_description + used,
                                     sizeof(tenant_role_description) - used, "%s %s", i ? "," : "",
                                     c->names[i]);
    }
    cv_tenant_role[c->n] = NULL;
    if (used < sizeof(tenant_role_description))
        snprintf(tenant_role_description + used, sizeof(tenant_role_description) - used,
                 ". The effective role also depends on the tenant's role map (docs/roles.md).");
    schema_tenant.id = c->schema;
    scim_rt_user.n_extensions = NELEM(user_extensions);
    all_schemas[2] = &schema_tenant;
    all_schemas[3] = &schema_group;
    n_schemas = 4;
}

/* ---- Lookups ---- */

const struct scim_resource_type *
scim_resource_type_find(const char *id)
{
    if (id == NULL)
        return NULL;
    for (size_t i = 0; i < NELEM(all_rts); i++)
        if (cstr_ieq(all_rts[i]->id, id))
            return all_rts[i];
    return NULL;
}

size_t
scim_resource_type_count(void)
{
    return NELEM(all_rts);
}

const struct scim_resource_type *
scim_resource_type_at(size_t i)
{
    return i < NELEM(all_rts) ? all_rts[i] : NULL;
}

size_t
scim_schema_count(void)
{
    return n_schemas;
}

const struct scim_schema *
scim_schema_at(size_t i)
{
    return i < n_schemas ? all_schemas[i] : NULL;
}

const struct scim_schema *
scim_schema_find(const char *urn)
{
    if (urn == NULL)
        return NULL;
    for (size_t i = 0; i < n_schemas; i++)
        if (cstr_ieq(all_schemas[i]->id, urn))
            return all_schemas[i];
    return NULL;
}

static const struct scim_attr *
attr_find(const struct scim_attr *attrs, size_t n, const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (cstr_ieq(attrs[i].info.name, name))
            return &attrs[i];
    return NULL;
}

const struct scim_attr *
scim_schema_attr_find(const struct scim_schema *s, const char *name)
{
    return s ? attr_find(s->attrs, s->n_attrs, name) : NULL;
}

const struct scim_attr *
scim_attr_sub_find(const struct scim_attr *a, const char *name)
{
    return a ? attr_find(a->sub_attrs, a->n_sub_attrs, name) : NULL;
}

size_t
scim_common_attr_count(void)
{
    return NELEM(common_attrs);
}

const struct scim_attr *
scim_common_attr_at(size_t i)
{
    return i < NELEM(common_attrs) ? &common_attrs[i] : NULL;
}

const struct scim_attr *
scim_common_attr_find(const char *name)
{
    return attr_find(common_attrs, NELEM(common_attrs), name);
}

const struct scim_schema_extension *
scim_resource_type_extension_find(const struct scim_resource_type *rt, const char *urn)
{
    if (rt == NULL || urn == NULL)
        return NULL;
    for (size_t i = 0; i < rt->n_extensions; i++)
        if (cstr_ieq(rt->extensions[i].schema->id, urn))
            return &rt->extensions[i];
    return NULL;
}

const struct scim_attr *
scim_attr_of(const struct query_attr_info *info)
{
    /* Every query_attr_info a resolution hands out is the `info` member of a scim_attr in
     * the static tables above, so this is container_of. */
    if (info == NULL)
        return NULL;
    return (const struct scim_attr *)(const void *)((const char *)info -
                                                    offsetof(struct scim_attr, info));
}

/* ---- Resolution (query_resolve_fn) ---- */

static int
unknown_attr(struct err *err, const char *urn, const char *attr, const char *sub)
{
    char u[96], a[96], s[96];

    log_escape(u, sizeof(u), urn ? urn : "");
    log_escape(a, sizeof(a), attr ? attr : "");
    log_escape(s, sizeof(s), sub ? sub : "");
    return err_set(err, ERR_INVALID_FILTER, "unknown attribute \"%s%s%s%s%s\"", u, urn ? ":" : "",
                   a, sub ? "." : "", s);
}

/* Finds a top-level attribute `name` of `rt` in schema `urn` (NULL: the core schema, then
 * the common attributes, then each extension, so "department" finds the enterprise one).
 * *ext_urn is the canonical URN when the attribute belongs to an extension. */
static const struct scim_attr *
top_find(const struct scim_resource_type *rt, const char *urn, const char *name,
         const char **ext_urn, bool *bad_urn)
{
    const struct scim_attr *a;

    *ext_urn = NULL;
    *bad_urn = false;
    if (urn != NULL) {
        if (cstr_ieq(urn, rt->schema->id)) {
            a = scim_schema_attr_find(rt->schema, name);
            return a ? a : scim_common_attr_find(name);
        }
        const struct scim_schema_extension *ext = scim_resource_type_extension_find(rt, urn);
        if (ext == NULL) {
            *bad_urn = true;
            return NULL;
        }
        a = scim_schema_attr_find(ext->schema, name);
        if (a != NULL)
            *ext_urn = ext->schema->id;
        return a;
    }
    a = scim_schema_attr_find(rt->schema, name);
    if (a == NULL)
        a = scim_common_attr_find(name);
    if (a != NULL)
        return a;
    for (size_t i = 0; i < rt->n_extensions; i++) {
        a = scim_schema_attr_find(rt->extensions[i].schema, name);
        if (a != NULL) {
            *ext_urn = rt->extensions[i].schema->id;
            return a;
        }
    }
    return NULL;
}

/* path->attr with no URN but written as "urn:...:User:department": the parser normally
 * splits it, but a caller that builds paths by hand may not. The URN is everything up to
 * the last ':' and must be one of rt's schemas. */
static const struct scim_attr *
top_find_qualified(const struct scim_resource_type *rt, const char *text, const char **ext_urn)
{
    const char *colon = strrchr(text, ':');
    bool bad_urn;

    *ext_urn = NULL;
    if (colon == NULL)
        return NULL;
    size_t ulen = (size_t)(colon - text);
    const struct scim_schema *cands[8];
    size_t n = 0;
    cands[n++] = rt->schema;
    for (size_t i = 0; i < rt->n_extensions && n < NELEM(cands); i++)
        cands[n++] = rt->extensions[i].schema;
    for (size_t i = 0; i < n; i++) {
        if (str_ieq((struct str){ text, ulen }, str_of(cands[i]->id)))
            return top_find(rt, cands[i]->id, colon + 1, ext_urn, &bad_urn);
    }
    return NULL;
}

int
scim_schema_resolve(void *ctx, const struct query_path *parent, struct query_path *path,
                    struct err *err)
{
    const struct scim_resource_type *rt = ctx;
    const struct scim_attr *a = NULL;
    const char *ext_urn = NULL;
    bool bad_urn = false;

    path->attr_info = NULL;
    path->sub_info = NULL;
    path->ext_urn = NULL;
    if (rt == NULL || path->attr == NULL)
        return err_set(err, ERR_INVALID_FILTER, "missing attribute name");

    if (parent != NULL) {
        /* Inside a value filter, emails[type eq "work"]: names are sub-attributes of the
         * parent's attribute. SCIM has no deeper nesting (RFC 7643 §2.3.8). */
        const struct scim_attr *pa = scim_attr_of(parent->attr_info);
        if (pa == NULL || path->urn != NULL || path->sub != NULL)
            return unknown_attr(err, path->urn, path->attr, path->sub);
        a = scim_attr_sub_find(pa, path->attr);
        if (a == NULL)
            return unknown_attr(err, NULL, path->attr, NULL);
        path->attr_info = &a->info;
        path->ext_urn = parent->ext_urn;
        return 0;
    }

    if (path->urn == NULL && cstr_istarts_with(path->attr, "urn:"))
        a = top_find_qualified(rt, path->attr, &ext_urn);
    else
        a = top_find(rt, path->urn, path->attr, &ext_urn, &bad_urn);
    if (bad_urn) {
        char u[128];
        log_escape(u, sizeof(u), path->urn);
        return err_set(err, ERR_INVALID_FILTER, "unknown schema \"%s\"", u);
    }
    if (a == NULL)
        return unknown_attr(err, path->urn, path->attr, path->sub);

    const struct scim_attr *sub = NULL;
    if (path->sub != NULL) {
        sub = scim_attr_sub_find(a, path->sub);
        if (sub == NULL)
            return unknown_attr(err, path->urn, path->attr, path->sub);
    }
    path->attr_info = &a->info;
    path->sub_info = sub ? &sub->info : NULL;
    path->ext_urn = ext_urn;
    return 0;
}

/* ---- Rendering (RFC 7643 §6, §7) ---- */

static const char *
type_name(enum query_attr_type t)
{
    switch (t) {
    case QUERY_TYPE_STRING:
        return "string";
    case QUERY_TYPE_BOOLEAN:
        return "boolean";
    case QUERY_TYPE_DECIMAL:
        return "decimal";
    case QUERY_TYPE_INTEGER:
        return "integer";
    case QUERY_TYPE_DATETIME:
        return "dateTime";
    case QUERY_TYPE_BINARY:
        return "binary";
    case QUERY_TYPE_REFERENCE:
        return "reference";
    case QUERY_TYPE_COMPLEX:
        return "complex";
    case QUERY_TYPE_UNKNOWN:
        break;
    }
    return "string";
}

static const char *
mutability_name(enum scim_mutability m)
{
    switch (m) {
    case SCIM_MUT_READ_ONLY:
        return "readOnly";
    case SCIM_MUT_IMMUTABLE:
        return "immutable";
    case SCIM_MUT_WRITE_ONLY:
        return "writeOnly";
    case SCIM_MUT_READ_WRITE:
        break;
    }
    return "readWrite";
}

static const char *
returned_name(enum scim_returned r)
{
    switch (r) {
    case SCIM_RET_ALWAYS:
        return "always";
    case SCIM_RET_NEVER:
        return "never";
    case SCIM_RET_REQUEST:
        return "request";
    case SCIM_RET_DEFAULT:
        break;
    }
    return "default";
}

static const char *
uniqueness_name(enum scim_uniqueness u)
{
    switch (u) {
    case SCIM_UNIQ_SERVER:
        return "server";
    case SCIM_UNIQ_GLOBAL:
        return "global";
    case SCIM_UNIQ_NONE:
        break;
    }
    return "none";
}

static json_t *
string_list(const char *const *v)
{
    json_t *a = json_array();
    for (; v != NULL && *v != NULL; v++)
        json_array_append_new(a, json_string(*v));
    return a;
}

static json_t *
attr_render(const struct scim_attr *a)
{
    json_t *o = json_object();
    enum query_attr_type t = a->info.type;

    json_object_set_new(o, "name", json_string(a->info.name));
    json_object_set_new(o, "type", json_string(type_name(t)));
    json_object_set_new(o, "multiValued", json_boolean(a->info.multi_valued));
    json_object_set_new(o, "description", json_string(a->description ? a->description : ""));
    json_object_set_new(o, "required", json_boolean(a->required));
    /* RFC 7643 §8.7.1 gives caseExact only where it means something: not for booleans or
     * complex attributes. */
    if (t != QUERY_TYPE_BOOLEAN && t != QUERY_TYPE_COMPLEX)
        json_object_set_new(o, "caseExact", json_boolean(a->info.case_exact));
    if (a->canonical_values != NULL && a->canonical_values[0] != NULL)
        json_object_set_new(o, "canonicalValues", string_list(a->canonical_values));
    if (t == QUERY_TYPE_REFERENCE)
        json_object_set_new(o, "referenceTypes", string_list(a->reference_types));
    json_object_set_new(o, "mutability", json_string(mutability_name(a->mutability)));
    json_object_set_new(o, "returned", json_string(returned_name(a->returned)));
    json_object_set_new(o, "uniqueness", json_string(uniqueness_name(a->uniqueness)));
    if (t == QUERY_TYPE_COMPLEX) {
        json_t *subs = json_array();
        for (size_t i = 0; i < a->n_sub_attrs; i++)
            json_array_append_new(subs, attr_render(&a->sub_attrs[i]));
        json_object_set_new(o, "subAttributes", subs);
    }
    return o;
}

/* base_url + "/" + kind + "/" + id, tolerating a trailing '/' on base_url. */
static json_t *
location(const char *base_url, const char *kind, const char *id)
{
    const char *b = base_url ? base_url : "";
    size_t n = strlen(b);
    while (n > 0 && b[n - 1] == '/')
        n--;
    if (n > 0x7fffffff)
        n = 0x7fffffff;
    return json_sprintf("%.*s/%s/%s", (int)n, b, kind, id);
}

static json_t *
meta_render(const char *resource_type, json_t *loc)
{
    json_t *m = json_object();
    json_object_set_new(m, "resourceType", json_string(resource_type));
    json_object_set_new(m, "location", loc ? loc : json_string(""));
    return m;
}

json_t *
scim_schema_render(const struct scim_schema *s, const char *base_url)
{
    if (s == NULL)
        return NULL;
    json_t *o = json_object();
    json_t *attrs = json_array();

    json_object_set_new(o, "schemas", string_list((const char *const[]){ SCIM_URN_SCHEMA, NULL }));
    json_object_set_new(o, "id", json_string(s->id));
    json_object_set_new(o, "name", json_string(s->name));
    json_object_set_new(o, "description", json_string(s->description));
    for (size_t i = 0; i < s->n_attrs; i++)
        json_array_append_new(attrs, attr_render(&s->attrs[i]));
    json_object_set_new(o, "attributes", attrs);
    json_object_set_new(o, "meta", meta_render("Schema", location(base_url, "Schemas", s->id)));
    return o;
}

json_t *
scim_resource_type_render(const struct scim_resource_type *rt, const char *base_url)
{
    if (rt == NULL)
        return NULL;
    json_t *o = json_object();

    json_object_set_new(o, "schemas", string_list((const char *const[]){ SCIM_URN_RT, NULL }));
    json_object_set_new(o, "id", json_string(rt->id));
    json_object_set_new(o, "name", json_string(rt->name));
    json_object_set_new(o, "endpoint", json_string(rt->endpoint));
    json_object_set_new(o, "description", json_string(rt->description));
    json_object_set_new(o, "schema", json_string(rt->schema->id));
    if (rt->n_extensions > 0) {
        json_t *exts = json_array();
        for (size_t i = 0; i < rt->n_extensions; i++) {
            json_t *e = json_object();
            json_object_set_new(e, "schema", json_string(rt->extensions[i].schema->id));
            json_object_set_new(e, "required", json_boolean(rt->extensions[i].required));
            json_array_append_new(exts, e);
        }
        json_object_set_new(o, "schemaExtensions", exts);
    }
    json_object_set_new(o, "meta",
                        meta_render("ResourceType", location(base_url, "ResourceTypes", rt->id)));
    return o;
}
