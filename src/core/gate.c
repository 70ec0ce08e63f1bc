#include "core/gate.h"

#include <stdio.h>
#include <string.h>

#include "base/str.h"
#include "core/role.h"
#include "core/signin.h"

bool
gate_plan_includes_scim(const char *plans, const char *plan)
{
    size_t n = strlen(plan);
    for (const char *p = plans; p && *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t len = strcspn(p, ", ");
        if (len == n && n > 0 && strncmp(p, plan, n) == 0)
            return true;
        p += len;
    }
    return false;
}

int
gate_plans_check(const struct gate_policy *p, struct err *err)
{
    char name[64];
    if (p->plans && !strpbrk(p->plans, "abcdefghijklmnopqrstuvwxyz0123456789"))
        return err_set(err, ERR_INVALID_VALUE, "plans must name at least one plan");
    for (int pass = 0; pass < 2; pass++) {
        const char *list = pass == 0 ? p->plans : p->scim_plans;
        for (const char *s = list; s && *s;) {
            while (*s == ',' || *s == ' ')
                s++;
            size_t len = strcspn(s, ", ");
            if (len == 0)
                break;
            if (len >= sizeof(name) || len > GATE_PLAN_NAME_MAX)
                return err_set(err, ERR_INVALID_VALUE, "plan name \"%.40s…\" is too long", s);
            memcpy(name, s, len);
            name[len] = '\0';
            if (!str_is_slug(name, GATE_PLAN_NAME_MAX))
                return err_set(err, ERR_INVALID_VALUE,
                               "plan \"%s\" must be a short lower-case name (a-z, 0-9, '-')", name);
            if (pass == 1 && p->plans && !gate_plan_includes_scim(p->plans, name))
                return err_set(err, ERR_INVALID_VALUE,
                               "scim_plans names \"%s\", which is not one of the plans (%s)", name,
                               p->plans);
            s += len;
        }
    }
    return 0;
}

bool
gate_plan_is_known(const struct gate_policy *p, const char *plan)
{
    return p->plans == NULL ? str_is_slug(plan, GATE_PLAN_NAME_MAX)
                            : gate_plan_includes_scim(p->plans, plan);
}

/* Who may mint, in words: "an active user of the tenant with the admin role \"owner\"" when
 * roles are configured (the deployment names its admin role, docs/roles.md), else "an active
 * user of the tenant" (the host vouches for who is an admin). */
static void
who_may(char *out, size_t size)
{
    const char *admin = role_admin();
    if (admin)
        snprintf(out, size, "an active user of the tenant with the admin role \"%s\"", admin);
    else
        snprintf(out, size, "an active user of the tenant");
}

/* The words for one condition; the tenant and policy fill in the specifics. */
static void
describe(unsigned cond, const struct store_tenant *t, const struct gate_policy *p,
         const char *acting_user, const char *why, char *out, size_t size)
{
    char who[160];
    switch (cond) {
    case GATE_PLAN:
        snprintf(out, size,
                 "the tenant's plan \"%s\" does not include SCIM provisioning (plans "
                 "that do: %s)",
                 t->plan, p->scim_plans);
        break;
    case GATE_INTEGRATION:
        snprintf(out, size,
                 "the SCIM integration is not enabled for this tenant (the operator "
                 "enables it)");
        break;
    case GATE_ACTING_ADMIN:
        who_may(who, sizeof(who));
        if (acting_user && acting_user[0])
            snprintf(out, size, "the acting user %.64s %s", acting_user, why);
        else
            snprintf(out, size,
                     "no acting user was given: name %s who mints the token (actingUser)", who);
        break;
    default:
        snprintf(out, size,
                 "the tenant requires SAML single sign-on, and no enabled SAML "
                 "connection has completed a sign-in yet");
        break;
    }
}

static void
add(struct gate_result *r, unsigned cond, const char *text)
{
    size_t used = strlen(r->detail);
    snprintf(r->detail + used, sizeof(r->detail) - used, "%s%s", used ? "; " : "", text);
    r->missing |= cond;
}

static unsigned
tenant_missing(const struct gate_policy *p, const struct store_tenant *t)
{
    unsigned m = 0;
    if (!gate_plan_includes_scim(p->scim_plans, t->plan))
        m |= GATE_PLAN;
    if (!t->integration_enabled)
        m |= GATE_INTEGRATION;
    return m;
}

int
gate_token_use(const struct gate_policy *p, const struct store_tenant *t, struct err *err)
{
    unsigned m = tenant_missing(p, t);
    if (m == 0)
        return 0;
    char text[512];
    describe(m & GATE_PLAN ? GATE_PLAN : GATE_INTEGRATION, t, p, NULL, NULL, text, sizeof(text));
    return err_set(err, ERR_UNAUTHORIZED, "the token cannot be used now: %s", text);
}

