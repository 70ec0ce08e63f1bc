#ifndef SCIMD_CORE_GATE_H
#define SCIMD_CORE_GATE_H

#include <stdbool.h>

#include <jansson.h>

#include "base/err.h"
#include "store/store.h"

/* Who may connect an identity provider (docs/tenants.md "Token gates"). A SCIM token is
 * minted or rotated only when (a) the tenant's plan includes SCIM, (b) the operator enabled
 * the integration, (c) the acting user is an active admin of the tenant: an active user whose
 * effective role is the configured admin role, or any active user when no roles are
 * configured (core/role.h); the operator acting through the CLI or its console skips this
 * one, and (d) a tenant that requires SAML SSO has it configured and enabled. Using a token needs
 * (a) and (b) at the time of use, so disabling the integration or downgrading the plan stops
 * existing tokens without deleting them. */

enum gate_condition {
    GATE_PLAN = 1 << 0,
    GATE_INTEGRATION = 1 << 1,
    GATE_ACTING_ADMIN = 1 << 2,
    GATE_SAML = 1 << 3,
};

/* The host's plans (configuration): every plan a tenant may have, and those that include
 * SCIM, each a comma-separated list such as "premier,enterprise,test". */
#define GATE_PLAN_NAME_MAX 32

struct gate_policy {
    const char *scim_plans;
    const char *plans; /* NULL: any short lower-case name (unit tests) */
};

/* Checks the configured lists: plan names short lower-case names, and every SCIM plan one of
 * the plans. ERR_INVALID_VALUE naming the first problem. */
int gate_plans_check(const struct gate_policy *p, struct err *err);

/* True when `plan` is one of the configured plans. */
bool gate_plan_is_known(const struct gate_policy *p, const char *plan);

#define GATE_WHY_MAX 160

struct gate_result {
    unsigned missing;              /* GATE_* bits of the conditions not met */
    char detail[1024];             /* each missing condition in words, "; "-separated */
    char acting_why[GATE_WHY_MAX]; /* why the acting user is not an active admin, in words after
                                    * its name ("is not a user of this tenant", "is deactivated",
                                    * "has the role \"x\", not the admin role \"y\""); "" when it is
                                    */
};

/* True when `plan` is one of the comma-separated names in plans (exact, no spaces kept). */
bool gate_plan_includes_scim(const char *plans, const char *plan);

/* (a) and (b), for a request made with a token: ERR_UNAUTHORIZED naming what is missing. */
int gate_token_use(const struct gate_policy *p, const struct store_tenant *t, struct err *err);

/* All four conditions for minting or rotating; acting_user (a user id) NULL means the operator
 * acts. `shown` is how the caller named that user (what the host sent as actingUser: a userName,
 * an externalId or the id), echoed in the words instead of the id; NULL or "": acting_user.
 * The words name the configured admin role (core/role.h). Fills *out (missing = 0 when
 * allowed); -1 only when the store fails. */
int gate_mint_check(struct store *s, const struct gate_policy *p, const struct store_tenant *t,
                    const char *acting_user, const char *shown, struct gate_result *out,
                    struct err *err);

/* gate_mint_check as an error: ERR_FORBIDDEN "cannot mint a SCIM token: …" when refused. */
int gate_mint(struct store *s, const struct gate_policy *p, const struct store_tenant *t,
              const char *acting_user, const char *shown, struct err *err);

/* {"allowed": bool, "missing": [{"condition": "plan"|"integration"|"actingAdmin"|"saml",
 *  "message": s}, …]}: new reference. */
json_t *gate_result_to_json(const struct store_tenant *t, const struct gate_policy *p,
                            const struct gate_result *r);

#endif
