#include "core/tenant.h"

#include <stdatomic.h>
#include <string.h>

#include "base/clock.h"
#include "base/limits.h"
#include "base/str.h"
#include "core/fields.h"
#include "core/tx.h"

static atomic_ulong generation;

unsigned long
tenant_generation(void)
{
    return atomic_load(&generation);
}

/* The first path segments scimd serves itself: a tenant path starting with one would shadow
 * them (http/server.c strips a tenant's path before routing). */
static const char *const own_roots[] = { "scim",    "sso",     "console", "admin",
                                         "healthz", "metrics", "events" };

static bool
url_char_ok(unsigned char c)
{
    /* RFC 3986 unreserved characters, plus ':' and '@' in the authority; nothing that needs
     * escaping in JSON, HTML or a header. */
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/* The path after the authority: segments of unreserved characters, none empty, "." or "..",
 * the first none of own_roots. */
static int
check_url_path(const char *p, struct err *err)
{
    bool first = true;
    while (*p == '/') {
        const char *seg = ++p;
        while (*p && *p != '/') {
            if (!url_char_ok((unsigned char)*p))
                return err_set(err, ERR_INVALID_VALUE,
                               "publicUrl: the path may hold only letters, digits and -._~ "
                               "(no query, fragment, escapes or spaces)");
            p++;
        }
        size_t n = (size_t)(p - seg);
        if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return err_set(err, ERR_INVALID_VALUE,
                           "publicUrl: the path must not have empty, \".\" or \"..\" segments");
        for (size_t i = 0; first && i < sizeof(own_roots) / sizeof(own_roots[0]); i++)
            if (strlen(own_roots[i]) == n && strncmp(seg, own_roots[i], n) == 0)
                return err_set(err, ERR_INVALID_VALUE,
                               "publicUrl: the path must not start with /%s, which scimd serves "
                               "itself",
                               own_roots[i]);
        first = false;
    }
    return *p == '\0' ? 0 : err_set(err, ERR_INVALID_VALUE, "publicUrl is not a plain URL");
}

int
tenant_public_url_check(const char *u, char *out, struct err *err)
{
    size_t len = strlen(u);
    while (len > 0 && u[len - 1] == '/')
        len--;
    if (len > LIMIT_PUBLIC_URL_BYTES)
        return err_set(err, ERR_INVALID_VALUE, "publicUrl is longer than %d characters",
                       LIMIT_PUBLIC_URL_BYTES);
    char url[LIMIT_PUBLIC_URL_BYTES + 1];
    memcpy(url, u, len);
    url[len] = '\0';
    bool https = strncmp(url, "https://", 8) == 0;
    if (!https && strncmp(url, "http://", 7) != 0)
        return err_set(err, ERR_INVALID_VALUE,
                       "publicUrl must be an absolute https:// URL, such as "
                       "\"https://acme.id.example.com\"");
    if (strpbrk(url, "?#"))
        return err_set(err, ERR_INVALID_VALUE, "publicUrl must not have a query or fragment");
    const char *host = url + (https ? 8 : 7);
    const char *end = host + strcspn(host, "/");
    size_t hn = (size_t)(end - host);
    if (hn == 0)
        return err_set(err, ERR_INVALID_VALUE, "publicUrl has no host");
    for (const char *p = host; p < end; p++)
        if (!url_char_ok((unsigned char)*p) && *p != ':' && *p != '[' && *p != ']')
            return err_set(err, ERR_INVALID_VALUE,
                           "publicUrl: the host may hold only letters, digits, '-', '.' and a "
                           "port (no user name, spaces or quotes)");
    /* Plain http lets anyone on the path read tokens and sign-ins: only for a test on this
     * machine, as a deployment's public_url on loopback. */
    size_t name = strcspn(host, ":/");
    if (!https && !((name == 9 && strncmp(host, "127.0.0.1", 9) == 0) ||
                    (name == 9 && strncmp(host, "localhost", 9) == 0)))
        return err_set(err, ERR_INVALID_VALUE,
                       "publicUrl must use https:// (http:// only for 127.0.0.1 and localhost)");
    if (check_url_path(end, err) < 0)
        return -1;
    memcpy(out, url, len + 1);
    return 0;
}

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
    if (f->public_url && f->public_url[0] == '\0')
        t->public_url[0] = '\0';
    else if (f->public_url && tenant_public_url_check(f->public_url, t->public_url, err) < 0)
        return -1;
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
    atomic_fetch_add(&generation, 1);
    if (out)
        *out = t;
    return 0;
}

/* The tenant's SSO values changed with its public URL: each connection waits for a new
 * successful sign-in before it counts as verified again (the issue 14 rule of sso/manage.c). */
