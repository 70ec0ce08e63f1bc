#include "core/tenant.h"

#include <string.h>

#include "base/clock.h"
#include "base/limits.h"
#include "base/str.h"
#include "core/tx.h"

const char *
tenant_mode_name(enum store_mode m)
{
    return m == STORE_MODE_IMPORT_ONLY ? "import-only" : "push";
}

const char *
tenant_deactivation_name(enum store_deactivation d)
{
    return d == STORE_DEACTIVATE_REMOVE ? "remove" : "disable";
}

static int
check_text(const char *what, const char *v, size_t max, struct err *err)
{
    size_t n = strlen(v);
    if (n == 0 || n > max)
        return err_set(err, ERR_INVALID_VALUE, "%s must be 1 to %zu characters", what, max);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20)
            return err_set(err, ERR_INVALID_VALUE, "%s must not contain control characters", what);
    return 0;
}

/* Applies f onto t, validating each field given, then the combination. `creating`: the plan
 * is checked even when it is the default. */
static int
apply_fields(struct store_tenant *t, const struct gate_policy *policy,
             const struct tenant_fields *f, bool creating, struct err *err)
{
    if (f->display_name) {
        if (check_text("displayName", f->display_name, LIMIT_NAME_BYTES, err) < 0)
            return -1;
        str_copy(t->display_name, sizeof(t->display_name), f->display_name);
    }
    if (f->plan || creating) {
        const char *plan = f->plan ? f->plan : t->plan;
        if (strlen(plan) >= sizeof(t->plan) || !gate_plan_is_known(policy, plan))
            return policy->plans
                       ? err_set(err, ERR_INVALID_VALUE,
                                 "plan \"%.40s\" is not one of this service's plans (%.300s)%s",
                                 plan, policy->plans, f->plan ? "" : ": give one")
                       : err_set(err, ERR_INVALID_VALUE,
                                 "plan must be a short lower-case name such as \"enterprise\"");
        str_copy(t->plan, sizeof(t->plan), plan);
    }
    if (f->mode) {
        if (strcmp(f->mode, "push") == 0)
            t->mode = STORE_MODE_PUSH;
        else if (strcmp(f->mode, "import-only") == 0)
            t->mode = STORE_MODE_IMPORT_ONLY;
        else
            return err_set(err, ERR_INVALID_VALUE,
                           "provisioningMode must be \"push\" or \"import-only\"");
    }
    if (f->deactivation) {
        if (strcmp(f->deactivation, "disable") == 0)
            t->deactivation = STORE_DEACTIVATE_DISABLE;
        else if (strcmp(f->deactivation, "remove") == 0)
            t->deactivation = STORE_DEACTIVATE_REMOVE;
        else
            return err_set(err, ERR_INVALID_VALUE,
                           "deactivationPolicy must be \"disable\" or \"remove\"");
    }
    if (f->integration_enabled >= 0)
        t->integration_enabled = f->integration_enabled != 0;
    if (f->saml_required >= 0)
        t->saml_required = f->saml_required != 0;
    /* An import-only tenant's identity provider learns of a departure by importing the user
     * with active false; removing the user would make it vanish from the import instead. */
    if (t->mode == STORE_MODE_IMPORT_ONLY && t->deactivation == STORE_DEACTIVATE_REMOVE)
        return err_set(err, ERR_INVALID_VALUE,
                       "an import-only tenant keeps deactivated users (its identity provider "
                       "imports them as active=false): deactivationPolicy \"remove\" does "
                       "not go with provisioningMode \"import-only\"");
    return 0;
}

int
tenant_create(struct store *s, const struct gate_policy *policy, const char *slug,
              const struct tenant_fields *f, struct store_tenant *out, struct err *err)
{
    struct store_tenant t = { .mode = STORE_MODE_PUSH, .deactivation = STORE_DEACTIVATE_DISABLE };
    if (!str_is_slug(slug, LIMIT_SLUG_BYTES))
        return err_set(err, ERR_INVALID_VALUE,
                       "slug must be 1 to %d characters of a-z, 0-9 and '-', not starting "
                       "with '-'",
                       LIMIT_SLUG_BYTES);
    str_copy(t.slug, sizeof(t.slug), slug);
    str_copy(t.display_name, sizeof(t.display_name), slug);
    str_copy(t.plan, sizeof(t.plan), "enterprise");
    if (apply_fields(&t, policy, f, true, err) < 0)
        return -1;
    t.created_ms = t.updated_ms = clock_now_ms();
    if (store_tx_begin(s, err) < 0)
        return -1;
    if (store_tenant_insert(s, &t, err) < 0) {
        store_tx_rollback(s);
        if (err->code == ERR_UNIQUENESS)
            err_set(err, ERR_CONFLICT, "tenant \"%s\" already exists", slug);
        return -1;
    }
    if (tx_commit(s, err) < 0)
        return -1;
    if (out)
        *out = t;
    return 0;
}