/* Why acting_user is not an active admin, in words after its name (into why, GATE_WHY_MAX), or
 * 0 with why empty when it is. The three cases stay apart: no such user, a deactivated one,
 * and one without the configured admin role, which the words name. -1 only when the store
 * fails. */
static int
acting_admin_problem(struct store *s, const struct store_tenant *t, const char *acting_user,
                     char *why, struct err *err)
{
    struct store_resource u;
    struct store_user_role role;
    why[0] = '\0';
    if (acting_user == NULL || acting_user[0] == '\0') {
        str_copy(why, GATE_WHY_MAX, "is missing");
        return 0;
    }
    if (store_resource_get(s, t->id, STORE_RTYPE_USER, acting_user, &u, err) < 0) {
        str_copy(why, GATE_WHY_MAX, "is not a user of this tenant");
        return err->code == ERR_NOT_FOUND ? 0 : -1;
    }
    bool active = u.active;
    store_resource_cleanup(&u);
    if (!active) {
        str_copy(why, GATE_WHY_MAX, "is deactivated");
        return 0;
    }
    /* Without configured roles the host vouches for who is an admin (docs/roles.md). */
    const char *admin = role_admin();
    if (admin == NULL)
        return 0;
    if (role_of_user(s, t->id, acting_user, &role, err) < 0) {
        snprintf(why, GATE_WHY_MAX, "has no role, not the admin role \"%s\"", admin);
        return err->code == ERR_NOT_FOUND ? 0 : -1;
    }
    if (strcmp(role.role, admin) != 0)
        snprintf(why, GATE_WHY_MAX, "has the role \"%s\", not the admin role \"%s\"", role.role,
                 admin);
    return 0;
}

/* (d): an enabled SAML connection that has completed a sign-in (core/signin.h). */
static bool
saml_ready(struct store *s, const struct store_tenant *t)
{
    return signin_saml_ready(s, t->id);
}

int
gate_mint_check(struct store *s, const struct gate_policy *p, const struct store_tenant *t,
                const char *acting_user, const char *shown, struct gate_result *out,
                struct err *err)
{
    char text[512];
    *out = (struct gate_result){ 0 };
    unsigned m = tenant_missing(p, t);
    for (unsigned cond = GATE_PLAN; cond <= GATE_INTEGRATION; cond <<= 1)
        if (m & cond) {
            describe(cond, t, p, NULL, NULL, text, sizeof(text));
            add(out, cond, text);
        }
    if (acting_user != NULL) {
        if (acting_admin_problem(s, t, acting_user, out->acting_why, err) < 0)
            return -1;
        if (out->acting_why[0]) {
            describe(GATE_ACTING_ADMIN, t, p, shown && shown[0] ? shown : acting_user,
                     out->acting_why, text, sizeof(text));
            add(out, GATE_ACTING_ADMIN, text);
        }
    }
    if (t->saml_required && !saml_ready(s, t)) {
        describe(GATE_SAML, t, p, NULL, NULL, text, sizeof(text));
        add(out, GATE_SAML, text);
    }
    return 0;
}

int
gate_mint(struct store *s, const struct gate_policy *p, const struct store_tenant *t,
          const char *acting_user, const char *shown, struct err *err)
{
    struct gate_result r;
    if (gate_mint_check(s, p, t, acting_user, shown, &r, err) < 0)
        return -1;
    if (r.missing == 0)
        return 0;
    return err_set(err, ERR_FORBIDDEN, "cannot mint a SCIM token: %s", r.detail);
}

json_t *
gate_result_to_json(const struct store_tenant *t, const struct gate_policy *p,
                    const struct gate_result *r)
{
    static const struct {
        unsigned cond;
        const char *name;
    } names[] = { { GATE_PLAN, "plan" },
                  { GATE_INTEGRATION, "integration" },
                  { GATE_ACTING_ADMIN, "actingAdmin" },
                  { GATE_SAML, "saml" } };
    json_t *missing = json_array();
    char text[512];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!(r->missing & names[i].cond))
            continue;
        /* The acting-user reason is only in the combined detail; name the condition. */
        if (names[i].cond == GATE_ACTING_ADMIN) {
            char who[160];
            who_may(who, sizeof(who));
            snprintf(text, sizeof(text), "the acting user must be %s", who);
        } else
            describe(names[i].cond, t, p, NULL, NULL, text, sizeof(text));
        json_array_append_new(missing,
                              json_pack("{s:s, s:s}", "condition", names[i].name, "message", text));
    }
    return json_pack("{s:b, s:o, s:s}", "allowed", r->missing == 0, "missing", missing, "detail",
                     r->detail);
}