static int
reset_sso_verified(struct store *s, int64_t tenant_id, int64_t now_ms, struct err *err)
{
    static const char *const protocols[] = { "oidc", "saml" };
    for (size_t i = 0; i < 2; i++) {
        struct store_sso_conn c = { 0 };
        if (store_sso_conn_get(s, tenant_id, protocols[i], &c, err) < 0) {
            if (err->code == ERR_NOT_FOUND)
                continue;
            return -1;
        }
        c.reset_verified = true;
        c.updated_ms = now_ms;
        int rc = store_sso_conn_put(s, &c, err);
        store_sso_conn_cleanup(&c);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* A tenant that removes users on deactivation holds no inactive user (docs/scim.md): the
 * switch to "remove" is refused while it has some, rather than deleting them as a side effect
 * of a setting; the host deletes (or reactivates) them first. */
static int
no_inactive_users(struct store *s, int64_t tenant_id, struct err *err)
{
    int64_t n;
    if (store_users_inactive_count(s, tenant_id, &n, err) < 0)
        return -1;
    if (n == 0)
        return 0;
    return err_set(err, ERR_CONFLICT,
                   "the tenant has %lld inactive user(s), and a tenant that removes users on "
                   "deactivation holds none: delete or reactivate them first (users?filter="
                   "active eq false lists them)",
                   (long long)n);
}

int
tenant_update(struct store *s, const struct gate_policy *policy, const char *slug,
              const struct tenant_fields *f, struct store_tenant *out, struct err *err)
{
    struct store_tenant t;
    char was[sizeof(t.public_url)];
    if (store_tx_begin(s, err) < 0)
        return -1;
    if (store_tenant_get_by_slug(s, slug, &t, err) < 0)
        goto fail;
    memcpy(was, t.public_url, sizeof(was));
    enum store_deactivation before = t.deactivation;
    if (apply_fields(&t, policy, f, false, err) < 0)
        goto fail;
    if (before != STORE_DEACTIVATE_REMOVE && t.deactivation == STORE_DEACTIVATE_REMOVE &&
        no_inactive_users(s, t.id, err) < 0)
        goto fail;
    t.updated_ms = clock_now_ms();
    if (store_tenant_update(s, &t, err) < 0)
        goto fail;
    if (strcmp(was, t.public_url) != 0 && reset_sso_verified(s, t.id, t.updated_ms, err) < 0)
        goto fail;
    if (tx_commit(s, err) < 0)
        return -1;
    atomic_fetch_add(&generation, 1);
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
    if (tx_commit(s, err) < 0)
        return -1;
    atomic_fetch_add(&generation, 1);
    return 0;
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

/* publicUrl: a URL, or null to clear it ("" in tenant_fields); "" itself is refused. */
static int
get_public_url(const json_t *v, const char **out, struct err *err)
{
    if (json_is_null(v)) {
        *out = "";
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) == 0)
        return err_set(err, ERR_INVALID_VALUE,
                       "publicUrl must be an absolute https:// URL, or null to clear it");
    *out = json_string_value(v);
    return 0;
}

int
tenant_fields_from_json(const json_t *j, const json_t *current, struct tenant_fields *f,
                        struct err *err)
{
    /* The slug names a new tenant; afterwards the path names it and it is read-only. */
    static const char *const writable[] = { "slug",
                                            "displayName",
                                            "plan",
                                            "provisioningMode",
                                            "deactivationPolicy",
                                            "integrationEnabled",
                                            "samlRequired",
                                            "publicUrl",
                                            NULL };
    /* scimBaseUrl: the management API's view adds it (api_scim_base_url); it follows publicUrl
     * and the deployment's public_url, and no write sets it. */
    static const char *const readonly[] = { "slug", "created", "lastModified", "scimBaseUrl",
                                            NULL };
    const char *key;
    json_t *v;
    *f = TENANT_FIELDS_UNSET;
    if (!json_is_object(j))
        return err_set(err, ERR_INVALID_SYNTAX, "the body must be a JSON object");
    if (fields_check(j, current ? writable + 1 : writable, current ? readonly : readonly + 1,
                     current, err) < 0)
        return -1;
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
        else if (strcmp(key, "publicUrl") == 0)
            rc = get_public_url(v, &f->public_url, err);
        else
            rc = 0; /* the slug or a read-only field, checked above */
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
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:o, s:s, s:s}", "slug", t->slug,
                     "displayName", t->display_name, "plan", t->plan, "provisioningMode",
                     tenant_mode_name(t->mode), "deactivationPolicy",
                     tenant_deactivation_name(t->deactivation), "integrationEnabled",
                     t->integration_enabled, "samlRequired", t->saml_required, "publicUrl",
                     t->public_url[0] ? json_string(t->public_url) : json_null(), "created",
                     created, "lastModified", modified);
}
