#ifndef SCIMD_CORE_TENANT_H
#define SCIMD_CORE_TENANT_H

#include <jansson.h>

#include "base/err.h"
#include "core/gate.h"
#include "store/store.h"

/* Tenants: one customer workspace of the host application. The CLI and the management API
 * both call these, so the rules live here once. */

/* Fields to set on create or update; NULL / -1 leaves a field as it is (on create: default). */
struct tenant_fields {
    const char *display_name;
    const char *plan;
    const char *mode;         /* "push" | "import-only" */
    const char *deactivation; /* "disable" | "remove" */
    int integration_enabled;  /* 0, 1, or -1 */
    int saml_required;        /* 0, 1, or -1 */
    /* The tenant's own public URL (docs/deploy.md); "" clears it (JSON null); NULL: unchanged */
    const char *public_url;
};

#define TENANT_FIELDS_UNSET \
    ((struct tenant_fields){ .integration_enabled = -1, .saml_required = -1 })

/* Creates tenant `slug` ([a-z0-9-], ≤ 63). Defaults: display name = slug, plan "enterprise",
 * mode push, deactivation disable, integration disabled (the operator turns it on).
 * ERR_INVALID_VALUE for bad fields: a plan that is not one of the policy's plans, and settings
 * that make no sense together (import-only with deactivation "remove"); ERR_CONFLICT when the
 * slug exists. */
int tenant_create(struct store *s, const struct gate_policy *policy, const char *slug,
                  const struct tenant_fields *f, struct store_tenant *out, struct err *err);
/* Changes the fields given, under the same rules as tenant_create (the result is checked
 * whole: a plan stored before the plans changed is kept while it is not touched). A changed
 * public URL changes the tenant's SSO values (redirect URI, ACS URL, entity ID), so its SSO
 * connections lose their verified mark in the same transaction, as when the IdP changes. */
int tenant_update(struct store *s, const struct gate_policy *policy, const char *slug,
                  const struct tenant_fields *f, struct store_tenant *out, struct err *err);
/* Deletes the tenant with all its tokens and resources (one transaction). */
int tenant_delete(struct store *s, const char *slug, struct err *err);
int tenant_get(struct store *s, const char *slug, struct store_tenant *out, struct err *err);
/* *out is malloc'd; caller frees. */
int tenant_list(struct store *s, struct store_tenant **out, size_t *n, struct err *err);

/* Reads tenant_fields from a JSON object (management API body); strings borrowed from j.
 * current is the tenant as tenant_to_json shows it, for a change; NULL for a new tenant, whose
 * body names its slug (read by the caller). slug, created and lastModified are read-only: a
 * change may repeat their current values (a GET, change, PATCH round trip), any other value is
 * refused, and so are unknown keys (core/fields.h). ERR_INVALID_VALUE naming the field, also
 * on a wrong type. */
int tenant_fields_from_json(const json_t *j, const json_t *current, struct tenant_fields *f,
                            struct err *err);

/* {"slug", "displayName", "plan", "provisioningMode", "deactivationPolicy",
 *  "integrationEnabled", "samlRequired", "publicUrl" (null when none), "created",
 *  "lastModified"}: new reference. */
json_t *tenant_to_json(const struct store_tenant *t);

/* Checks a tenant's own public URL (docs/deploy.md "A tenant on its own host"): absolute https
 * (http only for 127.0.0.1 and localhost), a host, an optional path of plain segments whose
 * first is none of scimd's own (scim, sso, console, admin, healthz, metrics), no query,
 * fragment, quotes or spaces, at most LIMIT_PUBLIC_URL_BYTES. Copies it without trailing '/'
 * into out (LIMIT_PUBLIC_URL_BYTES + 1 bytes). ERR_INVALID_VALUE naming publicUrl. */
int tenant_public_url_check(const char *u, char *out, struct err *err);

/* Counts changes of tenants made by this process (create, update, delete), so a cache of
 * tenant data (http/server.c's URL paths) knows when to read them again. */
unsigned long tenant_generation(void);

const char *tenant_mode_name(enum store_mode m);
const char *tenant_deactivation_name(enum store_deactivation d);

#endif