int
tenant_update(struct store *s, const struct gate_policy *policy, const char *slug,
              const struct tenant_fields *f, struct store_tenant *out, struct err *err)
{
    struct store_tenant t;
    if (store_tx_begin(s, err) < 0)
        return -1;
    if (store_tenant_get_by_slug(s, slug, &t, err) < 0 ||
        apply_fields(&t, policy, f, false, err) < 0)
        goto fail;
    t.updated_ms = clock_now_ms();
    if (store_tenant_update(s, &t, err) < 0)
        goto fail;
    if (tx_commit(s, err) < 0)
        return -1;
    if (out)
        *out = t;
    return 0;
fail:
    store_tx_rollback(s);
    return -1;
}

int
tenant_delete(struct store *s, const char *slug, struct err *err)
{
    struct store_tenant t;
    if (store_tx_begin(s, err) < 0)
        return -1;
    if (store_tenant_get_by_slug(s, slug, &t, err) < 0 || store_tenant_delete(s, t.id, err) < 0) {
        store_tx_rollback(s);
        return -1;
    }
    return tx_commit(s, err);
}

int
tenant_get(struct store *s, const char *slug, struct store_tenant *out, struct err *err)
{
    if (store_tenant_get_by_slug(s, slug, out, err) < 0) {
        if (err->code == ERR_NOT_FOUND)
            err_set(err, ERR_NOT_FOUND, "no tenant \"%.63s\"", slug);
        return -1;
    }
    return 0;
}

int
tenant_list(struct store *s, struct store_tenant **out, size_t *n, struct err *err)
{
    return store_tenant_list(s, out, n, err);
}

static int
get_bool(const json_t *v, const char *key, int *out, struct err *err)
{
    if (!json_is_boolean(v))
        return err_set(err, ERR_INVALID_VALUE, "%s must be true or false", key);
    *out = json_is_true(v);
    return 0;
}

static int
get_string(const json_t *v, const char *key, const char **out, struct err *err)
{
    if (!json_is_string(v))
        return err_set(err, ERR_INVALID_VALUE, "%s must be a string", key);
    *out = json_string_value(v);
    return 0;
}

int
tenant_fields_from_json(const json_t *j, struct tenant_fields *f, struct err *err)
{
    const char *key;
    json_t *v;
    *f = TENANT_FIELDS_UNSET;
    if (!json_is_object(j))
        return err_set(err, ERR_INVALID_SYNTAX, "the body must be a JSON object");
    json_object_foreach((json_t *)j, key, v) {
        int rc;
        if (strcmp(key, "displayName") == 0)
            rc = get_string(v, key, &f->display_name, err);
        else if (strcmp(key, "plan") == 0)
            rc = get_string(v, key, &f->plan, err);
        else if (strcmp(key, "provisioningMode") == 0)
            rc = get_string(v, key, &f->mode, err);
        else if (strcmp(key, "deactivationPolicy") == 0)
            rc = get_string(v, key, &f->deactivation, err);
        else if (strcmp(key, "integrationEnabled") == 0)
            rc = get_bool(v, key, &f->integration_enabled, err);
        else if (strcmp(key, "samlRequired") == 0)
            rc = get_bool(v, key, &f->saml_required, err);
        else if (strcmp(key, "slug") == 0)
            rc = 0; /* the path names the tenant; a matching slug in the body is harmless */
        else
            rc = err_set(err, ERR_INVALID_VALUE, "unknown field \"%.64s\"", key);
        if (rc < 0)
            return -1;
    }
    return 0;
}

json_t *
tenant_to_json(const struct store_tenant *t)
{
    char created[32], modified[32];
    clock_format_ms(t->created_ms, created);
    clock_format_ms(t->updated_ms, modified);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:s, s:s}", "slug", t->slug,
                     "displayName", t->display_name, "plan", t->plan, "provisioningMode",
                     tenant_mode_name(t->mode), "deactivationPolicy",
                     tenant_deactivation_name(t->deactivation), "integrationEnabled",
                     t->integration_enabled, "samlRequired", t->saml_required, "created", created,
                     "lastModified", modified);
}
